"""Unit tests of RemoteProxyLibrary.wire.framing (sans-IO frame protocol)."""

from __future__ import annotations

import binascii
import os
import random
import re
import time
import zlib
from typing import Any, Optional

import pytest

from RemoteProxyLibrary.wire.framing import CorruptFrame, FrameProtocol, Message, Noise

Event = Any


def coalesce(events: list[Event]) -> list[Event]:
    """Merge adjacent Noise events (their split depends on chunking)."""
    merged: list[Event] = []
    for event in events:
        if isinstance(event, Noise) and merged and isinstance(merged[-1], Noise):
            merged[-1] = Noise(merged[-1].data + event.data)
        else:
            merged.append(event)
    return merged


def feed(
    receiver: FrameProtocol, data: bytes, sizes: Optional[random.Random] = None, step: int = 0
) -> list[Event]:
    """Feed ``data`` at once, in ``step`` sized pieces or in random pieces."""
    events: list[Event] = []
    if step:
        for i in range(0, len(data), step):
            events += receiver.receive(data[i : i + step])
        return events
    if sizes is None:
        return receiver.receive(data)
    pos = 0
    while pos < len(data):
        size = sizes.choice([1, 2, 3, 7, 64, 1000, 4096, 65536])
        events += receiver.receive(data[pos : pos + size])
        pos += size
    return events


def norm(events: list[Event]) -> list[Event]:
    """Coalesced, with bytearray payloads as bytes (for comparisons)."""
    return [
        Message(e.request_id, e.kind, bytes(e.payload)) if isinstance(e, Message) else e
        for e in coalesce(events)
    ]


def frames_of(wire: bytes) -> list[bytes]:
    return [m.group(0) for m in re.finditer(rb"\{RPL:.*?\}\n", wire)]


SENDER = FrameProtocol()


# ---------------------------------------------------------------------------
# Sending


def test_frame_format_single() -> None:
    wire = SENDER.frame(5, "R", b"hello")
    head = b"{RPL:5:R.:8:aGVsbG8="
    assert wire == head + b":%08x}\n" % zlib.crc32(head)
    assert (
        wire
        == SENDER.frame(5, "R", bytearray(b"hello"))
        == SENDER.frame(5, "R", memoryview(b"hello"))
    )
    empty = SENDER.frame(0, "x", b"")
    assert empty == b"{RPL:0:x.:0::%08x}\n" % zlib.crc32(b"{RPL:0:x.:0:")
    assert SENDER.frame(2**64 - 1, "Z", b"").startswith(b"{RPL:ffffffffffffffff:Z.:0:")
    assert wire.isascii()


def test_frame_format_chunks_and_chained_crc() -> None:
    sender = FrameProtocol(max_chunk=4)
    payload = b"0123456789"
    wire = sender.frame(0x1F, "O", payload)
    frames = frames_of(wire)
    assert b"".join(frames) == wire
    assert len(frames) == 3
    crc = 0
    raw = b""
    for i, frame in enumerate(frames):
        match = re.fullmatch(rb"(\{RPL:1f:O([+.]):([0-9a-f]+):([^:]*)):([0-9a-f]{8})\}\n", frame)
        assert match is not None, frame
        assert match.group(2) == (b"." if i == 2 else b"+")
        assert int(match.group(3), 16) == len(match.group(4))
        crc = zlib.crc32(match.group(1), crc)  # chained through the message
        assert int(match.group(5), 16) == crc
        raw += binascii.a2b_base64(match.group(4))
    assert raw == payload
    assert b"".join(sender.frame_parts(0x1F, "O", payload)) == wire
    assert list(sender.frame_parts(1, "O", b"")) == [sender.frame(1, "O", b"")]
    # exactly max_chunk: one frame
    assert len(frames_of(sender.frame(1, "O", b"abcd"))) == 1
    assert len(frames_of(sender.frame(1, "O", b"abcde"))) == 2


@pytest.mark.parametrize(
    "request_id, kind",
    [(-1, "R"), (2**64, "R"), (1, ""), (1, "RR"), (1, "1"), (1, "é"), (1, ":"), (1, "+")],
)
def test_frame_rejects_bad_arguments(request_id: int, kind: str) -> None:
    with pytest.raises(ValueError):
        SENDER.frame(request_id, kind, b"x")
    with pytest.raises(ValueError):
        list(SENDER.frame_parts(request_id, kind, b"x"))


