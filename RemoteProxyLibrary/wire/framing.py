"""Sans-IO frame protocol spoken by both ends (controller and agent).

This module does no I/O: :meth:`FrameProtocol.frame` turns a message into
bytes to write, :meth:`FrameProtocol.receive` turns bytes read into events.
It is standard library only, keeps no mutable module state and is written for
Python 3.6+, because it is also shipped to and run on the target.

The protocol rules
==================

1. A *message* is ``(request_id, kind, payload)``: ``request_id`` an int in
   ``0 <= request_id < 2**64`` (replies carry the id of their request),
   ``kind`` one ASCII letter whose meaning is the caller's business,
   ``payload`` any bytes.

2. A message travels as one or more *frames*, all printable ASCII so that
   they survive an interactive terminal::

       {RPL:<id>:<kind><flag>:<len>:<payload>:<crc>}\\n

   ``<id>`` and ``<len>`` are lowercase hex without sign (1 to 16 digits);
   ``<payload>`` is standard base64 (``A-Z a-z 0-9 + /``, ``=`` padding) of
   one chunk of the message, exactly ``<len>`` characters; ``<crc>`` is 8
   lowercase hex digits.

   2b. A *raw* frame has ``;`` instead of ``:`` after ``<len>`` and carries
   ``<len>`` bytes of the chunk as they are (any byte values). It is used
   only where both ends have checked that the path carries every byte value
   unchanged, and a receiver accepts raw frames only once it was told so
   (``accept_raw``); before that a raw header is a corrupt frame and scanning
   goes on right after it.  A raw payload is not checked byte by byte
   (rule 7), so a damaged length shows only through the crc once enough bytes
   have arrived: a raw frame that fails its check is reported as *fatal*
   (the bytes of other frames may have been taken for its payload).

   2c. ``<len>`` is at most what ``max_chunk`` bytes take in the frame (the
   base64 length of ``max_chunk`` bytes, or ``max_chunk`` for a raw frame):
   a sender never writes longer frames, so a longer header is a corrupt
   frame and scanning goes on right after it.  A lying header thus costs at
   most ``max_chunk`` bytes of the stream.

3. A message whose payload is larger than ``max_chunk`` bytes is cut into
   chunks of ``max_chunk`` bytes (the last one shorter), each sent as a frame
   with the message's id and kind.  ``<flag>`` is ``+`` when more chunks of
   the message follow and ``.`` on the last (or only) chunk.  Each chunk is
   base64-encoded on its own.  Frames of messages with different ids (or
   kinds) may be interleaved; chunks of one message are sent in order.  The
   receiver reassembles per ``(id, kind)``.

4. ``<crc>`` is the CRC-32 (``zlib.crc32``) of the frame's bytes from ``{``
   through the last payload character, *chained* through a message: the
   first frame of a message starts from 0 (so a single-frame message carries
   the plain CRC-32 of those bytes), every later frame of the same message
   starts from the previous frame's crc value.  A lost, duplicated or foreign
   chunk therefore fails the check of the next frame that arrives.

5. The receiver accepts a frame once its ``}`` is checked; a directly
   following ``\\n`` or ``\\r\\n`` (a terminal may add the ``\\r``) belongs to
   the frame and is dropped; a missing newline is tolerated.

6. Everything outside frames is *noise* (terminal echo, prompts, program
   output) and is reported, coalesced, as :class:`Noise` as soon as it is
   known not to start a frame; only a possible unfinished header at the end
   of the data seen so far is held back.

7. Resynchronisation, so that damage never stalls the receiver for longer
   than it takes the next bytes to arrive:

   * A ``{`` that does not begin a valid header
     (``{RPL:`` hex ``:`` letter flag ``:`` hex ``:``, at most 42 bytes) is
     noise; scanning continues with the next byte.
   * In the payload, a byte outside the base64 alphabet ends the frame as
     corrupt (:class:`CorruptFrame`); scanning resumes *at* that byte, which
     may begin the next frame.  So a length that is too large is detected as
     soon as the trailer or the next frame arrives.
   * After the payload, anything but ``:`` 8-hex ``}`` is a bad trailer
     (a length that is too small); scanning resumes at the first byte that
     does not fit.  A crc mismatch drops the frame; scanning resumes after
     its ``}``.
   * On any corrupt frame the partially reassembled message of that id and
     kind is dropped and reported once; if the corrupt frame announced more
     chunks, the rest of that message is dropped silently (those frames
     cannot be checked any more) until its last chunk, or until a frame of
     that id and kind that checks as the first frame of a new message.
   * A message that would grow beyond ``max_message`` bytes is reported as
     corrupt and its frames are skipped without being buffered.

   The bytes of a damaged frame that are not recognised as part of it (e.g.
   the rest of a payload after a bad trailer) are reported as noise.
"""

