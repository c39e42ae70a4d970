"""Safe binary value codec shared by the controller and the agent.

Only plain data travels by value; everything else travels as a :class:`Ref`
to an object held on the other side.  Nothing here ever executes code from
the data (no pickle, no marshal, no eval), so decoding hostile input can only
produce plain values or :class:`DecodeError`.

This module is standard library only, free of I/O and of mutable module
state, and written for Python 3.6+: it is also shipped to and run on the
target.

Values handled (checked with ``isinstance``; a subclass travels as its base
type, e.g. a namedtuple as ``tuple``, an ``OrderedDict`` as ``dict``, an
``IntEnum`` as ``int``; ``bool`` stays ``bool``):

``None``, ``bool``, ``int`` (any size), ``float`` (nan and inf included),
``complex``, ``str`` (any, lone surrogates included), ``bytes``,
``bytearray``, ``list``, ``tuple``, ``dict`` (keys of any handled type),
``set``, ``frozenset`` and :class:`Ref`, nested up to :data:`MAX_DEPTH`
containers deep.  A set or dict whose items collide in hash more than
:data:`MAX_HASH_COLLISIONS` times is refused when decoding (it would take
quadratic time to build).

Format: every value is one tag byte followed by its body.  Unsigned
``varint`` (lengths and counts) is LEB128 (7 bits per byte, least
significant group first, high bit set on all bytes but the last, at most 10
bytes).

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
====  ===========  ==========================================================
"""

import struct
from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = [
    "MAX_DEPTH",
    "MAX_HASH_COLLISIONS",
    "DecodeError",
    "EncodeError",
    "Ref",
    "decode",
    "encode",
]

#: Deepest container nesting accepted by :func:`encode` and :func:`decode`.
MAX_DEPTH = 100

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


