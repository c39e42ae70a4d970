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
travel as links unless ``follow_symlinks=True``. Nothing is written, and no
mode set, through a link at the destination (an earlier transfer may have
made it): a destination that is a link to a directory is that directory only
when it ends with ``/``; inside a directory copy a link where a directory is
expected fails the copy, and links are made last (``filerules``). Relative paths on the target
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
past it the transfer is abandoned and :class:`TransferTimeout` raised, at
most ``ABORT_MARGIN`` later, whatever the target does.

What the target says is checked before it is used: kinds, sizes, modes,
times and names of a listing or an opened file, the length of every chunk
(the length asked for), the size and SHA-256 at the end, before anything is
renamed into place; a batch of small files must bring each file asked for
exactly once, as long as listed, before any of it is written. A reply that
makes no sense fails the call with :class:`ProtocolViolation` (the session
goes on); a file listed as a file must be opened as one. The local copy of a
directory is named after the ``source`` given here (its last component:
``/var/log/`` gives ``log``), never after the root the target reports; a
source that names no directory (``.``, ``..``, ``/``, ``~``) is copied only
to a destination that does not exist yet (it becomes the copy).
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
from ..errors import ProtocolViolation, RemoteTimeout, TransferTimeout
from ..remotetext import safe_repr
from ..timeouts import TimeLike, seconds
from ..wire.messages import MODE_VALUE
from .connection import Pending
from .replies import odd_reply as _odd

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
#: Seconds past a transfer's deadline an abort may wait for the target
#: (a call ends within its timeout + 0.5 s, whatever the target does).
ABORT_MARGIN = 0.4
#: Seconds an abort waits at most, before the deadline too.
ABORT_WAIT = 5.0
#: Times (seconds from the epoch) taken from the target: beyond, refused.
MAX_TIME = 1e11
#: Sizes taken from the target: beyond (what ``off_t`` holds), refused.
MAX_SIZE = (1 << 63) - 1
KINDS = ("file", "dir", "link")

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
        pending.drop()
        raise clock.expired()
    try:
        # what is left of the transfer's time also bounds decoding the reply
        return runner.wait_reply(pending, clock.remaining())
    except RemoteTimeout:  # it came, but decoding it did not end in time
        runner.discard_response(pending.request_id)
        raise clock.expired() from None


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
            pending.drop()


def _abort(runner: RunnerTerminal, op: str, tid: int, clock: _Clock) -> None:
    """Tell the agent to drop a transfer; best effort (the session may be
    gone), waiting for its answer at most ``ABORT_WAIT`` and never beyond the
    transfer's deadline + ``ABORT_MARGIN``."""
    if not runner.running:
        return
    try:
        pending = runner.send_request(op, (tid,), MODE_VALUE)
        wait = min(ABORT_WAIT, max(clock.deadline + ABORT_MARGIN - time.monotonic(), 0.0))
        if pending.wait(wait):
            runner.wait_reply(pending, 0)
        else:
            pending.drop()
    except Exception:
        pass


