"""Values from the target as keywords return them to Robot Framework.

Robot logs a keyword's return value as text in ``output.xml``: a returned
``str``, and each item of a list or dict assigned to several variables or to
``@{list}``/``&{dict}``. XML cannot hold a lone surrogate, which is how text
that is not UTF-8 on the target arrives (a Latin-1 file name, a Python 2.7
native ``str``): Robot then fails writing its own log and leaves an
``output.xml`` that nothing can read, for the whole run. So those strings come
back with the lone surrogates written as ``\\udcXX`` escapes; the Python API
keeps the exact text (``.encode('utf-8', 'surrogateescape')`` gives the
target's bytes back, also inside `Run Python`).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def loggable_text(text: str) -> str:
    """``text`` with any lone surrogate as an escape (unchanged otherwise)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def loggable(value: Any) -> Any:
    """``value`` with the strings Robot logs as text made loggable: itself if
    a string, and the strings among its items (keys too) if a list, tuple or
    dict. Anything else, and a container that needs no change, is returned
    as it is (the same object)."""
    if isinstance(value, str):
        return loggable_text(value)
    if type(value) in (list, tuple):
        items = [loggable_text(item) if isinstance(item, str) else item for item in value]
        if any(new is not old for new, old in zip(items, value)):
            return type(value)(items)
        return value
    if type(value) is dict:
        pairs = [
            (loggable_text(key) if isinstance(key, str) else key,
             loggable_text(item) if isinstance(item, str) else item)
            for key, item in value.items()
        ]  # fmt: skip
        if any(new[0] is not old[0] or new[1] is not old[1]
               for new, old in zip(pairs, value.items())):  # fmt: skip
            return dict(pairs)
    return value


def returns_target_data(method: F) -> F:
    """Make what ``method`` (a keyword) returns loggable (see the module doc)."""

    @functools.wraps(method)
    def keyword(*args: Any, **kwargs: Any) -> Any:
        return loggable(method(*args, **kwargs))

    return keyword  # type: ignore[return-value]
