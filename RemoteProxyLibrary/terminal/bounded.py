"""pexpect with bounded memory, whatever the other end prints.

pexpect keeps everything read since the last match (``before``), and with a
regular expression and no search window it also searches all of it again on
every read: a target that prints without end while a prompt, a password
question or stage-0's ready line is awaited made the controller hold
gigabytes and spend quadratic time. :func:`bound` gives a spawn a search
window (:data:`SEARCH_WINDOW`, more than one read, so every new byte is
searched; prompts and markers are far shorter) and buffers that keep only
their last :data:`KEEP` characters, still more than any window pexpect
searches, so what a match leaves after it and the end of ``before`` shown in
errors are as before.

A command run with ``exec_command`` is asked for its output: within
:func:`whole_output` the buffers keep everything, as pexpect does (the
command's timeout bounds it).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any, Optional

#: Characters of the newest output pexpect searches for a pattern (more than
#: the largest read, 64 KiB, so no new byte goes unsearched).
SEARCH_WINDOW = 128 * 1024
#: Characters a buffer keeps when it trims itself (it grows to twice that).
KEEP = 256 * 1024


class TailStringIO(io.StringIO):
    """A StringIO written at its end (as pexpect does) that drops its oldest
    text past twice its owner's ``rpl_keep`` characters (None: keeps all)."""

    def __init__(self, owner: Any) -> None:
        super().__init__()
        self._owner = owner

    def write(self, text: str) -> int:
        written = super().write(text)
        keep: Optional[int] = self._owner.rpl_keep
        if keep is not None and self.tell() > 2 * keep:
            tail = self.getvalue()[-keep:]
            self.seek(0)
            self.truncate(0)
            super().write(tail)
        return written


def bound(spawn: Any) -> Any:
    """Bound ``spawn``'s (a pexpect spawn in text mode) search and buffers;
    returns it. Call before anything is read."""
    spawn.rpl_keep = KEEP
    spawn.searchwindowsize = SEARCH_WINDOW
    spawn.buffer_type = lambda: TailStringIO(spawn)
    # pexpect's own buffers (no public setter): made now with the new type
    spawn._buffer = spawn.buffer_type()
    spawn._before = spawn.buffer_type()
    return spawn


@contextlib.contextmanager
def whole_output(spawn: Any) -> Iterator[None]:
    """Within: ``spawn``'s buffers keep everything (and a match searches
    everything since the last one, as pexpect does without a window)."""
    keep, window = getattr(spawn, "rpl_keep", None), spawn.searchwindowsize
    spawn.rpl_keep, spawn.searchwindowsize = None, None
    try:
        yield
    finally:
        spawn.rpl_keep, spawn.searchwindowsize = keep, window
