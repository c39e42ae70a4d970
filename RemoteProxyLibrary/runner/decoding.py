"""Decoding a reply within its call's deadline.

Decoding is CPU work on the controller that the target chooses: a reply is
up to ``max_message`` bytes and plain data decodes larger than it travels. The
codec bounds the work per byte (nesting depth, hash collisions per set or
dict), so the time grows with the reply's size only. A reply of at most
``DECODE_INLINE`` bytes is decoded in the calling thread (a few milliseconds
at worst); a larger one in a helper thread (:class:`Decoding`), and the caller
stops waiting at its deadline plus ``DECODE_GRACE``: :class:`DecodeOverrun`
then, carrying the decoding, which goes on and is what a later fetch of the
response waits for. So a call ends within its timeout and a fraction of a
second, whatever the target sends, and no reply is decoded twice.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional

from ..wire import codec, messages
from . import replies

#: Replies up to this size are decoded in the calling thread.
DECODE_INLINE = 256 << 10

#: Seconds a decode may run past the call's deadline before the caller gives up.
DECODE_GRACE = 0.25

RefDecoder = Optional[Callable[[codec.Ref], Any]]


class Decoding:
    """One reply being decoded in a helper thread."""

    def __init__(self, payload: Any, ref_decoder: RefDecoder) -> None:
        self.size = len(payload)
        self.ref_decoder = ref_decoder
        self._done = threading.Event()
        self._result: Any = None
        self._error: Optional[BaseException] = None
        thread = threading.Thread(target=self._work, args=(payload,), name="rpl-decode")
        thread.daemon = True
        thread.start()

    def _work(self, payload: Any) -> None:
        try:
            reply = replies.decode_reply(payload)
            self._result = (reply, replies.value_of(reply, self.ref_decoder))
        except BaseException as error:  # handed to whoever waits
            self._error = error
        finally:
            self._done.set()

    def wait(self, deadline: Optional[float]) -> tuple[messages.Reply, Any]:
        """The reply and its value; :class:`DecodeOverrun` when the decoding
        is not done by ``deadline`` (+ ``DECODE_GRACE``; None: no limit)."""
        limit = None if deadline is None else max(deadline - time.monotonic(), 0) + DECODE_GRACE
        if not self._done.wait(limit):
            raise DecodeOverrun(self)
        if self._error is not None:
            raise self._error
        result: tuple[messages.Reply, Any] = self._result
        return result


class DecodeOverrun(Exception):
    """The reply came in time, but decoding it did not end by the deadline;
    ``decoding`` goes on."""

    def __init__(self, decoding: Decoding) -> None:
        super().__init__(f"decoding its reply of {decoding.size} bytes")
        self.decoding = decoding


def decode(
    payload: Any,
    ref_decoder: RefDecoder = None,
    deadline: Optional[float] = None,
    running: Optional[Decoding] = None,
) -> tuple[messages.Reply, Any]:
    """The reply and its decoded value (see :func:`replies.value_of`), by
    ``deadline`` (a ``time.monotonic()``; None: no limit). ``running``: the
    decoding of this payload an earlier wait gave up on."""
    if running is not None and running.ref_decoder == ref_decoder:
        return running.wait(deadline)
    if deadline is None or len(payload) <= DECODE_INLINE:
        reply = replies.decode_reply(payload)
        return reply, replies.value_of(reply, ref_decoder)
    return Decoding(payload, ref_decoder).wait(deadline)