class Ref:
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

    name: str
    type_name: str
    callable: bool

    def __init__(self, name: str, type_name: str, callable: bool = False) -> None:
        if not isinstance(name, str) or not isinstance(type_name, str):
            raise TypeError("Ref name and type_name must be str")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "type_name", type_name)
        object.__setattr__(self, "callable", bool(callable))

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError("Ref is immutable")

    def __delattr__(self, attr: str) -> None:
        raise AttributeError("Ref is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ref):
            return NotImplemented
        return (self.name, self.type_name, self.callable) == (
            other.name,
            other.type_name,
            other.callable,
        )

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash((Ref, self.name, self.type_name, self.callable))

    def __repr__(self) -> str:
        return "Ref(name={!r}, type_name={!r}, callable={!r})".format(
            self.name, self.type_name, self.callable
        )

    def __reduce__(self) -> Any:
        return (Ref, (self.name, self.type_name, self.callable))


# --------------------------------------------------------------------------
# Constants

_N, _T, _F = 0x4E, 0x54, 0x46
_INT8, _INT16, _INT32, _INT64, _BIGINT = 0x69, 0x68, 0x77, 0x71, 0x49
_FLOAT, _COMPLEX = 0x66, 0x63
_STR, _BYTES, _BYTEARRAY = 0x73, 0x62, 0x61
_LIST, _TUPLE, _DICT, _SET, _FROZENSET = 0x6C, 0x74, 0x64, 0x65, 0x7A
_REF = 0x52
_SEQUENCE_TAGS = (_TUPLE, _LIST)
_BYTES_TAGS = (_BYTES, _BYTEARRAY)
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


def _headers(tag: int) -> List[bytes]:
    """Tag + one-byte length for every length below 128."""
    return [bytes((tag, n)) for n in range(128)]


_HDR_STR = _headers(_STR)
_HDR_BYTES = _headers(_BYTES)
_HDR_LIST = _headers(_LIST)
_HDR_TUPLE = _headers(_TUPLE)
_HDR_DICT = _headers(_DICT)
# Ints -128..127: tag + one signed byte, indexed by n + 128.
_SMALL_INT = [bytes((_INT8, n & 0xFF)) for n in range(-128, 128)]

_B_NONE = b"N"
_B_TRUE = b"T"
_B_FALSE = b"F"


def _uvarint(n: int) -> bytes:
    """LEB128 encoding of a non-negative int."""
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _header(tag: int, n: int) -> bytes:
    if n < 0x80:
        return bytes((tag, n))
    return bytes((tag,)) + _uvarint(n)


# --------------------------------------------------------------------------
# Encoding


class _Unencodable(Exception):
    """Internal: carries the object that could not be encoded."""

    def __init__(self, obj: Any) -> None:
        Exception.__init__(self)
        self.obj = obj


class _TooDeep(Exception):
    """Internal: container nesting exceeded MAX_DEPTH (maybe a cycle)."""


RefEncoder = Callable[[Any], Optional[Ref]]
RefDecoder = Callable[[Ref], Any]


def encode(obj: Any, ref_encoder: Optional[RefEncoder] = None) -> bytes:
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
    parts: List[Any] = []
    try:
        _enc(obj, parts, ref_encoder, 0)
    except _Unencodable as exc:
        where = _path_to(obj, exc.obj)
        raise EncodeError(
            "cannot encode {} of type {}".format(where, _type_name(exc.obj))
        ) from None
    except (_TooDeep, RecursionError):
        raise EncodeError(_depth_problem(obj)) from None
    return b"".join(parts)


def _enc(obj: Any, parts: List[Any], ref_encoder: Optional[RefEncoder], depth: int) -> None:
    """Append the encoding of ``obj`` to ``parts``."""
    t = type(obj)
    if t is str:
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
            elif ti is str:
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
            if type(key) is str:
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
    elif t is bytes:
        n = len(obj)
        if n < 0x80:
            parts.append(_HDR_BYTES[n] + obj)
        else:
            parts.append(_header(_BYTES, n))
            parts.append(obj)
    else:
        _enc_other(obj, parts, ref_encoder, depth)


def _enc_int(n: int, parts: List[Any]) -> None:
    if _INT32_MIN <= n < _INT32_LIMIT:
        parts.append(_pack_int32(_INT32, n))
    elif _INT64_MIN <= n < _INT64_LIMIT:
        parts.append(_pack_int64(_INT64, n))
    else:
        size = (n.bit_length() + 8) // 8  # room for the sign bit
        parts.append(_header(_BIGINT, size))
        parts.append(n.to_bytes(size, "little", signed=True))


def _enc_other(obj: Any, parts: List[Any], ref_encoder: Optional[RefEncoder], depth: int) -> None:
    """Rare types and subclasses of the handled types."""
    if isinstance(obj, Ref):
        _enc_ref(obj, parts)
    elif isinstance(obj, bool):
        parts.append(_B_TRUE if obj else _B_FALSE)
    elif isinstance(obj, int):
        _enc(int.__int__(obj), parts, ref_encoder, depth)
    elif isinstance(obj, float):
        parts.append(_pack_float(_FLOAT, float.__float__(obj)))
    elif isinstance(obj, complex):
        real = complex.real.__get__(obj)
        imag = complex.imag.__get__(obj)
        parts.append(_pack_complex(_COMPLEX, real, imag))
    elif isinstance(obj, str):
        _enc(str.__str__(obj), parts, ref_encoder, depth)
    elif isinstance(obj, (bytes, bytearray)):
        view = memoryview(obj).cast("B")
        parts.append(_header(_BYTES if isinstance(obj, bytes) else _BYTEARRAY, view.nbytes))
        parts.append(view)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        if depth >= MAX_DEPTH:
            raise _TooDeep()
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
    else:
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


def _enc_ref(ref: Ref, parts: List[Any]) -> None:
    name = ref.name.encode("utf-8", "surrogatepass")
    type_name = ref.type_name.encode("utf-8", "surrogatepass")
    parts.append(b"R\x01" if ref.callable else b"R\x00")
    parts.append(_uvarint(len(name)))
    parts.append(name)
    parts.append(_uvarint(len(type_name)))
    parts.append(type_name)


def _type_name(obj: Any) -> str:
    t = type(obj)
    module = getattr(t, "__module__", None)
    name = getattr(t, "__qualname__", t.__name__)
    if not module or module == "builtins":
        return name
    return "{}.{}".format(module, name)


def _key_repr(key: Any) -> str:
    try:
        text = repr(key)
    except Exception:
        text = "<{}>".format(_type_name(key))
    if len(text) > 60:
        text = text[:57] + "..."
    return text


def _children(obj: Any) -> Optional[List[Tuple[str, Any]]]:
    """(path step, child) pairs in encoding order; None for non-containers."""
    if isinstance(obj, Ref):
        return None
    if isinstance(obj, (list, tuple)):
        return [("[{}]".format(i), item) for i, item in enumerate(obj)]
    if isinstance(obj, dict):
        steps: List[Tuple[str, Any]] = []
        for i, (key, value) in enumerate(obj.items()):
            steps.append(("<key #{}>".format(i), key))
            steps.append(("[{}]".format(_key_repr(key)), value))
        return steps
    if isinstance(obj, (set, frozenset)):
        return [("<item #{}>".format(i), item) for i, item in enumerate(obj)]
    return None


def _path_to(root: Any, target: Any) -> str:
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


def _depth_problem(root: Any) -> str:
    """Explain a nesting error: a cycle, or simply too deep."""
    # Depth-first in encoding order; `active` holds the containers on the path.
    active: Dict[int, bool] = {}

    def walk(obj: Any, path: str, depth: int) -> Optional[str]:
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
    except RecursionError:
        found = None
    return found or "cannot encode value: nesting too deep for the call stack"


# --------------------------------------------------------------------------
# Decoding


class _RefDecoderFailed(Exception):
    """Internal: wraps an exception raised by the caller's ref_decoder."""

    def __init__(self, exc: BaseException) -> None:
        Exception.__init__(self)
        self.exc = exc


def decode(data: Any, ref_decoder: Optional[RefDecoder] = None) -> Any:
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
    if type(data) is not bytes or len(data) > 0x10000:
        # Slices of a memoryview copy nothing; small bytes are faster as is.
        data = view = memoryview(data).cast("B")
    try:
        value, pos = _dec(data, 0, ref_decoder, 0)
        if pos != len(data):
            raise DecodeError("{} trailing bytes after the value".format(len(data) - pos))
        return value
    except DecodeError:
        raise
    except _RefDecoderFailed as failed:
        raise failed.exc from None
    except (IndexError, struct.error):
        raise DecodeError("truncated data") from None
    except RecursionError:
        raise DecodeError("nesting too deep for the call stack") from None
    except (TypeError, ValueError, OverflowError, MemoryError) as exc:
        raise DecodeError("invalid data: {}".format(exc)) from None
    finally:
        if view is not None:
            view.release()  # the caller may resize its bytearray right away


def _varint(data: Any, pos: int) -> Tuple[int, int]:
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


def _length(data: Any, pos: int) -> Tuple[int, int]:
    """A byte or item count that must fit in the remaining data."""
    n = data[pos]
    pos += 1
    if n >= 0x80:
        n, pos = _varint(data, pos - 1)
    if n > len(data) - pos:
        raise DecodeError("length {} at offset {} exceeds the data".format(n, pos))
    return n, pos


def _dec(data: Any, pos: int, ref_decoder: Optional[RefDecoder], depth: int) -> Tuple[Any, int]:
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
            return str(data[pos:end], "utf-8", "surrogatepass"), end
        except UnicodeDecodeError:
            raise DecodeError("invalid UTF-8 in str at offset {}".format(pos)) from None
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
        items: List[Any] = []
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
            raise DecodeError(
                "unhashable dict key of type {}".format(_type_name(_unhashable(keys)))
            ) from None
    if tag == _T:
        return True, pos
    if tag == _F:
        return False, pos
    if tag == _FLOAT:
        return _unpack_double(data, pos)[0], pos + 8
    if tag in _BYTES_TAGS:
        n, pos = _length(data, pos)
        end = pos + n
        if tag == _BYTES:
            return bytes(data[pos:end]), end
        return bytearray(memoryview(data)[pos:end]), end
    return _dec_other(tag, data, pos, ref_decoder, depth)


def _check_collisions(items: List[Any]) -> None:
    """Refuse more than MAX_HASH_COLLISIONS shared hashes among ``items``
    (in linear time: hash values of distinct hashes do not collide again)."""
    if len(items) > MAX_HASH_COLLISIONS:
        shared = len(items) - len(set(map(hash, items)))
        if shared > MAX_HASH_COLLISIONS:
            raise DecodeError(
                "{} of {} set items or dict keys share hash values (more than {}): "
                "refused as a hash-collision attack".format(shared, len(items), MAX_HASH_COLLISIONS)
            )


def _unhashable(items: List[Any]) -> Any:
    """The first item of ``items`` that cannot be hashed."""
    for item in items:
        try:
            hash(item)
        except TypeError:
            return item
    return None


def _dec_other(
    tag: int, data: Any, pos: int, ref_decoder: Optional[RefDecoder], depth: int
) -> Tuple[Any, int]:
    if tag == _INT32:
        return _unpack_int32(data, pos)[0], pos + 4
    if tag == _INT64:
        return _unpack_int64(data, pos)[0], pos + 8
    if tag == _BIGINT:
        n, pos = _length(data, pos)
        end = pos + n
        return int.from_bytes(data[pos:end], "little", signed=True), end
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
            raise DecodeError("unhashable set item") from None
    if tag == _REF:
        flag = data[pos]
        if flag > 1:
            raise DecodeError("invalid Ref callable flag at offset {}".format(pos))
        n, pos = _length(data, pos + 1)
        try:
            name = str(data[pos : pos + n], "utf-8", "surrogatepass")
            pos += n
            n, pos = _length(data, pos)
            type_name = str(data[pos : pos + n], "utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise DecodeError("invalid UTF-8 in Ref at offset {}".format(pos)) from None
        pos += n
        ref = Ref(name, type_name, flag == 1)
        if ref_decoder is None:
            return ref, pos
        try:
            return ref_decoder(ref), pos
        except Exception as exc:
            raise _RefDecoderFailed(exc) from None
    raise DecodeError("unknown tag 0x{:02x} at offset {}".format(tag, pos - 1))
