"""Files on the target: the agent's side of ``runner.files``.

Shipped in the agent bundle (stdlib only, Python 2.7 and 3.6+). Where files go,
temporary names, atomic writes and the rest are the rules of ``filerules``,
which the controller follows too.

Ops (registered in the agent's ``OPS``): ``put_open``, ``put_chunk``,
``put_commit``, ``put_abort``, ``put_link``, ``put_batch``, ``tree_make``,
``tree_finish``, ``get_open``, ``get_chunk``, ``get_close``, ``get_abort``,
``tree_list``, ``get_batch``. Chunks of one transfer are written or read
strictly in offset order (requests in flight run in several worker threads;
each waits for its turn), so each end hashes the stream as it goes. Transfers
still open when the agent closes are aborted (their temporary files removed).
"""

import errno
import hashlib
import os
import threading

from ..wire.compat import binary, quiet
from .compat import native_arguments, wait_for
from .filerules import (
    TARGET,
    AtomicFile,
    absolute,
    describe,
    describe_source,
    expand,
    failure,
    file_destination,
    finish_tree,
    inside,
    join,
    make_tree,
    os_error,
    sweep,
    tree_destination,
    walk,
    write_link,
    write_whole,
)

#: Seconds a chunk waits for the chunks before it (lost ones fail the transfer).
TURN_TIMEOUT = 120.0


class _Turns(object):
    """Chunks of one transfer, one at a time in offset order."""

    def __init__(self):
        self.cond = threading.Condition()
        self.position = 0
        self.error = None

    def wait_for(self, offset):
        """Block until ``offset`` is next (call holding ``cond``)."""
        if not wait_for(self.cond, lambda: self.position == offset or self.error is not None,
                        TURN_TIMEOUT):  # fmt: skip
            self.error = os_error(errno.ETIMEDOUT, "chunk at offset {} waited {} s for the ones "
                                "before it".format(offset, TURN_TIMEOUT), None)  # fmt: skip
        if self.error is not None:
            raise self.error

    def fail(self, error):
        self.error = error
        self.cond.notify_all()


class Upload(_Turns):
    def __init__(self, final):
        _Turns.__init__(self)
        sweep(final)
        self.file = AtomicFile(final, TARGET)

    def chunk(self, offset, data):
        with self.cond:
            self.wait_for(offset)
            try:
                self.file.write(data)
            except OSError as error:
                self.fail(error)
                raise
            self.position += len(data)
            self.cond.notify_all()
        return self.position

    def commit(self, size, digest, mode, times):
        with self.cond:
            self.wait_for(size)
            return self.file.commit(digest, size, mode, times)

    def abort(self):
        with self.cond:
            self.fail(os_error(errno.ECANCELED, "transfer aborted", self.file.final))
            self.file.abort()


class Download(_Turns):
    def __init__(self, path, fd, size):
        _Turns.__init__(self)
        self.path = path
        self.fd = fd  # -1: closed
        self.size = size
        self.sha = hashlib.sha256()

    def chunk(self, offset, length):
        with self.cond:
            self.wait_for(offset)
            try:
                data = os.read(self.fd, length)
            except OSError as error:
                problem = failure(error, "read", self.path, TARGET)
                self.fail(problem)
                raise quiet(problem)
            self.sha.update(data)
            self.position += len(data)
            if len(data) < length:  # the file shrank: the next chunk fails at once
                self.fail(os_error(errno.EIO, "source file changed (shrank) during the transfer",
                                 self.path))  # fmt: skip
            self.cond.notify_all()
            return binary(data)

    def close(self):
        with self.cond:
            self.wait_for(self.size)
            os.close(self.fd)
            self.fd = -1
            return self.position, self.sha.hexdigest()

    def abort(self):
        with self.cond:
            self.fail(os_error(errno.ECANCELED, "transfer aborted", self.path))
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1


class Transfers(object):
    """The transfers of one agent run, by id."""

    def __init__(self):
        self.lock = threading.Lock()
        self.open = {}
        self.counter = 0

    def add(self, transfer):
        with self.lock:
            self.counter += 1
            self.open[self.counter] = transfer
            return self.counter

    def get(self, tid):
        with self.lock:
            transfer = self.open.get(tid)
        if transfer is None:
            raise LookupError("no transfer {} on the target (finished, aborted, or its agent "
                              "was restarted)".format(tid))  # fmt: skip
        return transfer

    def pop(self, tid):
        with self.lock:
            return self.open.pop(tid, None)

    def close(self):
        """Abort every transfer still open (the agent is closing)."""
        with self.lock:
            transfers = list(self.open.values())
            self.open.clear()
        for transfer in transfers:
            transfer.abort()


