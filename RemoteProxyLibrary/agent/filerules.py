"""The file rules both ends of a transfer follow: where a destination
goes, temporary names, atomic writes, walking a tree, glob filters.

Shipped in the agent bundle (stdlib only, Python 2.7 and 3.6+) for ``ops_files``; the
controller's ``runner/transfers.py`` imports the same module for its own
side, so both ends follow one set of rules. ``side`` (``TARGET`` or
``LOCAL``) only names the place in error messages.

- A file is written to a temporary name in its destination directory
  (``.<name>.rpl-<pid>-<random>.part``) and renamed over the destination
  only after its SHA-256 matched the sender's: a failed or interrupted
  transfer never leaves a partial file under the destination's name.
  Temporary files of processes that died (a session that broke) are removed
  by the next transfer to the same destination.
- A file destination that is an existing directory, or ends with ``/``,
  receives the file under the source's name. A directory destination that
  exists receives the source directory under its name (like ``cp -r``); one
  that does not exist becomes the copy. A missing parent directory is an
  error unless ``create_dirs`` is given; a destination that is (or would
  have to be) a directory where a file goes is ``IsADirectoryError``.
- Modes are the permission bits (``0o777``); times are kept when asked.
- Symbolic links (as ``cp -H``): a source named by the user is followed (its
  content travels; the root of a directory transfer too); links met inside a
  directory travel as links (their target text) unless asked to follow.
- Nothing is written through a link at the destination (an earlier transfer
  may have made it, pointing anywhere): a destination that is a symbolic
  link to a directory is taken as that directory only when its path ends
  with ``/``, else it is refused (``ELOOP``); below the root of a directory
  copy, a link where a directory is expected (or on the way to a file) is an
  error, as with GNU ``cp -r`` (rsync would replace it); modes and times are
  never set through a link. A directory copy makes its links last, after
  every file and directory (:func:`inside`).
- A relative path on an end is relative to that end's working directory (on
  the target: the agent's, the directory the top shell was in when Python
  started); errors name it made absolute (:func:`absolute`).
- Glob filters (``fnmatch``): a pattern with a ``/`` matches the path
  relative to the transferred directory, any other the name alone.
  ``include`` selects files (and links); ``exclude`` leaves out files, links
  and whole directories.
- A relative path sent by the other end never leaves the root it is joined
  to (:func:`join`).
"""

import binascii
import errno
import fnmatch
import hashlib
import os
import stat

from ..wire.compat import quiet
from .compat import makedirs, replace

TYPE_CHECKING = False
if TYPE_CHECKING:  # type comments only: Python 2.7 has no typing module
    from typing import Set  # noqa: F401  # novm

#: Permission bits kept.
PERMISSION_BITS = 0o777
#: Suffix of temporary files.
PART = ".part"
#: Where an end is, for messages.
TARGET = "on the target"
LOCAL = "locally"


def failure(error, action, path, side):
    """An OSError of the same kind saying what was done where, e.g.
    ``[Errno 28] cannot write on the target: No space left on device: 'f'``."""
    reason = error.strerror or str(error)
    return OSError(error.errno, "cannot {} {}: {}".format(action, side, reason), path)


def os_error(number, message, path):
    return OSError(number, message, path)


def expand(path):
    """``~`` expanded (the user of this end), other paths as given."""
    return os.path.expanduser(path)


def absolute(path):
    """``path`` with ``~`` expanded, made absolute against the working
    directory (not normalized: ``..`` after a link means what the system
    says; a trailing ``/`` stays)."""
    path = expand(path)
    if os.path.isabs(path):
        return path
    try:
        return os.path.join(os.getcwd(), path)
    except OSError:  # the working directory was removed
        return path


def file_destination(destination, name, create_dirs, side):
    """Where a file named ``name`` goes for ``destination`` (see module doc);
    ``name`` None: ``destination`` is the file's path itself (a link there is
    replaced, never followed)."""
    dest = absolute(destination)
    if name is not None and os.path.islink(dest) and os.path.isdir(dest):
        raise link_refused(dest, side, LINK_TO_DIRECTORY)
    if name is not None and (dest.endswith("/") or os.path.isdir(dest)):
        directory, final = dest, os.path.join(dest, name)
    else:
        directory, final = os.path.dirname(dest) or ".", dest
    _need_directory(directory, create_dirs, side)
    if os.path.isdir(final) and not os.path.islink(final):
        raise os_error(errno.EISDIR, "destination is a directory " + side, final)
    return os.path.normpath(final)