import binascii
import re
import sys

from .compat import PY2, b64_line, crc32

TYPE_CHECKING = False
if TYPE_CHECKING:  # type comments only: Python 2.7 has no typing module
    from typing import Any, Dict, Iterator, List, Optional, Set, Tuple, Union  # noqa: F401  # novm

    Event = Union["Message", "Noise", "CorruptFrame"]

__all__ = [
    "CorruptFrame",
    "FrameProtocol",
    "Message",
    "Noise",
]


class Message(object):
    """A complete message received.

    ``payload`` is ``bytes`` for a single-frame message and a ``bytearray``
    for a message reassembled from several chunks (avoids one copy of a
    possibly huge payload).  Compare or convert with ``bytes(payload)``.
    """

    __slots__ = ("kind", "payload", "request_id")

    def __init__(self, request_id, kind, payload):
        # type: (int, str, Union[bytes, bytearray]) -> None
        self.request_id = request_id
        self.kind = kind
        self.payload = payload

    def __eq__(self, other):
        # type: (object) -> bool
        if not isinstance(other, Message):
            return NotImplemented
        return (self.request_id, self.kind, self.payload) == (
            other.request_id,
            other.kind,
            other.payload,
        )

    def __ne__(self, other):
        # type: (object) -> bool
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self):
        # type: () -> str
        return "Message(request_id={!r}, kind={!r}, payload={})".format(
            self.request_id, self.kind, _short(self.payload)
        )


class Noise(object):
    """Bytes seen outside frames (terminal output), in arrival order."""

    __slots__ = ("data",)

    def __init__(self, data):
        # type: (bytes) -> None
        self.data = data

    def __eq__(self, other):
        # type: (object) -> bool
        if not isinstance(other, Noise):
            return NotImplemented
        return self.data == other.data

    def __ne__(self, other):
        # type: (object) -> bool
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self):
        # type: () -> str
        return "Noise({})".format(_short(self.data))


class CorruptFrame(object):
    """A frame (and the message it belonged to) was damaged and dropped.

    ``request_id`` is the id from the frame header, or None when unknown.
    ``reason`` says what was wrong, e.g. ``"checksum mismatch"``.  ``fatal``
    is True when the stream itself can no longer be trusted (rule 8).
    """

    __slots__ = ("fatal", "reason", "request_id")

    def __init__(self, request_id, reason, fatal=False):
        # type: (Optional[int], str, bool) -> None
        self.request_id = request_id
        self.reason = reason
        self.fatal = fatal

    def __eq__(self, other):
        # type: (object) -> bool
        if not isinstance(other, CorruptFrame):
            return NotImplemented
        return (self.request_id, self.reason, self.fatal) == (
            other.request_id,
            other.reason,
            other.fatal,
        )

    def __ne__(self, other):
        # type: (object) -> bool
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self):
        # type: () -> str
        return "CorruptFrame(request_id={!r}, reason={!r}{})".format(
            self.request_id, self.reason, ", fatal=True" if self.fatal else ""
        )


def _short(data):
    # type: (Any) -> str
    if len(data) <= 60:
        return repr(data)
    return "<{} bytes: {!r}...>".format(len(data), bytes(data[:40]))


_HEADER = re.compile(br"\{RPL:([0-9a-f]{1,16}):([A-Za-z])([+.]):([0-9a-f]{1,16})([:;])")
# Longest prefix of a header; reaching the end of the data means "undecided".
_HEADER_PREFIX = re.compile(
    br"\{(?:R(?:P(?:L(?::(?:[0-9a-f]{1,16}"
    br"(?::(?:[A-Za-z](?:[+.](?::[0-9a-f]{0,16})?)?)?)?)?)?)?)?)?"
)
_TRAILER = re.compile(br":([0-9a-f]{8})\}")
_TRAILER_PREFIX = re.compile(br":[0-9a-f]{0,8}")
_NOT_BASE64 = re.compile(br"[^A-Za-z0-9+/=]")
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_KINDS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_ID_LIMIT = 1 << 64

