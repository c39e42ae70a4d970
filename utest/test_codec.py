"""Unit tests of RemoteProxyLibrary.wire.codec (safe value codec)."""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import enum
import fractions
import glob
import math
import os
import pathlib
import random
import shutil
import socket
import struct
import subprocess
import sys
import time
import tracemalloc
import typing
import uuid
import zoneinfo
from typing import Any

import pytest

from RemoteProxyLibrary.wire import codec
from RemoteProxyLibrary.wire.codec import (
    MAX_DEPTH,
    MAX_FIELDS,
    DecodeError,
    EncodeError,
    Ref,
    decode,
    encode,
)

WIRE = os.path.dirname(os.path.abspath(codec.__file__))


def same(a: Any, b: Any) -> bool:
    """Equal values of exactly the same types, nan == nan, -0.0 != 0.0; a
    named tuple and its look-alike are the same when their names, fields
    and items are; datetimes and times also need the same zone and fold."""
    if isinstance(a, tuple) and hasattr(type(a), "_fields") and type(a) is not type(b):
        return (
            isinstance(b, tuple)
            and type(b).__name__ == type(a).__name__
            and b._fields == a._fields
            and same(tuple(a), tuple(b))
        )
    if type(a) is not type(b):
        return False
    if isinstance(a, decimal.Decimal):
        return str(a) == str(b)  # NaN != NaN, and sNaN refuses to compare
    if isinstance(a, (dt.datetime, dt.time)):
        zone = (a.fold, a.utcoffset(), a.tzname())
        return a == b and zone == (b.fold, b.utcoffset(), b.tzname())
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
    class Pair(tuple):
        pass

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
        (Pair((1, 2)), (1, 2)),
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
        ([Pair((1, Color.RED))], [(1, 1)]),
    ]
    for value, expected in cases:
        result = decode(encode(value))
        assert same(result, expected), (value, result)
    result = decode(encode(ordered))
    assert type(result) is dict
    assert list(result.items()) == [("b", 2), ("c", 3), ("a", 1)]


# ---------------------------------------------------------------------------
# Dates and times, Decimal, Fraction, UUID, paths


def helsinki() -> Any:
    try:
        return zoneinfo.ZoneInfo("Europe/Helsinki")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time zone data here")


UTC = dt.timezone.utc
ALMOST_A_DAY = dt.timedelta(hours=24) - dt.timedelta(microseconds=1)

DATES_AND_TIMES = [
    dt.datetime(2024, 2, 29, 23, 59, 59, 999999),
    dt.datetime.min,
    dt.datetime.max,
    dt.datetime(2021, 11, 7, 1, 30, fold=1),
    dt.datetime(2024, 1, 1, tzinfo=UTC),
    dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    dt.datetime(2024, 1, 1, 12, 0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=-3), "BRT")),
    dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(seconds=7, microseconds=5))),
    dt.datetime(1, 1, 2, tzinfo=dt.timezone(ALMOST_A_DAY, "")),
    dt.datetime(9999, 12, 30, tzinfo=dt.timezone(-ALMOST_A_DAY, "ä\ud800")),
    dt.datetime(2024, 6, 1, fold=1, tzinfo=dt.timezone(dt.timedelta(0), "GMT")),
    dt.date(1, 1, 1),
    dt.date(9999, 12, 31),
    dt.date(2024, 2, 29),
    dt.time(),
    dt.time(23, 59, 59, 999999, fold=1),
    dt.time(1, 2, 3, 4, tzinfo=UTC),
    dt.time(12, tzinfo=dt.timezone(dt.timedelta(hours=2), "EET"), fold=1),
    dt.timedelta(),
    dt.timedelta.min,
    dt.timedelta.max,
    dt.timedelta(microseconds=-1),
    dt.timedelta(days=-1, seconds=1, microseconds=1),
]


@pytest.mark.parametrize("value", DATES_AND_TIMES, ids=repr)
def test_dates_and_times_travel_exactly(value: Any) -> None:
    result = roundtrip(value)
    if isinstance(value, (dt.datetime, dt.time)) and value.tzinfo is not None:
        # the timezone itself: offset, and the name only when it was given one
        assert result.tzinfo.__getinitargs__() == value.tzinfo.__getinitargs__()


def test_utc_arrives_as_the_utc_singleton() -> None:
    assert decode(encode(dt.datetime(2024, 1, 1, tzinfo=UTC))).tzinfo is UTC
    assert decode(encode(dt.time(tzinfo=UTC))).tzinfo is UTC


def test_other_tzinfo_arrives_as_its_offset_and_name_at_that_instant() -> None:
    zone = helsinki()
    # 03:30 on 2024-10-27 happens twice in Helsinki: fold picks EEST or EET
    for fold, offset, name in [(0, 3, "EEST"), (1, 2, "EET")]:
        value = dt.datetime(2024, 10, 27, 3, 30, 15, 123456, tzinfo=zone, fold=fold)
        result = decode(encode(value))
        assert type(result.tzinfo) is dt.timezone
        assert result.tzinfo.__getinitargs__() == (dt.timedelta(hours=offset), name)
        # the same instant (== says no: PEP 495 makes a time in a repeated
        # hour unequal to any time of another zone)
        assert result.astimezone(UTC) == value.astimezone(UTC)
        assert (result.fold, result.utcoffset(), result.tzname()) == (fold, value.utcoffset(), name)
    winter = dt.datetime(2024, 1, 15, 8, tzinfo=zone)
    assert decode(encode(winter)) == winter
    # a time with such a zone has no offset: it is naive, and arrives naive
    assert dt.time(12, tzinfo=zone).utcoffset() is None
    assert decode(encode(dt.time(12, tzinfo=zone))) == dt.time(12)
    assert decode(encode(dt.time(12, tzinfo=zone))).tzinfo is None


