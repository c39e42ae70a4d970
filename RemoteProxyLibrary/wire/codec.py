"""Safe binary value codec shared by the controller and the agent.

Only plain data travels by value; everything else travels as a :class:`Ref`
to an object held on the other side.  Nothing here ever executes code from
the data (no pickle, no marshal, no eval), so decoding hostile input can only
produce plain values or :class:`DecodeError`.

This module is standard library only, free of I/O and of mutable module state
other than two bounded caches, and written for Python 3.6+: it is also
shipped to and run on the target.  It imports nothing at start that the agent
does not already need: ``datetime``, ``decimal``, ``fractions``, ``uuid`` and
``pathlib`` are imported only when a value of theirs is decoded (an object
of their types cannot exist before its module is imported, so the encoder
looks them up in ``sys.modules``).

Values handled (checked with ``isinstance``; a subclass travels as its base
type, e.g. an ``OrderedDict`` as ``dict``, an ``IntEnum`` as ``int``;
``bool`` stays ``bool``):

``None``, ``bool``, ``int`` (any size), ``float`` (nan and inf included),
``complex``, ``str`` (any, lone surrogates included), ``bytes``,
``bytearray``, ``list``, ``tuple``, ``dict`` (keys of any handled type),
``set``, ``frozenset`` and :class:`Ref`, nested up to :data:`MAX_DEPTH`
containers deep (a set or dict whose items collide in hash more than
:data:`MAX_HASH_COLLISIONS` times is refused when decoding: it would take
quadratic time to build), and these value types:

``datetime.datetime``, ``datetime.date``, ``datetime.time``
    exact to the microsecond, ``fold`` kept.  A ``datetime.timezone`` travels
    exactly (its offset, and its name if it was given one).  Any other
    ``tzinfo`` (``zoneinfo``, ``pytz``, ``dateutil``) arrives as a
    ``datetime.timezone`` with the ``utcoffset()`` and ``tzname()`` it gives
    for that value: the instant and its name are kept, the rules are not
    (arithmetic on the other side stays at that offset).  A ``time`` or
    ``datetime`` whose ``utcoffset()`` is ``None`` is naive and arrives
    naive.  Python 3.6 accepts only whole-minute offsets: any other offset
    does not decode there.
``datetime.timedelta``
    exactly.
``decimal.Decimal``
    exactly: digits, exponent, sign, ``NaN`` (with its payload), ``sNaN``
    and ``Infinity`` (as its ``str``, which ``Decimal()`` reads back exactly).
``fractions.Fraction``
    exactly, as numerator and denominator.
``uuid.UUID``
    its 128 bits (``is_safe`` is not kept).
``pathlib`` paths
    a ``PurePosixPath`` or a ``PureWindowsPath`` arrives as itself; a
    concrete ``Path`` (``PosixPath``, ``WindowsPath``) arrives as its pure
    flavour: it names a file on the other machine, not on this one.
    Undecodable file name bytes (``surrogateescape``) are kept.
named tuples and struct sequences
    a tuple subclass with ``_fields`` (``collections.namedtuple``,
    ``typing.NamedTuple``) or a struct sequence (``os.stat_result``,
    ``os.uname_result``, ``time.struct_time``, ``sys.version_info``,
    ``os.terminal_size``, ...) travels with its type name, its module name
    and its field names, a struct sequence also with its fields outside the
    tuple (``st_atime``, ``st_atime_ns``, ``tm_zone``, ...).  It arrives as
    an instance of a look-alike class: a ``collections.namedtuple`` of the
    same ``__name__`` and ``__qualname__``, whose ``__module__`` is the
    original module name (``"os"``, ``"posix"``, ``"time"``...; ``""``
    when it was not a dotted name), so ``len()``, indexing, iteration,
    unpacking, hashing, equality with a plain tuple and attribute access
    (``.st_mode``, ``.release``, ``.tm_year``) behave as the original's.
    The fields outside the tuple are instance attributes of a subclass,
    whose ``_extra_fields`` class attribute names them.  A position without
    a name (``os.stat_result`` has three: the whole-second times) is named
    ``_<index>``, as ``namedtuple(..., rename=True)`` does.  The class is
    not the original (``isinstance(value, os.stat_result)`` is false on the
    other side); one class is made per (name, module, fields) and reused.
    A tuple subclass with an unusable type name, duplicate field names or
    more than :data:`MAX_FIELDS` fields travels as a plain ``tuple``.

Nothing from the data is executed: the names of a named tuple are checked
(``str.isidentifier()``, no keyword, no field name with a leading
underscore, no duplicates, at most :data:`MAX_FIELDS`) before
``collections.namedtuple`` (which compiles them into its ``__new__``) sees
them; a value's parts are checked the way its constructor checks them, and
non-canonical spellings (a ``Decimal`` text ``str()`` does not give back, a
denominator below 1, seconds or microseconds of a ``timedelta`` out of range)
are :class:`DecodeError` too.

Format: every value is one tag byte followed by its body.  Unsigned
``varint`` (lengths and counts) is LEB128 (7 bits per byte, least
significant group first, high bit set on all bytes but the last, at most 10
bytes).  A *text* is a varint byte count, then UTF-8 (``surrogatepass``).

====  ===========  ==========================================================
tag   type         body
====  ===========  ==========================================================
N     None         (nothing)
T F   bool         (nothing)
i     int          1 byte, signed (``-2**7 <= n < 2**7``)
h     int          2 bytes, signed little endian (``-2**15 <= n < 2**15``)
w     int          4 bytes, signed little endian (``-2**31 <= n < 2**31``)
q     int          8 bytes, signed little endian (``-2**63 <= n < 2**63``)
I     int          varint byte count, then two's complement little endian
f     float        IEEE 754 double, little endian
c     complex      two doubles: real, imag
s     str          varint byte count, then UTF-8 (``surrogatepass``)
b     bytes        varint byte count, then the bytes
a     bytearray    varint byte count, then the bytes
l     list         varint item count, then the items
t     tuple        varint item count, then the items
d     dict         varint pair count, then key, value, key, value, ...
e     set          varint item count, then the items
z     frozenset    varint item count, then the items
R     Ref          one byte callable (0 or 1), then name and type_name, each
                   as varint byte count + UTF-8
D     datetime     year (2 bytes, unsigned little endian), month, day, hour,
                   minute, second (1 byte each), microsecond (4 bytes,
                   unsigned little endian), flags (1 byte), then the zone
Y     date         year (2 bytes, unsigned little endian), month, day
O     time         hour, minute, second (1 byte each), microsecond (4
                   bytes, unsigned little endian), flags (1 byte), then the
                   zone
G     timedelta    days (4 bytes, signed little endian), seconds,
                   microseconds (4 bytes each, unsigned little endian)
M     Decimal      its ``str`` as varint byte count + ASCII
Q     Fraction     numerator, denominator (> 0): two int values (tagged)
U     UUID         16 bytes, big endian (``UUID.bytes``)
P     path         flavour byte (``p`` PurePosixPath, ``w`` PureWindowsPath),
                   then the path as text
n     named tuple  type name and module name (texts), varint count F of
                   tuple fields, varint count X of fields outside the tuple,
                   F + X field names (texts; ``""`` for a position without
                   a name), then the F + X values
====  ===========  ==========================================================

The flags byte of ``D`` and ``O``: bit 0 ``fold``, bit 1 a zone follows,
bit 2 the zone has a name; other bits are 0.  The zone is the UTC offset in
microseconds (8 bytes, signed little endian, less than a day either way),
then, with bit 2, its name as text.
"""