_SCAN, _PAYLOAD, _TRAILER_STATE = 0, 1, 2

#: Data up to this size holding exactly one whole frame is read at once.
_WHOLE_LIMIT = 1 << 16
_LF, _CR = 0x0A, 0x0D


class _Partial(object):
    """A message being reassembled: its data so far and crc chain value."""

    __slots__ = ("crc", "data")

    def __init__(self, data, crc):
        # type: (bytearray, int) -> None
        self.data = data
        self.crc = crc


#: What one unfinished message counts for ``max_unfinished`` besides its data.
PARTIAL_OVERHEAD = 1024


class FrameProtocol(object):
    """Frames outgoing messages and parses incoming bytes (both directions).

    ``max_chunk`` is the largest raw payload put in one frame when sending,
    and bounds the length a received frame may declare (rule 2c);
    ``max_message`` the largest message accepted when receiving (larger ones
    are reported as :class:`CorruptFrame` and skipped); ``max_unfinished``
    the bytes held in total for messages not complete yet besides the one
    arriving (rule 7).  ``accept_raw`` says
    whether raw frames (rule 2b) are taken; set it once the path is known to
    carry every byte value.

    ``progress`` grows whenever the other end is seen speaking the protocol:
    base64 payload bytes as they arrive, and every frame whose crc checks (a
    raw payload counts only then). Bytes that are noise, or that a lying raw
    header swallows, never count. ``raw_received`` counts raw payload bytes
    as they arrive, before any check.

    One object can serve both directions: sending keeps no state.
    """

    def __init__(
        self, max_chunk=1 << 20, max_message=1 << 31, max_unfinished=64 << 20, accept_raw=False
    ):
        # type: (int, int, int, bool) -> None
        if max_chunk < 1:
            raise ValueError("max_chunk must be at least 1")
        if max_message < 0:
            raise ValueError("max_message must not be negative")
        if max_unfinished < 0:
            raise ValueError("max_unfinished must not be negative")
        self.max_chunk = max_chunk
        self.max_message = max_message
        self.max_unfinished = max_unfinished
        self.accept_raw = accept_raw
        self.progress = 0
        self.raw_received = 0
        self.reset()

    def reset(self):
        # type: () -> None
        """Forget everything received so far (buffered bytes and partials)."""
        self._buf = bytearray()
        self._state = _SCAN
        self._eat_newline = False
        # Current frame, positions relative to the start of self._buf.
        self._frame_start = 0
        self._payload_start = 0
        self._payload_end = 0
        self._checked = 0
        self._id = 0
        self._kind = ""
        self._more = False
        self._raw = False
        self._skip = False
        self._partials = {}  # type: Dict[Tuple[int, str], _Partial]
        self._discarding = set()  # type: Set[Tuple[int, str]]
        self._unfinished = 0  # bytes of data in self._partials
        self._arriving = None  # type: Optional[Tuple[int, str]]  # the partial extended last

    @property
    def unfinished(self):
        # type: () -> int
        """Bytes counted against ``max_unfinished`` now: data and overhead of
        the unfinished messages but the one arriving."""
        held = len(self._partials) + len(self._discarding)
        arriving = self._partials.get(self._arriving) if self._arriving is not None else None
        data = self._unfinished - (len(arriving.data) if arriving is not None else 0)
        return data + held * PARTIAL_OVERHEAD

    @property
    def buffered(self):
        # type: () -> int
        """Bytes held back: an unfinished frame or possible frame start."""
        return len(self._buf)

    # ------------------------------------------------------------------
    # Sending

    def frame(self, request_id, kind, payload, raw=False):
        # type: (int, str, Any, bool) -> bytes
        """All frame bytes for one message (one or more frames).

        ``payload`` is bytes-like.  ``kind`` is one ASCII letter and
        ``0 <= request_id < 2**64``; anything else raises ``ValueError``.
        ``raw`` sends the payload as it is (rule 2b): only over a path known to
        carry every byte value unchanged.
        """
        prefix = _prefix(request_id, kind)
        if len(payload) <= self.max_chunk and type(payload) is bytes:  # one frame
            if raw:
                head = b"%s.:%x;" % (prefix, len(payload))
                body = payload
            else:
                body = b64_line(payload)
                head = b"%s.:%x:" % (prefix, len(body))
            crc = crc32(body, crc32(head))
            return b"".join((head, body, b":%08x}\n" % crc))
        return b"".join(
            [piece for pieces in self._pieces(prefix, payload, raw) for piece in pieces]
        )

    def frame_parts(self, request_id, kind, payload, raw=False):
        # type: (int, str, Any, bool) -> Iterator[bytes]
        """Yield the frames of one message one at a time (same bytes as
        :meth:`frame`), to stream a huge message without holding all of it
        encoded.  The payload must not change while iterating."""
        prefix = _prefix(request_id, kind)
        for pieces in self._pieces(prefix, payload, raw):
            yield b"".join(pieces)

    def _pieces(self, prefix, payload, raw=False):
        # type: (bytes, Any, bool) -> Iterator[Tuple[bytes, bytes, bytes]]
        view = memoryview(payload)
        if PY2:
            if view.format != "B" or view.ndim != 1:
                view = memoryview(view.tobytes())
            size = len(view)
        else:
            if view.format != "B" or view.ndim != 1:
                view = view.cast("B")  # novm (not on 2.7: above)
            size = view.nbytes  # novm
        step = self.max_chunk
        crc = 0
        start = 0
        while True:
            end = start + step
            b64 = view[start:end].tobytes() if raw else b64_line(view[start:end])
            more = end < size
            head = b"%s%s:%x%s" % (prefix, b"+" if more else b".", len(b64), b";" if raw else b":")
            crc = crc32(b64, crc32(head, crc))
            yield head, b64, b":%08x}\n" % crc
            if not more:
                return
            start = end

    # ------------------------------------------------------------------
    # Receiving

    def receive(self, data):
        # type: (Any) -> List[Event]
        """Feed bytes read from the other end; return the events they complete.

        Events are :class:`Message`, :class:`Noise` and :class:`CorruptFrame`
        in stream order.  Never raises on any input; bytes that cannot be
        decided yet (an unfinished frame) are kept for the next call.
        """
        if not self._buf and self._state == _SCAN and not self._eat_newline:
            whole = self._whole_frame(data)
            if whole is not None:
                return whole
        buf = self._buf
        buf += data
        events = []  # type: List[Event]
        size = len(buf)
        state = self._state
        noise_start = 0
        pos = self._checked if state != _SCAN else 0
        while True:
            if state == _SCAN:
                if self._eat_newline:
                    if pos >= size:
                        break
                    byte = buf[pos]
                    if byte == _LF:
                        pos += 1
                        noise_start = pos
                    elif byte == _CR:
                        if pos + 1 >= size:
                            break  # wait: is it "\r\n"?
                        if buf[pos + 1] == _LF:
                            pos += 2
                            noise_start = pos
                    self._eat_newline = False
                start = buf.find(b"{", pos)
                if start < 0:
                    pos = size
                    break
                match = _HEADER.match(buf, start)
                if match is None:
                    prefix = _HEADER_PREFIX.match(buf, start)
                    if prefix is not None and prefix.end() == size:
                        pos = start  # maybe the start of a frame: wait
                        break
                    pos = start + 1
                    continue
                if start > noise_start:
                    events.append(Noise(_copy(buf, noise_start, start)))
                pos = self._start_frame(match, start, events)
                if pos < 0:  # refused header: go on right after it
                    pos = noise_start = match.end()
                    continue
                state = _PAYLOAD
            elif state == _PAYLOAD:
                payload_end = self._payload_end
                end = payload_end if payload_end < size else size
                if end > pos and self._raw:
                    self.raw_received += end - pos
                    pos = end
                elif end > pos:
                    if buf[pos:end].translate(None, _BASE64_ALPHABET):
                        bad = _NOT_BASE64.search(buf, pos, end)
                        pos = bad.start() if bad is not None else end
                        self._fail("unexpected byte 0x{:02x} in payload".format(buf[pos]), events)
                        state = _SCAN
                        noise_start = pos
                        continue
                    self.progress += end - pos
                    pos = end
                if pos < payload_end:
                    break
                state = _TRAILER_STATE
            else:
                match = _TRAILER.match(buf, pos)
                if match is None:
                    prefix = _TRAILER_PREFIX.match(buf, pos)
                    fits = prefix.end() if prefix is not None else pos
                    if fits == size:
                        break  # trailer not complete yet
                    self._fail("bad trailer", events, self._raw)
                    pos = noise_start = fits
                    state = _SCAN
                    continue
                if not self._skip:
                    self._finish(_int(match.group(1), 16), events)
                pos = noise_start = match.end()
                self._eat_newline = True
                state = _SCAN

        self._state = state
        if state == _SCAN:
            if pos > noise_start:
                events.append(Noise(_copy(buf, noise_start, pos)))
            drop = pos
        elif self._skip:
            drop = pos  # nothing of a skipped frame is kept
        else:
            drop = self._frame_start
        if drop:
            del buf[:drop]
            self._frame_start -= drop
            self._payload_start -= drop
            self._payload_end -= drop
            pos -= drop
        self._checked = pos
        return events

    def _whole_frame(self, data):
        # type: (Any) -> Optional[List[Event]]
        """The events of ``data`` when it is exactly one small, intact,
        single-frame message (a reply or request read in one piece: the
        commonest case), taken without buffering; None for anything else,
        which :meth:`receive` then reads the general way (nothing here
        changed any state then)."""
        if type(data) is not bytes or len(data) > _WHOLE_LIMIT:
            return None
        match = _HEADER.match(data)
        if match is None or match.group(3) != b".":
            return None
        raw = match.group(5) == b";"
        length = _int(match.group(4), 16)
        if (raw and not self.accept_raw) or length > self._longest(raw):
            return None
        end = match.end() + length
        trailer = _TRAILER.match(data, end)
        if trailer is None:
            return None
        rest = len(data) - trailer.end()
        if rest and data[trailer.end() :] not in (b"\n", b"\r\n"):
            return None
        request_id = _int(match.group(1), 16)
        kind = match.group(2).decode("ascii")
        key = (request_id, kind)
        if key in self._partials or key in self._discarding:
            return None
        if crc32(data[:end]) != _int(trailer.group(1), 16):
            return None
        body = data[match.end() : end]
        if raw:
            payload = body
        else:
            if body.translate(None, _BASE64_ALPHABET):
                return None
            try:
                payload = binascii.a2b_base64(body)
            except (binascii.Error, ValueError):
                return None
        if len(payload) > self.max_message:
            return None
        if raw:
            self.raw_received += length
            self.progress += end
        else:
            self.progress += length + end
        self._eat_newline = not rest
        return [Message(request_id, kind, payload)]

    def _longest(self, raw):
        # type: (bool) -> int
        """The longest ``<len>`` a frame may declare (rule 2c): the base64
        length of ``max_chunk`` bytes, or ``max_chunk`` for a raw frame."""
        return self.max_chunk if raw else (self.max_chunk + 2) // 3 * 4

    def _start_frame(self, match, start, events):
        # type: (Any, int, List[Event]) -> int
        """Set up the frame whose header matched; return the payload start,
        or -1 when the header is refused (rules 2b and 2c)."""
        request_id = _int(match.group(1), 16)
        length = _int(match.group(4), 16)
        payload_start = match.end()
        self._id = request_id
        self._kind = match.group(2).decode("ascii")
        self._more = match.group(3) == b"+"
        self._raw = match.group(5) == b";"
        self._frame_start = start
        self._payload_start = payload_start
        self._payload_end = payload_start + length
        self._skip = False
        if self._raw and not self.accept_raw:
            self._fail("raw frame, but raw frames were not agreed", events)
            return -1
        longest = self._longest(self._raw)
        if length > longest:
            self._fail(
                "frame length {} above the longest frame of max_chunk ({})".format(length, longest),
                events,
            )
            return -1
        partial = self._partials.get((request_id, self._kind))
        have = len(partial.data) if partial is not None else 0
        least = length if self._raw else length // 4 * 3 - 2
        if have + least > self.max_message:  # at least this much
            self._fail(self._too_large, events)
            self._skip = True
        return payload_start

    @property
    def _too_large(self):
        # type: () -> str
        return "message larger than max_message ({} bytes)".format(self.max_message)

    def _fail(self, reason, events, fatal=False):
        # type: (str, List[Event], bool) -> None
        """The current frame is corrupt: report it (unless already known and
        not fatal)."""
        if self._skip and not fatal:
            return
        key = (self._id, self._kind)
        self._drop(key)
        events.append(CorruptFrame(self._id, reason, fatal))
        if self._more:
            self._discarding.add(key)
            self._check_unfinished(events)
        else:
            self._discarding.discard(key)

    def _drop(self, key):
        # type: (Tuple[int, str]) -> Optional[_Partial]
        """Forget the unfinished message of ``key`` (returned, if any)."""
        partial = self._partials.pop(key, None)
        if partial is not None:
            self._unfinished -= len(partial.data)
        return partial

    def _check_unfinished(self, events):
        # type: (List[Event]) -> bool
        """Within ``max_unfinished``? Else drop every unfinished message and
        report a fatal corrupt frame (rule 7); False then."""
        if self.unfinished <= self.max_unfinished:
            return True
        self._partials.clear()
        self._discarding.clear()
        self._unfinished = 0
        self._arriving = None
        events.append(
            CorruptFrame(
                self._id,
                "unfinished messages above max_unfinished ({} bytes)".format(self.max_unfinished),
                True,
            )
        )
        return False

    def _finish(self, crc, events):
        # type: (int, List[Event]) -> None
        """Check and deliver the frame whose trailer carries ``crc``."""
        request_id = self._id
        kind = self._kind
        more = self._more
        key = (request_id, kind)
        partial = self._partials.get(key)
        start = self._frame_start
        frame = _view(self._buf, start, self._payload_end)
        try:
            actual = crc32(frame, partial.crc if partial is not None else 0)
            if actual != crc and partial is not None and crc32(frame) == crc:
                # A new message begins: the previous one lost its last chunks.
                self._drop(key)
                events.append(CorruptFrame(request_id, "incomplete message (chunks lost)"))
                partial = None
                actual = crc
            if actual != crc:
                if partial is None and key in self._discarding and not self._raw:
                    # Rest of a message already reported as corrupt.
                    if not more:
                        self._discarding.discard(key)
                    return
                self._fail("checksum mismatch", events, self._raw)
                return
            try:
                body = frame[self._payload_start - start :]
                data = bytes(body) if self._raw else binascii.a2b_base64(body)
            except (binascii.Error, ValueError):
                self._fail("bad base64 payload", events)
                return
            self.progress += len(frame)
        finally:
            _release(frame)  # the buffer stays resizable
        self._discarding.discard(key)
        if (len(partial.data) if partial is not None else 0) + len(data) > self.max_message:
            self._fail(self._too_large, events)
            return
        if partial is None:
            if more:
                self._partials[key] = _Partial(bytearray(data), crc)
                self._unfinished += len(data)
                self._arriving = key
                self._check_unfinished(events)
            else:
                events.append(Message(request_id, kind, data))
            return
        if not more:
            self._drop(key)
            partial.data += data
            events.append(Message(request_id, kind, partial.data))
            return
        partial.data += data
        partial.crc = crc
        self._unfinished += len(data)
        self._arriving = key
        self._check_unfinished(events)


