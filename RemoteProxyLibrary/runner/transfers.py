"""File transfers between this machine and the target. Reached as ``runner.files``.

::

    runner.files.put("build/app.tar", "/tmp/")                  # into /tmp/app.tar
    runner.files.get("/var/log/syslog", "logs/", create_dirs=True)
    runner.files.put_directory("config", "/etc/myapp", exclude=["*.bak"])
    runner.files.get_directory("/var/log", "logs", include=["*.log"])

Files travel through the agent, so they are read and written as the user of
the terminal's top shell, whatever the hops (ssh, su, sudo). A file streams
in chunks of ``CHUNK`` bytes with ``WINDOW`` chunks in flight (no round trip
waited for per chunk); small files of a directory go ``BATCH_BYTES`` at a
time, several batches in flight. Memory stays bounded by those sizes,
whatever the file's size.

A source named in the call is followed when it is a symbolic link (as ``cp
-H`` does): ``put`` and ``get`` copy what it points to, and a directory given
as a link is copied as the directory; links met inside a directory transfer
travel as links unless ``follow_symlinks=True``. Relative paths on the target
are relative to the agent's working directory: the directory the top shell
was in when Python started (after an ssh login, the login user's home; ``su``
without ``-`` and ``sudo`` keep the directory they were started in); ``~`` is
the top shell's ``$HOME``. Errors name such paths made absolute.

Where files go, temporary names, modes, links and glob filters follow the
rules of ``agent/filerules.py``, which both ends share: every file is written
under a temporary name, checked against the SHA-256 of what was sent and only
then renamed over the destination, so a failed or interrupted transfer leaves
no partial file under the destination's name.

Under auto recovery a transfer whose session broke goes on after the
recovery: a file starts again from its beginning, a directory goes on with
the files (batches) not yet done. Without recovery it fails with
:class:`RunnerTerminalSessionBroken`, and the local side is cleaned up (the
target's temporary file is removed by the next transfer to that destination).

``timeout`` bounds a whole transfer (default: the runner's ``timeout``):
past it the transfer is abandoned and :class:`TransferTimeout` raised.
``progress(done, total)`` is called with byte counts as the transfer goes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ..agent import filerules as rules
from ..agent.filerules import LOCAL, AtomicFile
from ..errors import TransferTimeout
from ..timeouts import TimeLike, seconds
from ..wire.messages import MODE_VALUE
from .connection import Pending

if TYPE_CHECKING:
    from .runnerterminal import RunnerTerminal

#: Bytes of a file per request.
CHUNK = 512 << 10
#: Requests in flight at once.
WINDOW = 4
#: Files up to this size go in batches in directory transfers.
SMALL = 256 << 10
#: Bytes (and files) of one batch.
BATCH_BYTES = 1 << 20
BATCH_FILES = 1000

Progress = Callable[[int, int], None]
LocalPath = Union[str, "os.PathLike[str]"]
Patterns = Union[str, Sequence[str], None]


@dataclass
class TransferResult:
    """What a transfer did: ``direction`` (``put`` or ``get``), ``source``,
    ``destination`` (the final path of a file, the root of a directory),
    ``size`` (bytes), ``files`` (files and links), ``seconds``, and for a
    single file its ``sha256``."""

    direction: str
    source: str
    destination: str
    size: int
    files: int
    seconds: float
    sha256: Optional[str] = None

    @property
    def rate(self) -> float:
        """Bytes per second."""
        return self.size / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One line: what went where, size, time and rate."""
        what = f"{self.files} files, " if self.files != 1 else ""
        return (f"{self.source} -> {self.destination}: {what}{format_size(self.size)} in "
                f"{self.seconds:.2f} s ({format_size(self.rate)}/s)")  # fmt: skip


def format_size(size: float) -> str:
    """``1.5 MB``, ``512 B``: decimal units, as transfer rates are given."""
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"  # pragma: no cover


