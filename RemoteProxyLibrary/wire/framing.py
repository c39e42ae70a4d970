"""Scratch framing (lead's stand-in until the real one lands)."""
import binascii
import re
import zlib

_HEADER = re.compile(rb"\{RPL:([0-9a-f]{1,16}):([A-Za-z])([+.]):([0-9a-f]{1,16}):")


class Message(object):
    __slots__ = ("request_id", "kind", "payload")

    def __init__(self, request_id, kind, payload):
        self.request_id = request_id
        self.kind = kind
        self.payload = payload


class Noise(object):
    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data


class CorruptFrame(object):
    __slots__ = ("request_id", "reason")

    def __init__(self, request_id, reason):
        self.request_id = request_id
        self.reason = reason


class FrameProtocol(object):
    def __init__(self, max_chunk=1 << 20, max_message=1 << 31):
        self.max_chunk = max_chunk
        self.buf = bytearray()
        self.partial = {}

    def frame_parts(self, request_id, kind, payload):
        view = memoryview(payload)
        n = len(view)
        pos = 0
        while True:
            chunk = view[pos:pos + self.max_chunk]
            pos += len(chunk)
            flag = "+" if pos < n else "."
            b64 = binascii.b2a_base64(chunk, newline=False)
            head = ("{RPL:%x:%s%s:%x:" % (request_id, kind, flag, len(b64))).encode()
            crc = zlib.crc32(b64, zlib.crc32(head))
            yield b"".join((head, b64, b":%08x}\n" % crc))
            if pos >= n:
                return

    def frame(self, request_id, kind, payload):
        return b"".join(self.frame_parts(request_id, kind, payload))

    def receive(self, data):
        buf = self.buf
        buf += data
        events = []
        while True:
            start = buf.find(b"{RPL:")
            if start < 0:
                keep = 0
                for k in range(4, 0, -1):
                    if buf.endswith(b"{RPL:"[:k]):
                        keep = k
                        break
                if len(buf) > keep:
                    events.append(Noise(bytes(buf[:len(buf) - keep])))
                    del buf[:len(buf) - keep]
                return events
            if start:
                events.append(Noise(bytes(buf[:start])))
                del buf[:start]
            m = _HEADER.match(buf)
            if m is None:
                if len(buf) < 64 and b":" not in buf[5:] or len(buf) < 16:
                    return events
                events.append(Noise(bytes(buf[:1])))
                del buf[:1]
                continue
            rid = int(m.group(1), 16)
            kind = m.group(2).decode()
            more = m.group(3) == b"+"
            length = int(m.group(4), 16)
            hend = m.end()
            need = hend + length + 11
            if len(buf) < need:
                return events
            b64 = bytes(buf[hend:hend + length])
            trailer = bytes(buf[hend + length:need])
            crc = zlib.crc32(b64, zlib.crc32(bytes(buf[:hend])))
            del buf[:need]
            if trailer != b":%08x}\n" % crc:
                self.partial.pop(rid, None)
                events.append(CorruptFrame(rid, "checksum mismatch"))
                continue
            raw = binascii.a2b_base64(b64)
            acc = self.partial.get(rid)
            if more:
                if acc is None:
                    acc = self.partial[rid] = bytearray()
                acc += raw
                continue
            if acc is not None:
                acc += raw
                del self.partial[rid]
                raw = acc
            events.append(Message(rid, kind, raw))