def test_tzinfo_without_offset_or_name() -> None:
    class Plus1(dt.tzinfo):
        def utcoffset(self, when: Any) -> dt.timedelta:
            return dt.timedelta(hours=1)

        def tzname(self, when: Any) -> None:
            return None

    class Nowhere(dt.tzinfo):
        def utcoffset(self, when: Any) -> None:
            return None

    result = decode(encode(dt.datetime(2024, 1, 1, tzinfo=Plus1())))
    assert result.tzinfo.__getinitargs__() == (dt.timedelta(hours=1),)
    assert result.tzname() == "UTC+01:00"
    naive = decode(encode(dt.datetime(2024, 1, 1, 5, tzinfo=Nowhere())))
    assert naive == dt.datetime(2024, 1, 1, 5) and naive.tzinfo is None


def test_date_and_time_subclasses_travel_as_base_types() -> None:
    class MyDateTime(dt.datetime):
        pass

    class MyDate(dt.date):
        pass

    value = MyDateTime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert same(decode(encode(value)), dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC))
    assert same(decode(encode(MyDate(2024, 1, 2))), dt.date(2024, 1, 2))


DECIMALS = [
    *["0", "-0", "1.10", "1E+3", "-1.23E-400", "0E-1000000", "1E+999999999999999999"],
    "123456789012345678901234567890.1234567890123456789",
    *["NaN", "-NaN", "NaN123", "sNaN", "-sNaN45", "Infinity", "-Infinity"],
]


@pytest.mark.parametrize("text", DECIMALS)
def test_decimal_travels_exactly(text: str) -> None:
    value = decimal.Decimal(text)
    result = roundtrip(value)
    assert str(result) == text
    assert result.as_tuple() == value.as_tuple()  # sign, digits, exponent


def test_decimal_ignores_the_context() -> None:
    text = "3.14159265358979323846264338327950288419716939937510"
    data = encode(decimal.Decimal(text))
    with decimal.localcontext() as context:
        context.prec = 3
        context.traps[decimal.InvalidOperation] = False
        assert str(decode(data)) == text
        with pytest.raises(DecodeError, match="Decimal"):
            decode(b"M\x03abc")  # would be NaN without the trap: still refused


def test_fraction_and_uuid() -> None:
    for fraction in [
        fractions.Fraction(0),
        fractions.Fraction(-1, 3),
        fractions.Fraction(2**70),
        fractions.Fraction(-(10**40), 3**50),
    ]:
        roundtrip(fraction)
    for value in [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), uuid.uuid4(), uuid.uuid1()]:
        result = roundtrip(value)
        assert result.bytes == value.bytes
    assert len(encode(uuid.uuid4())) == 17


def test_paths_arrive_as_pure_paths_of_their_flavour() -> None:
    pure = [
        pathlib.PurePosixPath("/etc/passwd"),
        pathlib.PurePosixPath("relative/x.txt"),
        pathlib.PurePosixPath("//two/slashes"),
        pathlib.PurePosixPath(""),
        pathlib.PurePosixPath(os.fsdecode(b"/tmp/\xff\xfe name")),  # undecodable bytes
        pathlib.PureWindowsPath(r"C:\Users\x\file.txt"),
        pathlib.PureWindowsPath(r"\\server\share\f.txt"),
        pathlib.PureWindowsPath("relative/dir"),
    ]
    for path in pure:
        result = roundtrip(path)
        assert result.parts == path.parts
    concrete = pathlib.Path.cwd() / "some file"
    result = decode(encode(concrete))
    assert type(result) is pathlib.PurePosixPath
    assert str(result) == str(concrete)

    class MyPath(type(pathlib.Path())):  # type: ignore[misc]
        pass

    assert same(decode(encode(MyPath("/x"))), pathlib.PurePosixPath("/x"))


def test_value_types_as_keys_and_in_containers() -> None:
    value = {
        dt.date(2024, 1, 1): [dt.timedelta(seconds=1), decimal.Decimal("1.5")],
        uuid.UUID(int=7): {fractions.Fraction(1, 2), pathlib.PurePosixPath("/a")},
        (dt.datetime(2024, 1, 1, tzinfo=UTC), dt.time(1)): None,
    }
    roundtrip(value)


def test_unsupported_types_still_name_place_and_type() -> None:
    Point = collections.namedtuple("Point", "x y")
    cases = [
        ([UTC], "cannot encode value[0] of type datetime.timezone"),
        ({"p": Point(1, object())}, "cannot encode value['p'][1] of type object"),
        ((decimal.Decimal(1), decimal.getcontext()), "of type decimal.Context"),
    ]
    for value, message in cases:
        with pytest.raises(EncodeError) as info:
            encode(value)
        assert str(info.value).endswith(message)


# ---------------------------------------------------------------------------
# Named tuples and struct sequences

Point = collections.namedtuple("Point", "x y")


class Employee(typing.NamedTuple):
    name: str
    id: int = 3