def test_constructor_checks() -> None:
    with pytest.raises(ValueError):
        FrameProtocol(max_chunk=0)
    with pytest.raises(ValueError):
        FrameProtocol(max_message=-1)


# ---------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize(
    "payload",
    [b"", b"x", b"ab", b"abc", bytes(range(256)), os.urandom(1 << 20)],
    ids=lambda p: str(len(p)),
)
def test_roundtrip_sizes(payload: bytes) -> None:
    receiver = FrameProtocol()
    events = receiver.receive(SENDER.frame(42, "R", payload))
    assert events == [Message(42, "R", payload)]
    assert isinstance(events[0], Message) and type(events[0].payload) is bytes
    assert receiver.buffered == 0


def test_roundtrip_multichunk_5mib() -> None:
    payload = os.urandom(5 << 20)
    sender = FrameProtocol(max_chunk=64 << 10)
    wire = sender.frame(7, "R", payload)
    assert len(frames_of(wire)) == 80
    receiver = FrameProtocol()
    events = feed(receiver, wire, step=32 << 10)
    assert len(events) == 1
    assert isinstance(events[0], Message)
    assert isinstance(events[0].payload, bytearray)
    assert events[0].payload == payload
    assert (events[0].request_id, events[0].kind) == (7, "R")


def test_byte_by_byte_and_random_chunks() -> None:
    sender = FrameProtocol(max_chunk=10)
    messages = [(1, "R", b""), (2, "O", b"x" * 35), (3, "R", os.urandom(100)), (4, "H", b"a")]
    wire = b"".join(sender.frame(*m) for m in messages)
    expected = [Message(*m) for m in messages]
    assert norm(feed(FrameProtocol(), wire, step=1)) == expected
    rng = random.Random(5)
    for _ in range(50):
        assert norm(feed(FrameProtocol(), wire, sizes=rng)) == expected


def test_interleaved_messages() -> None:
    sender = FrameProtocol(max_chunk=8)
    a = list(sender.frame_parts(1, "R", b"A" * 50))
    b = list(sender.frame_parts(2, "R", b"B" * 30))
    c = list(sender.frame_parts(1, "O", b"C" * 20))  # same id, other kind
    wire = b""
    for i in range(max(len(a), len(b), len(c))):
        for frames in (a, b, c):
            if i < len(frames):
                wire += frames[i] + b"noise "
    events = norm(feed(FrameProtocol(), wire, sizes=random.Random(1)))
    messages = [e for e in events if isinstance(e, Message)]
    assert sorted((m.request_id, m.kind, m.payload) for m in messages) == [
        (1, "O", b"C" * 20),
        (1, "R", b"A" * 50),
        (2, "R", b"B" * 30),
    ]
    assert not [e for e in events if isinstance(e, CorruptFrame)]
    noise = b"".join(e.data for e in events if isinstance(e, Noise))
    assert noise == b"noise " * (len(a) + len(b) + len(c))


# ---------------------------------------------------------------------------
# Noise


def test_noise_before_between_after() -> None:
    one = SENDER.frame(1, "R", b"one")
    two = SENDER.frame(2, "R", b"two")
    wire = b"$ python3\r\n" + one + b"between{ {RPL:zz" + two + b"{RPL:1:R+:" + b"{x} after"
    expected = [
        Noise(b"$ python3\r\n"),
        Message(1, "R", b"one"),
        Noise(b"between{ {RPL:zz"),
        Message(2, "R", b"two"),
        Noise(b"{RPL:1:R+:{x} after"),
    ]
    assert FrameProtocol().receive(wire) == expected
    assert norm(feed(FrameProtocol(), wire, step=1)) == expected
    rng = random.Random(2)
    for _ in range(30):
        assert norm(feed(FrameProtocol(), wire, sizes=rng)) == expected


