"""Writes that end when the other end stops reading.

A target that stops reading its terminal (or its direct channel) leaves a
large request half written: the write would wait forever, holding the
terminal's write lock, so not even the liveness check could send its ping.
Local ptys and local sockets are written without blocking here, and a write
that makes no progress for :data:`WRITE_STALL_TIMEOUT` seconds fails (the
session then counts as broken); SSH channels have the same bound in
``ssh.write_channel``.
"""

from __future__ import annotations

import fcntl
import os
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import TerminalClosed

#: Seconds a write may go without the other end accepting a single byte
#: before the link counts as dead. A busy or briefly stopped target is no
#: dead one, so the write keeps waiting that long.
WRITE_STALL_TIMEOUT = 30.0


def write_all(
    send: Callable[[memoryview], int],
    fileno: int,
    data: bytes,
    closed: Callable[[str], TerminalClosed],
    limit: float,
) -> None:
    """Write ``data`` whole with ``send`` (which must not block: it returns
    what it wrote, or raises ``BlockingIOError``), waiting for ``fileno`` to
    be writable; ``closed(why)`` makes the error raised when no byte goes for
    ``limit`` seconds or the write fails."""
    view = memoryview(data)
    last_progress = time.monotonic()
    while view:
        try:
            written = send(view)
        except BlockingIOError:
            written = 0
        except OSError as error:
            raise closed(f"write failed: {error}") from error
        if written:
            last_progress = time.monotonic()
            view = view[written:]
            continue
        stalled = time.monotonic() - last_progress
        if stalled >= limit:
            raise closed(
                f"write failed: no progress for {limit:g} s (the other end stopped reading)"
            )
        try:
            select.select([], [fileno], [], min(limit - stalled, 1.0))
        except (OSError, ValueError) as error:
            raise closed(f"write failed: {error}") from error


@contextmanager
def nonblocking(fd: int) -> Iterator[None]:
    """``fd`` without blocking for the duration (its readers wait with
    ``select`` and take ``BlockingIOError`` as nothing to read yet)."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    try:
        yield
    finally:
        try:
            fcntl.fcntl(fd, fcntl.F_SETFL, flags)
        except OSError:
            pass  # closed meanwhile