@dataclass(frozen=True)
class _Options:
    mode: Optional[int]
    preserve_times: bool
    follow_symlinks: bool
    create_dirs: bool


class _Clock:
    """The deadline of one transfer."""

    def __init__(self, timeout: float, what: str) -> None:
        self.timeout = timeout
        self.what = what
        self.deadline = time.monotonic() + timeout

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> TransferTimeout:
        return TransferTimeout(
            f"{self.what} did not finish within {self.timeout:g} s; nothing was left under "
            "the destination's name"
        )


class _Progress:
    def __init__(self, callback: Optional[Progress], total: int) -> None:
        self.callback = callback
        self.total = total
        self.done = 0

    def add(self, size: int) -> None:
        self.done += size
        if self.callback is not None:
            self.callback(self.done, self.total)

    def restart(self, done: int = 0) -> None:
        self.done = done


# ---- requests ----------------------------------------------------------------------------
def _reply(runner: RunnerTerminal, pending: Pending, clock: _Clock) -> Any:
    if not pending.wait(clock.remaining()):
        if pending.owner is not None:
            pending.owner.forget(pending)
        raise clock.expired()
    return runner.wait_reply(pending, 0)


def _call(runner: RunnerTerminal, clock: _Clock, op: str, *args: Any) -> Any:
    return _reply(runner, runner.send_request(op, args, MODE_VALUE), clock)


def _pipeline(
    runner: RunnerTerminal,
    requests: Iterable[tuple[str, tuple, Any]],
    clock: _Clock,
    on_reply: Callable[[Any, Any], None],
) -> None:
    """Send ``(op, args, tag)`` requests with up to ``WINDOW`` in flight and
    give each reply, in order, to ``on_reply(value, tag)``."""
    in_flight: deque[tuple[Pending, Any]] = deque()
    source: Iterator[tuple[str, tuple, Any]] = iter(requests)
    more = True
    try:
        while True:
            while more and len(in_flight) < WINDOW:
                item = next(source, None)
                if item is None:
                    more = False
                    break
                op, args, tag = item
                in_flight.append((runner.send_request(op, args, MODE_VALUE), tag))
                del item, args  # a chunk is held by its request only until sent
            if not in_flight:
                return
            pending, tag = in_flight.popleft()
            on_reply(_reply(runner, pending, clock), tag)
    finally:
        for pending, _ in in_flight:
            if pending.owner is not None:
                pending.owner.forget(pending)


def _abort(runner: RunnerTerminal, op: str, tid: int) -> None:
    """Tell the agent to drop a transfer; best effort (the session may be gone)."""
    if not runner.running:
        return
    try:
        pending = runner.send_request(op, (tid,), MODE_VALUE)
        if pending.wait(5.0):
            runner.wait_reply(pending, 0)
        elif pending.owner is not None:
            pending.owner.forget(pending)
    except Exception:
        pass


# ---- local side -----------------------------------------------------------------------------
def _local_info(path: str, follow_symlinks: bool) -> tuple:
    return rules.describe_source(rules.absolute(path), follow_symlinks, LOCAL)


def _follow(value: Optional[bool]) -> bool:
    """A file named by the user is followed unless ``follow_symlinks=False``."""
    return True if value is None else bool(value)


def _read_local(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise rules.failure(error, "read", path, LOCAL) from None


def _times(
    options: _Options, mtime: float, atime: float
) -> tuple[Optional[float], Optional[float]]:
    return (mtime, atime) if options.preserve_times else (None, None)


def _patterns(value: Patterns) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(pattern) for pattern in value]


def parse_mode(value: Union[int, str, None]) -> Optional[int]:
    """A mode given as an int or an octal string (``"0644"``, ``"644"``)."""
    if value is None or (isinstance(value, str) and value.strip().upper() in ("", "NONE")):
        return None
    if isinstance(value, bool):
        raise TypeError(f"a mode is an int or an octal string, not {value!r}")
    try:
        mode = value if isinstance(value, int) else int(str(value).strip(), 8)
    except ValueError:
        raise ValueError(f"invalid mode {value!r}: give an octal string such as 0644") from None
    if not 0 <= mode <= 0o7777:
        raise ValueError(f"invalid mode {value!r}: outside 0 to 0o7777")
    return mode