def check_look_alike(result: Any, value: Any) -> None:
    """Behaves as ``value`` does: as a tuple and by its field names."""
    assert isinstance(result, tuple)
    assert type(result).__name__ == type(value).__name__
    assert type(result).__qualname__ == type(value).__name__
    assert result == value and value == result
    assert result == tuple(value) and tuple(result) == tuple(value)
    assert hash(result) == hash(tuple(value))
    assert len(result) == len(value)
    assert [result[i] for i in range(-len(value), len(value))] == list(value) * 2
    assert result[1:] == value[1:]
    assert list(iter(result)) == list(value)


def test_namedtuple_travels_with_its_names() -> None:
    value = Point(1, (2, "x"))
    result = decode(encode(value))
    check_look_alike(result, value)
    assert result._fields == ("x", "y")
    assert (result.x, result.y) == (1, (2, "x"))
    assert type(result).__module__ == Point.__module__
    assert result._asdict() == {"x": 1, "y": (2, "x")}
    x, y = result
    assert (x, y) == (1, (2, "x"))
    assert repr(result) == "Point(x=1, y=(2, 'x'))"
    assert decode(encode(Point([1], {2: 3}))).y == {2: 3}
    # the look-alike class is made once and reused
    assert type(decode(encode(Point(3, 4)))) is type(result)
    assert type(decode(encode(Point(3, 4)))) is not Point


def test_named_tuple_kinds() -> None:
    class Point3(Point):
        def norm(self) -> int:
            return abs(self.x) + abs(self.y)

    Renamed = collections.namedtuple("Renamed", ["a", "def", "_x", "a"], rename=True)
    Empty = collections.namedtuple("Empty", "")
    many = collections.namedtuple("Many", ["f" + str(i) for i in range(MAX_FIELDS)])
    cases = [
        (Employee("Guido"), ("name", "id")),
        (Point3(1, 2), ("x", "y")),
        (Renamed(1, 2, 3, 4), ("a", "_1", "_2", "_3")),
        (Empty(), ()),
        (many(*range(MAX_FIELDS)), many._fields),
    ]
    for value, fields in cases:
        result = decode(encode(value))
        check_look_alike(result, value)
        assert result._fields == fields
    assert decode(encode(Employee("Ada", 5))).id == 5


def test_named_tuples_nested_hashed_and_deep() -> None:
    value = {Point(1, 2): [Point(Point(3, 4), {Point(5, 6)})], "e": Employee("x")}
    result = decode(encode(value))
    assert result == value
    assert next(iter(result)).y == 2
    assert result[Point(1, 2)][0].x.y == 4
    deep: Any = None
    for _ in range(MAX_DEPTH):
        deep = Point(deep, 0)
    assert decode(encode(deep)) == deep
    with pytest.raises(EncodeError, match="nesting deeper"):
        encode(Point(deep, 0))
    with pytest.raises(DecodeError, match="nesting deeper"):
        decode(b"n\x05Point\x00\x02\x00\x01x\x01y" * (MAX_DEPTH + 1) + b"N")


def test_tuple_subclasses_that_do_not_travel_named() -> None:
    BadName = type("not valid", (tuple,), {"_fields": ("a",)})
    BadFields = type("BadFields", (tuple,), {"_fields": "ab"})
    Twice = type("Twice", (tuple,), {"_fields": ("a", "a")})
    many = collections.namedtuple("Many", ["f" + str(i) for i in range(MAX_FIELDS + 1)])
    cases = [
        BadName((1,)),
        BadFields((1, 2)),
        Twice((1, 2)),
        many(*range(MAX_FIELDS + 1)),
        tuple.__new__(Point, (1, 2, 3)),  # not as many items as fields
    ]
    for value in cases:
        assert same(decode(encode(value)), tuple(value))


def test_module_name_that_is_no_dotted_name() -> None:
    Odd = collections.namedtuple("Odd", "a", module="<run_path>")
    result = decode(encode(Odd(1)))
    assert (type(result).__module__, result.a) == ("", 1)


STRUCT_SEQUENCES = [
    os.stat("."),
    os.uname(),
    time.localtime(),
    time.gmtime(0),
    sys.version_info,
    os.terminal_size((80, 24)),
    sys.flags,
    sys.float_info,
    sys.hash_info,
    os.times(),
]


def visible_names(value: Any) -> list[str]:
    """Names of a struct sequence's fields: member descriptors of its type."""
    return [
        name
        for name, member in vars(type(value)).items()
        if type(member).__name__ == "member_descriptor"
    ]


@pytest.mark.parametrize("value", STRUCT_SEQUENCES, ids=lambda v: type(v).__name__)
def test_struct_sequences_travel_with_all_their_fields(value: Any) -> None:
    result = decode(encode(value))
    check_look_alike(result, value)
    assert type(result).__module__ == type(value).__module__
    names = visible_names(value)
    assert names
    for name in names:  # in the tuple or not
        assert getattr(result, name) == getattr(value, name), name
    extras = getattr(type(result), "_extra_fields", ())
    assert set(result._fields + extras) - set(names) == {
        "_" + str(i) for i, field in enumerate(result._fields) if field.startswith("_")
    }
    # and it travels again, unchanged
    again = decode(encode(result))
    assert type(again) is type(result) and again == result
    assert all(getattr(again, name) == getattr(value, name) for name in names)