import re
import struct
import sys
import types
from collections import namedtuple
from keyword import iskeyword

from .compat import (
    INTEGERS,
    PY2,
    STRINGS,
    TEXT,
    Binary,
    RecursionLimit,
    byte_pair,
    int_from_bytes,
    int_to_bytes,
    native_utf8,
    quiet,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # type comments only: Python 2.7 has no typing module
    from typing import Any, Callable, Dict, List, Optional, Tuple  # noqa: F401  # novm

    RefEncoder = Callable[[Any], Optional["Ref"]]
    RefDecoder = Callable[["Ref"], Any]
    Layout = Tuple[str, str, Tuple[str, ...], Tuple[str, ...]]
    ValueDecoder = Callable[[Any, int, Optional[RefDecoder], int], Tuple[Any, int]]

__all__ = [
    "MAX_DEPTH",
    "MAX_FIELDS",
    "MAX_HASH_COLLISIONS",
    "DecodeError",
    "EncodeError",
    "Ref",
    "decode",
    "encode",
]

#: Deepest container nesting accepted by :func:`encode` and :func:`decode`.
MAX_DEPTH = 100

#: Most fields (in and outside the tuple) a named tuple may travel with:
#: Python 3.6 cannot make a namedtuple of more than 254 fields.
MAX_FIELDS = 254

#: How many items of one decoded set or dict (or keys of a dict) may share a
#: hash value with another, in all. Python's hash of numbers is not
#: randomised: items chosen to collide cost a time that grows with the square
#: of their number to insert (20,000 such ints, 240 KB, take seconds), so more
#: collisions than this are refused. Honest data is not affected: distinct
#: values sharing a hash are rare (``-1`` and ``-2``, a float and an int
#: chosen so) and an encoder never repeats a set item or a dict key.
MAX_HASH_COLLISIONS = 64


class EncodeError(ValueError):
    """A value cannot be encoded: unsupported type, cycle or too deep.

    The message names the offending place and type, e.g.
    ``cannot encode value[2]['key'] of type socket.socket``.
    """


class DecodeError(ValueError):
    """The data is not a valid encoding (malformed, truncated or hostile)."""


class Ref(object):
    """Reference to an object that stays on one side and travels by name.

    Immutable, hashable and comparable by its three fields:

    ``name``
        handle name of the object on the side that holds it
    ``type_name``
        qualified type name of the object, e.g. ``"socket.socket"``
    ``callable``
        whether the object is callable
    """

    __slots__ = ("callable", "name", "type_name")

    if TYPE_CHECKING:
        name = ""  # type: str
        type_name = ""  # type: str
        callable = False  # type: bool

    def __init__(self, name, type_name, callable=False):
        # type: (str, str, bool) -> None
        if not isinstance(name, STRINGS) or not isinstance(type_name, STRINGS):
            raise TypeError("Ref name and type_name must be str")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "type_name", type_name)
        object.__setattr__(self, "callable", bool(callable))

    def __setattr__(self, attr, value):
        # type: (str, Any) -> None
        raise AttributeError("Ref is immutable")

    def __delattr__(self, attr):
        # type: (str) -> None
        raise AttributeError("Ref is immutable")

    def __eq__(self, other):
        # type: (object) -> bool
        if not isinstance(other, Ref):
            return NotImplemented
        return (self.name, self.type_name, self.callable) == (
            other.name,
            other.type_name,
            other.callable,
        )

    def __ne__(self, other):
        # type: (object) -> bool
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        # type: () -> int
        return hash((Ref, self.name, self.type_name, self.callable))

    def __repr__(self):
        # type: () -> str
        return "Ref(name={!r}, type_name={!r}, callable={!r})".format(
            self.name, self.type_name, self.callable
        )

    def __reduce__(self):
        # type: () -> Any
        return (Ref, (self.name, self.type_name, self.callable))


# --------------------------------------------------------------------------
# Constants

_N, _T, _F = 0x4E, 0x54, 0x46
_INT8, _INT16, _INT32, _INT64, _BIGINT = 0x69, 0x68, 0x77, 0x71, 0x49
_FLOAT, _COMPLEX = 0x66, 0x63
_STR, _BYTES_TAG, _BYTEARRAY = 0x73, 0x62, 0x61
_LIST, _TUPLE, _DICT, _SET, _FROZENSET = 0x6C, 0x74, 0x64, 0x65, 0x7A
_REF = 0x52
_DATETIME, _DATE, _TIME, _TIMEDELTA = 0x44, 0x59, 0x4F, 0x47
_DECIMAL, _FRACTION, _UUID, _PATH, _NAMED_TUPLE = 0x4D, 0x51, 0x55, 0x50, 0x6E
_INT_TAGS = (_INT8, _INT16, _INT32, _INT64, _BIGINT)
_POSIX_PATH, _WINDOWS_PATH = 0x70, 0x77
_SEQUENCE_TAGS = (_TUPLE, _LIST)
_BYTES_TAGS = (_BYTES_TAG, _BYTEARRAY)
_SET_TAGS = (_SET, _FROZENSET)

_INT64_MIN = -(1 << 63)
_INT64_LIMIT = 1 << 63
_INT32_MIN = -(1 << 31)
_INT32_LIMIT = 1 << 31

_FLOAT_STRUCT = struct.Struct("<Bd")
_COMPLEX_STRUCT = struct.Struct("<Bdd")
_pack_int16 = struct.Struct("<Bh").pack
_pack_int32 = struct.Struct("<Bi").pack
_pack_int64 = struct.Struct("<Bq").pack
_unpack_int16 = struct.Struct("<h").unpack_from
_unpack_int32 = struct.Struct("<i").unpack_from
_unpack_int64 = struct.Struct("<q").unpack_from
_pack_float = _FLOAT_STRUCT.pack
_pack_complex = _COMPLEX_STRUCT.pack
_unpack_double = struct.Struct("<d").unpack_from
_unpack_2double = struct.Struct("<dd").unpack_from
_DATETIME_STRUCT = struct.Struct("<BHBBBBBIB")  # tag, year .. microsecond, flags
_DATE_STRUCT = struct.Struct("<BHBB")
_TIME_STRUCT = struct.Struct("<BBBBIB")
_TIMEDELTA_STRUCT = struct.Struct("<BiII")
_OFFSET_STRUCT = struct.Struct("<q")
_pack_datetime = _DATETIME_STRUCT.pack
_pack_date = _DATE_STRUCT.pack
_pack_time = _TIME_STRUCT.pack
_pack_timedelta = _TIMEDELTA_STRUCT.pack
_pack_offset = _OFFSET_STRUCT.pack
_unpack_datetime = _DATETIME_STRUCT.unpack_from
_unpack_date = _DATE_STRUCT.unpack_from
_unpack_time = _TIME_STRUCT.unpack_from
_unpack_timedelta = _TIMEDELTA_STRUCT.unpack_from
_unpack_offset = _OFFSET_STRUCT.unpack_from

