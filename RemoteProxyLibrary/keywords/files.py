"""Keywords that move files between this machine and the target."""

from __future__ import annotations

import glob
import os
import time
from typing import Any, Callable, Optional, Union

from robot.api import logger
from robot.api.deco import keyword

from ..remotetext import safe_line
from ..runner.transfers import TransferResult, format_size
from .converters import Seconds
from .core import LibraryCore, TerminalId

Patterns = Union[list[str], str, None]
Mode = Union[int, str, None]


class _ProgressLog:
    """Progress lines of a long transfer: none during its first ``interval``
    seconds, then at most one per ``interval``."""

    def __init__(self, what: str, interval: float) -> None:
        self.what = safe_line(what)
        self.interval = interval
        self.started = time.monotonic()
        self.next = self.started + interval

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now < self.next:
            return
        self.next = now + self.interval
        rate = done / max(now - self.started, 1e-9)
        share = f"{done * 100 // total}%, " if total else ""
        logger.info(f"{self.what}: {share}{format_size(done)} of {format_size(total)} "
                    f"so far, {format_size(rate)}/s")  # fmt: skip


class FileKeywords(LibraryCore):
    """Put File, Get File, Put Directory, Get Directory."""

    #: Seconds between progress lines of a long transfer (the first after as long).
    _progress_interval = 5.0

    def _transfer(
        self,
        name: str,
        source: str,
        terminal: TerminalId,
        run: Callable[[Any, _ProgressLog], TransferResult],
    ) -> TransferResult:
        """Run one transfer with progress lines; log its summary line."""
        runner = self._entry(terminal).runner()
        result = run(runner.files, _ProgressLog(f"{name} {source}", self._progress_interval))
        logger.info(safe_line(f"{name} {result.summary()}"))  # remote paths: any text
        return result

    @keyword("Put File", tags=["files"])
    def put_file(
        self,
        source: str,
        destination: str = ".",
        mode: Mode = None,
        *,
        preserve_times: bool = False,
        follow_symlinks: Optional[bool] = None,
        create_dirs: bool = False,
        timeout: Optional[Seconds] = None,
        terminal: TerminalId = None,
    ) -> Any:
        """Copies the local file ``source`` to ``destination`` on the target.

        The file is written as the user of the terminal's top shell, whatever
        the hops on the way (``ssh``, ``su``, ``sudo``). It streams in chunks
        and is written under a temporary name, checked against the SHA-256 of
        the source and only then renamed: a failed or interrupted transfer
        leaves nothing under the destination's name.

        - ``source``: a local path; with glob characters (``*``, ``?``,
          ``[``) every matching file is copied into the ``destination``
          directory.
        - ``destination``: the path on the target, or a directory to copy
          into under the source's name (an existing one, or a path ending
          with ``/``). A destination that is a symbolic link to a directory
          is taken as that directory only when it ends with ``/``; else the
          keyword fails: nothing is written through a link that an earlier
          copy may have made. A relative path (the default ``.`` too) is relative
          to the agent's working directory on the target: the directory the
          terminal's top shell was in when Python started there (after an
          SSH login, the login user's home; ``su`` without ``-`` and
          ``sudo`` keep the directory they were started in, ``su -`` goes to
          the new user's home). ``~`` is the top shell's ``$HOME``. Errors
          name the path made absolute.
        - ``mode``: permission bits as an octal string such as ``0644``
          (default: the source's).
        - ``preserve_times``: keep the modification time.
        - ``follow_symlinks``: a ``source`` that is a symbolic link is
          followed: what it points to is copied (as ``cp -H`` and SSHLibrary
          do). ``follow_symlinks=False`` copies the link itself.
        - ``create_dirs``: create a missing destination directory; without
          it that fails.
        - ``timeout``: for the whole transfer (default: the terminal's
          ``timeout``); past it the keyword fails with ``TransferTimeout``.

        Logs one line at the end with the size, time and rate (and a line
        every few seconds while a long transfer goes). With auto recovery a
        transfer whose terminal broke starts again after the recovery.
        Returns a result with ``destination`` (the path written), ``size``,
        ``seconds``, ``rate`` and ``sha256`` (a list of them for a pattern).

        Examples:
        | Put File | ${CURDIR}/app.conf | /tmp/app/app.conf | create_dirs=True |
        | Put File | ${CURDIR}/start.sh | /tmp/app/ | mode=0755 | create_dirs=True |
        | Put File | ${CURDIR}/logs/*.txt | /tmp/logs/ | create_dirs=True |
        """
        options = dict(mode=mode, preserve_times=preserve_times, follow_symlinks=follow_symlinks,
                       create_dirs=create_dirs, timeout=timeout)  # fmt: skip
        path = os.path.expanduser(source)
        if glob.has_magic(path) and not os.path.lexists(path):
            matches = sorted(glob.glob(path))
            if not matches:
                raise FileNotFoundError(f"No local file matches '{source}'.")
            into = destination if destination.endswith("/") else destination + "/"
            results = []
            for match in matches:

                def put(files: Any, log: _ProgressLog, match: str = match) -> TransferResult:
                    return files.put(match, into, progress=log, **options)

                results.append(self._transfer("Put File", match, terminal, put))
            return results
        return self._transfer(
            "Put File", source, terminal,
            lambda files, log: files.put(path, destination, progress=log, **options),
        )  # fmt: skip

    @keyword("Get File", tags=["files"])
    def get_file(
        self,
        source: str,
        destination: str = ".",
        mode: Mode = None,
        *,
        preserve_times: bool = False,
        follow_symlinks: Optional[bool] = None,
        create_dirs: bool = False,
        timeout: Optional[Seconds] = None,
        terminal: TerminalId = None,
    ) -> TransferResult:
        """Copies the file ``source`` on the target to the local
        ``destination`` (a file path, or a directory to copy into; default:
        the current directory). The rest as with `Put File`, the other way:
        a ``source`` that is a symbolic link (such as ``/etc/os-release``)
        is followed and its content copied, unless ``follow_symlinks=False``;
        a relative ``source`` is relative to the agent's working directory
        on the target (see `Put File`).

        Examples:
        | Get File | /etc/hostname | ${OUTPUT DIR}/ |
        | ${result} = | Get File | /etc/os-release | ${TEMPDIR}/os-release | timeout=1 min |
        """
        return self._transfer(
            "Get File", source, terminal,
            lambda files, log: files.get(source, destination, mode=mode,
                                         preserve_times=preserve_times,
                                         follow_symlinks=follow_symlinks,
                                         create_dirs=create_dirs, progress=log, timeout=timeout),
        )  # fmt: skip

    @keyword("Put Directory", tags=["files"])
    def put_directory(
        self,
        source: str,
        destination: str = ".",
        recursive: bool = True,
        *,
        include: Patterns = None,
        exclude: Patterns = None,
        preserve_times: bool = False,
        follow_symlinks: bool = False,
        create_dirs: bool = False,
        timeout: Optional[Seconds] = None,
        terminal: TerminalId = None,
    ) -> TransferResult:
        """Copies the local directory ``source`` to ``destination`` on the target.

        An existing ``destination`` directory receives the source directory
        under its own name (as ``cp -r`` does); any other ``destination``
        becomes the copy. Subdirectories are copied too unless ``recursive``
        is false (unlike SSHLibrary, whose default is not to).

        - ``include``: glob patterns (one, or a list) of the files to copy;
          default all.
        - ``exclude``: glob patterns of files and directories to leave out.
          A pattern containing ``/`` matches the path relative to
          ``source`` (``sub/*.log``), any other the name alone (``*.log``).

        Modes are kept, small files travel many in one round trip. Symbolic
        links inside ``source`` are copied as links unless
        ``follow_symlinks=True`` copies what they point to; a ``source``
        that is itself a link to a directory is followed (as ``cp -H``).
        Nothing is written through a link in the copy: where a directory
        is expected, a link fails the keyword (as GNU ``cp -r``); a link
        where a file goes is replaced; links are made last.
        Relative paths on the target as with `Put File`. Other arguments as with `Put File`;
        a directory whose transfer broke under auto recovery goes on with
        what was not copied yet. Returns a result with ``destination``
        (the copy's root), ``files``, ``size``, ``seconds`` and ``rate``.

        Examples:
        | Put Directory | ${CURDIR}/config | /tmp/app | create_dirs=True |
        | Put Directory | ${CURDIR}/scripts | /tmp/tools/ | include=*.sh | create_dirs=True |
        | Put Directory | ${CURDIR}/data | /tmp/data | exclude=${{['*.bak', 'cache']}} |
        """
        return self._transfer(
            "Put Directory", source, terminal,
            lambda files, log: files.put_directory(
                os.path.expanduser(source), destination, recursive=recursive, include=include,
                exclude=exclude, preserve_times=preserve_times, follow_symlinks=follow_symlinks,
                create_dirs=create_dirs, progress=log, timeout=timeout),
        )  # fmt: skip

    @keyword("Get Directory", tags=["files"])
    def get_directory(
        self,
        source: str,
        destination: str = ".",
        recursive: bool = True,
        *,
        include: Patterns = None,
        exclude: Patterns = None,
        preserve_times: bool = False,
        follow_symlinks: bool = False,
        create_dirs: bool = False,
        timeout: Optional[Seconds] = None,
        terminal: TerminalId = None,
    ) -> TransferResult:
        """Copies the directory ``source`` on the target to the local
        ``destination``; the rules of `Put Directory`, the other way.

        Examples:
        | Get Directory | /etc/ssh | ${OUTPUT DIR}/ssh | include=*.pub |
        | Get Directory | /etc/ssh | ${TEMPDIR} | recursive=False |
        """
        return self._transfer(
            "Get Directory", source, terminal,
            lambda files, log: files.get_directory(
                source, destination, recursive=recursive, include=include, exclude=exclude,
                preserve_times=preserve_times, follow_symlinks=follow_symlinks,
                create_dirs=create_dirs, progress=log, timeout=timeout),
        )  # fmt: skip