def test_stat_result_fields() -> None:
    value = os.stat(".")
    result = decode(encode(value))
    assert type(result).__name__ == "stat_result"
    assert (result.st_mode, result.st_size) == (value.st_mode, value.st_size)
    assert result.st_atime == value.st_atime  # float, outside the tuple
    assert result.st_mtime_ns == value.st_mtime_ns
    assert result[7] == value[7] == int(value.st_atime)  # unnamed position
    assert result._fields[7:] == ("_7", "_8", "_9")
    assert len(result) == 10
    assert "st_atime" not in result._fields


def test_named_tuple_class_cache_is_bounded() -> None:
    made = set()
    for i in range(2 * codec._CACHE_SIZE):
        kind = collections.namedtuple("Kind" + str(i), "a")
        made.add(type(decode(encode(kind(i)))))
    assert len(made) == 2 * codec._CACHE_SIZE
    assert len(codec._CLASSES) <= codec._CACHE_SIZE
    assert len(codec._LAYOUTS) <= codec._CACHE_SIZE


def named_tuple_data(
    name: bytes = b"P",
    module: bytes = b"m",
    fields: typing.Sequence[bytes] = (b"x",),
    extras: typing.Sequence[bytes] = (),
    values: bytes = b"N",
    counts: bytes = b"",
) -> bytes:
    """The encoding of a named tuple, made by hand."""

    def text(raw: bytes) -> bytes:
        return bytes([len(raw)]) + raw

    counts = counts or codec._uvarint(len(fields)) + codec._uvarint(len(extras))
    names = b"".join(text(field) for field in [*fields, *extras])
    return b"n" + text(name) + text(module) + counts + names + values


def test_hand_made_named_tuple_data() -> None:
    assert decode(named_tuple_data()) == (None,)
    assert decode(named_tuple_data()).x is None
    assert decode(named_tuple_data(fields=[b"x", b""], values=b"NT"))._1 is True
    result = decode(named_tuple_data(extras=[b"e"], values=b"Ni\x05"))
    assert (result, result.e, type(result)._extra_fields) == ((None,), 5, ("e",))


# ---------------------------------------------------------------------------
# Hostile value type data


def packed(tag: bytes, layout: str, *fields: Any) -> bytes:
    return tag + struct.pack("<" + layout, *fields)


BAD_VALUE_TYPES = [
    # datetime: year, month, day, hour, minute, second, microsecond, flags
    (packed(b"D", "HBBBBBIB", 2024, 13, 1, 0, 0, 0, 0, 0), "invalid datetime.*month"),
    (packed(b"D", "HBBBBBIB", 2023, 2, 29, 0, 0, 0, 0, 0), "invalid datetime"),
    (packed(b"D", "HBBBBBIB", 0, 1, 1, 0, 0, 0, 0, 0), "invalid datetime"),
    (packed(b"D", "HBBBBBIB", 2024, 1, 1, 24, 0, 0, 0, 0), "invalid datetime"),
    (packed(b"D", "HBBBBBIB", 2024, 1, 1, 0, 60, 0, 0, 0), "invalid datetime"),
    (packed(b"D", "HBBBBBIB", 2024, 1, 1, 0, 0, 0, 10**6, 0), "invalid datetime"),
    (packed(b"D", "HBBBBBIB", 2024, 1, 1, 0, 0, 0, 0, 8), "invalid flags"),
    (packed(b"D", "HBBBBBIB", 2024, 1, 1, 0, 0, 0, 0, 4), "invalid flags"),
    (packed(b"D", "HBBBBBIBq", 2024, 1, 1, 0, 0, 0, 0, 2, 86400 * 10**6), "within a day"),
    (packed(b"D", "HBBBBBIBq", 2024, 1, 1, 0, 0, 0, 0, 2, -(2**63)), "within a day"),
    (packed(b"D", "HBBBBBIBqB", 2024, 1, 1, 0, 0, 0, 0, 6, 0, 1) + b"\xff", "UTF-8"),
    (packed(b"D", "HBBBBBIB", 2024, 1, 1, 0, 0, 0, 0, 2) + b"\x00" * 7, "truncated"),
    (packed(b"D", "HBBBBB", 2024, 1, 1, 0, 0, 0), "truncated"),
    (packed(b"Y", "HBB", 2024, 13, 1), "invalid date"),
    (packed(b"Y", "HBB", 10000, 1, 1), "invalid date"),
    (packed(b"Y", "HB", 2024, 1), "truncated"),
    (packed(b"O", "BBBIB", 24, 0, 0, 0, 0), "invalid time"),
    (packed(b"O", "BBBIB", 0, 0, 0, 0, 0x80), "invalid flags"),
    (packed(b"O", "BBBIBq", 0, 0, 0, 0, 2, 86400 * 10**6), "within a day"),
    (packed(b"G", "iII", 0, 86400, 0), "out of range"),
    (packed(b"G", "iII", 0, 0, 10**6), "out of range"),
    (packed(b"G", "iII", 10**9, 0, 0), "invalid timedelta"),
    (packed(b"G", "iII", -(10**9), 0, 0), "invalid timedelta"),
    # Decimal: only what str() gives back
    (b"M\x03abc", "invalid Decimal"),
    (b"M\x00", "invalid Decimal"),
    (b"M\x051_000", "not in the form"),
    (b"M\x02 1", "not in the form"),
    (b"M\x02+1", "not in the form"),
    (b"M\x051.0e3", "not in the form"),
    (b"M\x02\xd9\xa1", "not ASCII"),  # ARABIC-INDIC DIGIT ONE
    (b"M\x171e999999999999999999999", "invalid Decimal"),
    (b"M\x09", "exceeds"),
    # Fraction: two ints, the denominator positive
    (b"Qi\x01i\x00", "not positive"),
    (b"Qi\x01i\xff", "not positive"),
    (b"Qs\x011i\x01", "not an int"),
    (b"Qi\x01T", "not an int"),
    (b"Qi\x01", "truncated"),
    # UUID: 16 bytes
    (b"U" + b"\x00" * 15, "truncated"),
    (b"U" + b"\x00" * 17, "trailing"),
    # path: flavour and text
    (b"Px\x01a", "unknown path flavour"),
    (b"Pp\x01\xff", "UTF-8"),
    (b"Pw\x05a", "exceeds"),
    # named tuple: names, counts
    (named_tuple_data(name=b"1P"), "type name '1P'"),
    (named_tuple_data(name=b""), "type name ''"),
    (named_tuple_data(name=b"class"), "type name 'class'"),
    (named_tuple_data(name=b"a b"), "type name"),
    (named_tuple_data(name=b"P\xff"), "UTF-8"),
    (named_tuple_data(module=b"os..path"), "module name"),
    (named_tuple_data(module=b"os.1"), "module name"),
    (named_tuple_data(fields=[b"a-b"]), "field name 'a-b'"),
    (named_tuple_data(fields=[b"def"]), "field name 'def'"),
    (named_tuple_data(fields=[b"_x"]), "field name '_x'"),
    (named_tuple_data(fields=[b"__class__"]), "field name"),
    (named_tuple_data(fields=[b"x=__import__('os').system('id')"]), "field name"),
    (named_tuple_data(fields=[b"x", b"x"], values=b"NN"), "duplicate"),
    (named_tuple_data(fields=[b"x"], extras=[b"x"], values=b"NN"), "duplicate"),
    (named_tuple_data(fields=[], extras=[b""], values=b"N"), "field name ''"),
    (named_tuple_data(fields=[b"x"], values=b""), "exceeds|truncated"),
    (named_tuple_data(fields=[b"x"], values=b"NN"), "trailing"),
    (named_tuple_data(fields=[b"x", b"y"], counts=b"\x01\x00", values=b"N"), "unknown tag"),
    (named_tuple_data(fields=[b"x"], counts=b"\x02\x00", values=b"NN"), "exceeds|truncated"),
    (named_tuple_data(fields=[b"f" + bytes(str(i), "ascii") for i in range(255)]), "more than"),
    (named_tuple_data(counts=b"\xfe\x01\x01"), "more than 254"),
    (named_tuple_data(counts=b"\xff" * 8 + b"\x7f\x00"), "more than"),
    (named_tuple_data(counts=b"\x80\x01\x00") + b"\x01x" * 64, "exceed"),
]