# Flags byte of datetime and time.
_FOLD, _ZONE, _ZONE_NAME = 1, 2, 4
_DAY_US = 86400 * 1000000

# Bounded caches (cleared when full): tuple subclass -> layout for encoding,
# (name, module, fields, extra fields) -> class for decoding.
_CACHE_SIZE = 256
_LAYOUTS = {}  # type: Dict[type, Optional[Layout]]
_CLASSES = {}  # type: Dict[Layout, type]
# namedtuple under a plain name: mypy accepts only literal names for it.
_namedtuple = namedtuple  # type: Callable[..., type]


def _headers(tag):
    # type: (int) -> List[bytes]
    """Tag + one-byte length for every length below 128."""
    return [byte_pair(tag, n) for n in range(128)]


_HDR_STR = _headers(_STR)
_HDR_BYTES = _headers(_BYTES_TAG)
_HDR_LIST = _headers(_LIST)
_HDR_TUPLE = _headers(_TUPLE)
_HDR_DICT = _headers(_DICT)
# Ints -128..127: tag + one signed byte, indexed by n + 128.
_SMALL_INT = [byte_pair(_INT8, n & 0xFF) for n in range(-128, 128)]
# One byte of each value below 128.
_BYTE = [byte_pair(n, 0)[:1] for n in range(128)]

# The types of text and of bytes that are matched exactly on the fast paths:
# ``str`` and ``bytes`` on Python 3. On 2.7 text is ``unicode``, and the
# native ``str`` travels as text too (see compat), only ``Binary`` as bytes.
_TEXT = TEXT
_BYTES = Binary

_B_NONE = b"N"
_B_TRUE = b"T"
_B_FALSE = b"F"


