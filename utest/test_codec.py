"""Unit tests of RemoteProxyLibrary.wire.codec (safe value codec)."""

from __future__ import annotations

import collections
import enum
import glob
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import tracemalloc
from typing import Any

import pytest

from RemoteProxyLibrary.wire import codec
from RemoteProxyLibrary.wire.codec import MAX_DEPTH, DecodeError, EncodeError, Ref, decode, encode

WIRE = os.path.dirname(os.path.abspath(codec.__file__))


def same(a: Any, b: Any) -> bool:
    """Equal values of exactly the same types, nan == nan, -0.0 != 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def roundtrip(value: Any) -> Any:
    data = encode(value)
    assert isinstance(data, bytes)
    result = decode(data)
    assert same(result, value), (value, result)
    # every input type of decode gives the same
    assert same(decode(bytearray(data)), value)
    assert same(decode(memoryview(data)), value)
    return result


SCALARS = [
    None,
    True,
    False,
    *[0, 1, -1, 63, 64, -64, -65, 127, 128, -128, -129, 255, 256, 1000, -1000],
    *[32767, 32768, -32768, -32769, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1],
    *[2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**100, -(10**100), 2**4000 + 1],
    *[0.0, -0.0, 1.5, -2.25, 1e308, 5e-324, math.inf, -math.inf, math.nan, math.pi],
    complex(1, 2),
    complex(-0.0, math.inf),
    complex(math.nan, 0),
    "",
    "ab",
    "ä€😀",
    "\x00\n\r\t",
    "x" * 127,
    "y" * 128,
    "z" * 100000,
    b"",
    b"\x00\xff",
    bytes(range(256)) * 3,
    bytearray(),
    bytearray(b"abc"),
    bytearray(300),
]


@pytest.mark.parametrize("value", SCALARS, ids=lambda v: repr(v)[:30])
def test_roundtrip_scalars(value: Any) -> None:
    roundtrip(value)


@pytest.mark.parametrize(
    "value",
    [
        [],
        (),
        {},
        set(),
        frozenset(),
        [1, "a", None],
        (1, "ab", None),
        ((),),
        [[[]]],
        {"a": 1, 2: "b", None: [], (1, 2): {3: 4}, 1.5: b"x", frozenset({1}): True},
        {1, "a", (1, 2), None, frozenset({2})},
        frozenset({b"x", 3.5}),
        list(range(-300, 300)),
        tuple(str(i) for i in range(200)),
        {str(i): i * 1000 for i in range(300)},
        [{"k": [(1, {2: {3}})]}, bytearray(b"q"), complex(0, 1)],
    ],
    ids=lambda v: repr(v)[:30],
)
def test_roundtrip_containers(value: Any) -> None:
    roundtrip(value)


def test_set_and_frozenset_types_kept() -> None:
    assert type(decode(encode({1}))) is set
    assert type(decode(encode(frozenset({1})))) is frozenset
    assert decode(encode({(1, 2), "a"})) == {(1, 2), "a"}


def test_bool_stays_bool_and_dict_keys_distinct() -> None:
    assert decode(encode([True, 1, False, 0])) == [True, 1, False, 0]
    assert [type(x) for x in decode(encode([True, 1]))] == [bool, int]
    assert decode(encode(dict([(1, "a"), (True, "b")]))) == {1: "b"}  # Python merges them too


def test_surrogates() -> None:
    for text in ["\ud800", "\udfff", "a\udc80b", "\ud83d\ude00", "\udfff\ud800" * 100]:
        result = roundtrip(text)
        assert len(result) == len(text)
    # a real non-BMP char and the surrogate pair spelling stay different
    assert decode(encode("\U0001f600")) != decode(encode("\ud83d\ude00"))


def test_subclasses_travel_as_base_types() -> None:
    Point = collections.namedtuple("Point", "x y")

    class Color(enum.IntEnum):
        RED = 1

    class Flag(enum.IntFlag):
        A = 1
        B = 2

    class MyStr(str):
        def encode(self, *args: Any, **kwargs: Any) -> bytes:
            raise AssertionError("must not be used")

    class MyBytes(bytes):
        pass

    class MyFloat(float):
        pass

    class MyComplex(complex):
        pass

    class MyList(list):
        pass

    class MySet(set):
        pass

    class MyFrozen(frozenset):
        pass

    class MyByteArray(bytearray):
        pass

    ordered = collections.OrderedDict([("a", 1), ("b", 2), ("c", 3)])
    ordered.move_to_end("a")
    counter = collections.Counter("abca")
    default = collections.defaultdict(list, {"x": [1]})
    cases = [
        (Point(1, 2), (1, 2)),
        (Color.RED, 1),
        (Flag.A | Flag.B, 3),
        (MyStr("hé\ud800"), "hé\ud800"),
        (MyBytes(b"xy"), b"xy"),
        (MyFloat(2.5), 2.5),
        (MyComplex(1, 2), complex(1, 2)),
        (MyList([1, [2]]), [1, [2]]),
        (MySet({1}), {1}),
        (MyFrozen({1}), frozenset({1})),
        (MyByteArray(b"z"), bytearray(b"z")),
        (counter, {"a": 2, "b": 1, "c": 1}),
        (default, {"x": [1]}),
        ([Point(1, Color.RED)], [(1, 1)]),
    ]
    for value, expected in cases:
        result = decode(encode(value))
        assert same(result, expected), (value, result)
    result = decode(encode(ordered))
    assert type(result) is dict
    assert list(result.items()) == [("b", 2), ("c", 3), ("a", 1)]


# ---------------------------------------------------------------------------
# Ref


def test_ref_value_object() -> None:
    ref = Ref("h1", "socket.socket", True)
    assert (ref.name, ref.type_name, ref.callable) == ("h1", "socket.socket", True)
    assert ref == Ref("h1", "socket.socket", True)
    assert ref != Ref("h1", "socket.socket", False)
    assert hash(ref) == hash(Ref("h1", "socket.socket", True))
    assert Ref("a", "b").callable is False
    assert "h1" in repr(ref) and "socket.socket" in repr(ref)
    with pytest.raises(AttributeError):
        ref.name = "other"
    with pytest.raises(AttributeError):
        del ref.name
    with pytest.raises(TypeError):
        Ref(1, "x")  # type: ignore[arg-type]
    assert not isinstance(ref, tuple)
    assert ref != ("h1", "socket.socket", True)
    import copy
    import pickle

    assert copy.copy(ref) == ref
    assert pickle.loads(pickle.dumps(ref)) == ref


def test_ref_roundtrip_both_ways() -> None:
    ref = Ref("h\ud800", "mod.Type", False)
    assert decode(encode(ref)) == ref
    assert decode(encode([ref, {ref: ref}, {ref}])) == [ref, {ref: ref}, {ref}]

    held: dict[str, Any] = {}

    def ref_encoder(obj: Any) -> Any:
        if isinstance(obj, socket.socket):
            name = f"h{len(held)}"
            held[name] = obj
            return Ref(name, "socket.socket", False)
        if callable(obj):
            return Ref("f", "function", True)
        return None

    with socket.socket() as sock:
        data = encode({"sock": sock, "f": len, "n": [1, sock]}, ref_encoder)
        plain = decode(data)
        assert plain == {
            "sock": Ref("h0", "socket.socket", False),
            "f": Ref("f", "function", True),
            "n": [1, Ref("h1", "socket.socket", False)],
        }
        decoded = decode(data, lambda r: held.get(r.name, r))
        assert decoded["sock"] is sock and decoded["n"][1] is sock
        assert decoded["f"] == Ref("f", "function", True)
    # A Ref is a Ref even with a ref_encoder; the encoder is not consulted.
    assert decode(encode(ref, lambda obj: pytest.fail("called"))) == ref


def test_ref_encoder_and_decoder_errors() -> None:
    with pytest.raises(EncodeError, match="cannot encode value of type object"):
        encode(object(), lambda obj: None)
    with pytest.raises(TypeError, match="ref_encoder returned str"):
        encode(object(), lambda obj: "nope")  # type: ignore[arg-type, return-value]

    def failing(obj: Any) -> Any:
        raise KeyError("from encoder")

    with pytest.raises(KeyError, match="from encoder"):
        encode([object()], failing)

    def failing_decoder(ref: Ref) -> Any:
        raise IndexError("from decoder")

    with pytest.raises(IndexError, match="from decoder"):
        decode(encode([Ref("a", "b")]), failing_decoder)
    # an unhashable object made of a Ref used as dict key
    with pytest.raises(DecodeError, match="unhashable"):
        decode(encode({Ref("a", "b"): 1}), lambda ref: [])


# ---------------------------------------------------------------------------
# Encode errors


def test_unencodable_paths() -> None:
    with socket.socket() as sock:
        with pytest.raises(EncodeError) as info:
            encode([1, 2, {"key": sock}])
        assert str(info.value) == "cannot encode value[2]['key'] of type socket.socket"
    cases = [
        (object(), "cannot encode value of type object"),
        ((1, [2, object()]), "cannot encode value[1][1] of type object"),
        ({object(): 1}, "cannot encode value<key #0> of type object"),
        ({"a": 1, "b": {2: {object()}}}, "cannot encode value['b'][2]<item #0> of type object"),
        ([memoryview(b"x")], "cannot encode value[0] of type memoryview"),
        ([1, time], "cannot encode value[1] of type module"),
        ({("k" * 100): object()}, "cannot encode value['" + "k" * 56 + "...] of type object"),
    ]
    for value, message in cases:
        with pytest.raises(EncodeError) as info:
            encode(value)
        assert str(info.value) == message
        assert isinstance(info.value, ValueError)


def test_cycles_are_encode_errors() -> None:
    lst: list[Any] = [1]
    lst.append(lst)
    with pytest.raises(EncodeError, match=r"value\[1\]: cyclic reference"):
        encode(lst)
    dct: dict[str, Any] = {}
    dct["me"] = [dct]
    with pytest.raises(EncodeError, match=r"value\['me'\]\[0\]: cyclic reference"):
        encode(dct)
    # shared (not cyclic) containers are fine
    shared = [1, 2]
    assert decode(encode([shared, shared, (shared,)])) == [[1, 2], [1, 2], ([1, 2],)]


def nested(depth: int) -> Any:
    value: Any = None
    for _ in range(depth):
        value = [value]
    return value


def test_depth_limit_encode() -> None:
    assert decode(encode(nested(MAX_DEPTH))) == nested(MAX_DEPTH)
    with pytest.raises(EncodeError, match="nesting deeper than 100 levels"):
        encode(nested(MAX_DEPTH + 1))
    with pytest.raises(EncodeError, match="nesting deeper"):
        encode(nested(100000))  # no RecursionError
    with pytest.raises(EncodeError, match="nesting deeper"):
        encode({"a": nested(MAX_DEPTH)})


# ---------------------------------------------------------------------------
# Decode errors


def decode_error(data: bytes, match: str = "") -> str:
    with pytest.raises(DecodeError, match=match) as info:
        decode(data)
    return str(info.value)


def test_decode_errors() -> None:
    decode_error(b"", "truncated")
    decode_error(b"N\x00", "trailing")
    decode_error(b"\x00", "unknown tag 0x00")
    decode_error(b"s\x02\xff\xfe", "invalid UTF-8")
    decode_error(b"s\x05ab", "truncated|exceeds")
    decode_error(b"l\x02N", "exceeds")
    decode_error(b"b\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "varint too long")
    decode_error(b"d\x01l\x00N", "unhashable dict key")
    decode_error(b"e\x01l\x00", "unhashable set item")
    decode_error(b"R\x02\x01a\x01b", "callable flag")
    decode_error(b"R\x00\x01\xff\x01b", "invalid UTF-8")
    decode_error(b"f\x00\x00", "truncated")
    decode_error(b"c" + b"\x00" * 15, "truncated")
    decode_error(b"I\x05\x01", "exceeds")
    decode_error(b"q\x00", "truncated")
    with pytest.raises(TypeError):
        decode("text")


def test_every_truncation_of_valid_encodings_fails_cleanly() -> None:
    values = [(1, "ab", None), {"a": [1.5, b"xyz", {2}], "b": Ref("n", "t", True)}, 10**50]
    for value in values:
        data = encode(value)
        for cut in range(len(data)):
            with pytest.raises(DecodeError):
                decode(data[:cut])


def test_depth_bomb() -> None:
    for tag in b"ltdez":
        bomb = bytes([tag, 1]) * 100000 + b"N"
        with pytest.raises(DecodeError, match="nesting deeper than 100"):
            decode(bomb)
    ok = b"l\x01" * MAX_DEPTH + b"N"
    assert decode(ok) == nested(MAX_DEPTH)
    with pytest.raises(DecodeError, match="nesting deeper"):
        decode(b"l\x01" * (MAX_DEPTH + 1) + b"N")


def test_huge_declared_length_does_not_allocate() -> None:
    huge = b"\xff\xff\xff\xff\xff\xff\xff\xff\x3f"  # 2**63 - 1
    tracemalloc.start()
    try:
        for tag in b"sbaltdezI":
            with pytest.raises(DecodeError, match="exceeds"):
                decode(bytes([tag]) + huge + b"xx")
        with pytest.raises(DecodeError):
            decode(b"R\x00" + huge)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A random nested value of every handled type."""
    scalars = [
        lambda: None,
        lambda: rng.random() < 0.5,
        lambda: rng.randint(-200, 200),
        lambda: rng.randint(-(2**70), 2**70),
        lambda: rng.choice([rng.uniform(-1e9, 1e9), math.inf, -math.inf, math.nan, -0.0]),
        lambda: complex(rng.random(), -rng.random()),
        lambda: "".join(
            chr(rng.choice([rng.randint(0, 0x7F), rng.randint(0, 0x10FFFF)]))
            for _ in range(rng.randint(0, 20))
        ),
        lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200))),
        lambda: bytearray(rng.getrandbits(8) for _ in range(rng.randint(0, 5))),
        lambda: Ref(str(rng.random()), "t", rng.random() < 0.5),
    ]
    hashables = [s for i, s in enumerate(scalars) if i not in (4, 8)]  # no nan, no bytearray
    if depth > 4 or rng.random() < 0.5:
        return rng.choice(scalars)()
    size = rng.randint(0, 6)
    kind = rng.randrange(5)
    if kind == 0:
        return [random_value(rng, depth + 1) for _ in range(size)]
    if kind == 1:
        return tuple(random_value(rng, depth + 1) for _ in range(size))
    if kind == 2:
        return {rng.choice(hashables)(): random_value(rng, depth + 1) for _ in range(size)}
    if kind == 3:
        return {rng.choice(hashables)() for _ in range(size)}
    return frozenset(rng.choice(hashables)() for _ in range(size))