# ---- one file ---------------------------------------------------------------------------------
def _put_file_once(
    runner: RunnerTerminal,
    path: str,
    destination: str,
    name: Optional[str],
    options: _Options,
    clock: _Clock,
    progress: _Progress,
) -> tuple[str, Optional[str], int]:
    """Upload ``path`` (one try); ``(final path, sha256, size)``."""
    kind, size, mode, mtime, atime, link = _local_info(path, options.follow_symlinks)
    if kind == "link":
        final = _call(runner, clock, "put_link", destination, name, link, options.create_dirs)
        return final, None, 0
    if kind == "dir":
        raise rules.failure(OSError(errno.EISDIR, "source is a directory (use Put Directory)"),
                            "send", path, LOCAL)  # fmt: skip
    if kind != "file":
        raise OSError(errno.EINVAL, "source is not a regular file " + LOCAL, path)
    try:
        source = open(path, "rb")  # noqa: SIM115 (closed below, after the transfer)
    except OSError as error:
        raise rules.failure(error, "read", path, LOCAL) from None
    with source:
        tid, final = _call(runner, clock, "put_open", destination, name, options.create_dirs)
        sha = hashlib.sha256()
        try:

            def chunks() -> Iterator[tuple[str, tuple, Any]]:
                offset = 0
                while offset < size:
                    data = source.read(min(CHUNK, size - offset))
                    if not data:
                        raise OSError(errno.EIO, "source file changed (shrank) during the "
                                      "transfer " + LOCAL, path)  # fmt: skip
                    sha.update(data)
                    yield "put_chunk", (tid, offset, data), len(data)
                    offset += len(data)

            _pipeline(runner, chunks(), clock, lambda _, n: progress.add(n))
            final = _call(runner, clock, "put_commit", tid, size, sha.hexdigest(),
                          mode if options.mode is None else options.mode,
                          *_times(options, mtime, atime))  # fmt: skip
        except BaseException:
            _abort(runner, "put_abort", tid)
            raise
    return final, sha.hexdigest(), size


def _get_file_once(
    runner: RunnerTerminal,
    source: str,
    destination: str,
    name: Optional[str],
    options: _Options,
    clock: _Clock,
    progress: _Progress,
) -> tuple[str, Optional[str], int]:
    """Download ``source`` (one try); ``(final local path, sha256, size)``."""
    tid, kind, size, mode, mtime, atime, link = _call(
        runner, clock, "get_open", source, options.follow_symlinks
    )
    if not progress.total:  # a single file: its size is known now
        progress.total = size
    try:
        final = rules.file_destination(destination, name, options.create_dirs, LOCAL)
        if kind == "link":
            return rules.write_link(final, link, LOCAL), None, 0
        rules.sweep(final)
        target = AtomicFile(final, LOCAL)
    except BaseException:
        if tid:
            _abort(runner, "get_abort", tid)
        raise
    try:

        def requests() -> Iterator[tuple[str, tuple, Any]]:
            for offset in range(0, size, CHUNK):
                length = min(CHUNK, size - offset)
                yield "get_chunk", (tid, offset, length), length

        def received(data: Any, length: int) -> None:
            if not isinstance(data, bytes):
                sent = type(data).__name__
                raise OSError(errno.EIO, f"the target sent {sent}, not bytes", source)
            target.write(data)
            progress.add(len(data))

        _pipeline(runner, requests(), clock, received)
        sent, digest = _call(runner, clock, "get_close", tid)
        target.commit(digest, sent, mode if options.mode is None else options.mode,
                      (atime, mtime) if options.preserve_times else None)  # fmt: skip
    except BaseException:
        target.abort()
        _abort(runner, "get_abort", tid)
        raise
    if sent != size:
        raise OSError(errno.EIO, "source file changed during the transfer " + rules.TARGET, source)
    return final, digest, size