def _uvarint(n):
    # type: (int) -> bytes
    """LEB128 encoding of a non-negative int."""
    if n < 0x80:
        return _BYTE[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _header(tag, n):
    # type: (int, int) -> bytes
    if n < 0x80:
        return byte_pair(tag, n)
    return _BYTE[tag] + _uvarint(n)


# --------------------------------------------------------------------------
# Encoding


class _Unencodable(Exception):
    """Internal: carries the object that could not be encoded."""

    def __init__(self, obj):
        # type: (Any) -> None
        Exception.__init__(self)
        self.obj = obj


class _TooDeep(Exception):
    """Internal: container nesting exceeded MAX_DEPTH (maybe a cycle)."""


def encode(obj, ref_encoder=None):
    # type: (Any, Optional[RefEncoder]) -> bytes
    """Encode ``obj`` to bytes.

    Any object that is not a handled value (see the module doc) is given to
    ``ref_encoder(obj)``: a returned :class:`Ref` is encoded in its place;
    ``None`` (or no ``ref_encoder``) makes the object unencodable.  A
    :class:`Ref` itself always encodes as a reference.  Exceptions raised by
    ``ref_encoder`` propagate unchanged.

    Raises :class:`EncodeError` for an unencodable object, a cyclic container
    or nesting deeper than :data:`MAX_DEPTH`; the message tells where in the
    value, e.g. ``cannot encode value[2]['key'] of type socket.socket``.
    Raises ``TypeError`` when ``ref_encoder`` returns neither a Ref nor None.

    A large ``bytes``/``bytearray``/``str`` is copied once (into the result).
    """
    parts = []  # type: List[Any]
    try:
        _enc(obj, parts, ref_encoder, 0)
    except _Unencodable as exc:
        where = _path_to(obj, exc.obj)
        raise quiet(EncodeError("cannot encode {} of type {}".format(where, _type_name(exc.obj))))
    except (_TooDeep, RecursionLimit):
        raise quiet(EncodeError(_depth_problem(obj)))
    return b"".join(parts)


def _enc(obj, parts, ref_encoder, depth):
    # type: (Any, List[Any], Optional[RefEncoder], int) -> None
    """Append the encoding of ``obj`` to ``parts``."""
    t = type(obj)
    if t is _TEXT:
        data = obj.encode("utf-8", "surrogatepass")
        n = len(data)
        if n < 0x80:
            parts.append(_HDR_STR[n] + data)
        else:
            parts.append(_header(_STR, n))
            parts.append(data)
    elif t is int:
        if -128 <= obj < 128:
            parts.append(_SMALL_INT[obj + 128])
        elif -32768 <= obj < 32768:
            parts.append(_pack_int16(_INT16, obj))
        else:
            _enc_int(obj, parts)
    elif obj is None:
        parts.append(_B_NONE)
    elif t is tuple or t is list:
        if depth >= MAX_DEPTH:
            raise _TooDeep()
        n = len(obj)
        if n < 0x80:
            parts.append(_HDR_TUPLE[n] if t is tuple else _HDR_LIST[n])
        else:
            parts.append(_header(_TUPLE if t is tuple else _LIST, n))
        depth += 1
        append = parts.append
        for item in obj:
            # Inlined fast paths for the commonest items.
            ti = type(item)
            if ti is int and -128 <= item < 128:
                append(_SMALL_INT[item + 128])
            elif ti is _TEXT:
                data = item.encode("utf-8", "surrogatepass")
                n = len(data)
                if n < 0x80:
                    append(_HDR_STR[n] + data)
                else:
                    append(_header(_STR, n))
                    append(data)
            elif item is None:
                append(_B_NONE)
            else:
                _enc(item, parts, ref_encoder, depth)
    elif t is dict:
        if depth >= MAX_DEPTH:
            raise _TooDeep()
        n = len(obj)
        parts.append(_HDR_DICT[n] if n < 0x80 else _header(_DICT, n))
        depth += 1
        append = parts.append
        for key, value in obj.items():
            if type(key) is _TEXT:
                data = key.encode("utf-8", "surrogatepass")
                n = len(data)
                if n < 0x80:
                    append(_HDR_STR[n] + data)
                else:
                    append(_header(_STR, n))
                    append(data)
            else:
                _enc(key, parts, ref_encoder, depth)
            _enc(value, parts, ref_encoder, depth)
    elif t is bool:
        parts.append(_B_TRUE if obj else _B_FALSE)
    elif t is float:
        parts.append(_pack_float(_FLOAT, obj))
    elif t is _BYTES:
        n = len(obj)
        if n < 0x80:
            parts.append(_HDR_BYTES[n] + obj)
        else:
            parts.append(_header(_BYTES_TAG, n))
            parts.append(obj)
    else:
        _enc_other(obj, parts, ref_encoder, depth)


def _enc_int(n, parts):
    # type: (int, List[Any]) -> None
    if _INT32_MIN <= n < _INT32_LIMIT:
        parts.append(_pack_int32(_INT32, n))
    elif _INT64_MIN <= n < _INT64_LIMIT:
        parts.append(_pack_int64(_INT64, n))
    else:
        size = (n.bit_length() + 8) // 8  # room for the sign bit
        parts.append(_header(_BIGINT, size))
        parts.append(int_to_bytes(n, size))


def _enc_other(obj, parts, ref_encoder, depth):
    # type: (Any, List[Any], Optional[RefEncoder], int) -> None
    """Rare types and subclasses of the handled types."""
    if isinstance(obj, Ref):
        _enc_ref(obj, parts)
    elif isinstance(obj, bool):
        parts.append(_B_TRUE if obj else _B_FALSE)
    elif isinstance(obj, INTEGERS):
        n = int.__int__(obj) if isinstance(obj, int) else int(obj)  # 2.7: a long
        if type(n) is int:
            _enc(n, parts, ref_encoder, depth)
        else:
            _enc_int(n, parts)  # a 2.7 long beyond int: more than 63 bits
    elif isinstance(obj, float):
        parts.append(_pack_float(_FLOAT, float.__float__(obj)))
    elif isinstance(obj, complex):
        real = complex.real.__get__(obj)
        imag = complex.imag.__get__(obj)
        parts.append(_pack_complex(_COMPLEX, real, imag))
    elif PY2 and isinstance(obj, (str, bytearray)):
        _enc_py2_bytes(obj, parts)
    elif isinstance(obj, TEXT):
        _enc(TEXT.__getitem__(obj, slice(None)), parts, ref_encoder, depth)
    elif isinstance(obj, (bytes, bytearray)):
        view = memoryview(obj).cast("B")  # novm (not on 2.7: above)
        parts.append(_header(_BYTES_TAG if isinstance(obj, bytes) else _BYTEARRAY, view.nbytes))
        parts.append(view)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        if depth >= MAX_DEPTH:
            raise _TooDeep()
        if isinstance(obj, tuple):
            layout = _tuple_layout(type(obj))
            if layout is not None and len(layout[2]) == tuple.__len__(obj):
                _enc_named_tuple(obj, layout, parts, ref_encoder, depth + 1)
                return
        if isinstance(obj, list):
            tag = _LIST
        elif isinstance(obj, tuple):
            tag = _TUPLE
        elif isinstance(obj, set):
            tag = _SET
        else:
            tag = _FROZENSET
        items = list(obj)
        parts.append(_header(tag, len(items)))
        depth += 1
        for item in items:
            _enc(item, parts, ref_encoder, depth)
    elif isinstance(obj, dict):
        if depth >= MAX_DEPTH:
            raise _TooDeep()
        pairs = list(obj.items())
        parts.append(_header(_DICT, len(pairs)))
        depth += 1
        for key, value in pairs:
            _enc(key, parts, ref_encoder, depth)
            _enc(value, parts, ref_encoder, depth)
    elif PY2 and _struct_sequence_py2(obj, parts, ref_encoder, depth):
        pass  # a 2.7 struct sequence: no tuple there
    elif not _enc_value_type(obj, parts):  # neither a datetime, Decimal, ...: a Ref?
        ref = ref_encoder(obj) if ref_encoder is not None else None
        if ref is None:
            raise _Unencodable(obj)
        if not isinstance(ref, Ref):
            raise TypeError(
                "ref_encoder returned {} for {}; expected Ref or None".format(
                    _type_name(ref), _type_name(obj)
                )
            )
        _enc_ref(ref, parts)


def _enc_py2_bytes(obj, parts):
    # type: (Any, List[Any]) -> None
    """Python 2.7: a native ``str`` (text, see compat), ``Binary`` or
    ``bytearray`` (bytes)."""
    native = str  # type: Any
    if isinstance(obj, Binary):
        tag, data = _BYTES_TAG, native.__getitem__(obj, slice(None))
    elif isinstance(obj, native):
        tag, data = _STR, native_utf8(native.__getitem__(obj, slice(None)))
    else:
        tag, data = _BYTEARRAY, bytes(obj)
    parts.append(_header(tag, len(data)))
    parts.append(data)


def _utf8(text):
    # type: (str) -> bytes
    """The UTF-8 of a text (lone surrogates kept); on 2.7 of a native
    ``str`` too (see compat)."""
    if PY2 and isinstance(text, str):
        return native_utf8(text)
    return text.encode("utf-8", "surrogatepass")


def _enc_ref(ref, parts):
    # type: (Ref, List[Any]) -> None
    parts.append(b"R\x01" if ref.callable else b"R\x00")
    _enc_text(ref.name, parts)
    _enc_text(ref.type_name, parts)


def _enc_text(text, parts):
    # type: (str, List[Any]) -> None
    data = _utf8(text)
    parts.append(_uvarint(len(data)))
    parts.append(data)


def _tuple_layout(cls):
    # type: (type) -> Optional[Layout]
    """(type name, module, fields, extra fields) of a named tuple or struct
    sequence type, None for any other tuple subclass (cached)."""
    try:
        return _LAYOUTS[cls]
    except KeyError:
        pass
    layout = _find_layout(cls)
    if len(_LAYOUTS) >= _CACHE_SIZE:
        _LAYOUTS.clear()
    _LAYOUTS[cls] = layout
    return layout


def _find_layout(cls):
    # type: (type) -> Optional[Layout]
    fields = getattr(cls, "_fields", None)
    extras = getattr(cls, "_extra_fields", ())
    if fields is None:
        found = _struct_sequence_fields(cls)
        if found is None:
            return None
        fields, extras = found
    if not (isinstance(fields, tuple) and isinstance(extras, tuple)):
        return None
    if not all(isinstance(field, STRINGS) for field in fields + extras):
        return None
    # A position whose name cannot travel (namedtuple(rename=True) names it
    # "_1") travels unnamed and is named that way again on arrival.
    fields = tuple(field if _is_field_name(field) else "" for field in fields)
    module = getattr(cls, "__module__", "")
    if not (isinstance(module, STRINGS) and _is_module_name(module)):
        module = ""
    layout = (cls.__name__, module, fields, extras)
    return None if _layout_problem(*layout) else layout


def _struct_sequence_fields(cls):
    # type: (type) -> Optional[Tuple[Tuple[str, ...], Tuple[str, ...]]]
    """Field names of a struct sequence (``os.stat_result``...): those of the
    tuple's positions ("" where unnamed) and those outside the tuple."""
    for base in cls.__mro__:
        if "n_sequence_fields" in vars(base):
            break
    else:
        return None
    n_visible = getattr(base, "n_sequence_fields", None)
    n_all = getattr(base, "n_fields", None)
    n_unnamed = getattr(base, "n_unnamed_fields", None)
    if not (type(n_visible) is int and type(n_all) is int and type(n_unnamed) is int):
        return None
    if not (0 <= n_unnamed <= n_visible <= n_all <= MAX_FIELDS):
        return None
    # Each named field has a member descriptor, in the order of the fields.
    members = [
        name
        for name, member in vars(base).items()
        if isinstance(member, types.MemberDescriptorType)
    ]
    if n_unnamed == 0 and not PY2:  # 2.7's type dicts keep no order: probe below
        names = members
    else:
        # Unnamed positions (os.stat_result's whole-second times) have none:
        # make an instance holding its own indices and read them back.
        names = [""] * n_all
        try:
            probe = base(tuple(range(n_all)))
            for name in members:
                names[getattr(probe, name)] = name
        except Exception:  # not what a struct sequence does: a plain tuple
            return None
    if len(names) != n_all:
        return None
    return tuple(names[:n_visible]), tuple(names[n_visible:])


def _struct_sequence_py2(obj, parts, ref_encoder, depth):
    # type: (Any, List[Any], Optional[RefEncoder], int) -> bool
    """Encode a 2.7 struct sequence (``os.stat_result``...: not a tuple
    there) as a named tuple; False for anything else. One whose field order
    cannot be found (it cannot be made to be probed: ``sys.version_info``)
    travels as a plain tuple."""
    cls = type(obj)
    if not hasattr(cls, "n_sequence_fields") or depth >= MAX_DEPTH:
        return False
    layout = _tuple_layout(cls)
    if layout is None:
        _enc(tuple(obj[:]), parts, ref_encoder, depth)
    else:
        _enc_named_tuple(obj, layout, parts, ref_encoder, depth + 1)
    return True


def _enc_named_tuple(obj, layout, parts, ref_encoder, depth):
    # type: (Any, Layout, List[Any], Optional[RefEncoder], int) -> None
    name, module, fields, extras = layout
    parts.append(_BYTE[_NAMED_TUPLE])
    _enc_text(name, parts)
    _enc_text(module, parts)
    parts.append(_uvarint(len(fields)))
    parts.append(_uvarint(len(extras)))
    for field in fields + extras:
        _enc_text(field, parts)
    items = tuple.__getitem__(obj, slice(None)) if isinstance(obj, tuple) else obj[:]  # 2.7
    for item in items:
        _enc(item, parts, ref_encoder, depth)
    for extra in extras:
        _enc(getattr(obj, extra, None), parts, ref_encoder, depth)


def _enc_value_type(obj, parts):
    # type: (Any, List[Any]) -> bool
    """Encode a datetime, Decimal, Fraction, UUID or path; False for others.

    Only modules already imported are asked: no object of their types exists
    before, and the agent does not pay for importing them.
    """
    modules = sys.modules
    datetime = modules.get("datetime")
    if datetime is not None and isinstance(obj, (datetime.date, datetime.time, datetime.timedelta)):
        _enc_datetime_type(obj, datetime, parts)
        return True
    decimal = modules.get("decimal")
    if decimal is not None and isinstance(obj, decimal.Decimal):
        text = decimal.Decimal.__str__(obj).encode("ascii")
        parts.append(_header(_DECIMAL, len(text)))
        parts.append(text)
        return True
    fractions = modules.get("fractions")
    if fractions is not None and isinstance(obj, fractions.Fraction):
        parts.append(_BYTE[_FRACTION])
        _enc(int(obj.numerator), parts, None, 0)
        _enc(int(obj.denominator), parts, None, 0)
        return True
    uuid = modules.get("uuid")
    if uuid is not None and isinstance(obj, uuid.UUID):
        parts.append(_BYTE[_UUID] + obj.bytes)
        return True
    pathlib = modules.get("pathlib")
    if pathlib is not None and isinstance(obj, pathlib.PurePath):
        windows = isinstance(obj, pathlib.PureWindowsPath)
        if not windows and not isinstance(obj, pathlib.PurePosixPath):
            # Python 3.12+: a direct subclass of PurePath or Path has the
            # flavour of os.path (or of its own ``parser``).
            flavour = getattr(obj, "parser", None) or getattr(obj, "_flavour", None)
            windows = getattr(flavour, "__name__", None) == "ntpath"
        parts.append(byte_pair(_PATH, _WINDOWS_PATH if windows else _POSIX_PATH))
        _enc_text(pathlib.PurePath.__str__(obj), parts)
        return True
    return False


def _enc_datetime_type(obj, datetime, parts):
    # type: (Any, Any, List[Any]) -> None
    if isinstance(obj, datetime.datetime):
        flags, zone = _zone(obj, datetime)
        parts.append(
            _pack_datetime(
                _DATETIME, obj.year, obj.month, obj.day, obj.hour, obj.minute, obj.second,
                obj.microsecond, flags,
            )
        )  # fmt: skip
        parts.append(zone)
    elif isinstance(obj, datetime.date):
        parts.append(_pack_date(_DATE, obj.year, obj.month, obj.day))
    elif isinstance(obj, datetime.time):
        flags, zone = _zone(obj, datetime)
        parts.append(_pack_time(_TIME, obj.hour, obj.minute, obj.second, obj.microsecond, flags))
        parts.append(zone)
    else:
        parts.append(_pack_timedelta(_TIMEDELTA, obj.days, obj.seconds, obj.microseconds))


def _zone(obj, datetime):
    # type: (Any, Any) -> Tuple[int, bytes]
    """Flags byte and zone bytes of a datetime or time (see the module doc)."""
    flags = _FOLD if getattr(obj, "fold", 0) else 0  # 2.7 has no fold
    offset = obj.utcoffset() if obj.tzinfo is not None else None
    if offset is None:
        return flags, b""
    tz = obj.tzinfo
    if type(tz) is getattr(datetime, "timezone", None) or type(tz) is _CLASSES.get(_FIXED_OFFSET):
        args = tz.__getinitargs__()  # (offset,) or (offset, name it was given)
        name = args[1] if len(args) > 1 else None
    else:
        name = obj.tzname()
    zone = _pack_offset(_micros(offset))
    if name is None:
        return flags | _ZONE, zone
    data = _utf8(name)
    return flags | _ZONE | _ZONE_NAME, zone + _uvarint(len(data)) + data


def _is_identifier(name):
    # type: (str) -> bool
    if PY2:  # identifiers are ASCII there
        return _PY2_IDENTIFIER.match(name) is not None and not iskeyword(name)
    return name.isidentifier() and not iskeyword(name)


_PY2_IDENTIFIER = re.compile("[A-Za-z_][A-Za-z0-9_]*\\Z")


def _is_field_name(name):
    # type: (str) -> bool
    """What ``collections.namedtuple`` accepts as a field name."""
    return _is_identifier(name) and not name.startswith("_")


def _is_module_name(name):
    # type: (str) -> bool
    return name == "" or all(_is_identifier(part) for part in name.split("."))


def _layout_problem(name, module, fields, extras):
    # type: (str, str, Tuple[str, ...], Tuple[str, ...]) -> Optional[str]
    """What makes a named tuple layout unusable, or None when it is fine."""
    if not _is_identifier(name):
        return "type name {!r}".format(name)
    if not _is_module_name(module):
        return "module name {!r}".format(module)
    if len(fields) + len(extras) > MAX_FIELDS:
        return "more than {} fields".format(MAX_FIELDS)
    named = [field for field in fields if field] + list(extras)
    for field in named:
        if not _is_field_name(field):
            return "field name {!r}".format(field)
    if len(set(named)) != len(named):
        return "duplicate field names"
    return None


def _type_name(obj):
    # type: (Any) -> str
    t = type(obj)
    module = getattr(t, "__module__", None)
    name = getattr(t, "__qualname__", t.__name__)
    if not module or module in ("builtins", "__builtin__"):
        return name
    return "{}.{}".format(module, name)


def _key_repr(key):
    # type: (Any) -> str
    try:
        text = repr(key)
    except Exception:
        text = "<{}>".format(_type_name(key))
    if len(text) > 60:
        text = text[:57] + "..."
    return text


def _children(obj):
    # type: (Any) -> Optional[List[Tuple[str, Any]]]
    """(path step, child) pairs in encoding order; None for non-containers."""
    if isinstance(obj, Ref):
        return None
    if isinstance(obj, (list, tuple)):
        return [("[{}]".format(i), item) for i, item in enumerate(obj)]
    if isinstance(obj, dict):
        steps = []  # type: List[Tuple[str, Any]]
        for i, (key, value) in enumerate(obj.items()):
            steps.append(("<key #{}>".format(i), key))
            steps.append(("[{}]".format(_key_repr(key)), value))
        return steps
    if isinstance(obj, (set, frozenset)):
        return [("<item #{}>".format(i), item) for i, item in enumerate(obj)]
    return None


def _path_to(root, target):
    # type: (Any, Any) -> str
    """Path (``value[1]['k']``) to the first occurrence of ``target``."""
    stack = [("value", root, 0)]
    while stack:
        path, obj, depth = stack.pop()
        if obj is target:
            return path
        children = _children(obj) if depth < MAX_DEPTH else None
        if children:
            for step, child in reversed(children):
                stack.append((path + step, child, depth + 1))
    return "value"


def _depth_problem(root):
    # type: (Any) -> str
    """Explain a nesting error: a cycle, or simply too deep."""
    # Depth-first in encoding order; `active` holds the containers on the path.
    active = {}  # type: Dict[int, bool]

    def walk(obj, path, depth):
        # type: (Any, str, int) -> Optional[str]
        children = _children(obj)
        if children is None:
            return None
        if id(obj) in active:
            return "cannot encode {}: cyclic reference (contains itself)".format(path)
        if depth >= MAX_DEPTH:
            return "cannot encode {}: nesting deeper than {} levels".format(path, MAX_DEPTH)
        active[id(obj)] = True
        for step, child in children:
            problem = walk(child, path + step, depth + 1)
            if problem:
                return problem
        del active[id(obj)]
        return None

    try:
        found = walk(root, "value", 0)
    except RecursionLimit:
        found = None
    return found or "cannot encode value: nesting too deep for the call stack"


# --------------------------------------------------------------------------
# Decoding


class _RefDecoderFailed(Exception):
    """Internal: wraps an exception raised by the caller's ref_decoder."""

    def __init__(self, exc):
        # type: (BaseException) -> None
        Exception.__init__(self)
        self.exc = exc


def decode(data, ref_decoder=None):
    # type: (Any, Optional[RefDecoder]) -> Any
    """Decode one value from ``data`` (bytes, bytearray or memoryview).

    Every :class:`Ref` found is replaced by ``ref_decoder(ref)`` (the Ref
    itself without ``ref_decoder``); exceptions raised by ``ref_decoder``
    propagate unchanged.

    Malformed, truncated, trailing or hostile data raises
    :class:`DecodeError` and nothing else: lengths are checked against the
    remaining data before anything is allocated and nesting is limited to
    :data:`MAX_DEPTH`.  A large bytes value is copied once.
    """
    view = None
    if PY2:
        data = bytearray(data)  # its items are ints, as those of bytes on Python 3
    elif type(data) is not bytes or len(data) > 0x10000:
        # Slices of a memoryview copy nothing; small bytes are faster as is.
        data = view = memoryview(data).cast("B")  # novm (not on 2.7: above)
    try:
        value, pos = _dec(data, 0, ref_decoder, 0)
        if pos != len(data):
            raise DecodeError("{} trailing bytes after the value".format(len(data) - pos))
        return value
    except DecodeError:
        raise
    except _RefDecoderFailed as failed:
        raise quiet(failed.exc)
    except (IndexError, struct.error):
        raise quiet(DecodeError("truncated data"))
    except RecursionLimit:
        raise quiet(DecodeError("nesting too deep for the call stack"))
    except (TypeError, ValueError, OverflowError, MemoryError) as exc:
        raise quiet(DecodeError("invalid data: {}".format(exc)))
    finally:
        if view is not None:
            view.release()  # the caller may resize its bytearray right away


if sys.version_info[0] == 2:

    def _decode_text(data, encoding, errors):
        """``str(data, encoding, errors)`` of Python 3 (2.7's UTF-8 codec lets
        surrogates pass)."""
        return bytes(data).decode(encoding)

else:
    _decode_text = str


def _varint(data, pos):
    # type: (Any, int) -> Tuple[int, int]
    """Decode a LEB128 varint at ``pos``: (value, position after it)."""
    result = 0
    shift = 0
    while shift < 70:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
    raise DecodeError("varint too long at offset {}".format(pos))


def _length(data, pos):
    # type: (Any, int) -> Tuple[int, int]
    """A byte or item count that must fit in the remaining data."""
    n = data[pos]
    pos += 1
    if n >= 0x80:
        n, pos = _varint(data, pos - 1)
    if n > len(data) - pos:
        raise DecodeError("length {} at offset {} exceeds the data".format(n, pos))
    return n, pos


def _dec(data, pos, ref_decoder, depth):
    # type: (Any, int, Optional[RefDecoder], int) -> Tuple[Any, int]
    """Decode the value at ``pos``: (value, position after it)."""
    tag = data[pos]
    pos += 1
    if tag == _STR:
        n = data[pos]
        pos += 1
        if n >= 0x80:
            n, pos = _varint(data, pos - 1)
        end = pos + n
        if end > len(data):
            raise DecodeError("length {} at offset {} exceeds the data".format(n, pos))
        try:
            return _decode_text(data[pos:end], "utf-8", "surrogatepass"), end
        except UnicodeDecodeError:
            raise quiet(DecodeError("invalid UTF-8 in str at offset {}".format(pos)))
    if tag == _INT8:
        n = data[pos]
        return (n - 256 if n >= 0x80 else n), pos + 1
    if tag == _INT16:
        return _unpack_int16(data, pos)[0], pos + 2
    if tag == _N:
        return None, pos
    if tag in _SEQUENCE_TAGS:
        if depth >= MAX_DEPTH:
            raise DecodeError("nesting deeper than {} levels".format(MAX_DEPTH))
        n, pos = _length(data, pos)
        depth += 1
        items = []  # type: List[Any]
        append = items.append
        for _ in range(n):
            # Inlined fast paths for the commonest items.
            item_tag = data[pos]
            if item_tag == _INT8:
                item = data[pos + 1]
                append(item - 256 if item >= 0x80 else item)
                pos += 2
            elif item_tag == _N:
                append(None)
                pos += 1
            else:
                item, pos = _dec(data, pos, ref_decoder, depth)
                append(item)
        return (tuple(items) if tag == _TUPLE else items), pos
    if tag == _DICT:
        if depth >= MAX_DEPTH:
            raise DecodeError("nesting deeper than {} levels".format(MAX_DEPTH))
        n, pos = _length(data, pos)
        depth += 1
        keys = []
        values = []
        for _ in range(n):
            key, pos = _dec(data, pos, ref_decoder, depth)
            keys.append(key)
            value, pos = _dec(data, pos, ref_decoder, depth)
            values.append(value)
        try:
            _check_collisions(keys)
            return dict(zip(keys, values)), pos
        except TypeError:
            raise quiet(
                DecodeError("unhashable dict key of type {}".format(_type_name(_unhashable(keys))))
            )
    if tag == _T:
        return True, pos
    if tag == _F:
        return False, pos
    if tag == _FLOAT:
        return _unpack_double(data, pos)[0], pos + 8
    if tag in _BYTES_TAGS:
        n, pos = _length(data, pos)
        end = pos + n
        if tag == _BYTES_TAG:
            return bytes(data[pos:end]), end
        return bytearray(memoryview(data)[pos:end]), end
    return _dec_other(tag, data, pos, ref_decoder, depth)


def _check_collisions(items):
    # type: (List[Any]) -> None
    """Refuse more than MAX_HASH_COLLISIONS shared hashes among ``items``
    (in linear time: hash values of distinct hashes do not collide again)."""
    if len(items) > MAX_HASH_COLLISIONS:
        shared = len(items) - len(set(map(hash, items)))
        if shared > MAX_HASH_COLLISIONS:
            raise DecodeError(
                "{} of {} set items or dict keys share hash values (more than {}): "
                "refused as a hash-collision attack".format(shared, len(items), MAX_HASH_COLLISIONS)
            )


def _unhashable(items):
    # type: (List[Any]) -> Any
    """The first item of ``items`` that cannot be hashed."""
    for item in items:
        try:
            hash(item)
        except TypeError:
            return item
    return None


def _dec_other(tag, data, pos, ref_decoder, depth):
    # type: (int, Any, int, Optional[RefDecoder], int) -> Tuple[Any, int]
    if tag == _INT32:
        return _unpack_int32(data, pos)[0], pos + 4
    if tag == _INT64:
        return _unpack_int64(data, pos)[0], pos + 8
    if tag == _BIGINT:
        n, pos = _length(data, pos)
        end = pos + n
        return int_from_bytes(data[pos:end]), end
    if tag == _COMPLEX:
        real, imag = _unpack_2double(data, pos)
        return complex(real, imag), pos + 16
    if tag in _SET_TAGS:
        if depth >= MAX_DEPTH:
            raise DecodeError("nesting deeper than {} levels".format(MAX_DEPTH))
        n, pos = _length(data, pos)
        depth += 1
        items = []
        for _ in range(n):
            item, pos = _dec(data, pos, ref_decoder, depth)
            items.append(item)
        try:
            _check_collisions(items)
            return (set(items) if tag == _SET else frozenset(items)), pos
        except TypeError:
            raise quiet(DecodeError("unhashable set item"))
    if tag == _REF:
        flag = data[pos]
        if flag > 1:
            raise DecodeError("invalid Ref callable flag at offset {}".format(pos))
        n, pos = _length(data, pos + 1)
        try:
            name = _decode_text(data[pos : pos + n], "utf-8", "surrogatepass")
            pos += n
            n, pos = _length(data, pos)
            type_name = _decode_text(data[pos : pos + n], "utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise quiet(DecodeError("invalid UTF-8 in Ref at offset {}".format(pos)))
        pos += n
        ref = Ref(name, type_name, flag == 1)
        if ref_decoder is None:
            return ref, pos
        try:
            return ref_decoder(ref), pos
        except Exception as exc:
            raise quiet(_RefDecoderFailed(exc))
    decoder = _VALUE_DECODERS.get(tag)
    if decoder is None:
        raise DecodeError("unknown tag 0x{:02x} at offset {}".format(tag, pos - 1))
    return decoder(data, pos, ref_decoder, depth)


def _stdlib(name):
    # type: (str) -> Any
    """The standard library module ``name``, imported when first needed."""
    module = sys.modules.get(name)
    return module if module is not None else __import__(name)


def _make(what, pos, factory, *args, **kwargs):
    # type: (str, int, Callable[..., Any], *Any, **Any) -> Any
    """``factory(*args, **kwargs)``; a value it refuses is a DecodeError."""
    try:
        return factory(*args, **kwargs)
    except (ValueError, ArithmeticError) as exc:
        raise quiet(DecodeError("invalid {} at offset {}: {}".format(what, pos, exc)))


def _dec_text(data, pos):
    # type: (Any, int) -> Tuple[str, int]
    n, pos = _length(data, pos)
    end = pos + n
    try:
        return _decode_text(data[pos:end], "utf-8", "surrogatepass"), end
    except UnicodeDecodeError:
        raise quiet(DecodeError("invalid UTF-8 in text at offset {}".format(pos)))


def _dec_zone(datetime, flags, data, pos):
    # type: (Any, int, Any, int) -> Tuple[Any, int]
    """The tzinfo of a datetime or time (see the module doc): (tz, position)."""
    if flags & ~(_FOLD | _ZONE | _ZONE_NAME) or flags & (_ZONE | _ZONE_NAME) == _ZONE_NAME:
        raise DecodeError("invalid flags 0x{:02x} before offset {}".format(flags, pos))
    if not flags & _ZONE:
        return None, pos
    micros = _unpack_offset(data, pos)[0]
    if not -_DAY_US < micros < _DAY_US:
        raise DecodeError("UTC offset at offset {} is not within a day".format(pos))
    offset = datetime.timedelta(microseconds=micros)
    if not flags & _ZONE_NAME:
        return _make("UTC offset", pos, _timezone(datetime), offset), pos + 8
    name, end = _dec_text(data, pos + 8)
    return _make("UTC offset", pos, _timezone(datetime), offset, name), end


def _timezone(datetime):
    # type: (Any) -> Any
    """``datetime.timezone``; on 2.7, which has none, a class made once that
    does what it does: a fixed offset, and the name it was given."""
    timezone = getattr(datetime, "timezone", None)
    if timezone is not None:
        return timezone
    cls = _CLASSES.get(_FIXED_OFFSET)
    if cls is None:

        def __init__(self, offset, name=None):
            if offset.microseconds or offset.seconds % 60:
                raise ValueError("offset must be whole minutes on Python 2.7")
            self._offset = offset
            self._name = name

        def tzname(self, dt):
            if self._name is not None:
                return self._name
            minutes = _micros(self._offset) // 60000000
            if not minutes:
                return "UTC"
            sign = "-" if minutes < 0 else "+"
            return "UTC{}{:02d}:{:02d}".format(sign, *divmod(abs(minutes), 60))

        namespace = {
            "__doc__": "A fixed UTC offset (what ``datetime.timezone`` is on Python 3).",
            "__init__": __init__,
            "utcoffset": lambda self, dt: self._offset,
            "dst": lambda self, dt: None,
            "tzname": tzname,
            "__repr__": lambda self: "timezone({!r}, {!r})".format(self._offset, self._name),
            "__getinitargs__": lambda self: (self._offset,) if self._name is None
            else (self._offset, self._name),
        }  # fmt: skip
        cls = type("timezone", (datetime.tzinfo,), namespace)
        _CLASSES[_FIXED_OFFSET] = cls
    return cls


_FIXED_OFFSET = ("timezone", "datetime", (), ())  # its key in _CLASSES


def _fold(flags):
    # type: (int) -> Dict[str, int]
    """The ``fold`` argument of a datetime or time (none on 2.7: not kept)."""
    return {} if PY2 else {"fold": flags & _FOLD}


def _micros(delta):
    # type: (Any) -> int
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def _dec_datetime(data, pos, ref_decoder, depth):
    # type: (Any, int, Optional[RefDecoder], int) -> Tuple[Any, int]
    _, year, month, day, hour, minute, second, micro, flags = _unpack_datetime(data, pos - 1)
    datetime = _stdlib("datetime")
    tz, end = _dec_zone(datetime, flags, data, pos - 1 + _DATETIME_STRUCT.size)
    fields = (year, month, day, hour, minute, second, micro, tz)
    return _make("datetime", pos, datetime.datetime, *fields, **_fold(flags)), end


def _dec_date(data, pos, ref_decoder, depth):
    # type: (Any, int, Optional[RefDecoder], int) -> Tuple[Any, int]
    _, year, month, day = _unpack_date(data, pos - 1)
    datetime = _stdlib("datetime")
    return _make("date", pos, datetime.date, year, month, day), pos - 1 + _DATE_STRUCT.size


def _dec_time(data, pos, ref_decoder, depth):
    # type: (Any, int, Optional[RefDecoder], int) -> Tuple[Any, int]
    _, hour, minute, second, micro, flags = _unpack_time(data, pos - 1)
    datetime = _stdlib("datetime")
    tz, end = _dec_zone(datetime, flags, data, pos - 1 + _TIME_STRUCT.size)
    return _make(
        "time", pos, datetime.time, hour, minute, second, micro, tz, **_fold(flags)
    ), end


def _dec_timedelta(data, pos, ref_decoder, depth):
    # type: (Any, int, Optional[RefDecoder], int) -> Tuple[Any, int]
    _, days, seconds, micro = _unpack_timedelta(data, pos - 1)
    if seconds >= 86400 or micro >= 1000000:
        raise DecodeError("timedelta seconds or microseconds out of range at offset {}".format(pos))
    datetime = _stdlib("datetime")
    end = pos - 1 + _TIMEDELTA_STRUCT.size
    return _make("timedelta", pos, datetime.timedelta, days, seconds, micro), end


def _dec_decimal(data, pos, ref_decoder, depth):
    # type: (Any, int, Optional[RefDecoder], int) -> Tuple[Any, int]
    n, pos = _length(data, pos)
    end = pos + n
    try:
        text = _decode_text(data[pos:end], "ascii", "strict")
    except UnicodeDecodeError:
        raise quiet(DecodeError("Decimal at offset {} is not ASCII".format(pos)))
    value = _make("Decimal", pos, _stdlib("decimal").Decimal, text)
    if str(value) != text:  # also catches a NaN made by a context without traps
        raise DecodeError("Decimal at offset {} is not in the form str() gives".format(pos))
    return value, end


def _dec_fraction(data, pos, ref_decoder, depth):
    # type: (Any, int, Optional[RefDecoder], int) -> Tuple[Any, int]
    terms = []
    for _ in range(2):
        if data[pos] not in _INT_TAGS:
            raise DecodeError("Fraction term at offset {} is not an int".format(pos))
        term, pos = _dec(data, pos, None, depth)
        terms.append(term)
    if terms[1] < 1:
        raise DecodeError("Fraction denominator before offset {} is not positive".format(pos))
    return _stdlib("fractions").Fraction(terms[0], terms[1]), pos


def _dec_uuid(data, pos, ref_decoder, depth):
    # type: (Any, int, Optional[RefDecoder], int) -> Tuple[Any, int]
    end = pos + 16
    if end > len(data):
        raise DecodeError("truncated UUID at offset {}".format(pos))
    return _stdlib("uuid").UUID(bytes=bytes(data[pos:end])), end


def _dec_path(data, pos, ref_decoder, depth):
    # type: (Any, int, Optional[RefDecoder], int) -> Tuple[Any, int]
    flavour = data[pos]
    if flavour not in (_POSIX_PATH, _WINDOWS_PATH):
        raise DecodeError("unknown path flavour 0x{:02x} at offset {}".format(flavour, pos))
    text, end = _dec_text(data, pos + 1)
    try:
        pathlib = _stdlib("pathlib")
    except ImportError:  # Python 2.7 without a pathlib backport: the path's text
        return text, end
    cls = pathlib.PurePosixPath if flavour == _POSIX_PATH else pathlib.PureWindowsPath
    return _make("path", pos, cls, text), end


def _dec_named_tuple(data, pos, ref_decoder, depth):
    # type: (Any, int, Optional[RefDecoder], int) -> Tuple[Any, int]
    if depth >= MAX_DEPTH:
        raise DecodeError("nesting deeper than {} levels".format(MAX_DEPTH))
    start = pos - 1
    name, pos = _dec_text(data, pos)
    module, pos = _dec_text(data, pos)
    n_fields, pos = _varint(data, pos)
    n_extras, pos = _varint(data, pos)
    total = n_fields + n_extras
    if total > MAX_FIELDS:
        raise DecodeError(
            "named tuple at offset {} has more than {} fields".format(start, MAX_FIELDS)
        )
    if 2 * total > len(data) - pos:  # every name and every value takes a byte at least
        raise DecodeError("{} fields at offset {} exceed the data".format(total, pos))
    names = []
    for _ in range(total):
        field, pos = _dec_text(data, pos)
        names.append(field)
    cls = _named_tuple_class(name, module, tuple(names[:n_fields]), tuple(names[n_fields:]), start)
    depth += 1
    values = []
    for _ in range(total):
        value, pos = _dec(data, pos, ref_decoder, depth)
        values.append(value)
    result = tuple.__new__(cls, values[:n_fields])
    if n_extras:
        result.__dict__.update(zip(names[n_fields:], values[n_fields:]))
    return result, pos


def _named_tuple_class(name, module, fields, extras, pos):
    # type: (str, str, Tuple[str, ...], Tuple[str, ...], int) -> Any
    """The look-alike class of a named tuple layout (see the module doc), cached."""
    key = (name, module, fields, extras)
    cached = _CLASSES.get(key)
    if cached is not None:
        return cached
    problem = _layout_problem(name, module, fields, extras)
    if problem:
        raise DecodeError("invalid named tuple at offset {}: {}".format(pos, problem))
    # rename=True names the positions without a name "_<index>"; every other
    # name passed the checks above, the ones namedtuple makes itself.
    if PY2:  # no module argument; names are ASCII there (no other identifiers)
        name, module, fields = str(name), str(module), tuple(str(field) for field in fields)
        made = _namedtuple(name, fields, rename=True)
        made.__module__ = module
    else:
        made = _namedtuple(name, fields, rename=True, module=module)
    if extras:
        namespace = {"__module__": module, "__doc__": made.__doc__, "_extra_fields": extras}
        made = type(name, (made,), namespace)
    if len(_CLASSES) >= _CACHE_SIZE:
        _CLASSES.clear()
    _CLASSES[key] = made
    return made


_VALUE_DECODERS = {  # type: Dict[int, ValueDecoder]
    _DATETIME: _dec_datetime,
    _DATE: _dec_date,
    _TIME: _dec_time,
    _TIMEDELTA: _dec_timedelta,
    _DECIMAL: _dec_decimal,
    _FRACTION: _dec_fraction,
    _UUID: _dec_uuid,
    _PATH: _dec_path,
    _NAMED_TUPLE: _dec_named_tuple,
}