def test_noise_is_reported_at_once_and_partial_header_held() -> None:
    receiver = FrameProtocol()
    assert receiver.receive(b"hello") == [Noise(b"hello")]
    assert receiver.buffered == 0
    assert receiver.receive(b"{") == []
    assert receiver.receive(b"RP") == []
    assert receiver.buffered == 3
    assert receiver.receive(b"x") == [Noise(b"{RPx")]
    assert receiver.receive(b"ab{RPL:1f:R.:1") == [Noise(b"ab")]
    assert receiver.buffered == 12
    assert receiver.receive(b"2345678901234567") == [Noise(b"{RPL:1f:R.:12345678901234567")]
    assert receiver.receive(b"{RP") == []
    assert receiver.receive(SENDER.frame(3, "R", b"z")) == [
        Noise(b"{RP"),
        Message(3, "R", b"z"),
    ]
    assert receiver.buffered == 0
    assert receiver.receive(b"") == []


def test_brace_noise_directly_before_frame() -> None:
    frame = SENDER.frame(9, "R", b"payload")
    for prefix in [
        b"{",
        b"{{",
        b"{R",
        b"{RPL",
        b"{RPL:",
        b"{RPL:9",
        b"{RPL:9:R.:",
        b"{RPL:9:R.:7:",
    ]:
        for step in (0, 1):
            events = norm(feed(FrameProtocol(), prefix + frame, step=step))
            messages = [e for e in events if isinstance(e, Message)]
            assert messages == [Message(9, "R", b"payload")], (prefix, events)


def test_newline_after_frame() -> None:
    one = SENDER.frame(1, "R", b"1")
    assert one.endswith(b"}\n")
    body = one[:-1]
    for tail, noise in [
        (b"\n", b""),
        (b"\r\n", b""),
        (b"", b""),
        (b"\n\n", b"\n"),
        (b"\r\r\n", b"\r\r\n"),
        (b"x\n", b"x\n"),
    ]:
        wire = body + tail + SENDER.frame(2, "R", b"2")
        expected = (
            [Message(1, "R", b"1")] + ([Noise(noise)] if noise else []) + [Message(2, "R", b"2")]
        )
        assert norm(feed(FrameProtocol(), wire)) == expected, tail
        assert norm(feed(FrameProtocol(), wire, step=1)) == expected, tail
    # a message is delivered at its "}" without waiting for the newline
    receiver = FrameProtocol()
    assert receiver.receive(body) == [Message(1, "R", b"1")]
    assert receiver.receive(b"\r") == []
    assert receiver.receive(b"\nok") == [Noise(b"ok")]


# ---------------------------------------------------------------------------
# Corruption


def corrupt_events(wire: bytes, step: int = 0) -> list[Event]:
    return [e for e in norm(feed(FrameProtocol(), wire, step=step)) if not isinstance(e, Noise)]


def test_corrupted_payload_byte() -> None:
    bad = bytearray(SENDER.frame(1, "R", b"hello world"))
    index = bad.rindex(b":") - 3  # inside the payload
    good = SENDER.frame(2, "R", b"next")
    for replacement, reason in [(b"Z", "checksum mismatch"), (b"!", "unexpected byte 0x21")]:
        wire = bytes(bad[:index]) + replacement + bytes(bad[index + 1 :]) + good
        for step in (0, 1, 5):
            events = corrupt_events(wire, step)
            assert len(events) == 2, events
            assert isinstance(events[0], CorruptFrame) and events[0].request_id == 1
            assert events[0].reason.startswith(reason)
            assert events[1] == Message(2, "R", b"next")


def test_corrupted_crc() -> None:
    frame = SENDER.frame(1, "R", b"hello")
    wrong = frame[:-3] + (b"0" if frame[-3:-2] != b"0" else b"1") + frame[-2:]
    wire = b"a" + wrong + b"b" + SENDER.frame(2, "R", b"next") + b"c"
    assert norm(feed(FrameProtocol(), wire)) == [
        Noise(b"a"),
        CorruptFrame(1, "checksum mismatch"),
        Noise(b"b"),
        Message(2, "R", b"next"),
        Noise(b"c"),
    ]