@pytest.mark.parametrize("data, match", BAD_VALUE_TYPES, ids=lambda v: repr(v)[:40])
def test_hostile_value_type_data_is_a_decode_error(data: bytes, match: str) -> None:
    decode_error(data, match)
    decode_error(b"l\x02N" + data, match)  # inside a container too


def test_every_truncation_of_value_types_fails_cleanly() -> None:
    values = [
        dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1), "CET")),
        dt.time(1, tzinfo=UTC),
        dt.date(2024, 1, 1),
        dt.timedelta(1, 2, 3),
        decimal.Decimal("1.5"),
        fractions.Fraction(10**30, 7),
        uuid.UUID(int=5),
        pathlib.PureWindowsPath("c:/x"),
        os.stat("."),
        Employee("x"),
    ]
    for value in values:
        data = encode(value)
        assert decode(data) == value
        for cut in range(len(data)):
            with pytest.raises(DecodeError):
                decode(data[:cut])


def test_huge_named_tuple_counts_do_not_allocate() -> None:
    tracemalloc.start()
    try:
        huge = b"\xff\xff\xff\xff\xff\xff\xff\xff\x3f"  # 2**63 - 1
        for counts in [b"\xff\x01\x00", b"\x00\xff\x01", huge + b"\x00", b"\x00" + huge]:
            with pytest.raises(DecodeError, match="more than"):
                decode(named_tuple_data(counts=counts))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_imports_only_what_values_need() -> None:
    """The agent starts often: importing the codec, and encoding or decoding
    other values, imports none of the value types' modules."""
    script = r"""
import sys, types
wire = types.ModuleType("wire")
wire.__path__ = [sys.argv[1]]
sys.modules["wire"] = wire
lazy = {"datetime", "decimal", "fractions", "uuid", "pathlib"}
before = set(sys.modules)
from wire import codec
codec.decode(codec.encode([1, "x", {2: (3.5, None)}, b"y"]))
codec.encode(object(), lambda obj: codec.Ref("h1", "object"))
print(sorted(lazy & (set(sys.modules) - before)))
codec.decode(b"M\x031.5")
print(sorted(lazy & (set(sys.modules) - before)))
"""
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, WIRE], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "['decimal']"]


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


Trio = collections.namedtuple("Trio", "a b c")


