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


def test_commands_cross_as_names_and_their_results_as_dictionaries(remote):
    remote.run_keyword("Open Local Terminal", [], {})
    name = remote.run_keyword("Start Command", ["echo out; echo err >&2; exit 3"], {})
    assert name.startswith("command ") and crosses(name)
    result = remote.run_keyword("Wait For Command", [name], {"timeout": "10 s"})
    assert crosses(result)
    assert result["rc"] == 3 and result["stdout"] == "out" and result["stderr"] == "err"
    assert result["command"] == "echo out; echo err >&2; exit 3" and result["pid"] > 0
    assert result["timed_out"] is False and result["stdout_path"] is None
    # the same command again keeps its name; without a handle: the last one
    sleeper = remote.run_keyword("Start Command", ["sleep 30"], {})
    assert remote.run_keyword("Send Signal To Command", ["SIGTERM", sleeper], {}) is None
    ended = remote.run_keyword("Terminate Command", [sleeper], {})
    assert ended["rc"] == -15 and crosses(ended)
    remote.run_keyword("Start Command", ["echo last"], {})
    assert remote.run_keyword("Wait For Command", [], {})["stdout"] == "last"
    remote.run_keyword("Start Command", ["echo read"], {})
    assert remote.run_keyword("Read Command Output", [], {"return_rc": True}) == ["read", 0]
    with pytest.raises(ValueError, match="No command named 'command 99': give what 'Start"):
        remote.run_keyword("Wait For Command", ["command 99"], {})
    with pytest.raises(ValueError, match=r"No command named '<RemoteCommand pid=1"):
        remote.run_keyword("Terminate Command", ["<RemoteCommand pid=1 running: 'x'>"], {})


def test_file_results_cross_as_dictionaries(remote, tmp_path):
    remote.run_keyword("Open Local Terminal", [], {})
    (tmp_path / "a.txt").write_text("hello")
    (tmp_path / "b.txt").write_text("hi")
    put = remote.run_keyword("Put File", [str(tmp_path / "a.txt"), f"{tmp_path}/c.txt"], {})
    assert crosses(put) and put["size"] == 5 and put["destination"] == f"{tmp_path}/c.txt"
    assert put["direction"] == "put" and put["rate"] > 0 and len(put["sha256"]) == 64
    many = remote.run_keyword(
        "Put File", [f"{tmp_path}/[ab].txt", f"{tmp_path}/into/"], {"create_dirs": True}
    )
    assert [item["size"] for item in many] == [5, 2] and crosses(many)
    got = remote.run_keyword("Get File", [f"{tmp_path}/c.txt", f"{tmp_path}/d.txt"], {})
    assert got["direction"] == "get" and got["size"] == 5 and crosses(got)
    tree = remote.run_keyword("Put Directory", [f"{tmp_path}/into", f"{tmp_path}/tree"], {})
    assert tree["files"] == 2 and tree["size"] == 7 and crosses(tree)
    back = remote.run_keyword("Get Directory", [f"{tmp_path}/tree", f"{tmp_path}/back"], {})
    assert back["files"] == 2 and crosses(back)


def test_many_terminals_keywords_take_one_alias_and_continue_on_failure(remote):
    bash = {"shellname": "BashShell"}
    opened = remote.run_keyword(
        "Open Terminals",
        [{"shells": [bash], "alias": "d1"}, {"shells": [bash], "alias": "d2"}],
        {},
    )
    assert opened == {"d1": 1, "d2": 2}
    pid = remote.run_keyword("Run Python On Terminals", ["os.getpid()"], {"terminals": "d1"})
    assert list(pid) == ["d1"]
    remote.run_keyword("Run Python", ["x = 1"], {"terminal": "d2"})
    values = remote.run_keyword("Run Python On Terminals", ["x"], {"on_failure": "continue"})
    assert values == {"d1": "NameError: name 'x' is not defined", "d2": 1} and crosses(values)


def test_what_xml_rpc_cannot_carry_crosses_as_text(remote):
    """A lone surrogate (a non-UTF-8 name on the target, a 2.7 native str) and
    an int beyond XML-RPC's 32 bits would fail the call on the client's side."""
    remote.run_keyword("Open Local Terminal", [], {})
    value = remote.run_keyword(
        "Run Python", ["{'name': b'caf\\xe9'.decode('utf-8', 'surrogateescape'), 'big': 2**80}"]
    )
    sent = KeywordResult()._handle_return_value(value)
    parsed, _ = xmlrpc.client.loads(xmlrpc.client.dumps((sent,), allow_none=False))
    assert parsed[0] == {"name": "caf\\udce9", "big": str(2**80)}
    assert remote.run_keyword("Run Python", ["2**31 - 1"]) == 2**31 - 1
    assert remote.run_keyword("Run Python", ["-2**31 - 1"]) == str(-(2**31) - 1)