@pytest.mark.parametrize("new_length", [b"d", b"10", b"ffff", b"4", b"0", b"7", b"b"])
def test_corrupted_length(new_length: bytes) -> None:
    frame = SENDER.frame(1, "R", b"hello"[:4] * 2)  # 12 base64 characters
    assert b":R.:c:" in frame
    bad = frame.replace(b":R.:c:", b":R.:" + new_length + b":")
    good = SENDER.frame(2, "R", b"next")
    for step in (0, 1):
        events = corrupt_events(bad + good, step)
        assert [type(e) for e in events] == [CorruptFrame, Message], events
        assert events[0].request_id == 1
        assert events[1] == Message(2, "R", b"next")
    # too long a length never makes the receiver wait for more than the next frame
    receiver = FrameProtocol()
    events = receiver.receive(bad)
    if new_length in (b"10", b"ffff"):
        assert [type(e) for e in events] == [CorruptFrame, Noise]  # at the trailer's ":"


def test_truncated_frame_then_good_frame() -> None:
    frame = SENDER.frame(1, "R", b"some payload here")
    good = SENDER.frame(2, "R", b"next")
    for cut in range(1, len(frame) - 1):
        wire = frame[:cut] + good
        for step in (0, 1):
            events = corrupt_events(wire, step)
            assert events[-1] == Message(2, "R", b"next"), (cut, events)
            assert all(isinstance(e, CorruptFrame) and e.request_id == 1 for e in events[:-1])
            # once the header is complete, the damage is reported
            if cut >= frame.index(b":", 10) + 1:
                assert len(events) == 2, (cut, events)


def multichunk(request_id: int, payload: bytes, kind: str = "R") -> list[bytes]:
    return list(FrameProtocol(max_chunk=10).frame_parts(request_id, kind, payload))


def test_lost_chunks_are_detected() -> None:
    payload = bytes(range(60))
    frames = multichunk(5, payload)
    assert len(frames) == 6
    after = SENDER.frame(6, "R", b"after")
    for lost in range(len(frames) - 1):
        wire = b"".join(f for i, f in enumerate(frames) if i != lost) + after
        for step in (0, 1):
            events = corrupt_events(wire, step)
            assert events == [CorruptFrame(5, "checksum mismatch"), Message(6, "R", b"after")], (
                lost,
                events,
            )
    # A lost last chunk shows only when the next message of that id and kind
    # arrives (see below); until then the message just does not complete.
    wire = b"".join(frames[:-1]) + after
    assert corrupt_events(wire) == [Message(6, "R", b"after")]
    # a frame whose header got mangled (so it is just noise) is a lost chunk too
    mangled = frames[2].replace(b"{RPL:", b"{RPL;")
    wire = b"".join(frames[:2]) + mangled + b"".join(frames[3:]) + after
    assert corrupt_events(wire) == [
        CorruptFrame(5, "checksum mismatch"),
        Message(6, "R", b"after"),
    ]


def test_lost_last_chunk_then_new_message_with_same_id() -> None:
    frames = multichunk(5, bytes(30))
    again = multichunk(5, b"second message!")
    wire = b"".join(frames[:-1]) + b"".join(again)
    assert corrupt_events(wire) == [
        CorruptFrame(5, "incomplete message (chunks lost)"),
        Message(5, "R", b"second message!"),
    ]


def test_corrupted_middle_chunk_reported_once() -> None:
    frames = multichunk(3, bytes(range(100)))
    index = frames[4].rindex(b":") - 2
    damaged = bytearray(frames[4])
    damaged[index] = ord("A") if damaged[index] != ord("A") else ord("B")
    broken = bytes(damaged)
    wire = b"".join(frames[:4]) + broken + b"".join(frames[5:]) + b"".join(multichunk(4, b"ok"))
    assert corrupt_events(wire) == [CorruptFrame(3, "checksum mismatch"), Message(4, "R", b"ok")]
    # the same id may be used again afterwards
    wire += b"".join(multichunk(3, b"fine now" * 3))
    assert corrupt_events(wire)[-1] == Message(3, "R", b"fine now" * 3)


def test_bad_base64_with_valid_crc() -> None:
    head = b"{RPL:1:R.:1:A"
    frame = head + b":%08x}\n" % zlib.crc32(head)
    wire = frame + SENDER.frame(2, "R", b"x")
    assert corrupt_events(wire) == [CorruptFrame(1, "bad base64 payload"), Message(2, "R", b"x")]


