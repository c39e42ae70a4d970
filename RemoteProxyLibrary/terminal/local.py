"""A local pty running a command, driven through pexpect."""

from __future__ import annotations

import errno
import os
import select
from collections.abc import Mapping, Sequence

import pexpect

from . import bounded, stall
from .base import COLUMNS, ROWS, Terminal
from .direct import DirectStream, SocketStream


class LocalTerminal(Terminal):
    """A command (normally a shell) in a new local pty."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        timeout: float = 30,
    ) -> None:
        super().__init__()
        full_env = dict(os.environ if env is None else env)
        full_env.setdefault("TERM", "dumb")
        full_env["TERM"] = "dumb"
        self.description = f"local pty ({argv[0]})"
        self._spawn = pexpect.spawn(
            argv[0],
            list(argv[1:]),
            env=full_env,
            timeout=timeout,
            encoding="utf-8",
            codec_errors="replace",
            dimensions=(ROWS, COLUMNS),
            echo=True,
        )
        self._spawn.delaybeforesend = None
        bounded.bound(self._spawn)

    @property
    def spawn(self) -> pexpect.spawn:
        return self._spawn

    @property
    def pid(self) -> int:
        return int(self._spawn.pid)

    def _write_all(self, data: bytes) -> None:
        fd = self._spawn.child_fd
        if fd < 0:
            raise self._closed("closed")
        with stall.nonblocking(fd):
            stall.write_all(
                lambda view: os.write(fd, view), fd, data, self._closed, stall.WRITE_STALL_TIMEOUT
            )

    def _read(self, size: int, timeout: float | None) -> bytes:
        fd = self._spawn.child_fd
        if fd < 0:
            raise self._closed("closed")
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
        except (OSError, ValueError) as error:
            raise self._closed(f"select failed: {error}") from error
        if not ready:
            return b""
        try:
            # a pty gives a few KiB at a time: asking for more allocates (and
            # shrinks) that much per read for nothing
            data = os.read(fd, min(size, 1 << 16))
        except BlockingIOError:
            return b""  # a writer made the fd non-blocking, and another read took it
        except OSError as error:
            if error.errno == errno.EIO:
                raise self._closed("end of file") from error
            raise self._closed(f"read failed: {error}") from error
        if not data:
            raise self._closed("end of file")
        return data

    def is_alive(self) -> bool:
        return not self._spawn.closed and bool(self._spawn.isalive())

    def direct_reach(self, first_shell_stays: bool) -> bool:
        """A socket on this machine reaches the first shell's loopback when
        that shell stays on this machine (not in another network namespace)."""
        return first_shell_stays

    def open_direct(self, port: int, timeout: float) -> DirectStream:
        """A TCP connection to ``127.0.0.1:port`` on this machine."""
        return SocketStream.connect(port, timeout)

    def close(self) -> None:
        spawn = self._spawn
        if spawn.closed:
            return
        try:
            spawn.close(force=True)
        except (OSError, pexpect.ExceptionPexpect):
            pass