def test_random_nested_values_roundtrip() -> None:
    rng = random.Random(1234)
    for _ in range(3000):
        value = random_value(rng)
        result = decode(encode(value))
        assert same(result, value), value


def check_decodes_cleanly(data: bytes) -> None:
    try:
        value = decode(data)
    except DecodeError:
        return
    # whatever decodes is a plain value that encodes again
    encode(value)


def test_fuzz_random_bytes() -> None:
    rng = random.Random(99)
    alphabet = b"NTFihwqIfcsbaltdezR\x00\x01\x02\x7f\x80\xff"
    for i in range(20000):
        size = rng.randint(0, 40)
        if i % 2:
            data = bytes(rng.getrandbits(8) for _ in range(size))
        else:  # mostly tags and small lengths: gets deeper into the decoder
            data = bytes(rng.choice(alphabet) for _ in range(size))
        check_decodes_cleanly(data)


def test_fuzz_mutated_valid_encodings() -> None:
    rng = random.Random(7)
    samples = [encode(random_value(rng)) for _ in range(200)]
    samples.append(encode({"a": [1, 2.5, "x" * 200, b"y" * 300, {1, 2}], "r": Ref("n", "t")}))
    for _ in range(20000):
        data = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 3)):
            action = rng.randrange(5)
            if action == 0 and data:  # bit flip
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            elif action == 1:  # truncation
                del data[rng.randint(0, len(data)) :]
            elif action == 2:  # insertion
                data.insert(rng.randint(0, len(data)), rng.getrandbits(8))
            elif action == 3 and data:  # deletion
                del data[rng.randrange(len(data))]
            elif data:  # random byte
                data[rng.randrange(len(data))] = rng.getrandbits(8)
        check_decodes_cleanly(bytes(data))