def random_datetime(rng: random.Random) -> dt.datetime:
    """Naive, or with a timezone of any offset, named or not."""
    value = dt.datetime.min + dt.timedelta(microseconds=rng.randrange(3 * 10**17))
    choice = rng.randrange(3)
    if choice == 0:
        return value.replace(fold=rng.randrange(2))
    offset = dt.timedelta(microseconds=rng.randint(-(86400 * 10**6) + 1, 86400 * 10**6 - 1))
    zone = dt.timezone(offset) if choice == 1 else dt.timezone(offset, "Z" + str(rng.random()))
    return value.replace(tzinfo=zone)


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
        lambda: random_datetime(rng),
        lambda: random_datetime(rng).date(),
        lambda: random_datetime(rng).timetz(),
        lambda: dt.timedelta(microseconds=rng.randint(-(10**15), 10**15)),
        lambda: decimal.Decimal(rng.randint(-(10**30), 10**30)).scaleb(rng.randint(-50, 50)),
        lambda: fractions.Fraction(rng.randint(-(2**70), 2**70), rng.randint(1, 2**40)),
        lambda: uuid.UUID(int=rng.getrandbits(128)),
        lambda: rng.choice([pathlib.PurePosixPath, pathlib.PureWindowsPath])(
            "/".join(rng.choice(["a", "é", "..", "x.txt"]) for _ in range(rng.randint(0, 4)))
        ),
        lambda: Trio(rng.randint(0, 9), str(rng.random()), None),
    ]
    hashables = [s for i, s in enumerate(scalars) if i not in (4, 8)]  # no nan, no bytearray
    if depth > 4 or rng.random() < 0.5:
        return rng.choice(scalars)()
    size = rng.randint(0, 6)
    kind = rng.randrange(6)
    if kind == 5:
        return Trio(*(random_value(rng, depth + 1) for _ in range(3)))
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
    alphabet = b"NTFihwqIfcsbaltdezRDYOGMQUPnpw\x00\x01\x02\x7f\x80\xff"
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
    samples.append(encode([os.stat("."), time.localtime(), sys.version_info]))
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
    values = {
        "(1, 'ab', None)": (1, "ab", None),
        "int 123456": 123456,
        "str of 20": "x" * 20,
        "100 ints": list(range(100)),
        "100 strs": [str(i) for i in range(100)],
        "dict of 50": {str(i): i * 1000 for i in range(50)},
        "datetime+tz": dt.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=UTC),
        "Decimal": decimal.Decimal("123.4500"),
        "UUID": uuid.UUID(int=10**30),
        "path": pathlib.PurePosixPath("/etc/passwd"),
        "namedtuple": Point(1, 2),
        "stat_result": os.stat("."),
    }
    lines = []
    for label, value in values.items():
        data = encode(value)
        n = 2000
        start = time.perf_counter()
        for _ in range(n):
            encode(value)
        middle = time.perf_counter()
        for _ in range(n):
            decode(data)
        end = time.perf_counter()
        encode_us = (middle - start) / n * 1e6
        decode_us = (end - middle) / n * 1e6
        lines.append(f"codec {label}: encode {encode_us:.2f} us, decode {decode_us:.2f} us")
    with capsys.disabled():
        print("\n" + "\n".join(lines))


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


#: Loads the wire modules in another Python as the package ``wire`` (their
#: imports are relative), from the directory given as the first argument.
WIRE_PACKAGE = r"""
import sys, types
wire = types.ModuleType("wire")
wire.__path__ = [sys.argv[1]]
sys.modules["wire"] = wire
from wire import codec, framing
"""

SMOKE = WIRE_PACKAGE + r"""
value = [None, True, -5, 2**70, 1.5, complex(1, 2), u"h\ud800", b"x", bytearray(b"y"),
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


def test_vermin_says_python27_and_36() -> None:
    vermin = os.path.join(os.path.dirname(sys.executable), "vermin")
    if not os.path.exists(vermin):
        pytest.skip("vermin not installed")
    result = subprocess.run(
        [vermin, "-t=2.7", "-t=3.6-", "--no-tips", "--violations", WIRE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------
# Value types between this Python and every target Python found here

TARGET_PYTHONS = sorted(
    path
    for path in glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3"))
    if not any(f"/3.{minor}." in path for minor in range(0, 6))
)

ACROSS = WIRE_PACKAGE + r"""
import binascii, collections, datetime as dt, decimal, fractions, os, pathlib, sys, time, uuid
sent = codec.decode(binascii.unhexlify(sys.argv[2]))
try:
    codec.decode(binascii.unhexlify(sys.argv[3]))
    sub_minute = "ok"
except codec.DecodeError:
    sub_minute = "DecodeError"
Job = collections.namedtuple("Job", "pid args")
native = [
    os.stat("."),
    os.uname(),
    time.localtime(),
    sys.version_info,
    Job(7, ["x"]),
    dt.datetime(2024, 10, 27, 3, 30, 0, 5, dt.timezone(dt.timedelta(hours=3), "EEST"), fold=1),
    decimal.Decimal("-1.50E+7"),
    fractions.Fraction(-1, 3),
    uuid.UUID(int=12345),
    pathlib.Path("/tmp/x"),
    pathlib.PureWindowsPath("C:/x"),
]
if sys.version_info >= (3, 12):
    class Direct(pathlib.PurePath):
        pass
    native.append(Direct("a/b"))