def tree_destination(destination, name, create_dirs, side):
    """The root a directory named ``name`` is copied to (see module doc)."""
    dest = absolute(destination)
    if os.path.islink(dest) and os.path.isdir(dest):
        raise link_refused(dest, side, LINK_TO_DIRECTORY)
    if os.path.isdir(dest):
        root = os.path.join(dest, name)
        if os.path.islink(root):
            raise link_refused(root, side, LINK_IN_TREE)
        if os.path.lexists(root) and not os.path.isdir(root):
            raise os_error(errno.ENOTDIR, "destination exists and is not a directory " + side,
                         root)  # fmt: skip
        return os.path.normpath(root)
    if os.path.lexists(dest):
        raise os_error(errno.ENOTDIR, "destination exists and is not a directory " + side,
                     dest)  # fmt: skip
    _need_directory(os.path.dirname(dest.rstrip("/")) or ".", create_dirs, side)
    return os.path.normpath(dest)


#: Why a link is refused: one the user named, one inside a copy.
LINK_TO_DIRECTORY = ("end the path with '/' to copy into the directory it points to, or "
                     "remove the link")  # fmt: skip
LINK_IN_TREE = ("a copy never writes through a link (an earlier copy may have made it): "
                "remove it or choose another destination")  # fmt: skip


def link_refused(path, side, hint):
    """The error for a symbolic link where a transfer will not follow one."""
    return os_error(errno.ELOOP, "destination is a symbolic link {}; {}".format(side, hint), path)


def _real_directory(path, side, create=False):
    """Check that ``path`` is a directory and not a link (``lstat``); with
    ``create``, make it (mode 0o700) when it does not exist."""
    try:
        info = os.lstat(path)
    except OSError as error:
        if not (create and error.errno == errno.ENOENT):
            raise quiet(failure(error, "read", path, side))
        try:
            os.mkdir(path, 0o700)
            return
        except OSError as error:
            if error.errno != errno.EEXIST:
                raise quiet(failure(error, "create directory", path, side))
            info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise link_refused(path, side, LINK_IN_TREE)
    if not stat.S_ISDIR(info.st_mode):
        raise os_error(errno.ENOTDIR, "destination exists and is not a directory " + side, path)


def inside(root, relative, side, create=False):
    """``root`` joined with a relative path sent by the other end (:func:`join`),
    every directory from ``root`` down to its parent checked to be a real
    directory, not a symbolic link (made, with ``create``, when missing): what
    is written there stays under ``root``."""
    path = join(root, relative)
    _real_directory(root, side)
    current = root
    for part in relative.split("/")[:-1]:
        current = os.path.join(current, part)
        _real_directory(current, side, create)
    return path


def _need_directory(directory, create_dirs, side):
    if os.path.isdir(directory):
        return
    if os.path.lexists(directory):
        raise os_error(errno.ENOTDIR, "destination directory is not a directory " + side,
                     directory)  # fmt: skip
    if not create_dirs:
        raise os_error(errno.ENOENT, "destination directory does not exist {} "
                     "(create_dirs=True creates it)".format(side), directory)  # fmt: skip
    try:
        makedirs(directory)
    except OSError as error:
        raise quiet(failure(error, "create directory", directory, side))


def temp_name(final):
    """A new temporary name next to ``final`` (see module doc)."""
    directory, name = os.path.split(final)
    token = binascii.hexlify(os.urandom(6)).decode("ascii")
    return os.path.join(directory, ".{}.rpl-{}-{}{}".format(name[:200], os.getpid(), token, PART))


def sweep(final):
    """Remove temporary files for ``final`` left by processes that died."""
    directory, name = os.path.split(final)
    prefix = ".{}.rpl-".format(name[:200])
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return
    for entry in names:
        if not (entry.startswith(prefix) and entry.endswith(PART)):
            continue
        pid = entry[len(prefix) : -len(PART)].partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                os.unlink(os.path.join(directory, entry))
            except OSError:
                pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as error:
        return error.errno != errno.ESRCH  # EPERM: another user's process
    return True


