"""The agent's side of Python 2.7 and 3.6+: processes, files, threads, signals.

Shipped in the agent bundle (stdlib only) before the modules that use it;
``wire/compat.py`` holds what the wire layer needs (values, bytes). As there,
each name is chosen once, at import: the standard function itself on
Python 3, a small stand-in on 2.7.

On 2.7, system calls interrupted by a signal raise ``EINTR`` instead of
being retried (PEP 475 is 3.5+): :func:`read`, :func:`write` and
:func:`select` retry them. Text arguments of the command and file
operations arrive as ``unicode`` there and are handed to the system as
UTF-8 native strings (:func:`native_arguments`), as Python 3 hands over
its ``str`` (file names with surrogate escapes get their bytes back).
"""

import errno
import os
import select as _select
import subprocess
import sys
import time

from ..wire.compat import PY2, TEXT, native

__all__ = [
    "makedirs",
    "monotonic",
    "native_arguments",
    "read",
    "replace",
    "select",
    "spawn",
    "wait",
    "wait_for",
    "write",
]


def makedirs(path, mode=0o777):
    """``os.makedirs(path, mode, exist_ok=True)``."""
    try:
        os.makedirs(path, mode)
    except OSError as error:
        if error.errno != errno.EEXIST or not os.path.isdir(path):
            raise


def wait_for(condition, predicate, timeout):
    """``condition.wait_for(predicate, timeout)`` (held by the caller):
    the predicate's last value."""
    end = monotonic() + timeout
    result = predicate()
    while not result:
        remaining = end - monotonic()
        if remaining <= 0:
            break
        condition.wait(remaining)
        result = predicate()
    return result


def native_arguments(function):
    """``function`` taking its text arguments (also inside lists, tuples and
    dicts) as native strings on 2.7; ``function`` itself on Python 3."""
    if not PY2:
        return function

    def call(agent, *args):
        return function(agent, *[_native(arg) for arg in args])

    call.__name__ = function.__name__
    call.__doc__ = function.__doc__
    return call


def _native(value):
    if isinstance(value, TEXT):
        return native(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_native(item) for item in value)
    if isinstance(value, dict):
        return dict((_native(key), _native(item)) for key, item in value.items())
    return value


if sys.version_info[0] == 2:
    replace = os.rename  # atomic over an existing file on POSIX, as os.replace

    def monotonic():
        """Seconds of a clock that never goes back (``os.times``' elapsed
        time: since boot on Linux, in clock ticks)."""
        return os.times()[4]

    def _retry(function, *args):
        while True:
            try:
                return function(*args)
            except (OSError, IOError, _select.error) as error:
                if error.args[0] != errno.EINTR:
                    raise

    def read(fd, size):
        """``os.read``, retried when a signal interrupts it."""
        return _retry(os.read, fd, size)

    def write(fd, data):
        """``os.write``, retried when a signal interrupts it."""
        return _retry(os.write, fd, data)

    def select(rlist, wlist, xlist, timeout=None):
        """``select.select``, retried when a signal interrupts it."""
        return _retry(_select.select, rlist, wlist, xlist, timeout)

    def spawn(args, stdin, merge, cwd, env):
        """A child in a session of its own (``start_new_session``) with
        stdout, and stderr unless ``merge``, on pipes."""
        return subprocess.Popen(
            list(args),
            stdin=subprocess.PIPE if stdin else open(os.devnull, "rb"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge else subprocess.PIPE,
            cwd=cwd,
            env=env,
            preexec_fn=os.setsid,
            close_fds=True,
            bufsize=0,
        )

    def wait(process, timeout):
        """Wait for ``process`` to end, at most ``timeout`` seconds (None: no
        limit); True once it ended."""
        if timeout is None:
            process.wait()
            return True
        end = monotonic() + timeout
        delay = 0.001
        while process.poll() is None:
            remaining = end - monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)
        return True

else:
    replace = os.replace  # novm
    monotonic = time.monotonic  # novm
    read = os.read
    write = os.write
    select = _select.select

    def spawn(args, stdin, merge, cwd, env):
        """A child in a session of its own (``start_new_session``) with
        stdout, and stderr unless ``merge``, on pipes."""
        return subprocess.Popen(  # novm (3.2+: start_new_session, DEVNULL)
            list(args),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge else subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
            bufsize=0,
        )

    def wait(process, timeout):
        """Wait for ``process`` to end, at most ``timeout`` seconds (None: no
        limit); True once it ended."""
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:  # novm
            return False
        return True
