"""A hostile or broken target can cost a call, never the controller.

Every test runs the controller against ``hostile_agent.py``, started by the
runner as the target's python in a real pty (see ``hostile.py``): it answers
stage-0 like the real one, then speaks the frames each test chooses. The
rules asserted here are the threat-model table of ``docs/PROTOCOL.md``.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from hostile import (
    Agent,
    HostileTarget,
    exception_reply,
    frame,
    reply,
    reply_payload,
)

from RemoteProxyLibrary import (
    RemoteError,
    RemoteTimeout,
    RunnerTerminalSessionBroken,
    RunnerTerminalUnableToDeserialize,
    UnableToSerialize,
)
from RemoteProxyLibrary.errors import ProtocolViolation
from RemoteProxyLibrary.runner.connection import AgentConnection
from RemoteProxyLibrary.terminal.base import Terminal
from RemoteProxyLibrary.wire import codec, framing, messages

#: The liveness budget of a runner with the default settings (seconds).
BUDGET = 2.0 + 3.0
#: What a call may take beyond its timeout, whatever the target sends.
SLACK = 0.5

Step = Callable[[Agent, int, bytes], None]


@pytest.fixture
def canary(tmp_path) -> Iterator[str]:
    """A file that crafted payloads try to create on the controller: it must
    not exist after the test."""
    path = str(tmp_path / "canary")
    yield path
    assert not os.path.exists(path), "code of the target ran on the controller"


def scripted(*steps: Step | None) -> Step:
    """A handler answering the n-th request (counted over all agents) with
    ``steps[n]``, or honestly when there is no step (or it is None)."""
    count = itertools.count()

    def handler(agent: Agent, request_id: int, payload: bytes) -> None:
        n = next(count)
        step = steps[n] if n < len(steps) else None
        if step is None:
            agent.honest(request_id, payload)
        else:
            step(agent, request_id, payload)

    return handler


def silent(agent: Agent, request_id: int, payload: bytes) -> None:
    """No answer at all."""


def container(tag: bytes, encoded_items: list[bytes]) -> bytes:
    """The codec's encoding of a list (``l``) or set (``e``) of these items,
    built without making the container here (a set of colliding items would
    take as long to build here as to decode there)."""
    count, size = bytearray(), len(encoded_items)
    while True:
        count.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            return tag + bytes(count) + b"".join(encoded_items)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """``(result or exception, seconds)`` of ``call()``."""
    start = time.monotonic()
    try:
        result: Any = call()
    except Exception as error:
        result = error
    return result, time.monotonic() - start


def with_value(value_bytes: bytes, status: int = messages.STATUS_OK) -> Step:
    """A step answering with an encoded (or crafted) value."""

    def step(agent: Agent, request_id: int, payload: bytes) -> None:
        agent.write(frame(request_id, "R", reply_payload(value_bytes, status)))

    return step


def writes(*make: Callable[[int], bytes]) -> Step:
    """A step writing ``b"".join(m(request_id) for m in make)``."""

    def step(agent: Agent, request_id: int, payload: bytes) -> None:
        agent.write(b"".join(m(request_id) for m in make))

    return step


# ---- 1. a deaf session ----------------------------------------------------------------
def lying_raw_header(length: int) -> Step:
    """A raw frame header declaring ``length`` bytes, then honest answers that
    it swallows (if it is taken)."""

    def step(agent: Agent, request_id: int, payload: bytes) -> None:
        agent.write(b"{RPL:%x:R.:%x;" % (request_id, length))
        agent.honest(request_id, payload)

    return step


def test_a_raw_frame_before_raw_replies_were_agreed_costs_its_call_only():
    target = HostileTarget(probe="refuse")
    try:
        runner = target.runner()
        assert not runner.connection.raw_replies
        target.handler = scripted(lying_raw_header(0x7FFFFFFF))
        error, took = timed(lambda: runner.run_python("1+1", timeout=5))
        assert isinstance(error, ProtocolViolation), error
        assert "not agreed" in str(error) and took < 1
        assert runner.run_python("2+2", timeout=5) == 4
    finally:
        target.close()


def test_a_path_that_is_not_binary_clean_only_turns_raw_replies_off():
    target = HostileTarget(probe="translate")  # the raw echo grows: LF became CRLF
    try:
        runner = target.runner()
        assert runner.running and not runner.connection.raw_replies
        assert runner.run_python("'x' * 100000", timeout=5) == "x" * 100000
    finally:
        target.close()


def test_a_raw_header_longer_than_a_chunk_costs_its_call_only(target):
    runner = target.runner()
    assert runner.connection.raw_replies
    target.handler = scripted(lying_raw_header(0x7FFFFFFF))
    error, took = timed(lambda: runner.run_python("1+1", timeout=5))
    assert isinstance(error, ProtocolViolation), error
    assert "longest frame" in str(error) and took < 1
    assert runner.run_python("2+2", timeout=5) == 4


def test_a_deaf_session_breaks_within_the_liveness_budget_and_closes_at_once(target):
    runner = target.runner()
    target.handler = scripted(lying_raw_header(1 << 20))  # within a chunk: swallows
    error, took = timed(lambda: runner.run_python("1+1", timeout=10))
    assert isinstance(error, RunnerTerminalSessionBroken), error
    assert took < BUDGET + SLACK
    _, took = timed(runner.close)
    assert took < 1


def test_a_deaf_session_is_recovered_under_auto_recovery(target):
    runner = target.auto_runner()
    target.handler = scripted(lying_raw_header(1 << 20))
    value, took = timed(lambda: runner.run_python("1+1", timeout=20))
    assert value == 2
    assert len(target.agents) == 2  # a new agent in a new stack
    assert took < BUDGET + SLACK + 3  # + reopening the stack


def test_a_raw_frame_failing_its_check_breaks_the_session(target):
    runner = target.runner()

    def damaged(request_id: int) -> bytes:
        data = bytearray(frame(request_id, "R", reply_payload(codec.encode(1)), raw=True))
        data[-4] ^= 1  # the crc
        return bytes(data)

    target.handler = scripted(writes(damaged))
    error, took = timed(lambda: runner.run_python("1", timeout=10))
    assert isinstance(error, RunnerTerminalSessionBroken), error
    assert "can no longer be trusted" in str(error) and took < 1


# ---- 2. HTML in Robot logs (the Robot side: test_robot_logs.py) ------------------------
HTML = "*HTML*<img src=x onerror=alert(1)>"


@pytest.mark.parametrize(
    "module,qualname,expected",
    [
        ("builtins", "ValueError", ValueError),
        ("builtins", "RuntimeError", RuntimeError),  # Robot shows no name for it
        ("builtins", "SyntaxError", SyntaxError),
        (HTML, "Boom", RemoteError),
        ("mod", HTML, RemoteError),
    ],
)
def test_remote_text_never_reads_as_html(target, module, qualname, expected):
    runner = target.runner()
    exception = exception_reply
    target.handler = scripted(
        writes(lambda rid: exception(rid, module, qualname, (HTML,), HTML, HTML + "\n"))
    )
    with pytest.raises(expected) as info:
        runner.run_python("1", timeout=5)
    shown = str(info.value)
    assert not shown.lstrip().startswith("*HTML*")
    assert "\\*HTML*" in shown
    if expected is not RemoteError:
        assert type(info.value).__name__ == expected.__name__
        assert info.value.args == (HTML,)  # the data as sent


@pytest.mark.parametrize(
    "qualname, attributes",
    [
        ("SyntaxError", {"msg": HTML}),  # str() is .msg
        ("OSError", {"errno": 5, "strerror": "\x1b[2J\x1b]0;owned\x07\nFAIL forged"}),
    ],
)
def test_attributes_that_make_str_are_checked_too(target, qualname, attributes):
    """Some builtin exceptions build str() from attributes set after
    construction: the safety check reads str() as it finally is."""
    runner = target.runner()
    def answer(rid: int) -> bytes:
        return exception_reply(
            rid, "builtins", qualname, ("harmless",), "harmless", "Traceback\n", attributes
        )

    target.handler = scripted(writes(answer))
    with pytest.raises(Exception) as info:
        runner.run_python("1", timeout=5)
    shown = str(info.value)
    assert not shown.lstrip().startswith("*HTML*") and "\x1b" not in shown, shown
    assert type(info.value).__name__ == qualname
    for name, value in attributes.items():
        assert getattr(info.value, name) == value  # the data as sent, still there
    assert runner.run_python("'next'", timeout=5) == "next"


# ---- 3. one frame must not kill the reader ------------------------------------------------
GIANT = 10**5000  # above Python's 4300-digit str() limit


def test_an_output_message_of_giant_ints_costs_nothing(target):
    runner = target.runner()
    output = frame(messages.NO_REQUEST, messages.KIND_OUTPUT, codec.encode((GIANT, GIANT)))

    def step(agent: Agent, request_id: int, payload: bytes) -> None:
        agent.write(output)
        agent.honest(request_id, payload)

    target.handler = scripted(step)
    assert runner.run_python("1+1", timeout=5) == 2
    assert runner.running
    assert runner.run_python("2+2", timeout=5) == 4


def test_giant_ints_as_a_reason_or_exception_arguments_are_clear_errors(target):
    runner = target.runner()
    target.handler = scripted(
        with_value(codec.encode(GIANT), messages.STATUS_CANNOT_TRAVEL),
        writes(lambda rid: exception_reply(rid, "builtins", "ValueError", (GIANT,), "big")),
    )
    with pytest.raises(UnableToSerialize, match="gave a int"):
        runner.run_python("1", timeout=5)
    with pytest.raises(ValueError) as info:
        runner.run_python("1", timeout=5)
    assert str(info.value) == "big" and info.value.args == (GIANT,)
    assert runner.run_python("3", timeout=5) == 3


class FailingTerminal(Terminal):
    """A terminal whose reading fails with an error no code expects."""

    description = "failing"

    @property
    def spawn(self):
        raise NotImplementedError

    def _write_all(self, data: bytes) -> None:
        pass

    def _read(self, size: int, timeout: float | None) -> bytes:
        time.sleep(0.05)
        raise RuntimeError("a bug in the reader")

    def is_alive(self) -> bool:
        return True

    def close(self) -> None:
        pass


def test_the_reader_never_dies_silently():
    connection = AgentConnection(FailingTerminal())
    connection.start()
    pending = connection.request(messages.KIND_REQUEST, b"x")
    assert pending.wait(2)
    with pytest.raises(RunnerTerminalSessionBroken) as info:
        pending.payload()
    cause = info.value.args[0]
    assert isinstance(cause, ProtocolViolation)
    assert "a bug in the reader" in str(cause) and "hung" not in str(cause)
    assert isinstance(cause.__cause__, RuntimeError)


# ---- 4. memory held for unfinished messages -------------------------------------------
def test_unfinished_messages_are_bounded_in_total_and_break_the_session(target):
    runner = target.runner(max_unfinished=4 << 20)
    sender = framing.FrameProtocol(max_chunk=512 << 10)

    def first_chunks(request_id: int) -> bytes:
        return b"".join(
            next(sender.frame_parts(1000 + n, "R", os.urandom(1 << 20))) for n in range(20)
        )

    target.handler = scripted(writes(first_chunks))
    error, took = timed(lambda: runner.run_python("1", timeout=10))
    assert isinstance(error, RunnerTerminalSessionBroken), error
    assert "max_unfinished" in str(error) and took < 3


# ---- 5. the startup race ------------------------------------------------------------------
def test_a_hello_at_once_starts_the_session():
    target = HostileTarget(hello="with_ready")
    try:
        runner = target.runner()
        assert runner.run_python("1+1", timeout=5) == 2
    finally:
        target.close()


def test_a_second_hello_or_a_reply_to_no_request_is_noise(target):
    runner = target.runner()
    hello = messages.encode_hello(1, (3, 9, 0))

    def step(agent: Agent, request_id: int, payload: bytes) -> None:
        agent.write(frame(0, messages.KIND_HELLO, hello) + reply(0, "zero"))
        agent.honest(request_id, payload)

    target.handler = scripted(step)
    assert runner.run_python("1+1", timeout=5) == 2


# ---- 6. timeouts --------------------------------------------------------------------------
def test_a_call_the_target_never_answers_raises_at_its_timeout(target):
    runner = target.runner()
    target.handler = silent  # pings are answered: alive, but this call never ends
    error, took = timed(lambda: runner.run_python("1", timeout=2))
    assert isinstance(error, RemoteTimeout), error
    assert 2 <= took < 2 + SLACK
    assert runner.running


def test_a_silent_target_costs_at_most_the_timeout_or_the_liveness_budget(target):
    runner = target.runner()
    target.handler = silent
    target.agent.configure(ping=False)
    error, took = timed(lambda: runner.run_python("1", timeout=2))
    assert isinstance(error, RemoteTimeout), error
    assert took < 2 + SLACK
    error, took = timed(lambda: runner.run_python("1", timeout=10))
    assert isinstance(error, RunnerTerminalSessionBroken), error
    assert took < BUDGET + SLACK
    assert "no answer to a liveness check" in str(error)


def test_a_reply_built_to_decode_slowly_raises_within_the_timeout(target):
    prime = (1 << 61) - 1  # ints k * prime + 5 all hash to 5
    colliding = container(b"e", [codec.encode(prime * k + 5) for k in range(1, 20001)])
    runner = target.runner()
    target.handler = scripted(with_value(colliding))
    error, took = timed(lambda: runner.run_python("1", timeout=2))
    assert isinstance(error, RunnerTerminalUnableToDeserialize), error
    assert "hash-collision" in str(error) and took < 2 + SLACK


def test_a_large_reply_still_decoding_at_the_deadline_raises_in_time(target):
    items = 1_500_000  # 9 MB, 550 ns a byte to decode: seconds
    encoded = reply_payload(container(b"l", [codec.encode({0: {}})] * items))
    runner = target.runner()
    target.handler = scripted(writes(lambda rid: frame(rid, "R", encoded, raw=True)))
    error, took = timed(lambda: runner.run_python("1", timeout=1))
    assert isinstance(error, RemoteTimeout), error
    assert "decoding" in str(error) and took < 1 + SLACK
    assert runner.get_response(error.response_id) == [{0: {}}] * items


# ---- 7. forged log lines ------------------------------------------------------------------
FORGED = "\x1b[2J\x1b]0;owned\x07\nINFO forged log line\u202e"


def test_names_from_the_target_are_shown_without_control_characters(target, caplog):
    runner = target.runner()
    ref = codec.Ref("h" + FORGED, "mod" + FORGED + ".Type", False)
    target.handler = scripted(
        with_value(codec.encode(ref)),
        writes(lambda rid: exception_reply(rid, "mod" + FORGED, "E" + FORGED, None, FORGED)),
        writes(
            lambda rid: frame(0, "O", messages.encode_output("out" + FORGED, FORGED)),
            lambda rid: frame(rid, "R", reply_payload(codec.encode(1), stdout=FORGED)),
        ),
    )
    proxy = runner.evaluate("x", timeout=5)
    shown = repr(proxy)
    with pytest.raises(RemoteError) as info:
        runner.run_python("1", timeout=5)
    with caplog.at_level(logging.DEBUG, logger="RemoteProxyLibrary"):
        assert runner.run_python("1", timeout=5) == 1
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for text in (shown, str(info.value), logged):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "\\x1b" in text
    # names are one line; messages and output keep their own lines
    assert "\n" not in shown and "forged log line" in shown
    assert "\n" not in str(info.value).split(": ")[0]
    assert "Remote out\\x1b" in logged
    assert info.value.remote_message == FORGED  # the data as sent


# ---- input classes --------------------------------------------------------------------------
def nested(depth: int) -> bytes:
    return b"l\x01" * depth + b"N"


@pytest.mark.parametrize(
    "value_bytes,why",
    [
        (nested(codec.MAX_DEPTH + 1), "nesting deeper"),
        (nested(100000), "nesting deeper"),
        (b"s\xff\xff\x03abc", "exceeds the data"),  # a str declared larger than sent
        (b"l\xff\xff\x03N", "exceeds the data"),  # a list declared larger than sent
        (b"I\x80\x80\x80\x80\x08\x01", "exceeds the data"),  # a giant int declared
        (b"\x99", "unknown tag"),
        (b"d\x01l\x00N", "unhashable"),
        (b"N" + b"junk", "trailing"),
    ],
)
def test_a_malformed_value_costs_its_call_only(target, value_bytes, why):
    runner = target.runner()
    target.handler = scripted(with_value(value_bytes))
    error, took = timed(lambda: runner.run_python("1", timeout=5))
    assert isinstance(error, RunnerTerminalUnableToDeserialize), error
    assert why in str(error) and took < 1
    assert runner.run_python("2", timeout=5) == 2


def truncated(request_id: int) -> bytes:
    return reply(request_id, "x" * 100)[:60]


def bad_checksum(request_id: int) -> bytes:
    data = bytearray(reply(request_id, 5))
    data[-4] ^= 1
    return bytes(data)


@pytest.mark.parametrize(
    "make,outcome",
    [
        ((truncated, lambda rid: reply(rid, 1)), ProtocolViolation),
        ((bad_checksum,), ProtocolViolation),
        ((lambda rid: reply(rid, 7), lambda rid: reply(rid, 8)), 7),  # a duplicated id
        ((lambda rid: reply(rid + 1000, 6), lambda rid: reply(rid, 7)), 7),  # unknown id
        ((lambda rid: frame(rid, messages.KIND_PING, b""),), ProtocolViolation),  # wrong kind
        (
            (
                lambda rid: b"\x1b[31m\x00\x00{RPL:{RPL:1:{RPL:\r\n",
                lambda rid: reply(rid + 500, "no")[:30],
                lambda rid: b"\x1b[0m\n",
                lambda rid: reply(rid, "ok"),
            ),
            "ok",
        ),  # noise: ANSI, NUL, partial frame markers, a broken frame of no call
        ((lambda rid: b"{RPL:%x:R.:4:AAAA:00000000}\n" % rid,), ProtocolViolation),
    ],
)
def test_damaged_or_stray_frames_cost_at_most_their_call(target, make, outcome):
    runner = target.runner()
    target.handler = scripted(writes(*make))
    result, took = timed(lambda: runner.run_python("1", timeout=5))
    if isinstance(outcome, type):
        assert isinstance(result, outcome), result
    else:
        assert result == outcome
    assert took < 1
    assert runner.run_python("2", timeout=5) == 2
    assert runner.running


@pytest.mark.parametrize("name", ["SystemExit", "KeyboardInterrupt", "GeneratorExit",
                                  "breakpoint", "input", "exit", "__import__"])  # fmt: skip
def test_exception_descriptions_naming_builtins_with_side_effects(target, canary, name):
    runner = target.runner()
    code = f"open({canary!r}, 'w')"
    target.handler = scripted(
        writes(lambda rid: exception_reply(rid, "builtins", name, (code,), code, code))
    )
    with pytest.raises(RemoteError) as info:
        runner.run_python("1", timeout=5)
    assert info.value.remote_type == name
    assert runner.run_python("2", timeout=5) == 2


class Evil:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (open, (self.path, "w"))


def test_pickles_in_bytes_stay_bytes(target, canary):
    evil = pickle.dumps(Evil(canary))
    runner = target.runner()
    target.handler = scripted(
        with_value(codec.encode(evil)),
        writes(lambda rid: frame(rid, "R", evil)),  # the whole reply a pickle
        with_value(evil),  # the value a pickle
    )
    assert runner.run_python("1", timeout=5) == evil
    with pytest.raises(RunnerTerminalUnableToDeserialize):
        runner.run_python("1", timeout=5)
    with pytest.raises(RunnerTerminalUnableToDeserialize):
        runner.run_python("1", timeout=5)


def test_handle_names_containing_code_are_only_names(target, canary):
    code = f"__import__('os').system('touch {canary}')"
    runner = target.runner()
    seen: list[Any] = []

    def record(agent: Agent, request_id: int, payload: bytes) -> None:
        seen.append(messages.decode_request(payload).args)
        agent.write(reply(request_id, 1))

    target.handler = scripted(with_value(codec.encode(codec.Ref(code, code, True))), record)
    proxy = runner.evaluate("x", timeout=5)
    assert proxy.anything == 1
    assert seen[0][0] == codec.Ref(code, code, True)  # sent back as it came


# ---- 6. the direct channel ------------------------------------------------------------------
# The same bounds where requests and replies travel on the direct channel: the
# hostile agent serves it (``direct="serve"``) and writes its crafted replies there.
def on_direct(*make: Callable[[int], bytes]) -> Step:
    """A step writing ``b"".join(m(request_id) for m in make)`` on the direct channel."""

    def step(agent: Agent, request_id: int, payload: bytes) -> None:
        agent.write_direct(b"".join(m(request_id) for m in make))

    return step


def test_honest_replies_travel_on_the_direct_channel(direct_target):
    runner = direct_target.runner()
    assert runner.path == "direct"
    assert runner.run_python("1+1", timeout=5) == 2
    blob = os.urandom(3 << 20)
    assert runner.run_python_call("bytes", blob) == blob


def test_noise_and_wrong_kinds_on_the_direct_channel_cost_their_call_only(direct_target):
    runner = direct_target.runner()
    wrong_kind = on_direct(lambda rid: b"\x1b[31mnoise\x00{RPL:", lambda rid: frame(rid, "P", b""))
    direct_target.handler = scripted(wrong_kind)
    error, took = timed(lambda: runner.run_python("1", timeout=5))
    assert isinstance(error, ProtocolViolation) and took < 1, error
    assert runner.run_python("2+2", timeout=5) == 4


def test_a_raw_frame_failing_its_check_on_the_direct_channel_breaks_the_session(direct_target):
    runner = direct_target.runner()

    def damaged(request_id: int) -> bytes:
        data = bytearray(frame(request_id, "R", reply_payload(codec.encode(1)), raw=True))
        data[-4] ^= 1
        return bytes(data)

    direct_target.handler = scripted(on_direct(damaged))
    error, took = timed(lambda: runner.run_python("1", timeout=10))
    assert isinstance(error, RunnerTerminalSessionBroken), error
    assert "can no longer be trusted" in str(error) and took < 1


def test_a_lying_raw_header_on_the_direct_channel_breaks_within_the_budget(direct_target):
    """The terminal still answers pings, so liveness alone would not see it:
    a frame stopped halfway on the direct channel is the lie."""
    runner = direct_target.runner()
    direct_target.handler = scripted(on_direct(lambda rid: b"{RPL:%x:R.:%x;" % (rid, 1 << 20)))
    error, took = timed(lambda: runner.run_python("1+1", timeout=20))
    assert isinstance(error, RunnerTerminalSessionBroken), error
    assert "stopped halfway" in str(error) and took < BUDGET + SLACK + 0.5


def test_unfinished_messages_on_the_direct_channel_are_bounded(direct_target):
    runner = direct_target.runner(max_unfinished=4 << 20)
    sender = framing.FrameProtocol(max_chunk=512 << 10)

    def first_chunks(request_id: int) -> bytes:
        return b"".join(
            next(sender.frame_parts(1000 + n, "R", os.urandom(1 << 20), raw=True))
            for n in range(20)
        )

    direct_target.handler = scripted(on_direct(first_chunks))
    error, took = timed(lambda: runner.run_python("1", timeout=10))
    assert isinstance(error, RunnerTerminalSessionBroken), error
    assert "max_unfinished" in str(error) and took < 3


def test_the_direct_channel_closing_breaks_the_session_at_once(direct_target):
    runner = direct_target.runner()

    def close(agent: Agent, request_id: int, payload: bytes) -> None:
        agent.close_direct()

    direct_target.handler = scripted(close)
    error, took = timed(lambda: runner.run_python("1", timeout=10))
    assert isinstance(error, RunnerTerminalSessionBroken), error
    assert took < 1


def test_a_silent_direct_channel_costs_the_timeout_while_pings_are_answered(direct_target):
    runner = direct_target.runner()
    direct_target.handler = scripted(silent)
    error, took = timed(lambda: runner.run_python("1", timeout=3))
    assert isinstance(error, RemoteTimeout), error
    assert 3 <= took < 3 + SLACK
    assert runner.run_python("2", timeout=5) == 2


def test_an_agent_answering_with_a_wrong_token_is_not_taken(direct_target):
    direct_target.config["direct"] = "wrong_token"
    runner = direct_target.runner(direct="auto")
    assert runner.path == "pty"
    assert runner.run_python("1+1", timeout=5) == 2


def test_an_agent_that_never_answers_the_offer_costs_the_setup_timeout_only(direct_target):
    direct_target.config["direct"] = "none"
    started = time.monotonic()
    runner = direct_target.runner(direct="auto")
    assert runner.path == "pty"
    assert time.monotonic() - started < 5 + 3
    assert runner.run_python("1+1", timeout=5) == 2


def test_a_raw_frame_dripping_one_byte_a_second_does_not_make_the_session_deaf(direct_target):
    """A lying raw header (1 MiB) on the direct channel, then one byte every
    0.4 s: no stall of a whole liveness budget, but far below MIN_FRAME_RATE.
    Every later reply would be swallowed by the frame while the terminal keeps
    answering pings: the session is broken instead, so recovery can start."""
    runner = direct_target.runner()
    assert runner.path == "direct"
    stop = threading.Event()

    def handler(agent, request_id, payload):
        if not hasattr(handler, "started"):
            handler.started = True
            agent.write_direct(b"{RPL:%x:R.:%x;" % (request_id, 1 << 20))

            def drip():
                while not stop.wait(0.4):
                    try:
                        agent.write_direct(b"x")
                    except OSError:
                        return

            threading.Thread(target=drip, daemon=True).start()
        else:
            agent.honest(request_id, payload)  # honest replies, swallowed by the frame

    direct_target.handler = handler
    try:
        errors = []
        start = time.monotonic()
        for _ in range(3):
            try:
                runner.run_python("1+1", timeout=4)
            except Exception as error:
                errors.append(error)
                if isinstance(error, RunnerTerminalSessionBroken):
                    break
        elapsed = time.monotonic() - start
        assert any(isinstance(e, RunnerTerminalSessionBroken) for e in errors), (
            f"after {elapsed:.0f} s the session is still not broken although every reply is "
            f"swallowed: {[type(e).__name__ for e in errors]}"
        )
    finally:
        stop.set()
