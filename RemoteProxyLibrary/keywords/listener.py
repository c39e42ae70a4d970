"""The library's listener: closes every terminal when the execution ends.

A separate object (``ROBOT_LIBRARY_LISTENER``), so its methods are not keywords.
"""

from __future__ import annotations

from typing import Any, Callable


class LibraryListener:
    """Listener API v3: at the end of the top suite, and when the library goes
    out of scope (``close``), every terminal is closed."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, close_all: Callable[[], None]) -> None:
        self._close_all = close_all

    def end_suite(self, data: Any, result: Any) -> None:
        if getattr(data, "parent", None) is None:
            self._close_all()

    def close(self) -> None:
        self._close_all()
