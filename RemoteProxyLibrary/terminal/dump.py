"""A copy of what a terminal receives and sends, for debugging, secrets masked.

``InteractiveSession(dump_received=..., dump_outgoing=...)`` (the older
library's arguments) give each a file path (appended to) or an open stream
(text or binary). Everything goes there: what the shells type and read
through pexpect, and the agent protocol's raw bytes. Every secret the
session knows (passwords of its hops) is replaced by ``******`` before it is
written; a secret cut in two by the terminal's reads may still show in the
received copy, so passwords are never echoed back by the hops themselves
(they are typed at prompts that do not echo).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable
from os import PathLike
from typing import IO, Any, Callable, Optional, Union

DumpTarget = Union[str, "PathLike[str]", IO[Any]]

MASK = b"******"
#: Written when a terminal starts, as the older library did.
NEW_TERMINAL = b"*" * 30 + b"NEW TERMINAL" + b"*" * 30 + b"\n"


class _Sink:
    """One target: a path (opened on first write, appended) or a stream."""

    def __init__(self, target: DumpTarget) -> None:
        self._target = target
        self._stream: Optional[IO[Any]] = None
        self._opened = False
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            stream = self._stream
            if stream is None:
                target = self._target
                if isinstance(target, (str, PathLike)):
                    stream = open(target, "ab")  # noqa: SIM115 (kept open, closed by close())
                    self._opened = True
                else:
                    stream = target
                self._stream = stream
            if isinstance(stream, io.TextIOBase):
                stream.write(data.decode("utf-8", "replace"))
            else:
                stream.write(data)
            stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._opened and self._stream is not None:
                self._stream.close()
            self._stream = None


class TerminalDump:
    """Where a terminal's traffic is copied; see the module doc.

    ``secrets`` returns the texts to mask, asked at each write (the stack of
    hops, and so their passwords, changes while the terminal lives).
    """

    def __init__(
        self,
        received: Optional[DumpTarget] = None,
        sent: Optional[DumpTarget] = None,
        secrets: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        self._received = _Sink(received) if received is not None else None
        self._sent = _Sink(sent) if sent is not None else None
        self._secrets = secrets

    def __bool__(self) -> bool:
        return self._received is not None or self._sent is not None

    def new_terminal(self) -> None:
        for sink in (self._received, self._sent):
            if sink is not None:
                sink.write(NEW_TERMINAL)

    def received(self, data: Union[bytes, str]) -> None:
        if self._received is not None:
            self._received.write(self._masked(data))

    def sent(self, data: Union[bytes, str]) -> None:
        if self._sent is not None:
            self._sent.write(self._masked(data))

    def _masked(self, data: Union[bytes, str]) -> bytes:
        raw = data.encode("utf-8", "replace") if isinstance(data, str) else bytes(data)
        for secret in self._secrets():
            if secret:
                raw = raw.replace(secret.encode("utf-8", "replace"), MASK)
        return raw

    def pexpect_logfiles(self) -> tuple[_PexpectLog, _PexpectLog]:
        """File-likes for pexpect's ``logfile_read`` and ``logfile_send``."""
        return _PexpectLog(self.received), _PexpectLog(self.sent)

    def close(self) -> None:
        for sink in (self._received, self._sent):
            if sink is not None:
                sink.close()


class _PexpectLog:
    """What pexpect writes its log to: text or bytes, handed to the dump."""

    def __init__(self, write: Callable[[Union[bytes, str]], None]) -> None:
        self.write = write

    def flush(self) -> None:
        return None
