"""What the target says between replies, kept for the next caller to log.

The reader thread keeps the target's background output (``O`` messages) and
terminal noise here; the next caller drains and logs it. A target can send
such text without end, so what is kept is bounded in characters, not only in
entries: each entry is cut at :data:`MAX_ENTRY_CHARS`, and past
:data:`MAX_CHARS` in all the oldest entries go. What was cut or dropped is
counted, and the next drain says so.
"""

from __future__ import annotations

import threading
from collections import deque

#: Characters kept of one notice.
MAX_ENTRY_CHARS = 64 * 1024
#: Characters kept of all notices waiting to be logged.
MAX_CHARS = 1024 * 1024


class Notices:
    """A bounded queue of ``(stream, text)`` notices; thread-safe."""

    def __init__(self, max_chars: int = MAX_CHARS, max_entry_chars: int = MAX_ENTRY_CHARS) -> None:
        self._items: deque[tuple[str, str]] = deque()
        self._chars = 0
        self._dropped_entries = 0
        self._dropped_chars = 0
        self._max_chars = max_chars
        self._max_entry_chars = max_entry_chars
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def chars(self) -> int:
        """Characters held now."""
        return self._chars

    def append(self, notice: tuple[str, str]) -> None:
        """Keep ``notice`` (cut if long; the oldest go if there is too much)."""
        stream, text = notice
        if len(text) > self._max_entry_chars:
            cut = len(text) - self._max_entry_chars
            text = f"{text[: self._max_entry_chars]}\n[... {cut} more characters not kept]"
            with self._lock:
                self._dropped_chars += cut
        with self._lock:
            self._items.append((stream, text))
            self._chars += len(text)
            while self._chars > self._max_chars and len(self._items) > 1:
                _, old = self._items.popleft()
                self._chars -= len(old)
                self._dropped_entries += 1
                self._dropped_chars += len(old)

    def drain(self) -> list[tuple[str, str]]:
        """Every notice kept, oldest first, then one saying what was dropped
        (as noise) if anything was."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self._chars = 0
            entries, chars = self._dropped_entries, self._dropped_chars
            self._dropped_entries = self._dropped_chars = 0
        if entries or chars:
            items.append(
                ("noise", f"{entries} notices and {chars} characters of target output or "
                          "noise were not kept (too much between two calls)")
            )  # fmt: skip
        return items