# ---- what the target says ---------------------------------------------------------------
def _count(op: str, what: str, value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_SIZE:
        raise _odd(op, what, value)
    return value


def _mode(op: str, value: Any) -> int:
    if type(value) is not int or not 0 <= value <= 0o7777:
        raise _odd(op, "a mode", value)
    return value


def _time(op: str, value: Any) -> float:
    if type(value) not in (int, float) or not -MAX_TIME <= value <= MAX_TIME:
        raise _odd(op, "a time", value)  # NaN fails the comparison too
    return float(value)


def _text(op: str, what: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _odd(op, what, value)
    return value


def _sequence(op: str, what: str, value: Any, length: int) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != length:
        raise _odd(op, what, value)
    return tuple(value)


def _digest(op: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) != 64 or value.strip("0123456789abcdef"):
        raise _odd(op, "a SHA-256", value)
    return value


def _entry(op: str, value: Any) -> tuple:
    """``(relative or tid, kind, size, mode, mtime, atime, link)`` checked."""
    first, kind, size, mode, mtime, atime, link = _sequence(op, "an entry", value, 7)
    if kind not in KINDS:
        raise _odd(op, "a kind", kind)
    if (link is None) == (kind == "link") or (link is not None and not isinstance(link, str)):
        raise _odd(op, "a link's target", link)
    return (first, kind, _count(op, "a size", size), _mode(op, mode), _time(op, mtime),
            _time(op, atime), link)  # fmt: skip


def _listing(value: Any) -> tuple[str, tuple, list[tuple]]:
    """The reply of ``tree_list``, checked: ``(root, (mode, mtime, atime), entries)``."""
    op = "tree_list"
    root, top, entries = _sequence(op, "the listing", value, 3)
    mode, mtime, atime = _sequence(op, "the root's mode and times", top, 3)
    if not isinstance(entries, (list, tuple)):
        raise _odd(op, "the entries", entries)
    checked = []
    seen: set[str] = set()
    for entry in entries:
        entry = _entry(op, entry)
        relative = _text(op, "a name", entry[0])
        try:
            rules.join("/", relative)
        except ValueError:
            raise _odd(op, "a name", relative) from None
        if relative in seen:
            raise _odd(op, "a name listed twice", relative)
        seen.add(relative)
        checked.append(entry)
    top = (_mode(op, mode), _time(op, mtime), _time(op, atime))
    return _text(op, "the root", root), top, checked


def _batch(value: Any, asked: list[tuple]) -> list[tuple[str, bytes, str]]:
    """The reply of ``get_batch``, checked before anything is written: each
    file asked for exactly once (an honest agent fails the whole request for
    a file it cannot read, e.g. one removed since the listing), as many bytes
    as listed, and a SHA-256."""
    op = "get_batch"
    if not isinstance(value, (list, tuple)):
        raise _odd(op, "the files", value)
    sizes = {entry[0]: entry[2] for entry in asked}
    checked: dict[str, tuple[str, bytes, str]] = {}
    for item in value:
        relative, data, digest = _sequence(op, "a file", item, 3)
        if not isinstance(relative, str) or relative not in sizes:
            raise _odd(op, "a file not asked for", relative)
        if relative in checked:
            raise _odd(op, "a file sent twice", relative)
        if not isinstance(data, bytes):
            raise _odd(op, f"the data of {safe_repr(relative)}", type(data).__name__)
        if len(data) != sizes[relative]:
            raise ProtocolViolation(
                f"the target's reply to {op} made no sense: {safe_repr(relative)} was listed "
                f"with {sizes[relative]} bytes and came with {len(data)} (a file that changed "
                "on the target since it was listed: copy again)"
            )
        checked[relative] = (relative, data, _digest(op, digest))
    missing = [name for name in sizes if name not in checked]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise ProtocolViolation(
            f"the target's reply to {op} made no sense: it left out {safe_repr(missing[0])}"
            f"{more} of the {len(sizes)} files asked for"
        )
    return [checked[entry[0]] for entry in asked]


def _tree_name(source: Any) -> Optional[str]:
    """The name a copy of the target's directory ``source`` gets inside an
    existing local directory: the last component of the path the user gave
    (``/var/log/`` and ``/srv/app/../log`` give ``log``), never what the
    target reports. None when the path names nothing (``.``, ``..``, ``/``,
    ``~``, ``~user``): :func:`filerules.tree_destination` then refuses an
    existing destination directory."""
    name = posixpath.basename(posixpath.normpath(str(source)))
    if name in ("", ".", "..") or (name.startswith("~") and "/" not in str(source).rstrip("/")):
        return None
    if "\0" in name or os.sep in name or (os.altsep and os.altsep in name):
        return None
    return name


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
            _abort(runner, "put_abort", tid, clock)
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
    listed: Optional[str] = None,
) -> tuple[str, Optional[str], int]:
    """Download ``source`` (one try); ``(final local path, sha256, size)``.
    ``listed``: the kind a directory listing gave it (a file); the target
    must open it as that."""
    tid, kind, size, mode, mtime, atime, link = _entry(
        "get_open", _call(runner, clock, "get_open", source, options.follow_symlinks)
    )
    if type(tid) is not int:
        raise _odd("get_open", "a transfer id", tid)
    if kind == "link" and tid:
        _abort(runner, "get_abort", tid, clock)
        raise _odd("get_open", "a transfer id for a link", tid)
    if not progress.total:  # a single file: its size is known now
        progress.total = size
    try:
        if listed is not None and kind != listed:
            raise OSError(errno.EIO, f"the target listed it as a {listed}, then opened it as a "
                          f"{kind}: the source changed during the transfer", source)  # fmt: skip
        if kind == "link" and options.follow_symlinks:
            raise _odd("get_open", "a link where the link was to be followed", link)
        if kind == "dir":
            raise _odd("get_open", "a directory, opened as a file", kind)
        final = rules.file_destination(destination, name, options.create_dirs, LOCAL)
        if kind == "link":
            return rules.write_link(final, link, LOCAL), None, 0
        rules.sweep(final)
        target = AtomicFile(final, LOCAL)
    except BaseException:
        if tid:
            _abort(runner, "get_abort", tid, clock)
        raise
    try:

        def requests() -> Iterator[tuple[str, tuple, Any]]:
            for offset in range(0, size, CHUNK):
                length = min(CHUNK, size - offset)
                yield "get_chunk", (tid, offset, length), (offset, length)

        def received(data: Any, asked: tuple[int, int]) -> None:
            offset, length = asked
            if not isinstance(data, bytes):
                raise _odd("get_chunk", "the data", type(data).__name__)
            if len(data) > length:
                raise _odd("get_chunk", f"the length of a chunk of {length} bytes at offset "
                           f"{offset}", len(data))  # fmt: skip
            if len(data) < length:
                raise OSError(errno.EIO, "source file changed (shrank) during the transfer "
                              + rules.TARGET, source)  # fmt: skip
            target.write(data)
            progress.add(len(data))

        _pipeline(runner, requests(), clock, received)
        sent, digest = _sequence("get_close", "the size and digest",
                                 _call(runner, clock, "get_close", tid), 2)  # fmt: skip
        sent, digest = _count("get_close", "the size", sent), _digest("get_close", digest)
        if sent != size:
            raise OSError(errno.EIO, "source file changed during the transfer " + rules.TARGET,
                          source)  # fmt: skip
        target.commit(digest, size, mode if options.mode is None else options.mode,
                      (atime, mtime) if options.preserve_times else None)  # fmt: skip
    except BaseException:
        target.abort()
        _abort(runner, "get_abort", tid, clock)
        raise
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
        ``destination``; the same rules as :meth:`put_directory`. Into an
        existing ``destination`` the copy goes under the last component of
        ``source`` as given here (``/var/log/`` gives ``log``), whatever the
        target reports; a ``source`` that names no directory (``.``, ``..``,
        ``/``, ``~``) needs a ``destination`` that does not exist yet (it
        becomes the copy): into an existing one it is refused (``EEXIST``)."""
        runner = self.runner
        options = _Options(None, bool(preserve_times), bool(follow_symlinks), bool(create_dirs))
        clock = self._clock(timeout, f"Get Directory {source}")
        started = time.monotonic()
        name = _tree_name(source)
        if name is None and os.path.isdir(os.fspath(destination)):
            # refused before the target lists what may be a whole home directory
            rules.tree_destination(os.fspath(destination), None, options.create_dirs, LOCAL)
        remote_root, top, entries = _listing(runner.with_recovery(
            lambda: _call(runner, clock, "tree_list", str(source), bool(recursive),
                          _patterns(include), _patterns(exclude), options.follow_symlinks)
        ))  # fmt: skip
        local_root = rules.tree_destination(os.fspath(destination), name,
                                            options.create_dirs, LOCAL)  # fmt: skip
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
                for relative, data, digest in _batch(files, batches.batches[index]):
                    entry = by_name[relative]
                    path = rules.inside(local_root, relative, LOCAL)
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
                                      rules.inside(local_root, entry[0], LOCAL), None, options,
                                      clock, tracker, listed="file")  # fmt: skip

            runner.with_recovery(attempt)
        for entry in links:  # last: nothing is written through a link made here
            rules.write_link(rules.inside(local_root, entry[0], LOCAL), entry[6], LOCAL)
        modes = [(e[0], e[3], *_times(options, e[4], e[5])) for e in directories]
        modes.append(("", top[0], *_times(options, top[1], top[2])))
        rules.finish_tree(local_root, modes, LOCAL)
        return TransferResult("get", remote_root, local_root, total, len(files),
                              time.monotonic() - started)  # fmt: skip


def _times_tuple(options: _Options, mtime: float, atime: float) -> Optional[tuple[float, float]]:
    return (atime, mtime) if options.preserve_times else None
