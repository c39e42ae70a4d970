"""What differs between Python 2.7 and 3.6+ for the shipped modules, in one place.

The wire modules and the agent run on the target's own Python, which may be
2.7 (see ``docs/PORTING.md``, Targets with Python 2.7); the controller
imports the same files on 3.9+. Everything here is chosen once, at import,
from ``sys.version_info``: on Python 3 the names are the builtins themselves
(no wrapper, no cost on the controller's hot paths), on 2.7 small stand-ins.
Sans-IO and standard library only, like the rest of ``wire``; this module
comes first in the agent bundle.

Values (the mapping ``wire/codec.py`` follows on a 2.7 target):

- ``unicode`` is text (``TEXT``) and travels as text: it arrives as ``str``.
- ``str``, Python 2's *native* string, is a string too: it travels as text,
  its bytes read as UTF-8 with every byte that is not UTF-8 kept as a lone
  surrogate ``U+DC80..U+DCFF`` (what Python 3's ``surrogateescape`` does to
  file names), so ``'abc'`` arrives as ``'abc'`` and nothing is lost:
  ``value.encode("utf-8", "surrogateescape")`` gives the bytes back.
- ``Binary`` (a ``str`` subclass on 2.7, ``bytes`` on 3) marks bytes that
  are data (file chunks, command output): they travel as bytes.
- ``bytearray`` is bytes, ``int`` and ``long`` are ints.

Text that arrives on 2.7 is ``unicode``; bytes are a native ``str``.
"""

import binascii
import re
import struct
import sys
import zlib

__all__ = [
    "INTEGERS",
    "PY2",
    "STRINGS",
    "TEXT",
    "Binary",
    "RecursionLimit",
    "b64_line",
    "binary",
    "builtins",
    "byte_pair",
    "crc32",
    "int_from_bytes",
    "int_to_bytes",
    "native",
    "native_utf8",
    "quiet",
    "text",
]

#: True on a Python 2.7 target.
PY2 = sys.version_info[0] == 2

#: The module of the builtin names (``builtins``, ``__builtin__`` on 2.7).
builtins = sys.modules["__builtin__" if PY2 else "builtins"]

_ESCAPED = (b"\xed\xb2", b"\xed\xb3")  # U+DC80..U+DCFF in UTF-8: escaped bytes


def quiet(error):
    """``error``, shown without the exception it was raised while handling
    (``raise quiet(E(...))`` is ``raise E(...) from None`` on both Pythons)."""
    error.__cause__ = None
    error.__suppress_context__ = True
    return error


def byte_pair(first, second):
    """The two bytes of values ``first`` and ``second``."""
    return _PAIR(first, second)


_PAIR = struct.Struct("BB").pack


