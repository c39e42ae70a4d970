"""The message layer back to back: the agent's worker answers requests that the
controller encoded, and the controller reads the replies, through
``wire.messages`` alone (no pty, no thread, no frame). The real agent on a real
pty is tested in test_runner_local.py and test_runner_ssh.py."""

from __future__ import annotations

import pytest

from RemoteProxyLibrary import RemoteError, RunnerTerminalUnableToDeserialize, UnableToSerialize
from RemoteProxyLibrary.agent import agent as agent_module
from RemoteProxyLibrary.runner import replies
from RemoteProxyLibrary.wire import codec, messages
from RemoteProxyLibrary.wire.messages import MODE_AUTO, MODE_NONE, MODE_REF, MODE_VALUE


@pytest.fixture
def worker():
    """The agent's worker over a fresh namespace; no fds, no heartbeat."""
    return agent_module.Worker(agent_module.Agent(tty_attrs=None, handled_types=None))


def round_trip(worker, op, args, mode=MODE_VALUE, assign_to=None, release=(), ref_decoder=None):
    request = messages.encode_request(release, op, args, mode, assign_to)
    reply = replies.decode_reply(worker.reply(request))
    return reply, (lambda: replies.outcome(reply, ref_decoder))


def test_a_value_travels_back(worker):
    reply, value = round_trip(worker, "eval", ("[1 + 1, 'a', None, {'k': (1.5, b'x')}]",))
    assert reply.status == messages.STATUS_OK
    assert value() == [2, "a", None, {"k": (1.5, b"x")}]


def test_a_remote_object_comes_back_as_a_ref_with_its_methods_described(worker):
    reply, value = round_trip(worker, "eval", ("__import__('io').BytesIO(b'abc')",), MODE_AUTO)
    ref = value()
    assert isinstance(ref, codec.Ref)
    assert ref.type_name == "_io.BytesIO"
    assert "getvalue" in reply.described["_io.BytesIO"]
    # the handle names the object for the next request; described only once
    reply, value = round_trip(worker, "method", (ref, "getvalue", (), {}))
    assert value() == b"abc"
    assert reply.described == {}


def test_refs_are_decoded_by_the_callers_decoder(worker):
    _, value = round_trip(worker, "eval", ("object()",), MODE_REF, ref_decoder=lambda r: ("P", r))
    kind, ref = value()
    assert kind == "P" and isinstance(ref, codec.Ref)


def test_assign_and_release(worker):
    _, value = round_trip(worker, "eval", ("[1, 2]",), MODE_NONE, assign_to="x")
    assert value() is None
    assert round_trip(worker, "value", ("x",))[1]() == [1, 2]
    round_trip(worker, "eval", ("0",), release=["x"])[1]()
    with pytest.raises(NameError):
        round_trip(worker, "value", ("x",))[1]()


def test_a_remote_exception_is_raised_with_its_traceback(worker):
    reply, value = round_trip(worker, "eval", ("1 / 0",))
    assert reply.status == messages.STATUS_EXCEPTION
    with pytest.raises(ZeroDivisionError) as raised:
        value()
    assert raised.value.remote_traceback.rstrip().endswith("ZeroDivisionError: division by zero")


def test_a_value_that_cannot_travel_says_so(worker):
    reply, value = round_trip(worker, "eval", ("object()",), MODE_VALUE)
    assert reply.status == messages.STATUS_CANNOT_TRAVEL
    with pytest.raises(UnableToSerialize, match="object"):
        value()


def test_a_request_that_is_not_a_request_is_answered_with_an_error(worker):
    reply = replies.decode_reply(worker.reply(codec.encode(("not", "a", "request"))))
    assert reply.status == messages.STATUS_EXCEPTION
    with pytest.raises(RemoteError, match="5-tuple"):
        replies.outcome(reply)


def test_printed_output_travels_with_the_reply(worker, monkeypatch):
    capture = worker.agent.capture
    monkeypatch.setattr(
        "sys.stdout", agent_module.Router(capture, "out", __import__("io").StringIO())
    )
    reply, value = round_trip(worker, "eval", ("print('hello') or 5",))
    assert value() == 5
    assert reply.stdout == "hello\n"


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00\x00\x00\xff", b"\x00\x00\x00\x01N", codec.encode(None)],
)
def test_malformed_replies_are_clear_errors(payload):
    with pytest.raises(RunnerTerminalUnableToDeserialize, match="malformed reply"):
        replies.decode_reply(payload)


def test_requests_are_checked_field_by_field():
    good = messages.encode_request([], "eval", ("1",), MODE_VALUE, None)
    assert messages.decode_request(good).op == "eval"
    for fields in (
        ([], "eval", ("1",), 9, None),  # unknown mode
        ([1], "eval", ("1",), MODE_VALUE, None),  # handle not text
        ([], "eval", ["1"], MODE_VALUE, None),  # args not a tuple
    ):
        with pytest.raises(codec.DecodeError):
            messages.decode_request(codec.encode(fields))


def test_hello_and_output_layouts():
    hello = messages.decode_hello(messages.encode_hello(123, (3, 11, 7, "final", 0)))
    assert hello == {"pid": 123, "python": [3, 11, 7]}
    assert messages.decode_output(messages.encode_output("stdout", "x")) == ("stdout", "x")
    with pytest.raises(codec.DecodeError):
        messages.decode_hello(codec.encode({"pid": "1"}))
    with pytest.raises(codec.DecodeError):
        messages.decode_output(codec.encode(("stdout", b"bytes")))


@pytest.mark.parametrize(
    "port, token, ok",
    [
        (0, b"", True),  # no direct channel
        (4711, b"t" * messages.DIRECT_TOKEN_SIZE, True),
        (4711, b"", False),  # an empty token proves nothing about what answers on the port
        (0, b"t" * messages.DIRECT_TOKEN_SIZE, False),
        (4711, b"t" * (messages.DIRECT_TOKEN_SIZE - 1), False),
        (70000, b"t" * messages.DIRECT_TOKEN_SIZE, False),
    ],
)
def test_a_direct_answer_is_no_port_or_a_port_with_a_whole_token(port, token, ok):
    payload = codec.encode((port, token))
    if ok:
        assert messages.decode_direct_answer(payload) == (port, token)
    else:
        with pytest.raises(codec.DecodeError, match="direct answer"):
            messages.decode_direct_answer(payload)