def test_max_message() -> None:
    receiver = FrameProtocol(max_message=100)
    big = FrameProtocol(max_chunk=40).frame(1, "R", bytes(150))
    wire = b"x" + big + b"y" + SENDER.frame(2, "R", bytes(100))
    events = norm(feed(receiver, wire, step=7))
    assert events[0] == Noise(b"x")
    assert events[1].request_id == 1 and "max_message" in events[1].reason
    assert events[2:] == [Noise(b"y"), Message(2, "R", bytes(100))]
    # the skipped payload is never buffered
    receiver = FrameProtocol(max_message=100)
    huge = SENDER.frame(3, "R", bytes(100000))
    for i in range(0, len(huge), 1000):
        receiver.receive(huge[i : i + 1000])
        assert receiver.buffered <= 1000


def test_reset() -> None:
    receiver = FrameProtocol()
    frame = SENDER.frame(1, "R", b"abc")
    receiver.receive(frame[:10])
    assert receiver.buffered == 10
    receiver.reset()
    assert receiver.buffered == 0
    assert receiver.receive(frame) == [Message(1, "R", b"abc")]


def test_event_reprs_and_equality() -> None:
    message = Message(1, "R", b"x" * 1000)
    assert "1000 bytes" in repr(message) and len(repr(message)) < 200
    assert repr(Message(1, "R", b"ab")) == "Message(request_id=1, kind='R', payload=b'ab')"
    assert repr(Noise(b"hi")) == "Noise(b'hi')"
    assert repr(CorruptFrame(None, "bad")) == "CorruptFrame(request_id=None, reason='bad')"
    assert Noise(b"a") != Noise(b"b")
    assert Noise(b"a") != Message(1, "R", b"a")
    assert CorruptFrame(1, "x") == CorruptFrame(1, "x")


# ---------------------------------------------------------------------------
# Fuzz


def garbage(rng: random.Random) -> bytes:
    """Random bytes, truncated frames of foreign ids, header prefixes, base64."""
    choice = rng.randrange(6)
    if choice == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 50)))
    if choice == 1:
        frame = SENDER.frame(rng.randint(10**6, 10**7), "R", os.urandom(rng.randint(0, 40)))
        return frame[: rng.randrange(len(frame) - 2)]  # never a complete frame
    if choice == 2:
        return b"{RPL:"[: rng.randint(1, 5)]
    if choice == 3:
        return bytes(rng.choice(b"{RPL:0123456789abcdef+.R=/}\n\r") for _ in range(20))
    if choice == 4:
        return binascii.b2a_base64(os.urandom(rng.randint(0, 30)))
    damaged = bytearray(SENDER.frame(rng.randint(10**6, 10**7), "R", os.urandom(20)))
    damaged[rng.randrange(len(damaged) - 1)] ^= 1 << rng.randrange(8)  # a damaged frame
    return bytes(damaged)


def test_fuzz_garbage_with_embedded_frames() -> None:
    rng = random.Random(2024)
    for _ in range(300):
        wire = b""
        expected = []
        for request_id in range(rng.randint(1, 8)):
            wire += garbage(rng)
            payload = os.urandom(rng.randint(0, 60))
            if rng.random() < 0.3:
                # a multi-chunk message with garbage between its frames
                for part in FrameProtocol(max_chunk=16).frame_parts(request_id, "M", payload):
                    wire += part + (garbage(rng) if rng.random() < 0.5 else b"")
                expected.append(Message(request_id, "M", payload))
            else:
                wire += SENDER.frame(request_id, "S", payload)
                expected.append(Message(request_id, "S", payload))
        wire += garbage(rng)
        for step in (0, 1, rng.randint(2, 50)):
            events = feed(FrameProtocol(), wire, step=step)
            messages = [e for e in norm(events) if isinstance(e, Message)]
            assert messages == expected


def test_fuzz_random_bytes_never_raise() -> None:
    rng = random.Random(77)
    receiver = FrameProtocol(max_message=1000)
    alphabet = b"{RPL:0123456789abcdef+.RS=/}\n\rAZaz"
    for _ in range(3000):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        for event in receiver.receive(data):
            assert isinstance(event, (Noise, CorruptFrame, Message))
    for _ in range(3000):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))
        for event in receiver.receive(data):
            assert isinstance(event, (Noise, CorruptFrame, Message))