# ---- directories ----------------------------------------------------------------------------
class _Batches:
    """Small files in batches; which ones are done survives a recovery."""

    def __init__(self, entries: list[tuple]) -> None:
        self.batches: list[list[tuple]] = []
        batch: list[tuple] = []
        size = 0
        for entry in entries:
            if batch and (size + entry[2] > BATCH_BYTES or len(batch) >= BATCH_FILES):
                self.batches.append(batch)
                batch, size = [], 0
            batch.append(entry)
            size += entry[2]
        if batch:
            self.batches.append(batch)
        self.done: set[int] = set()
        self.tries = 0

    def todo(self) -> Iterator[tuple[int, list[tuple]]]:
        self.tries += 1
        for index, batch in enumerate(self.batches):
            if index not in self.done:
                yield index, batch


class Files:
    """``runner.files``: file transfers (see module doc)."""

    def __init__(self, runner: RunnerTerminal) -> None:
        self.runner = runner

    def _clock(self, timeout: Optional[TimeLike], what: str) -> _Clock:
        return _Clock(self.runner.timeout if timeout is None else seconds(timeout), what)

    # ---- files ------------------------------------------------------------------------
    def put(
        self,
        source: LocalPath,
        destination: str = ".",
        *,
        mode: Union[int, str, None] = None,
        preserve_times: bool = False,
        follow_symlinks: Optional[bool] = None,
        create_dirs: bool = False,
        progress: Optional[Progress] = None,
        timeout: Optional[TimeLike] = None,
    ) -> TransferResult:
        """Upload the local file ``source`` to ``destination`` on the target.

        ``destination`` is the file's path there, or a directory (an existing
        one, or any path ending with ``/``) to put it in under its own name;
        the default ``.`` is the agent's working directory (see module doc).
        ``mode`` sets the permission bits (default: the source's);
        ``preserve_times`` keeps its modification time; a ``source`` that is
        a symbolic link is followed (its content is sent, as ``cp -H``
        does) unless ``follow_symlinks=False``, which sends the link itself;
        a missing destination directory is created only with ``create_dirs``.
        """
        path = os.path.expanduser(os.fspath(source))
        options = _Options(parse_mode(mode), bool(preserve_times), _follow(follow_symlinks),
                           bool(create_dirs))  # fmt: skip
        clock = self._clock(timeout, f"Put File {path}")
        started = time.monotonic()
        total = _local_info(path, options.follow_symlinks)[1]
        tracker = _Progress(progress, total)

        def attempt() -> tuple[str, Optional[str], int]:
            tracker.restart()
            return _put_file_once(self.runner, path, str(destination), os.path.basename(path),
                                  options, clock, tracker)  # fmt: skip

        final, digest, size = self.runner.with_recovery(attempt)
        return TransferResult("put", path, final, size, 1, time.monotonic() - started, digest)

    def get(
        self,
        source: str,
        destination: LocalPath = ".",
        *,
        mode: Union[int, str, None] = None,
        preserve_times: bool = False,
        follow_symlinks: Optional[bool] = None,
        create_dirs: bool = False,
        progress: Optional[Progress] = None,
        timeout: Optional[TimeLike] = None,
    ) -> TransferResult:
        """Download the file ``source`` from the target to the local
        ``destination`` (a file path, or a directory to put it in under its
        own name; default: the current directory). Options as with :meth:`put`:
        a ``source`` that is a link is followed unless ``follow_symlinks=False``."""
        options = _Options(parse_mode(mode), bool(preserve_times), _follow(follow_symlinks),
                           bool(create_dirs))  # fmt: skip
        clock = self._clock(timeout, f"Get File {source}")
        started = time.monotonic()
        tracker = _Progress(progress, 0)
        name = posixpath.basename(str(source).rstrip("/")) or "file"

        def attempt() -> tuple[str, Optional[str], int]:
            tracker.restart()
            return _get_file_once(self.runner, str(source), os.fspath(destination), name,
                                  options, clock, tracker)  # fmt: skip

        final, digest, size = self.runner.with_recovery(attempt)
        return TransferResult("get", str(source), final, size, 1, time.monotonic() - started,
                              digest)  # fmt: skip

    # ---- directories ------------------------------------------------------------------
    def put_directory(
        self,
        source: LocalPath,
        destination: str = ".",
        *,
        recursive: bool = True,
        include: Patterns = None,
        exclude: Patterns = None,
        preserve_times: bool = False,
        follow_symlinks: bool = False,
        create_dirs: bool = False,
        progress: Optional[Progress] = None,
        timeout: Optional[TimeLike] = None,
    ) -> TransferResult:
        """Upload the local directory ``source`` to ``destination`` on the
        target: into it under its own name when it is an existing directory
        (like ``cp -r``), else as it. Subdirectories too unless not
        ``recursive``; ``include`` and ``exclude`` are glob patterns (a
        pattern with ``/`` matches the relative path, any other the name;
        ``exclude`` also leaves out directories). Modes are kept. A
        ``source`` that is a link to a directory is followed; links inside it
        are copied as links unless ``follow_symlinks=True``. Other options as
        with :meth:`put`."""
        runner = self.runner
        root = os.path.abspath(os.path.expanduser(os.fspath(source)))
        options = _Options(None, bool(preserve_times), bool(follow_symlinks), bool(create_dirs))
        clock = self._clock(timeout, f"Put Directory {root}")
        started = time.monotonic()
        entries = rules.walk(root, recursive, _patterns(include), _patterns(exclude),
                             options.follow_symlinks, LOCAL)  # fmt: skip
        _, _, root_mode, root_mtime, root_atime, _ = _local_info(root, True)
        directories = [entry for entry in entries if entry[1] == "dir"]
        files = [entry for entry in entries if entry[1] != "dir"]
        small = [entry for entry in files if entry[1] == "link" or entry[2] <= SMALL]
        large = [entry for entry in files if not (entry[1] == "link" or entry[2] <= SMALL)]
        total = sum(entry[2] for entry in files if entry[1] == "file")
        tracker = _Progress(progress, total)
        name = os.path.basename(root)
        remote_root = runner.with_recovery(
            lambda: _call(runner, clock, "tree_make", str(destination), name,
                          options.create_dirs, [entry[0] for entry in directories])
        )
        batches = _Batches(small)

        def batch_entry(entry: tuple) -> tuple:
            relative, kind, _, mode, mtime, atime, link = entry
            if kind == "link":
                return (relative, kind, link, None, None, None, None)
            data = _read_local(os.path.join(root, relative))
            return (relative, kind, data, hashlib.sha256(data).hexdigest(), mode,
                    *_times(options, mtime, atime))  # fmt: skip

        def send_batches() -> None:
            clean = batches.tries > 0
            requests = (
                ("put_batch", (remote_root, [batch_entry(e) for e in batch], clean), index)
                for index, batch in batches.todo()
            )

            def done(_: Any, index: int) -> None:
                batches.done.add(index)
                tracker.add(sum(entry[2] for entry in batches.batches[index] if entry[1] == "file"))

            _pipeline(runner, requests, clock, done)

        runner.with_recovery(send_batches)
        for entry in large:
            before = tracker.done

            def attempt(entry: tuple = entry, before: int = before) -> Any:
                tracker.restart(before)
                return _put_file_once(runner, os.path.join(root, entry[0]),
                                      posixpath.join(remote_root, entry[0]), None, options,
                                      clock, tracker)  # fmt: skip

            runner.with_recovery(attempt)
        modes = [(e[0], e[3], *_times(options, e[4], e[5])) for e in directories]
        modes.append(("", root_mode, *_times(options, root_mtime, root_atime)))
        runner.with_recovery(lambda: _call(runner, clock, "tree_finish", remote_root, modes))
        return TransferResult("put", root, remote_root, total, len(files),
                              time.monotonic() - started)  # fmt: skip

    def get_directory(
        self,
        source: str,
        destination: LocalPath = ".",
        *,
        recursive: bool = True,
        include: Patterns = None,
        exclude: Patterns = None,
        preserve_times: bool = False,
        follow_symlinks: bool = False,
        create_dirs: bool = False,
        progress: Optional[Progress] = None,
        timeout: Optional[TimeLike] = None,
    ) -> TransferResult:
        """Download the directory ``source`` from the target to the local
        ``destination``; the same rules as :meth:`put_directory`."""
        runner = self.runner
        options = _Options(None, bool(preserve_times), bool(follow_symlinks), bool(create_dirs))
        clock = self._clock(timeout, f"Get Directory {source}")
        started = time.monotonic()
        remote_root, top, entries = runner.with_recovery(
            lambda: _call(runner, clock, "tree_list", str(source), bool(recursive),
                          _patterns(include), _patterns(exclude), options.follow_symlinks)
        )
        name = posixpath.basename(remote_root.rstrip("/")) or "root"
        if name in (".", "..") or not isinstance(top, tuple) or not isinstance(entries, list):
            raise OSError(errno.EIO, f"the target listed {remote_root!r} oddly", str(source))
        local_root = rules.tree_destination(os.fspath(destination), name, options.create_dirs,
                                            LOCAL)  # fmt: skip
        by_name = {entry[0]: entry for entry in entries}
        directories = [entry for entry in entries if entry[1] == "dir"]
        files = [entry for entry in entries if entry[1] != "dir"]
        links = [entry for entry in files if entry[1] == "link"]
        small = [entry for entry in files if entry[1] == "file" and entry[2] <= SMALL]
        large = [entry for entry in files if entry[1] == "file" and entry[2] > SMALL]
        total = sum(entry[2] for entry in files if entry[1] == "file")
        tracker = _Progress(progress, total)
        rules.make_tree(local_root, [entry[0] for entry in directories], LOCAL)
        batches = _Batches(small)

        def fetch_batches() -> None:
            requests = (
                ("get_batch", (remote_root, [entry[0] for entry in batch]), index)
                for index, batch in batches.todo()
            )

            def received(files: Any, index: int) -> None:
                wanted = {entry[0] for entry in batches.batches[index]}
                for relative, data, digest in files:
                    if relative not in wanted or not isinstance(data, bytes):
                        raise OSError(errno.EIO, f"the target sent {relative!r}, not asked for")
                    entry = by_name[relative]
                    path = rules.join(local_root, relative)
                    rules.write_whole(path, data, digest, entry[3],
                                      _times_tuple(options, entry[4], entry[5]), LOCAL)  # fmt: skip
                    tracker.add(len(data))
                batches.done.add(index)

            _pipeline(runner, requests, clock, received)

        runner.with_recovery(fetch_batches)
        for entry in large:
            before = tracker.done

            def attempt(entry: tuple = entry, before: int = before) -> Any:
                tracker.restart(before)
                return _get_file_once(runner, posixpath.join(remote_root, entry[0]),
                                      rules.join(local_root, entry[0]), None, options, clock,
                                      tracker)  # fmt: skip

            runner.with_recovery(attempt)
        for entry in links:  # last: nothing is written through a link made here
            rules.write_link(rules.join(local_root, entry[0]), entry[6], LOCAL)
        modes = [(e[0], e[3], *_times(options, e[4], e[5])) for e in directories]
        modes.append(("", top[0], *_times(options, top[1], top[2])))
        rules.finish_tree(local_root, modes, LOCAL)
        return TransferResult("get", remote_root, local_root, total, len(files),
                              time.monotonic() - started)  # fmt: skip


def _times_tuple(options: _Options, mtime: float, atime: float) -> Optional[tuple[float, float]]:
    return (atime, mtime) if options.preserve_times else None