class AtomicFile(object):
    """A file written to a temporary name, hashed as it is written, renamed
    over ``final`` by :meth:`commit` when the digest matches."""

    def __init__(self, final, side):
        self.final = final
        self.side = side
        self.temp = temp_name(final)
        self.sha = hashlib.sha256()
        self.size = 0
        self.fd = -1  # -1: closed
        try:
            self.fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as error:
            raise quiet(failure(error, "create a file", final, side))

    def write(self, data):
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as error:
            self.abort()
            raise quiet(failure(error, "write", self.final, self.side))
        self.sha.update(data)
        self.size += len(data)

    def commit(self, digest, size, mode=None, times=None):
        """Check ``digest`` and ``size``, set ``mode`` and ``times``
        ``(atime, mtime)``, rename over the destination; returns the path.
        Nothing is renamed unless all of that worked; on any failure the
        temporary file is removed."""
        try:
            if self.size != size or self.sha.hexdigest() != digest:
                raise os_error(errno.EIO, "transfer corrupted: received {} bytes with SHA-256 {}, "
                               "sent {!r} bytes with SHA-256 {!r}; the destination is unchanged {}"
                               .format(self.size, self.sha.hexdigest(), size, digest, self.side),
                               self.final)  # fmt: skip
            try:
                if mode is not None:
                    os.fchmod(self.fd, mode & PERMISSION_BITS)
                os.close(self.fd)
                self.fd = -1
                if times is not None:
                    os.utime(self.temp, times)
            except OSError as error:
                raise quiet(failure(error, "finish", self.final, self.side))
            try:
                replace(self.temp, self.final)
            except OSError as error:
                raise quiet(replace_failure(error, self.final, self.side))
        except BaseException:
            self.abort()
            raise
        return self.final

    def abort(self):
        """Close and remove the temporary file; never raises."""
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1
        try:
            os.unlink(self.temp)
        except OSError:
            pass


def write_link(final, target, side):
    """Make ``final`` a symbolic link to ``target`` (temporary name, rename)."""
    temp = temp_name(final)
    try:
        os.symlink(target, temp)
    except OSError as error:
        raise quiet(failure(error, "create a link", final, side))
    try:
        replace(temp, final)
    except OSError as error:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise quiet(replace_failure(error, final, side))
    return final


def replace_failure(error, final, side):
    """The error of renaming the finished temporary file over ``final``: a
    refusal (EPERM, EACCES) says so and why it may be, e.g. ``[Errno 1]
    cannot replace the existing file on the target: the rename over it was
    refused (Operation not permitted); its directory is sticky ...: '/tmp/f'``."""
    if error.errno not in (errno.EPERM, errno.EACCES):
        return failure(error, "finish", final, side)
    why = "the file or its directory may be immutable or append-only (chattr)"
    try:
        directory = os.stat(os.path.dirname(final) or ".")
        owner = os.lstat(final).st_uid
        me = os.geteuid()
        if directory.st_mode & stat.S_ISVTX and me not in (owner, directory.st_uid):
            why = ("its directory is sticky (like /tmp) and the file belongs to another user "
                   "(uid {}): only that user or root may replace it; remove it as that user "
                   "or choose another destination".format(owner))  # fmt: skip
    except OSError:
        pass
    reason = error.strerror or str(error)
    return OSError(error.errno, "cannot replace the existing file {}: the rename over it was "
                   "refused ({}); {}".format(side, reason, why), final)  # fmt: skip


def describe_source(path, follow_symlinks, side):
    """:func:`describe` of a transfer's source, with errors that say what
    was wrong (a link that cannot be followed names its target)."""
    try:
        return describe(path, follow_symlinks)
    except OSError as error:
        if follow_symlinks and error.errno in (errno.ENOENT, errno.ELOOP):
            try:
                target = os.readlink(path)
            except OSError:
                target = None
            if target is not None:
                raise quiet(os_error(error.errno, "source is a symbolic link to {!r}, which "
                                     "cannot be followed {} ({})"
                                     .format(target, side, error.strerror), path))  # fmt: skip
        raise quiet(failure(error, "read", path, side))