def test_buffer_stays_small_while_streaming() -> None:
    payload = os.urandom(3 << 20)
    wire = FrameProtocol(max_chunk=256 << 10).frame(1, "R", payload)
    receiver = FrameProtocol()
    largest = 0
    events: list[Event] = []
    for i in range(0, len(wire), 32 << 10):
        events += receiver.receive(wire[i : i + (32 << 10)])
        largest = max(largest, receiver.buffered)
    assert events == [Message(1, "R", bytearray(payload))]
    assert largest < 400 << 10  # about one frame, not the whole message


def test_throughput_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Rough numbers, printed (``pytest -s``), never asserted."""
    payload = os.urandom(20 << 20)
    sender = FrameProtocol()
    start = time.perf_counter()
    wire = sender.frame(1, "R", payload)
    framed = time.perf_counter()
    receiver = FrameProtocol()
    view = memoryview(wire)
    events = []
    for i in range(0, len(wire), 32 << 10):
        events += receiver.receive(view[i : i + (32 << 10)])
    received = time.perf_counter()
    assert events == [Message(1, "R", payload)]
    tiny = sender.frame(1, "R", b"abc")
    n = 5000
    t0 = time.perf_counter()
    for _ in range(n):
        sender.frame(1, "R", b"abc")
    t1 = time.perf_counter()
    for _ in range(n):
        receiver.receive(tiny)
    t2 = time.perf_counter()
    with capsys.disabled():
        mb = len(payload) / 1e6
        print(
            f"\nframing 20 MB: frame() {mb / (framed - start):.0f} MB/s, "
            f"receive() in 32 KB chunks {mb / (received - framed):.0f} MB/s; "
            f"tiny frame() {(t1 - t0) / n * 1e6:.2f} us, receive() {(t2 - t1) / n * 1e6:.2f} us"
        )


# ---- raw frames (rule 2b) -------------------------------------------------------


def test_raw_frames_carry_every_byte_value_in_chunks():
    sender = FrameProtocol(max_chunk=1000)
    payload = bytes(range(256)) * 20 + b"{RPL:1:R.:4:AAAA:00000000}\n"
    data = b"noise" + sender.frame(9, "R", payload, raw=True) + sender.frame(10, "O", b"x")
    receiver = FrameProtocol(accept_raw=True)
    events = []
    for i in range(0, len(data), 13):
        events += receiver.receive(data[i : i + 13])
    messages = [e for e in events if isinstance(e, Message)]
    assert [(m.request_id, m.kind) for m in messages] == [(9, "R"), (10, "O")]
    assert bytes(messages[0].payload) == payload
    assert b"".join(e.data for e in events if isinstance(e, Noise)) == b"noise"


def test_raw_frame_parts_match_frame():
    sender = FrameProtocol(max_chunk=100)
    payload = bytes(range(256)) * 3
    assert b"".join(sender.frame_parts(1, "R", payload, raw=True)) == sender.frame(
        1, "R", payload, raw=True
    )


def test_damaged_raw_frame_is_reported_and_the_next_one_arrives():
    sender = FrameProtocol()
    bad = bytearray(sender.frame(6, "R", b"hello world", raw=True))
    bad[25] ^= 0x01
    events = FrameProtocol(accept_raw=True).receive(
        bytes(bad) + sender.frame(7, "R", b"ok", raw=True)
    )
    assert any(isinstance(e, CorruptFrame) and e.request_id == 6 for e in events)
    assert [e.payload for e in events if isinstance(e, Message)] == [b"ok"]


def test_raw_frames_are_refused_until_accepted():
    raw = FrameProtocol().frame(6, "R", b"\x00{RPL:swallow me", raw=True)
    after = SENDER.frame(7, "R", b"ok")
    for step in (0, 1, 5):
        events = norm(feed(FrameProtocol(), raw + after, step=step))
        assert events[0] == CorruptFrame(6, "raw frame, but raw frames were not agreed")
        assert events[-1] == Message(7, "R", b"ok")  # the header alone was refused
        accepted = norm(feed(FrameProtocol(accept_raw=True), raw + after, step=step))
        assert accepted == [Message(6, "R", b"\x00{RPL:swallow me"), Message(7, "R", b"ok")]


@pytest.mark.parametrize("raw", [False, True])
def test_a_frame_longer_than_max_chunk_allows_is_refused_at_its_header(raw):
    receiver = FrameProtocol(max_chunk=30, accept_raw=True)
    longest = 30 if raw else 40  # base64 of 30 bytes
    ok = FrameProtocol(max_chunk=30).frame(1, "R", bytes(30), raw=raw)
    assert receiver.receive(ok) == [Message(1, "R", bytes(30))]
    lying = b"{RPL:2:R.:%x%s" % (longest + 1, b";" if raw else b":")
    events = receiver.receive(lying + SENDER.frame(3, "R", b"next"))
    assert events[0].request_id == 2 and "longest frame" in events[0].reason
    assert not events[0].fatal
    assert events[-1] == Message(3, "R", b"next")


def test_a_raw_frame_failing_its_check_is_fatal():
    frame = bytearray(FrameProtocol().frame(4, "R", b"payload", raw=True))
    crc, trailer = bytearray(frame), bytearray(frame)
    crc[-4] ^= 1
    trailer[-2:-1] = b"x"  # the } of the trailer
    for damaged in (crc, trailer):
        events = FrameProtocol(accept_raw=True).receive(bytes(damaged))
        corrupt = [e for e in events if isinstance(e, CorruptFrame)]
        assert len(corrupt) == 1 and corrupt[0].fatal and corrupt[0].request_id == 4
    # a base64 frame's damage is not: its bytes were each checked
    frame = bytearray(SENDER.frame(4, "R", b"payload"))
    frame[-4] ^= 1
    assert FrameProtocol().receive(bytes(frame)) == [CorruptFrame(4, "checksum mismatch")]


def test_unfinished_messages_are_bounded_in_total():
    sender = FrameProtocol(max_chunk=1000)
    receiver = FrameProtocol(max_unfinished=10000)
    events = []
    for request_id in range(1, 20):
        first = next(sender.frame_parts(request_id, "R", bytes(5000)))
        events += receiver.receive(first)
        assert receiver.unfinished <= 10000
    fatal = [e for e in events if isinstance(e, CorruptFrame)]
    assert fatal and fatal[0].fatal and "max_unfinished" in fatal[0].reason
    # dropped together: nothing is held any more, and what follows still arrives
    assert receiver.receive(SENDER.frame(30, "R", b"x")) == [Message(30, "R", b"x")]
    assert receiver.unfinished < 10000
    # messages whose rest is dropped count too (each key is memory)
    receiver = FrameProtocol(max_unfinished=5000)
    events = []
    for request_id in range(1, 20):
        events += receiver.receive(b"{RPL:%x:R+:5:*" % request_id)  # corrupt, more follow
    assert any(isinstance(e, CorruptFrame) and e.fatal for e in events)


def test_the_message_arriving_is_bounded_by_max_message_only():
    receiver = FrameProtocol(max_message=10000, max_unfinished=3000)
    sender = FrameProtocol(max_chunk=1000)
    wire = sender.frame(1, "R", bytes(10000))
    assert feed(receiver, wire, step=333) == [Message(1, "R", bytes(10000))]
    # two messages taking turns: the one waiting counts
    first, second = sender.frame_parts(2, "R", bytes(9000)), sender.frame_parts(3, "R", bytes(9000))
    events = []
    for _ in range(4):
        events += receiver.receive(next(first)) + receiver.receive(next(second))
    assert any(isinstance(e, CorruptFrame) and e.fatal for e in events)


def test_progress_counts_checked_traffic_only():
    receiver = FrameProtocol(accept_raw=True)
    receiver.receive(b"noise noise noise")
    assert receiver.progress == 0
    wire = SENDER.frame(1, "R", bytes(300))
    receiver.receive(wire[:100])
    assert receiver.progress > 0  # base64 payload bytes are checked as they come
    receiver.receive(wire[100:])
    before = receiver.progress
    raw = FrameProtocol().frame(2, "R", bytes(300), raw=True)
    receiver.receive(raw[:200])
    assert receiver.progress == before and receiver.raw_received > 0
    receiver.receive(raw[200:])
    assert receiver.progress > before  # the raw frame checked
