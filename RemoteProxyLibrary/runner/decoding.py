"""Decoding a reply within its call's deadline.

Decoding is CPU work on the controller that the target chooses: a reply is
up to ``max_message`` bytes and plain data decodes larger than it travels. The
codec bounds the work per byte (nesting depth, hash collisions per set or
dict), so the time grows with the reply's size only. A reply of at most
``DECODE_INLINE`` bytes is decoded in the calling thread (a few milliseconds
at worst); a larger one in a helper thread, and the caller stops waiting at
its deadline plus ``DECODE_GRACE``: :class:`DecodeOverrun` then, and the
helper finishes on its own (the work is bounded) with nobody waiting for it.
So a call ends within its timeout and a fraction of a second, whatever the
target sends.
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


class DecodeOverrun(Exception):
    """The reply came in time, but decoding it did not end by the deadline."""


def decode(
    payload: Any,
    ref_decoder: Optional[Callable[[codec.Ref], Any]] = None,
    deadline: Optional[float] = None,
) -> tuple[messages.Reply, Any]:
    """The reply and its decoded value (see :func:`replies.value_of`)."""
    if deadline is None or len(payload) <= DECODE_INLINE:
        reply = replies.decode_reply(payload)
        return reply, replies.value_of(reply, ref_decoder)
    result: list[Any] = []
    done = threading.Event()

    def work() -> None:
        try:
            reply = replies.decode_reply(payload)
            result.append((reply, replies.value_of(reply, ref_decoder)))
        except BaseException as error:  # handed to the caller
            result.append(error)
        finally:
            done.set()

    threading.Thread(target=work, name="rpl-decode", daemon=True).start()
    if not done.wait(max(deadline - time.monotonic(), 0) + DECODE_GRACE):
        raise DecodeOverrun(f"decoding a reply of {len(payload)} bytes")
    outcome = result[0]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