def _times(mtime, atime):
    return None if mtime is None else (atime if atime is not None else mtime, mtime)


def _put_open(agent, destination, name, create_dirs):
    final = file_destination(destination, name, create_dirs, TARGET)
    return agent.transfers.add(Upload(final)), final


def _put_chunk(agent, tid, offset, data):
    return agent.transfers.get(tid).chunk(offset, data)


def _put_commit(agent, tid, size, digest, mode, mtime, atime):
    try:
        return agent.transfers.get(tid).commit(size, digest, mode, _times(mtime, atime))
    finally:
        agent.transfers.pop(tid)


def _abort(agent, tid):
    transfer = agent.transfers.pop(tid)
    if transfer is not None:
        transfer.abort()


def _put_link(agent, destination, name, target, create_dirs):
    final = file_destination(destination, name, create_dirs, TARGET)
    return write_link(final, target, TARGET)


def _put_batch(agent, root, entries, clean):
    """Write ``entries`` ``(relative, kind, data, digest, mode, mtime, atime)``
    under ``root`` (kind ``file`` or ``link``: then ``data`` is its target
    text); ``clean`` sweeps temporary files of a broken earlier try first."""
    for relative, kind, data, digest, mode, mtime, atime in entries:
        final = inside(root, relative, TARGET)
        if clean:
            sweep(final)
        if kind == "link":
            write_link(final, data, TARGET)
        else:
            write_whole(final, data, digest, mode, _times(mtime, atime), TARGET)
    return len(entries)


def _tree_make(agent, destination, name, create_dirs, directories):
    root = tree_destination(destination, name, create_dirs, TARGET)
    make_tree(root, directories, TARGET)
    return root


def _tree_finish(agent, root, directories):
    finish_tree(root, directories, TARGET)


def _get_open(agent, source, follow_symlinks):
    """``(tid, kind, size, mode, mtime, atime, link)``; tid is 0 for a link
    (``follow_symlinks`` false: the controller asked for the link itself)."""
    path = absolute(source)
    kind, size, mode, mtime, atime, link = describe_source(path, follow_symlinks, TARGET)
    if kind == "link":
        return 0, kind, size, mode, mtime, atime, link
    if kind == "dir":
        raise os_error(errno.EISDIR, "source is a directory " + TARGET + " (use Get Directory)",
                     path)  # fmt: skip
    if kind != "file":
        raise os_error(errno.EINVAL, "source is not a regular file " + TARGET, path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise quiet(failure(error, "read", path, TARGET))
    return agent.transfers.add(Download(path, fd, size)), kind, size, mode, mtime, atime, None


def _get_chunk(agent, tid, offset, length):
    return agent.transfers.get(tid).chunk(offset, length)


def _get_close(agent, tid):
    try:
        return agent.transfers.get(tid).close()
    finally:
        agent.transfers.pop(tid)


def _tree_list(agent, source, recursive, include, exclude, follow_symlinks):
    """``(root, (mode, mtime, atime), entries)``: see :func:`walk`."""
    root = os.path.abspath(expand(source))
    entries = walk(root, recursive, include, exclude, follow_symlinks, TARGET)
    _, _, mode, mtime, atime, _ = describe(root, True)
    return root, (mode, mtime, atime), entries


def _get_batch(agent, root, relatives):
    """``[(relative, data, digest)]`` of small files under ``root``."""
    out = []
    for relative in relatives:
        path = join(root, relative)
        try:
            with open(path, "rb") as source:
                data = source.read()
        except OSError as error:
            raise quiet(failure(error, "read", path, TARGET))
        out.append((relative, binary(data), hashlib.sha256(data).hexdigest()))
    return out


OPS = {
    "put_open": native_arguments(_put_open),
    "put_chunk": native_arguments(_put_chunk),
    "put_commit": native_arguments(_put_commit),
    "put_abort": native_arguments(_abort),
    "put_link": native_arguments(_put_link),
    "put_batch": native_arguments(_put_batch),
    "tree_make": native_arguments(_tree_make),
    "tree_finish": native_arguments(_tree_finish),
    "get_open": native_arguments(_get_open),
    "get_chunk": native_arguments(_get_chunk),
    "get_close": native_arguments(_get_close),
    "get_abort": native_arguments(_abort),
    "tree_list": native_arguments(_tree_list),
    "get_batch": native_arguments(_get_batch),
}