print(binascii.hexlify(codec.encode([sent, sub_minute, native])).decode())
"""


@pytest.mark.skipif(not TARGET_PYTHONS, reason="no other Python 3 versions on this machine")
@pytest.mark.parametrize("python", TARGET_PYTHONS, ids=lambda p: p.split("/")[-3])
def test_value_types_across_pythons(python: str) -> None:
    """This Python's values decode there and come back the same; that
    Python's named tuples, struct sequences, zones and paths decode here."""
    sent = [
        dt.datetime(2024, 1, 2, 3, 4, 5, 6, dt.timezone(-dt.timedelta(hours=5), "EST"), fold=1),
        dt.time(1, 2, 3, 4, UTC),
        dt.date(2024, 2, 29),
        dt.timedelta(-3, 4, 5),
        decimal.Decimal("NaN7"),
        fractions.Fraction(2**80, 3),
        uuid.UUID(int=2**100),
        pathlib.PurePosixPath(os.fsdecode(b"/a/\xff")),
        pathlib.PureWindowsPath("//server/share/x"),
        Point(1, [Employee("x")]),
        os.stat("."),
    ]
    sub_minute = dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(seconds=30)))
    result = subprocess.run(
        [python, "-c", ACROSS, WIRE, encode(sent).hex(), encode(sub_minute).hex()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    back, sub_minute_there, native = decode(bytes.fromhex(result.stdout.strip()))
    assert same(back[:-1], sent[:-1])
    assert back[-1] == sent[-1] and back[-1].st_atime_ns == sent[-1].st_atime_ns
    minor = int(python.split("/")[-3].split(".")[1])
    assert sub_minute_there == ("DecodeError" if minor == 6 else "ok")
    stat, uname, localtime, version, job, when, number, fraction, ident, *paths = native
    assert (type(stat).__name__, type(stat).__module__) == ("stat_result", "os")
    assert stat.st_mode == os.stat(".").st_mode and stat.st_mtime_ns > 0 and len(stat) == 10
    assert uname.release == os.uname().release
    assert localtime.tm_year >= 2024 and isinstance(localtime.tm_zone, str)
    assert (version.major, version.minor) == (3, minor)
    assert (type(job).__name__, job.pid, job.args) == ("Job", 7, ["x"])
    assert (when.fold, when.tzname(), when.utcoffset()) == (1, "EEST", dt.timedelta(hours=3))
    assert (str(number), fraction, ident) == (
        "-1.50E+7",
        fractions.Fraction(-1, 3),
        uuid.UUID(int=12345),
    )
    expected_paths = [pathlib.PurePosixPath("/tmp/x"), pathlib.PureWindowsPath("C:/x")]
    if minor >= 12:
        expected_paths.append(pathlib.PurePosixPath("a/b"))
    assert same(paths, expected_paths)


# ---------------------------------------------------------------------------
# Python 2.7 (the older target Python): the same format, its own value mapping


def _python27() -> str:
    sys.path.insert(0, os.path.join(os.path.dirname(WIRE), "..", "resources"))
    from targetpythons import NO_PYTHON27, python27

    path = python27()
    if path is None:
        pytest.skip(NO_PYTHON27)
    return path


def test_wire_runs_on_python27() -> None:
    result = subprocess.run(
        [_python27(), "-c", SMOKE, WIRE], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


ECHO = WIRE_PACKAGE + r"""
import binascii
print(binascii.hexlify(codec.encode(codec.decode(binascii.unhexlify(sys.argv[2])))))
"""


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    """Plain data of every kind but bytes (a 2.7 native str comes back as
    text), nested; text with any code point, lone surrogates included."""
    kinds = ["none", "bool", "int", "float", "complex", "text", "bytearray", "ref"]
    if depth < 4:
        kinds += ["list", "tuple", "dict", "set", "frozenset"] * 2
    kind = rng.choice(kinds)
    if kind == "none":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        bits = rng.choice([7, 8, 15, 16, 31, 32, 63, 64, 100, 1000])
        return rng.randint(-(1 << bits), 1 << bits)
    if kind == "float":
        return rng.choice([0.0, -0.0, math.inf, -math.inf, math.nan, rng.uniform(-1e300, 1e300)])
    if kind == "complex":
        return complex(rng.uniform(-9, 9), rng.choice([-0.0, math.nan, 2.5]))
    if kind == "text":
        return "".join(chr(rng.choice([rng.randint(0, 0x7F), rng.randint(0, 0x10FFFF)]))
                       for _ in range(rng.randint(0, 12)))  # fmt: skip
    if kind == "bytearray":
        return bytearray(rng.getrandbits(8) for _ in range(rng.randint(0, 12)))
    if kind == "ref":
        return codec.Ref("h" + str(rng.randint(0, 99)), "mod.Type", rng.random() < 0.5)
    items = [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    if kind == "list":
        return items
    if kind == "tuple":
        return tuple(items)
    keys = [item for item in items if _hashable(item)]
    if kind == "dict":
        return {key: _random_value(rng, depth + 1) for key in keys}
    return set(keys) if kind == "set" else frozenset(keys)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return not _has_nan(value)  # nan is not equal to itself: not in sets and keys


def _has_nan(value: Any) -> bool:
    if isinstance(value, (float, complex)):
        return value != value
    if isinstance(value, (tuple, frozenset)):
        return any(_has_nan(item) for item in value)
    return False


def test_python27_decodes_and_encodes_every_kind_of_value_back_the_same() -> None:
    """Back to back with 2.7: 400 random nested values go there and back."""
    rng = random.Random(27)
    values = [_random_value(rng) for _ in range(400)]
    values.append(["\ud800", "\udcff", "x\U0001f600", 2**64, -(2**63) - 1, 10**400])
    result = subprocess.run(
        [_python27(), "-c", ECHO, WIRE, encode(values).hex()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    back = decode(bytes.fromhex(result.stdout.strip()))
    assert len(back) == len(values)
    for sent, got in zip(values, back):
        assert _same_but_order(got, sent), (sent, got)


def _same_but_order(a: Any, b: Any) -> bool:
    """:func:`same`, but dicts in any order (2.7's dicts keep none)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(k in b and _same_but_order(v, b[k]) for k, v in a.items())
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same_but_order(x, y) for x, y in zip(a, b))
    return same(a, b)


def test_bytes_sent_to_python27_come_back_as_text_with_escapes() -> None:
    sent = [b"", b"abc", b"\xc3\xa4", b"\x00\xff\xed\xa0\x80", bytearray(b"\xff")]
    result = subprocess.run(
        [_python27(), "-c", ECHO, WIRE, encode(sent).hex()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    back = decode(bytes.fromhex(result.stdout.strip()))
    # what Python 3 itself reads from them with surrogateescape (a surrogate
    # encoded in UTF-8 is not UTF-8): nothing is lost
    assert back == [os.fsdecode(b) for b in sent[:-1]] + [bytearray(b"\xff")]
    assert [text.encode("utf-8", "surrogateescape") for text in back[:-1]] == sent[:-1]


NATIVE27 = WIRE_PACKAGE + r"""
import binascii, collections, datetime as dt, decimal, fractions, os, time, uuid
sent = codec.decode(binascii.unhexlify(sys.argv[2]))
kinds = [type(value).__name__ for value in sent]

class Zone(dt.tzinfo):
    def utcoffset(self, when):
        return dt.timedelta(hours=-5)
    def tzname(self, when):
        return "EST"
    def dst(self, when):
        return None

Job = collections.namedtuple("Job", "pid args")
native = [
    os.stat("."), time.localtime(), sys.version_info, Job(7, ["x"]),
    dt.datetime(2024, 1, 2, 3, 4, 5, 6, Zone()), dt.date(2024, 2, 29), dt.timedelta(-3, 4, 5),
    decimal.Decimal("-1.50E+7"), fractions.Fraction(-1, 3), uuid.UUID(int=12345),
    2 ** 70, 5L, "\xc3\xa4-\xff", u"\u20ac", bytearray(b"\x00"),
]
print(binascii.hexlify(codec.encode([sent, kinds, native])))
"""


def test_value_types_between_this_python_and_python27() -> None:
    """Dates, decimals, UUIDs, named tuples, struct sequences and paths as
    2.7 has them: what it lacks (fold, timezone, pathlib) is mapped."""
    sent = [
        dt.datetime(2024, 1, 2, 3, 4, 5, 6, dt.timezone(-dt.timedelta(hours=5), "EST"), fold=1),
        dt.time(1, 2, 3, 4, UTC),
        dt.timedelta(-3, 4, 5),
        decimal.Decimal("NaN7"),
        fractions.Fraction(2**80, 3),
        uuid.UUID(int=2**100),
        pathlib.PurePosixPath("/a/b"),
        Point(1, [2]),
        os.stat("."),
    ]
    result = subprocess.run(
        [_python27(), "-c", NATIVE27, WIRE, encode(sent).hex()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    back, kinds, native = decode(bytes.fromhex(result.stdout.strip()))
    assert kinds == [
        "datetime", "time", "timedelta", "Decimal", "Fraction", "UUID", "unicode", "Point",
        "stat_result",
    ]  # fmt: skip
    # 2.7 has no fold: a datetime comes back with fold 0; a path is its text
    assert back[0] == sent[0] and back[0].fold == 0 and back[0].tzname() == "EST"
    assert back[1] == sent[1] and back[1].utcoffset() == dt.timedelta(0)
    assert same(back[2:6], sent[2:6])
    assert back[6] == "/a/b"
    assert back[7] == (1, [2]) and back[7].y == [2]
    assert back[8] == sent[8] and back[8].st_mode == sent[8].st_mode
    stat, localtime, version, job, when, day, delta, number, fraction, ident = native[:10]
    assert (type(stat).__name__, stat.st_mode) == ("stat_result", os.stat(".").st_mode)
    assert localtime.tm_year >= 2024 and localtime.tm_mon == localtime[1]
    # 2.7 cannot make a sys.version_info to probe its field order: a tuple
    assert type(version) is tuple and version[:2] == (2, 7)
    assert (type(job).__name__, job.pid, job.args) == ("Job", 7, ["x"])
    assert (when.tzname(), when.utcoffset()) == ("EST", -dt.timedelta(hours=5))
    assert (day, delta) == (dt.date(2024, 2, 29), dt.timedelta(-3, 4, 5))
    assert (str(number), fraction, ident) == ("-1.50E+7", fractions.Fraction(-1, 3),
                                              uuid.UUID(int=12345))  # fmt: skip
    assert native[10:] == [2**70, 5, "ä-\udcff", "€", bytearray(b"\x00")]