if sys.version_info[0] == 2:
    TEXT = builtins.unicode
    STRINGS = (str, builtins.unicode)
    INTEGERS = (int, builtins.long)
    RecursionLimit = RuntimeError
    _unichr = builtins.unichr
    _buffer = builtins.buffer
    #: A run of well-formed UTF-8 (RFC 3629: no surrogates, nothing above U+10FFFF).
    _UTF8 = re.compile(
        b"(?:[\\x00-\\x7f]|[\\xc2-\\xdf][\\x80-\\xbf]|\\xe0[\\xa0-\\xbf][\\x80-\\xbf]"
        b"|[\\xe1-\\xec\\xee\\xef][\\x80-\\xbf]{2}|\\xed[\\x80-\\x9f][\\x80-\\xbf]"
        b"|\\xf0[\\x90-\\xbf][\\x80-\\xbf]{2}|[\\xf1-\\xf3][\\x80-\\xbf]{3}"
        b"|\\xf4[\\x80-\\x8f][\\x80-\\xbf]{2})*"
    )
    _SURROGATE = re.compile(b"\\xed[\\xa0-\\xbf]")

    class Binary(str):
        """Bytes that are data, not a native string: they travel as bytes."""

        __slots__ = ()

    def binary(data):
        """``data`` (bytes-like) marked as bytes for the codec."""
        return Binary(data)

    def int_to_bytes(n, size):
        """``n.to_bytes(size, "little", signed=True)``."""
        if n < 0:
            n += 1 << (8 * size)
        digits = "%x" % n
        return binascii.unhexlify(digits.rjust(2 * size, "0"))[::-1]

    def int_from_bytes(data):
        """``int.from_bytes(data, "little", signed=True)``."""
        data = data.tobytes() if isinstance(data, memoryview) else bytes(data)
        if not data:
            return 0
        n = int(binascii.hexlify(data[::-1]), 16)
        if ord(data[-1]) >= 0x80:
            n -= 1 << (8 * len(data))
        return n

    def crc32(data, value=0):
        """CRC-32 as an unsigned int (2.7 returns it signed)."""
        if not isinstance(data, str):
            data = _buffer(data)  # a bytearray
        return zlib.crc32(data, value) & 0xFFFFFFFF

    def b64_line(data):
        """Base64 of ``data`` without a newline."""
        if isinstance(data, memoryview):
            data = data.tobytes()
        return binascii.b2a_base64(data)[:-1]

    def native_utf8(data):
        """UTF-8 bytes of the text a native 2.7 ``str`` stands for: what
        Python 3's ``data.decode("utf-8", "surrogateescape")`` reads, encoded
        with ``surrogatepass`` (valid UTF-8 as it is, any other byte as its
        surrogate escape). Linear in the size of ``data``."""
        try:
            data.decode("ascii")
            return data
        except UnicodeDecodeError:
            pass
        try:
            data.decode("utf-8")  # 2.7 takes surrogates, Python 3 does not
            if _SURROGATE.search(data) is None:
                return data
        except UnicodeDecodeError:
            pass
        out = []
        pos = 0
        size = len(data)
        while pos < size:
            end = _UTF8.match(data, pos).end()
            if end > pos:
                out.append(data[pos:end])
                pos = end
            else:
                out.append(_unichr(0xDC00 + ord(data[pos])).encode("utf-8"))
                pos += 1
        return b"".join(out)

    def text(value):
        """``value`` as text (``unicode``): a native ``str`` read as
        :func:`native_utf8` does."""
        if isinstance(value, str):
            return native_utf8(value).decode("utf-8")
        return value

    def native(value):
        """Text as the native ``str`` 2.7's file and process functions take:
        UTF-8, surrogate escapes back to their bytes (the reverse of
        :func:`text`); anything else as it is."""
        if not isinstance(value, builtins.unicode):
            return value
        data = value.encode("utf-8")
        if _ESCAPED[0] not in data and _ESCAPED[1] not in data:
            return data
        return b"".join(
            chr(ord(char) - 0xDC00) if 0xDC80 <= ord(char) <= 0xDCFF else char.encode("utf-8")
            for char in value
        )

else:
    TEXT = str
    STRINGS = (str,)
    INTEGERS = (int,)
    RecursionLimit = RecursionError
    Binary = bytes

    def binary(data):
        """``data`` as it is: bytes travel as bytes on Python 3."""
        return data

    def int_to_bytes(n, size):
        """``n.to_bytes(size, "little", signed=True)``."""
        return n.to_bytes(size, "little", signed=True)  # novm

    def int_from_bytes(data):
        """``int.from_bytes(data, "little", signed=True)``."""
        return int.from_bytes(data, "little", signed=True)  # novm

    crc32 = zlib.crc32

    def b64_line(data):
        """Base64 of ``data`` without a newline."""
        return binascii.b2a_base64(data, newline=False)  # novm (3.6+; 2.7 above)

    def native_utf8(data):
        """Not used on Python 3 (a native string is text)."""
        return data

    def text(value):
        """``value`` as it is: on Python 3 a native string is text."""
        return value

    def native(value):
        """``value`` as it is: on Python 3 text is the native string."""
        return value