def write_whole(final, data, digest, mode, times, side):
    """A small file in one go (see :class:`AtomicFile`)."""
    target = AtomicFile(final, side)
    target.write(data)
    return target.commit(digest, len(data), mode, times)


def matches(relative, patterns):
    """Whether ``relative`` (a path with ``/``) matches one of ``patterns``."""
    name = relative.rpartition("/")[2]
    for pattern in patterns:
        if fnmatch.fnmatchcase(relative if "/" in pattern else name, pattern):
            return True
    return False


def describe(path, follow_symlinks):
    """``(kind, size, mode, mtime, atime, link)`` of ``path``; kind is
    ``file``, ``dir``, ``link`` or ``other``."""
    info = os.stat(path) if follow_symlinks else os.lstat(path)
    mode = info.st_mode
    link = None
    if stat.S_ISLNK(mode):
        kind, link = "link", os.readlink(path)
    elif stat.S_ISDIR(mode):
        kind = "dir"
    elif stat.S_ISREG(mode):
        kind = "file"
    else:
        kind = "other"
    return kind, info.st_size, mode & PERMISSION_BITS, info.st_mtime, info.st_atime, link


def walk(root, recursive, include, exclude, follow_symlinks, side):
    """Entries under the directory ``root``, parents before children:
    ``(relative, kind, size, mode, mtime, atime, link)``; files that the
    filters leave out, and sockets, devices and fifos, are not listed."""
    root = absolute(root)
    try:
        top = describe(root, True)
    except OSError as error:
        raise quiet(failure(error, "read directory", root, side))
    if top[0] != "dir":
        raise os_error(errno.ENOTDIR, "source is not a directory " + side, root)
    entries = []
    pending = [""]
    while pending:
        relative_dir = pending.pop(0)
        directory = os.path.join(root, relative_dir) if relative_dir else root
        try:
            names = sorted(os.listdir(directory))
        except OSError as error:
            raise quiet(failure(error, "read directory", directory, side))
        for name in names:
            relative = relative_dir + "/" + name if relative_dir else name
            path = os.path.join(directory, name)
            try:
                kind, size, mode, mtime, atime, link = describe(path, follow_symlinks)
            except OSError as error:
                if follow_symlinks and os.path.islink(path):
                    continue  # a dangling link cannot be followed
                raise quiet(failure(error, "read", path, side))
            if exclude and matches(relative, exclude):
                continue
            if kind == "dir":
                if recursive:
                    entries.append((relative, kind, 0, mode, mtime, atime, None))
                    pending.append(relative)
                continue
            if kind == "other" or (include and not matches(relative, include)):
                continue
            entries.append((relative, kind, size, mode, mtime, atime, link))
    if include:  # only the directories that lead to something included
        needed = set()  # type: Set[str]
        for entry in entries:
            if entry[1] != "dir":
                parts = entry[0].split("/")[:-1]
                needed.update("/".join(parts[: n + 1]) for n in range(len(parts)))
        entries = [entry for entry in entries if entry[1] != "dir" or entry[0] in needed]
    return entries


def join(root, relative):
    """``root`` joined with a relative path sent by the other end, refused if
    it tries to leave ``root``."""
    parts = relative.split("/")
    if relative.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError("refusing relative path {!r}".format(relative))
    return os.path.join(root, *parts)


def make_tree(root, directories, side):
    """Create ``root`` and ``directories`` (relative) under it; owner-writable
    until :func:`finish_tree` gives them their modes. An existing one must be
    a directory, not a link to one (see module doc)."""
    _real_directory(root, side, create=True)
    for relative in directories:
        _real_directory(inside(root, relative, side, create=True), side, create=True)


def finish_tree(root, directories, side):
    """Set ``(relative, mode, mtime, atime)`` of directories, deepest first;
    each is checked to be a directory, not a link, first."""
    for relative, mode, mtime, atime in sorted(directories, key=lambda d: -d[0].count("/")):
        path = inside(root, relative, side) if relative else root
        _real_directory(path, side)
        try:
            os.chmod(path, mode & PERMISSION_BITS)
            if mtime is not None:
                os.utime(path, (atime if atime is not None else mtime, mtime))
        except OSError as error:
            raise quiet(failure(error, "set the mode of", path, side))
