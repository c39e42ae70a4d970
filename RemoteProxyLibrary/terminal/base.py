"""The terminal interface shared by local ptys and SSH channels."""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterable
from typing import Optional

from pexpect.spawnbase import SpawnBase

from ..errors import TerminalClosed
from .direct import DirectStream
from .dump import TerminalDump

#: Wide enough that no program wraps or truncates a line of ours.
COLUMNS = 4000
ROWS = 50


class Terminal(abc.ABC):
    """One pty, seen from the controller.

    ``spawn`` is a pexpect object (str mode, UTF-8) used by shells to type
    commands and expect prompts. ``write``/``read`` move raw bytes for the agent
    protocol; they bypass pexpect's buffer, so a caller switches from one to the
    other only at a point where the target is silent.
    """

    description: str = "terminal"

    def __init__(self) -> None:
        self._write_lock = threading.Lock()
        self._dump: Optional[TerminalDump] = None
        #: What reads this terminal now instead of the shells (an agent's
        #: connection), in words; None when the shells have it.
        self.taken_by: Optional[str] = None

    def set_dump(self, dump: Optional[TerminalDump]) -> None:
        """Copy what this terminal receives and sends to ``dump`` from now on
        (both pexpect's traffic and the raw bytes of :meth:`read`/:meth:`write`)."""
        self._dump = dump if dump else None
        spawn = self.spawn
        if self._dump is None:
            spawn.logfile_read = spawn.logfile_send = None
            return
        self._dump.new_terminal()
        spawn.logfile_read, spawn.logfile_send = self._dump.pexpect_logfiles()

    @property
    @abc.abstractmethod
    def spawn(self) -> SpawnBase:
        """The pexpect object driving this terminal."""

    def write(self, data: bytes) -> None:
        """Send ``data`` entirely; thread-safe (whole buffers never interleave)."""
        with self._write_lock:
            self._send(data)

    def try_write(self, data: bytes) -> bool:
        """Send ``data`` unless another write is in progress; True if sent."""
        if not self._write_lock.acquire(blocking=False):
            return False
        try:
            self._send(data)
        finally:
            self._write_lock.release()
        return True

    def write_parts(self, parts: Iterable[bytes]) -> None:
        """Send several buffers back to back, no other write in between."""
        with self._write_lock:
            for part in parts:
                self._send(part)

    def _send(self, data: bytes) -> None:
        dump = self._dump
        if dump is not None:
            dump.sent(data)
        self._write_all(data)

    @abc.abstractmethod
    def _write_all(self, data: bytes) -> None: ...

    def read(self, size: int, timeout: float | None) -> bytes:
        """Return up to ``size`` bytes, ``b""`` if none came within ``timeout``.

        Raises :class:`TerminalClosed` when the other end is gone.
        """
        data = self._read(size, timeout)
        dump = self._dump
        if dump is not None and data:
            dump.received(data)
        return data

    @abc.abstractmethod
    def _read(self, size: int, timeout: float | None) -> bytes:
        """:meth:`read` of the concrete terminal."""

    @abc.abstractmethod
    def is_alive(self) -> bool:
        """True while bytes can still flow."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the terminal and end what runs in it (idempotent)."""

    def direct_reach(self, first_shell_stays: bool) -> bool:
        """Can :meth:`open_direct` reach the loopback of the host (and network
        namespace) the first shell runs on? ``first_shell_stays``: that shell
        stays where the terminal started it (``Shell.stays_on_host``)."""
        return False

    def open_direct(self, port: int, timeout: float) -> DirectStream:
        """A byte stream to ``127.0.0.1:port`` where the first shell runs (see
        :mod:`.direct`); :class:`TerminalClosed` when it cannot be opened."""
        raise self._closed("this terminal cannot open a direct stream")

    def take_buffered(self) -> bytes:
        """Bytes pexpect has read but no expect consumed; empties that buffer."""
        spawn = self.spawn
        pending = spawn.buffer
        spawn.buffer = spawn.string_type()
        if isinstance(pending, str):
            return pending.encode("utf-8", "surrogateescape")
        return bytes(pending)

    def _closed(self, why: str) -> TerminalClosed:
        return TerminalClosed(f"{self.description}: {why}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"
