"""Loopback TCP proxy that injects network faults, for tests.

``FaultProxy`` listens on ``listen_host:port`` and forwards every accepted
connection to ``target_host:target_port``. An asyncio loop runs in a daemon
thread; the public methods are synchronous and thread-safe:

* ``set_delay(upstream, downstream)``: a delay line per direction; each chunk
  is forwarded at (arrival time + delay), order preserved, no throughput loss.
* ``reset()``: abort all current connections with a TCP RST on both sides.
* ``blackhole(on)``: keep reading, forward nothing, never close.

Stdlib only.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any, Optional, TypeVar

_T = TypeVar("_T")

_CHUNK = 65536
_QUEUE_ITEMS = 1024


def _rst_abort(writer: Optional[asyncio.StreamWriter]) -> None:
    """Close with SO_LINGER 0 so the peer gets a RST."""
    if writer is None:
        return
    transport = writer.transport
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _Connection:
    def __init__(self, proxy: FaultProxy, client: asyncio.StreamWriter) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream: Optional[asyncio.StreamWriter] = None
        self.tasks: list[asyncio.Task] = []
        self.closed = False

    def abort(self, rst: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        for writer in (self.client, self.upstream):
            if writer is None:
                continue
            if rst:
                _rst_abort(writer)
            else:
                writer.transport.abort()
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()


class FaultProxy:
    """TCP proxy in front of ``target_host:target_port`` with fault injection."""

    def __init__(self, target_host: str, target_port: int, listen_host: str = "127.0.0.1") -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.listen_host = listen_host
        self.port: int = 0
        self._lock = threading.Lock()
        self._delay_up = 0.0
        self._delay_down = 0.0
        self._blackhole = False
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._server: Optional[asyncio.AbstractServer] = None
        self._connections: set[_Connection] = set()
        self._accepted = 0

    # -- public, thread-safe ---------------------------------------------- #

    @property
    def address(self) -> tuple[str, int]:
        return self.listen_host, self.port

    def start(self) -> FaultProxy:
        """Start listening (returns when the port accepts connections)."""
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run_loop, name=f"FaultProxy-{self.target_port}", daemon=True
        )
        self._thread.start()
        try:
            self._call(self._start_server(), timeout=10)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close the listener and all connections, end the thread. Idempotent."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        try:
            if loop.is_running():
                with contextlib.suppress(Exception):
                    self._call(self._shutdown(), timeout=10)
                loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
        finally:
            self._thread = None
            self._loop = None
            if not thread.is_alive():
                loop.close()

    def set_delay(self, upstream: float = 0.0, downstream: float = 0.0) -> None:
        """Seconds added to each chunk client->target (up) and target->client (down)."""
        if upstream < 0 or downstream < 0:
            raise ValueError("delays must be >= 0")
        with self._lock:
            self._delay_up = float(upstream)
            self._delay_down = float(downstream)

    def reset(self) -> None:
        """Abort every current connection with a TCP RST on both sides."""
        self._call(self._reset_all(), timeout=10)

    def blackhole(self, on: bool = True) -> None:
        """Swallow all traffic in both directions (connections stay open)."""
        with self._lock:
            self._blackhole = bool(on)

    def connection_count(self) -> int:
        """Number of client connections currently open through the proxy."""
        with self._lock:
            return len(self._connections)

    @property
    def accepted_count(self) -> int:
        """Number of client connections accepted since start."""
        with self._lock:
            return self._accepted

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- loop thread ------------------------------------------------------- #

    def _run_loop(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _call(self, coro: Coroutine[Any, Any, _T], timeout: float) -> _T:
        if self._loop is None or self._thread is None:
            coro.close()
            raise RuntimeError("FaultProxy not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _start_server(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, self.listen_host, 0, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        await self._reset_all(rst=False)
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
        with contextlib.suppress(Exception):
            await self._loop.shutdown_default_executor()  # type: ignore[union-attr]

    async def _reset_all(self, rst: bool = True) -> None:
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            conn.abort(rst=rst)
        # Let the transports actually close before returning.
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    def _blackholed(self) -> bool:
        with self._lock:
            return self._blackhole

    def _delay(self, up: bool) -> float:
        with self._lock:
            return self._delay_up if up else self._delay_down

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Connection(self, writer)
        with self._lock:
            self._connections.add(conn)
            self._accepted += 1
        conn.tasks.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._blackholed():
                # Accept and swallow; no upstream connection at all.
                while await reader.read(_CHUNK):
                    pass
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
            except OSError:
                conn.abort(rst=True)
                return
            conn.upstream = up_writer
            if conn.closed:
                conn.closed = False
                conn.abort()
                return
            usock = up_writer.get_extra_info("socket")
            if usock is not None:
                with contextlib.suppress(OSError):
                    usock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await self._pump_both(conn, reader, writer, up_reader, up_writer)
        except asyncio.CancelledError:
            pass
        except Exception:
            conn.abort(rst=True)
        finally:
            if not conn.closed:
                conn.abort(rst=False)
            with self._lock:
                self._connections.discard(conn)

    async def _pump_both(
        self,
        conn: _Connection,
        c_reader: asyncio.StreamReader,
        c_writer: asyncio.StreamWriter,
        u_reader: asyncio.StreamReader,
        u_writer: asyncio.StreamWriter,
    ) -> None:
        loop = asyncio.get_running_loop()
        q_up: asyncio.Queue = asyncio.Queue(_QUEUE_ITEMS)
        q_down: asyncio.Queue = asyncio.Queue(_QUEUE_ITEMS)
        tasks = [
            loop.create_task(self._read_side(c_reader, q_up, up=True)),
            loop.create_task(self._write_side(q_up, u_writer)),
            loop.create_task(self._read_side(u_reader, q_down, up=False)),
            loop.create_task(self._write_side(q_down, c_writer)),
        ]
        conn.tasks.extend(tasks)
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    # A side was reset or failed: pass the abort on.
                    conn.abort(rst=True)
                    break
        finally:
            for task in tasks:
                task.cancel()

    async def _read_side(
        self, reader: asyncio.StreamReader, queue: asyncio.Queue, up: bool
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            data = await reader.read(_CHUNK)
            now = loop.time()
            if not data:
                # EOF. While blackholed, never pass a close on.
                while self._blackholed():
                    await asyncio.sleep(0.05)
                await queue.put((now + self._delay(up), None))
                return
            if self._blackholed():
                continue
            await queue.put((now + self._delay(up), data))

    async def _write_side(self, queue: asyncio.Queue, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                if writer.can_write_eof():
                    writer.write_eof()
                else:
                    writer.close()
                return
            if self._blackholed():
                continue
            writer.write(data)
            await writer.drain()
