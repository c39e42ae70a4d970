"""Direct streams: a byte stream to a loopback port where the terminal's
first shell runs, beside the terminal, for the agent's direct channel.

A :class:`DirectStream` moves bytes both ways with no pty in between: over
SSH a ``direct-tcpip`` channel of the terminal's own connection (sshd
connects to the port, as the login user: ``ssh.ChannelStream``), for a local
terminal a TCP socket on this machine (:class:`SocketStream`). Which
terminal can open one, and for which first shell, is
:meth:`Terminal.direct_reach`; the terminal opens it with
:meth:`Terminal.open_direct`.

One thread reads at a time (the caller's business); any number may write:
each :meth:`DirectStream.write` goes out whole.
"""

from __future__ import annotations

import abc
import select
import socket
import threading
from collections import deque
from collections.abc import Iterable
from typing import Optional

from ..errors import TerminalClosed
from . import stall


class DirectStream(abc.ABC):
    """Bytes to and from a loopback port on the target."""

    def __init__(self, description: str, port: int = 0) -> None:
        self.description = description
        #: The target's loopback port it is connected to.
        self.port = port
        self._write_lock = threading.Lock()
        self._queue: deque[bytes] = deque()
        self.closed = False

    def write(self, data: bytes) -> None:
        """Send ``data`` whole; thread-safe (whole buffers never interleave).

        Buffers written while another thread writes are queued and sent by
        that thread right after its own, together (one packet, one system
        call for many callers): this call may return before its bytes left,
        and a failure then is raised to the thread that wrote them (which
        breaks the session, so every caller learns of it)."""
        self._queue.append(data)
        self._drain()

    def write_parts(self, parts: Iterable[bytes]) -> None:
        """Send several buffers back to back, no other write in between."""
        with self._write_lock:
            for part in parts:
                self._write_all(part)
        self._drain()

    def _drain(self) -> None:
        """Write what is queued unless another thread is writing: it then
        does, right after its own write (it looks again once it let go)."""
        queue = self._queue
        while queue:
            if not self._write_lock.acquire(False):
                return
            try:
                parts = []
                while queue:
                    parts.append(queue.popleft())
                self._write_all(parts[0] if len(parts) == 1 else b"".join(parts))
            finally:
                self._write_lock.release()

    @abc.abstractmethod
    def _write_all(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def read(self, size: int, timeout: Optional[float]) -> bytes:
        """Up to ``size`` bytes, ``b""`` if none came within ``timeout``;
        :class:`TerminalClosed` when the other end is gone. What a signal
        handler raises while it waits (a Robot timeout) goes through as it is."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the stream (idempotent); a reader blocked in :meth:`read`
        sees it closed."""

    def _closed(self, why: str) -> TerminalClosed:
        return TerminalClosed(f"{self.description}: {why}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


class SocketStream(DirectStream):
    """A TCP connection on this machine (the direct stream of a local terminal).

    The socket stays blocking (writers are never cut short by a reader's
    timeout); :meth:`read` waits with ``select``."""

    def __init__(self, sock: socket.socket, description: str, port: int = 0) -> None:
        super().__init__(description, port)
        self.sock = sock
        self._buffer = bytearray()  # what reads land in (one reader at a time)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @classmethod
    def connect(cls, port: int, timeout: float) -> SocketStream:
        """Connect to ``127.0.0.1:port`` (:class:`TerminalClosed` if refused)."""
        where = f"127.0.0.1:{port}"
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except OSError as error:
            raise TerminalClosed(f"direct stream to {where}: {error}") from error
        return cls(sock, f"direct stream to {where}", port)

    def _write_all(self, data: bytes) -> None:
        if self.closed:
            raise self._closed("closed")
        sock = self.sock
        stall.write_all(
            lambda view: sock.send(view, socket.MSG_DONTWAIT),
            sock.fileno(),
            data,
            self._closed,
            stall.WRITE_STALL_TIMEOUT,
        )

    def read(self, size: int, timeout: Optional[float]) -> bytes:
        if self.closed:
            raise self._closed("closed")
        try:
            if timeout is not None:
                ready, _, _ = select.select([self.sock], [], [], max(timeout, 0))
                if not ready:
                    return b""
            buffer = self._buffer
            if len(buffer) < size:
                buffer = self._buffer = bytearray(size)
            # recv_into a buffer kept: recv(size) allocates (and shrinks) size
            # bytes per read, several microseconds for the 256 KiB asked for
            with memoryview(buffer) as view:
                data = view[: self.sock.recv_into(view[:size])].tobytes()
        except TimeoutError:
            raise  # a signal handler's (we set no socket timeout): the caller's
        except (OSError, ValueError) as error:
            raise self._closed(f"read failed: {error}") from error
        if not data:
            raise self._closed("closed by the other end")
        return data

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