# ---------------------------------------------------------------------------
# Sizes and speed


def test_compact_encoding() -> None:
    assert encode(None) == b"N"
    assert encode((1, "ab", None)) == b"t\x03i\x01s\x02abN"
    assert len(encode(1000)) == 3
    assert len(encode(2**40)) == 9
    assert len(encode(b"x" * 1000)) == 1003


def test_large_bytes() -> None:
    big = os.urandom(10 * 1024 * 1024)
    data = encode(big)
    assert len(data) == len(big) + 5
    assert decode(data) == big
    assert decode(memoryview(data)) == big
    assert decode(encode(bytearray(big))) == bytearray(big)
    assert decode(encode("é" * 1000000)) == "é" * 1000000


def test_caller_buffers_stay_usable() -> None:
    for size in (10, 100000):
        buf = bytearray(encode(b"x" * size))
        assert decode(buf) == b"x" * size
        buf += b"!"  # still resizable
        with pytest.raises(DecodeError, match="trailing"):
            decode(buf)
        del buf[-1]  # no BufferError, even with the traceback alive
        view = memoryview(bytes(buf))
        assert decode(view) == b"x" * size
        assert view[0] == ord("b")  # the caller's view is not released


def test_speed_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Rough numbers, printed (``pytest -s``), never asserted."""
    value = (1, "ab", None)
    data = encode(value)
    n = 20000
    start = time.perf_counter()
    for _ in range(n):
        encode(value)
    middle = time.perf_counter()
    for _ in range(n):
        decode(data)
    end = time.perf_counter()
    with capsys.disabled():
        encode_us = (middle - start) / n * 1e6
        decode_us = (end - middle) / n * 1e6
        print(f"\ncodec (1, 'ab', None): encode {encode_us:.2f} us, decode {decode_us:.2f} us")


# ---------------------------------------------------------------------------
# Python 3.6 (the oldest target Python)


def old_pythons() -> list[str]:
    found = []
    for pattern in ["~/.pyenv/versions/3.6*/bin/python3", "/usr/bin/python3.6"]:
        found.extend(glob.glob(os.path.expanduser(pattern)))
    which = shutil.which("python3.6")
    if which:
        found.append(which)
    usable = []
    for python in found:
        try:
            ok = (
                subprocess.run(
                    [python, "-c", "import sys; assert sys.version_info[:2] == (3, 6)"],
                    capture_output=True,
                    timeout=30,
                ).returncode
                == 0
            )
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            usable.append(python)
    return usable[:1]


SMOKE = r"""
import sys
sys.path.insert(0, sys.argv[1])
import codec, framing
value = [None, True, -5, 2**70, 1.5, complex(1, 2), "h\ud800", b"x", bytearray(b"y"),
         (1,), {"k": {1}}, frozenset([2]), codec.Ref("n", "t", True)]
