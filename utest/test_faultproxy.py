"""Real tests of the fault-injecting TCP proxy against a local echo server."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from faultproxy import FaultProxy

pytestmark = pytest.mark.timeout(30)


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                sock.sendall(data)
        except OSError:
            return


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int]]:
    server = _EchoServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="echo-server", daemon=True
    )
    thread.start()
    try:
        yield server.server_address
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def proxy(echo_server: tuple[str, int]) -> Iterator[FaultProxy]:
    with FaultProxy(*echo_server) as p:
        yield p


def client(proxy: FaultProxy) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    buf = b""
    while len(buf) < size:
        data = sock.recv(size - len(buf))
        if not data:
            raise EOFError(f"EOF after {len(buf)} of {size} bytes")
        buf += data
    return buf


def wait_for(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_forwarding(proxy: FaultProxy) -> None:
    assert proxy.port and proxy.connection_count() == 0
    with client(proxy) as sock:
        sock.sendall(b"hello")
        assert recv_exactly(sock, 5) == b"hello"
        payload = bytes(range(256)) * 4096  # 1 MiB
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        assert recv_exactly(sock, len(payload)) == payload
        sender.join()
        assert proxy.connection_count() == 1
    assert wait_for(lambda: proxy.connection_count() == 0)


def test_eof_is_forwarded(proxy: FaultProxy) -> None:
    with client(proxy) as sock:
        sock.sendall(b"bye")
        sock.shutdown(socket.SHUT_WR)
        assert recv_exactly(sock, 3) == b"bye"
        assert sock.recv(10) == b""


def test_delay_round_trip(proxy: FaultProxy) -> None:
    proxy.set_delay(upstream=0.1, downstream=0.05)
    with client(proxy) as sock:
        start = time.monotonic()
        sock.sendall(b"x")
        assert recv_exactly(sock, 1) == b"x"
        assert time.monotonic() - start >= 0.15
        proxy.set_delay()
        start = time.monotonic()
        sock.sendall(b"y")
        assert recv_exactly(sock, 1) == b"y"
        assert time.monotonic() - start < 0.1


def test_delay_is_a_delay_line(proxy: FaultProxy) -> None:
    proxy.set_delay(0.02, 0.02)
    with client(proxy) as sock:
        messages = [b"%03d;" % i for i in range(100)]
        start = time.monotonic()
        for message in messages:
            sock.sendall(message)
            time.sleep(0.002)
        data = recv_exactly(sock, sum(map(len, messages)))
        elapsed = time.monotonic() - start
    assert data == b"".join(messages)  # order preserved
    assert 0.04 <= elapsed < 1.5  # serialized sleeps would take 100 * 40 ms = 4 s


def test_reset(proxy: FaultProxy) -> None:
    socks = [client(proxy) for _ in range(2)]
    try:
        for sock in socks:
            sock.sendall(b"ping")
            assert recv_exactly(sock, 4) == b"ping"
        assert proxy.connection_count() == 2
        start = time.monotonic()
        proxy.reset()
        for sock in socks:
            sock.settimeout(2)
            with pytest.raises((ConnectionResetError, EOFError)):
                recv_exactly(sock, 1)
        assert time.monotonic() - start < 1
        assert wait_for(lambda: proxy.connection_count() == 0)
    finally:
        for sock in socks:
            sock.close()
    with client(proxy) as sock:  # new connections work again
        sock.sendall(b"again")
        assert recv_exactly(sock, 5) == b"again"


def test_reset_gives_rst(proxy: FaultProxy) -> None:
    with client(proxy) as sock:
        sock.sendall(b"a")
        recv_exactly(sock, 1)
        proxy.reset()
        time.sleep(0.1)
        with pytest.raises(ConnectionResetError):
            sock.recv(1)


def test_blackhole(proxy: FaultProxy) -> None:
    with client(proxy) as sock:
        sock.sendall(b"before")
        assert recv_exactly(sock, 6) == b"before"
        proxy.blackhole()
        sock.settimeout(1)
        for _ in range(10):
            sock.sendall(b"lost" * 100)
        with pytest.raises(socket.timeout):
            sock.recv(1)
        with client(proxy) as other:  # new connections are accepted and swallowed
            other.settimeout(0.3)
            other.sendall(b"void")
            with pytest.raises(socket.timeout):
                other.recv(1)
        assert proxy.connection_count() >= 1
        sock.sendall(b"still open")
        time.sleep(0.2)  # let the proxy swallow it before switching back
        proxy.blackhole(False)
        sock.settimeout(5)
        sock.sendall(b"after")
        assert recv_exactly(sock, 5) == b"after"


def test_unreachable_target_closes_client() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The reset may come before connect() returns, or at the first read.
    with (
        FaultProxy("127.0.0.1", port) as proxy,
        pytest.raises((ConnectionResetError, EOFError)),
        client(proxy) as sock,
    ):
        sock.settimeout(2)
        recv_exactly(sock, 1)


def test_stop_leaves_no_threads(echo_server: tuple[str, int]) -> None:
    before = set(threading.enumerate())
    proxy = FaultProxy(*echo_server).start()
    socks = [client(proxy) for _ in range(3)]
    for sock in socks:
        sock.sendall(b"z")
        recv_exactly(sock, 1)
    proxy.set_delay(0.5, 0.5)
    socks[0].sendall(b"in flight")
    proxy.stop()
    proxy.stop()  # idempotent
    for sock in socks:
        sock.close()
    assert wait_for(lambda: not (set(threading.enumerate()) - before), timeout=3), (
        set(threading.enumerate()) - before
    )
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=1)