def _prefix(request_id, kind):
    # type: (int, str) -> bytes
    """Checked ``{RPL:<id>:<kind>`` for a message."""
    if kind not in _KINDS or len(kind) != 1:
        raise ValueError("kind must be one ASCII letter, not {!r}".format(kind))
    if not 0 <= request_id < _ID_LIMIT:
        raise ValueError("request_id must be in 0 .. 2**64-1, not {!r}".format(request_id))
    return b"{RPL:%x:%s" % (request_id, kind.encode("ascii"))


def _copy(buf, start, end):
    # type: (bytearray, int, int) -> bytes
    """``bytes(buf[start:end])`` with a single copy, leaving buf resizable."""
    if PY2:
        return bytes(buf[start:end])
    with memoryview(buf) as view:
        return view[start:end].tobytes()


def _view(buf, start, end):
    # type: (bytearray, int, int) -> Any
    """``buf[start:end]`` without a copy (a copy on 2.7); :func:`_release` it."""
    if PY2:
        return buf[start:end]
    return memoryview(buf)[start:end]


def _release(view):
    # type: (Any) -> None
    if not PY2:
        view.release()  # novm


if sys.version_info[0] == 2:

    def _int(digits, base):
        """``int(digits, base)`` of bytes-like digits (2.7 takes only ``str``)."""
        return int(bytes(digits), base)

else:
    _int = int
