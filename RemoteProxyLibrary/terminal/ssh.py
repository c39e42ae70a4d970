"""An SSH channel with a pty (paramiko), with pexpect's expect machinery on top."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any, Callable, Optional

import paramiko
import pexpect
from pexpect.spawnbase import SpawnBase

from ..errors import TerminalClosed
from . import bounded, stall
from .base import COLUMNS, ROWS, Terminal
from .direct import DirectStream
from .sshconnect import MAX_PACKET_SIZE, WINDOW_SIZE, SshConnection, SshLogin

LOGGER = logging.getLogger("RemoteProxyLibrary.terminal")

#: Seconds a write may go without the other end accepting a single byte
#: (SSH send window closed) before the link counts as dead. paramiko's
#: ``Channel.send`` waits for send window only as long as the channel's
#: timeout, and the agent connection's reader sets that to 0.5 s for its own
#: reads; a stall of that length (a busy or briefly stopped sshd, a slow link)
#: is no dead link, so ``SshTerminal._write_all`` keeps waiting while the
#: channel is open. A link that closes (reset, killed sshd) ends the write at
#: once; a silent one is detected after the request is sent by the liveness
#: check, but during a write that check cannot send its ping (the write holds
#: the terminal's write lock), so this bound is what ends a write on a link
#: that stays silent. Checked each time paramiko gives up waiting (at the
#: channel's timeout; with none set, paramiko waits for window forever), and
#: only for the SSH window: bytes stuck in a full TCP send buffer are retried
#: by paramiko until the transport closes. Read at each write: tests patch it.
WRITE_STALL_TIMEOUT = stall.WRITE_STALL_TIMEOUT


def _cause(error: BaseException) -> str:
    """``str(error)``, or its repr when that is empty (``socket.timeout()``,
    paramiko's bare ``EOFError()``)."""
    return str(error) or repr(error)


def write_channel(
    channel: paramiko.Channel, data: bytes, closed: Callable[[str], TerminalClosed]
) -> None:
    """Send ``data`` entirely on ``channel``; ``closed(why)`` makes the error
    raised when it cannot be (the other end closed, or no progress for
    :data:`WRITE_STALL_TIMEOUT` seconds: see there)."""
    # paramiko's sendall() re-slices the whole remaining buffer per packet
    # (quadratic for a 10 MB frame): hand it one packet's worth at a time.
    if channel.eof_received:
        # The remote end is gone; paramiko would still accept the bytes.
        raise closed("write failed: the other end closed the channel")
    view = memoryview(data)
    stall_limit = WRITE_STALL_TIMEOUT
    last_progress = time.monotonic()
    if len(data) <= MAX_PACKET_SIZE:
        # The commonest write (one request): one packet, sent whole when the
        # send window is open (always, but for a stalled reader).
        try:
            sent = channel.send(data)
        except socket.timeout:
            sent = 0  # nothing was consumed: the general way below waits
        except (OSError, EOFError, paramiko.SSHException) as error:
            raise closed(f"write failed: {_cause(error)}") from error
        if sent == len(data):
            return
        if sent > 0:
            last_progress = time.monotonic()
            view = view[sent:]  # the rest goes the general way
    try:
        while view:
            try:
                sent = channel.send(bytes(view[:MAX_PACKET_SIZE]))
            except socket.timeout:
                # The send window stayed closed for the channel's timeout
                # (whatever the reader last set); nothing was consumed.
                if channel.closed:
                    raise EOFError("SSH channel closed while sending") from None
                stalled = time.monotonic() - last_progress
                if stalled >= stall_limit:
                    raise closed(
                        f"write failed: no progress for {stall_limit:g} s "
                        "(send window closed: the other end stopped reading)"
                    ) from None
                timeout = channel.gettimeout()
                if timeout is not None and timeout < 0.01:
                    time.sleep(0.01)  # a non-blocking channel: do not spin
                continue
            if sent <= 0:
                raise EOFError("SSH channel closed while sending")
            last_progress = time.monotonic()
            view = view[sent:]
    except (OSError, EOFError, paramiko.SSHException) as error:
        raise closed(f"write failed: {_cause(error)}") from error


class ChannelStream(DirectStream):
    """A paramiko ``direct-tcpip`` channel: the direct stream over SSH.

    Writes go through :func:`write_channel` (bounded by the write stall
    timeout, like the terminal's own)."""

    def __init__(self, channel: paramiko.Channel, description: str, port: int = 0) -> None:
        super().__init__(description, port)
        self.channel = channel

    def _write_all(self, data: bytes) -> None:
        write_channel(self.channel, data, self._closed)

    def read(self, size: int, timeout: Optional[float]) -> bytes:
        channel = self.channel
        channel.settimeout(timeout)
        due = None if timeout is None else time.monotonic() + timeout
        try:
            data = channel.recv(size)
        except socket.timeout as error:
            # paramiko's own timeout is a bare socket.timeout() at the deadline;
            # anything else is a signal handler's (a Robot timeout): the caller's
            if error.args or (due is not None and time.monotonic() < due - 0.001):
                raise
            return b""
        except (OSError, EOFError, paramiko.SSHException) as error:
            raise self._closed(f"read failed: {_cause(error)}") from error
        if not data:
            raise self._closed("closed by the other end")
        return data

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.channel.close()
        except (OSError, EOFError, paramiko.SSHException):
            pass


class ChannelSpawn(SpawnBase):
    """pexpect over a paramiko channel: ``expect`` works as on a local pty."""

    def __init__(self, channel: paramiko.Channel, timeout: float = 30) -> None:
        super().__init__(timeout=timeout, maxread=65536, encoding="utf-8", codec_errors="replace")
        self.channel = channel
        self.closed = False
        self.delaybeforesend = None
        bounded.bound(self)

    def read_nonblocking(self, size: int = 1, timeout: float | None = -1) -> Any:
        if timeout == -1:
            timeout = self.timeout
        self.channel.settimeout(timeout)
        try:
            data = self.channel.recv(size)
        except socket.timeout:
            raise pexpect.TIMEOUT("timeout reading the SSH channel") from None
        except (OSError, EOFError, paramiko.SSHException) as error:
            self.flag_eof = True
            raise pexpect.EOF(f"SSH channel failed: {_cause(error)}") from None
        if not data:
            self.flag_eof = True
            raise pexpect.EOF("SSH channel closed")
        text = self._decoder.decode(data, final=False)
        self._log(text, "read")
        return text

    def send(self, s: Any) -> int:
        data = self._coerce_send_string(s)
        self._log(data, "send")
        payload = self._encoder.encode(data, final=False)
        try:
            self.channel.sendall(payload)
        except (EOFError, paramiko.SSHException) as error:
            raise OSError(f"SSH channel failed: {_cause(error)}") from None
        return len(payload)

    def sendline(self, s: Any = "") -> int:
        return self.send(s) + self.send(self.linesep)

    def isalive(self) -> bool:
        return not (self.channel.closed or self.channel.eof_received)

    def close(self) -> None:
        self.channel.close()
        self.closed = True


class SshTerminal(Terminal):
    """A command (normally a shell) run with a pty over a new SSH connection.

    ``login`` says where and how to log in (see :class:`.sshconnect.SshLogin`:
    host keys, keys, agent, jump hosts); its ``timeout`` bounds each step.
    """

    def __init__(
        self,
        login: SshLogin,
        command: str | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.description = f"ssh {login.describe()}"
        timeout = login.timeout
        connection = SshConnection(login)
        try:
            transport = connection.transport
            # paramiko waits without a timeout for the replies to the pty, env
            # and exec requests: a watchdog closes the transport at the deadline.
            expired = threading.Event()

            def expire() -> None:
                expired.set()
                transport.close()

            watchdog = threading.Timer(timeout, expire)
            watchdog.daemon = True
            watchdog.start()
            try:
                channel = self._session(transport, environment, timeout)
                if command is None:
                    channel.invoke_shell()
                else:
                    try:
                        channel.exec_command(command)
                    except paramiko.SSHException:
                        if expired.is_set() or not transport.is_active():
                            raise
                        # The server refuses to run commands (some devices' servers
                        # do) but may give a login shell: type the command there.
                        LOGGER.info("%s: exec refused; typing into its shell", login.describe())
                        channel = self._session(transport, environment, timeout)
                        channel.invoke_shell()
                        channel.sendall(f"exec {command}\n".encode())
                        self.description += " (the server refused exec: typed into its shell)"
            except (OSError, EOFError, paramiko.SSHException) as error:
                if expired.is_set():
                    raise socket.timeout(
                        f"no answer to the session requests within {timeout:g} s"
                    ) from error
                raise
            finally:
                watchdog.cancel()
            if expired.is_set():
                raise socket.timeout(f"no answer to the session requests within {timeout:g} s")
        except BaseException:
            connection.close()
            raise
        self.connection = connection
        self.client = connection.client
        self.channel = channel
        self._spawn = ChannelSpawn(channel, timeout=timeout)

    @staticmethod
    def _session(
        transport: paramiko.Transport, environment: dict[str, str] | None, timeout: float
    ) -> paramiko.Channel:
        channel = transport.open_session(
            window_size=WINDOW_SIZE, max_packet_size=MAX_PACKET_SIZE, timeout=timeout
        )
        channel.get_pty(term="dumb", width=COLUMNS, height=ROWS)
        if environment:
            channel.update_environment(environment)
        return channel

    @property
    def spawn(self) -> ChannelSpawn:
        return self._spawn

    def _write_all(self, data: bytes) -> None:
        write_channel(self.channel, data, self._closed)

    def _read(self, size: int, timeout: float | None) -> bytes:
        channel = self.channel
        channel.settimeout(timeout)
        try:
            data = channel.recv(size)
        except socket.timeout:
            return b""
        except (OSError, EOFError, paramiko.SSHException) as error:
            raise self._closed(f"read failed: {_cause(error)}") from error
        if not data:
            raise self._closed("channel closed")
        return data

    def is_alive(self) -> bool:
        channel = self.channel
        return not channel.closed and not channel.eof_received and self.connection.is_active()

    def direct_reach(self, first_shell_stays: bool) -> bool:
        """A ``direct-tcpip`` channel lands on the host the login shell runs
        on, whatever that first shell is."""
        return True

    def open_direct(self, port: int, timeout: float) -> DirectStream:
        """A ``direct-tcpip`` channel of this connection to ``127.0.0.1:port``
        on the target (sshd connects, as the login user). A server that
        forbids forwarding (``AllowTcpForwarding no``) refuses it:
        :class:`TerminalClosed` saying so."""
        where = f"127.0.0.1:{port} on {self.description}"
        try:
            channel = self.connection.transport.open_channel(
                "direct-tcpip",
                dest_addr=("127.0.0.1", port),
                src_addr=("127.0.0.1", 0),
                window_size=WINDOW_SIZE,
                max_packet_size=MAX_PACKET_SIZE,
                timeout=timeout,
            )
        except paramiko.ChannelException as error:
            raise TerminalClosed(
                f"the server refused a channel to {where} ({error.text or error}; "
                "sshd's AllowTcpForwarding or PermitOpen may forbid it)"
            ) from error
        except (OSError, EOFError, paramiko.SSHException) as error:
            raise TerminalClosed(f"no channel to {where}: {_cause(error)}") from error
        return ChannelStream(channel, f"direct channel to {where}", port)

    def close(self) -> None:
        self._spawn.closed = True
        try:
            self.channel.close()
        except (OSError, EOFError, paramiko.SSHException):
            pass  # the link is already gone (reset, killed sshd): nothing to say goodbye to
        finally:
            self.connection.close()