assert codec.decode(codec.encode(value)) == value
try:
    codec.decode(b"l\x05")
except codec.DecodeError:
    pass
sender = framing.FrameProtocol(max_chunk=7)
receiver = framing.FrameProtocol()
wire = b"noise" + sender.frame(3, "R", b"payload" * 10) + b"{RP"
events = [e for b in range(len(wire)) for e in receiver.receive(wire[b:b + 1])]
assert b"".join(e.data for e in events if isinstance(e, framing.Noise)) == b"noise"
messages = [e for e in events if not isinstance(e, framing.Noise)]
assert [type(e).__name__ for e in messages] == ["Message"], events
assert bytes(messages[0].payload) == b"payload" * 10
assert receiver.buffered == 3
print("ok")
"""


def test_wire_runs_on_python36() -> None:
    pythons = old_pythons()
    if not pythons:
        pytest.skip("no Python 3.6 interpreter here")
    result = subprocess.run(
        [pythons[0], "-c", SMOKE, WIRE], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_vermin_says_python36() -> None:
    vermin = os.path.join(os.path.dirname(sys.executable), "vermin")
    if not os.path.exists(vermin):
        pytest.skip("vermin not installed")
    result = subprocess.run(
        [vermin, "-t=3.6-", "--no-tips", "--violations", WIRE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
