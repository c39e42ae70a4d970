"""Fuzzing the controller's receive path: framing, message decoding and reply
dispatch, fed with crafted and damaged streams (hypothesis).

Whatever arrives: the reader's dispatch raises nothing; memory held stays
within the bounds; a broken session is broken by a ProtocolViolation; a
completed reply reads as a value, a RunnerException or the remote exception
it describes, and whatever it raises shows no HTML marker and no raw control
character.

Bounded in time: each test explores for ``RPL_FUZZ_SECONDS`` seconds
(default 3), in rounds of new random examples, so CI stays quick. Longer on
demand::

    RPL_FUZZ_SECONDS=600 .venv-test/bin/python -m pytest utest/test_fuzz_receive.py
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from RemoteProxyLibrary.errors import ProtocolViolation, RunnerException
from RemoteProxyLibrary.runner import decoding, replies
from RemoteProxyLibrary.runner.connection import AgentConnection
from RemoteProxyLibrary.terminal.base import Terminal
from RemoteProxyLibrary.wire import codec, framing, messages

SECONDS = float(os.environ.get("RPL_FUZZ_SECONDS", "3"))
ROUND = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

MAX_UNFINISHED = 64 << 10
MAX_MESSAGE = 48 << 10
CHUNK = 1 << 10  # the sender's chunk in these streams; the receiver takes up to 1 MiB
KINDS = "RPHOXBZEQ"
REQUEST_IDS = (1, 2, 3)


class NullTerminal(Terminal):
    """Writes go nowhere, reads never happen (the test feeds the bytes)."""

    description = "fuzz"

    @property
    def spawn(self):
        raise NotImplementedError

    def _write_all(self, data: bytes) -> None:
        pass

    def _read(self, size: int, timeout: float | None) -> bytes:
        return b""

    def is_alive(self) -> bool:
        return True

    def close(self) -> None:
        pass


def explore(test: Callable[[], None]) -> None:
    """Run a hypothesis test in rounds until the time budget is spent."""
    deadline = time.monotonic() + SECONDS
    test()
    while time.monotonic() < deadline:
        test()


# ---- strategies -----------------------------------------------------------------------
TEXT = st.lists(
    st.characters(codec="utf-8") | st.sampled_from(["*HTML*", "\x1b[2J", "\n", "\u202e", "\x00"]),
    max_size=12,
).map("".join)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(4300, 5000).map(lambda digits: -(10**digits))  # above str()'s limit
    | st.integers(1, 3).map(lambda k: k * ((1 << 61) - 1) + 5)  # colliding hashes
    | st.floats()
    | TEXT
    | st.binary(max_size=20)
)
REFS = st.builds(codec.Ref, TEXT, TEXT, st.booleans())
VALUES = st.recursive(
    SCALARS | REFS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(SCALARS.filter(lambda x: x == x), inner, max_size=3)
        | st.frozensets(st.integers() | TEXT, max_size=4)
    ),
    max_leaves=12,
)
DESCRIPTIONS = st.tuples(
    st.sampled_from(["builtins", "mod", "*HTML*m", "\x1b"]) | TEXT,
    st.sampled_from(["ValueError", "KeyError", "OSError", "SystemExit", "SyntaxError",
                     "UnicodeDecodeError", "ExceptionGroup", "exit", "Warning"]) | TEXT,
    st.none() | st.tuples() | st.tuples(VALUES) | st.tuples(VALUES, VALUES),
    TEXT,
    TEXT,
    st.dictionaries(TEXT, VALUES, max_size=3),
)  # fmt: skip


@st.composite
def reply_payloads(draw: Any) -> bytes:
    """Reply payloads: well-formed, built from odd fields, or damaged."""
    status = draw(st.sampled_from(messages.STATUSES) | st.integers(-1, 5))
    value: Any = draw(DESCRIPTIONS if status == messages.STATUS_EXCEPTION else VALUES)
    meta = (status, draw(TEXT), draw(TEXT), draw(st.dictionaries(TEXT, st.lists(TEXT))))
    try:
        body = codec.encode(value)
    except codec.EncodeError:
        body = codec.encode(None)
    if draw(st.booleans()):
        meta = draw(st.tuples(VALUES, VALUES)) if draw(st.booleans()) else meta
    try:
        payload = messages.encode_reply(0, "", "", {}, b"")[:0]
        encoded_meta = codec.encode(meta)
        payload = len(encoded_meta).to_bytes(4, "big") + encoded_meta + body
    except codec.EncodeError:
        payload = messages.encode_reply(messages.STATUS_OK, "", "", {}, body)
    return damage(draw, payload)


def damage(draw: Any, data: bytes) -> bytes:
    """``data`` as it is, or with bytes flipped, cut, inserted or repeated."""
    data = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if how == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif how == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif data:
            data[at:at] = data[at : at + draw(st.integers(1, 40))]
    return bytes(data)


NOISE = st.binary(max_size=30) | st.sampled_from(
    [b"\x1b[31m", b"\x00\x00", b"{RPL:", b"{RPL:1:R", b"{RPL:2:R.:", b"\n~rpl-busy~\n", b"\r\n",
     b"{RPL:1:R.:7fffffff;", b"{RPL:2:R+:100;", b"{RPL:3:R.:ffffffffffffffff:"]
)  # fmt: skip


@st.composite
def pieces(draw: Any) -> bytes:
    """One piece of a stream: noise, or the frames of one message (maybe damaged)."""
    if draw(st.integers(0, 3)) == 0:
        return draw(NOISE)
    request_id = draw(st.sampled_from((0, *REQUEST_IDS, 7, (1 << 64) - 1)))
    kind = draw(st.sampled_from(KINDS))
    if kind == "R":
        payload = draw(reply_payloads())
    elif kind == "O":
        stream = draw(TEXT | VALUES)
        payload = damage(draw, codec.encode((stream, draw(TEXT | VALUES))))
    else:
        payload = draw(st.binary(max_size=200))
    sender = framing.FrameProtocol(max_chunk=draw(st.sampled_from([CHUNK, 7, 100])))
    frames = sender.frame(request_id, kind, payload, raw=draw(st.booleans()))
    return damage(draw, frames) if draw(st.booleans()) else frames


STREAMS = st.tuples(st.lists(pieces(), max_size=8), st.lists(st.integers(1, 400), max_size=20))


# ---- the properties -------------------------------------------------------------------
def safe(text: str) -> bool:
    return not text.lstrip().startswith("*HTML*") and not any(
        not c.isprintable() and c not in "\n\t" for c in text
    )


def read_reply(payload: Any) -> None:
    """What a caller does with a completed reply: only expected outcomes."""
    try:
        reply, value = decoding.decode(payload, None, time.monotonic() + 5)
        replies.outcome(reply, value=value)
    except RunnerException as error:
        assert safe(str(error)), str(error)
    except Exception as error:
        assert hasattr(error, "remote_traceback"), f"not a remote exception: {error!r}"
        assert safe(str(error)), repr(str(error))
        repr(error)


def feed(stream: bytes, cuts: list[int], accept_raw: bool) -> AgentConnection:
    connection = AgentConnection(
        NullTerminal(), name="fuzz", max_message=MAX_MESSAGE, max_unfinished=MAX_UNFINISHED
    )
    connection.accept_raw(accept_raw)
    connection.hello = None
    pendings = [connection.request(messages.KIND_REQUEST, b"") for _ in REQUEST_IDS]
    position = 0
    for cut in [*cuts, len(stream)]:
        connection._dispatch(stream[position : position + cut])  # what the reader does
        position += cut
        receiver = connection._receiver
        assert receiver.unfinished <= MAX_UNFINISHED
        assert receiver.buffered <= 4 * CHUNK + MAX_MESSAGE
        if position >= len(stream):
            break
    if connection.broken is not None:
        assert isinstance(connection.broken, ProtocolViolation), connection.broken
    for pending in pendings:
        if pending.done():
            try:
                payload = pending.payload()
            except RunnerException as error:
                assert safe(str(error)), str(error)
                continue
            read_reply(payload)
    for stream_name, text in connection.drain_notices():
        if stream_name != "noise":  # noise is logged as repr()
            assert safe(stream_name) and safe(text), (stream_name, text)
    return connection


@ROUND
@given(STREAMS, st.booleans())
def stream_round(stream: tuple[list[bytes], list[int]], accept_raw: bool) -> None:
    parts, cuts = stream
    feed(b"".join(parts), cuts, accept_raw)


@ROUND
@given(reply_payloads())
def reply_round(payload: bytes) -> None:
    read_reply(payload)


@ROUND
@given(st.binary(max_size=600), st.lists(st.integers(1, 50), max_size=10), st.booleans())
def bytes_round(data: bytes, cuts: list[int], accept_raw: bool) -> None:
    feed(data, cuts, accept_raw)


def test_any_stream_costs_at_most_its_calls():
    explore(stream_round)


def test_any_reply_reads_as_a_value_or_an_expected_error():
    explore(reply_round)


def test_random_bytes_never_break_the_reader():
    explore(bytes_round)
