"""The library as served over Robot Framework's remote library interface
(``keywords/remote.py``), called as robotremoteserver calls it: what crosses
XML-RPC. The suite ``atest/remote_interface.robot`` runs it through a real
server and Robot's Remote library."""

from __future__ import annotations

import xmlrpc.client

import pytest
from robotremoteserver import KeywordResult

from RemoteProxyLibrary.keywords.remote import RemoteInterface


@pytest.fixture
def remote():
    interface = RemoteInterface(timeout="1 min", prompt_timeout="10 s", auto_recovery="False")
    yield interface
    interface.run_keyword("Close All Terminals", [])


def crosses(value) -> bool:
    """Whether ``value`` crosses as it is (robotremoteserver's conversion,
    then XML-RPC): nothing turned into its text."""
    sent = KeywordResult()._handle_return_value(value)
    xmlrpc.client.dumps((sent,), allow_none=False)
    return "<" not in repr(sent)


def test_library_arguments_are_converted_as_robot_would(remote):
    assert remote._library._settings.auto_recovery is False
    assert remote._library._settings.timeout == 60


def test_keyword_arguments_are_described_in_the_dynamic_format(remote):
    assert "Open Terminals" in remote.get_keyword_names()
    assert remote.get_keyword_arguments("Run Python") == [
        "*code",
        "timeout=None",
        "terminal=None",
    ]
    assert remote.get_keyword_arguments("Switch Terminal") == ["terminal"]
    assert remote.get_keyword_arguments("Call Remote Function")[-1] == "**kwargs"
    assert "Python" in remote.get_keyword_tags("Run Python")[0].capitalize()
    assert remote.get_keyword_documentation("Run Python").startswith("Runs Python code")


def test_proxies_cross_as_names_of_the_registry(remote):
    remote.run_keyword("Open Local Terminal", [], {"alias": "here"})
    name = remote.run_keyword("Evaluate Python", ["[3, 1, 2]"], {})
    assert name == [3, 1, 2]  # plain data: by value
    name = remote.run_keyword("Evaluate Python", ["iter([3, 1, 2])"], {})
    assert name.startswith("proxy ") and crosses(name)
    assert remote.run_keyword("Call Proxy Method", [name, "__next__"], {}) == 3
    # the same proxy returned again keeps its name; a named one gives its name
    assert remote.run_keyword("Get Proxy", ["os.path"], {"name": "paths"}) == "paths"
    info = remote.run_keyword("Get Terminal", [], {})
    assert info["proxies"] == (name, "paths") and info["alias"] == "here" and crosses(info)


def test_calls_cross_as_names_and_times_as_text(remote):
    remote.run_keyword("Open Local Terminal", [], {})
    call = remote.run_keyword("Start Remote Function Call", ["divmod", 7, 2], {})
    assert call.startswith("call ")
    assert remote.run_keyword("Get Call Response", [call], {"timeout": "10 s"}) == (3, 1)
    with pytest.raises(ValueError, match="no call named 'call 99'"):
        remote.run_keyword("Get Call Response", ["call 99"], {})
    infos = remote.run_keyword("Get Terminals", [], {})
    assert isinstance(infos, list) and infos[0]["index"] == 1 and crosses(infos)
