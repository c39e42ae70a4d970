"""Text from the target, made safe to show: no markup, no raw control characters.

Anything the target sends (an exception's message, a type or module name, a
handle name, a traceback, what remote code printed) is input, and may end up
in a Robot Framework log, a console or a log file. Two things in it must never
take effect there:

- Robot Framework reads a failure message that starts with ``*HTML*`` as HTML
  (``log.html`` and ``report.html`` would run its script): such text gets a
  backslash in front of the marker, so it shows as the text it is.
- Control and format characters (ESC sequences that drive a terminal, newlines
  or bidi overrides that forge log lines, lone surrogates) are written as
  Python escapes (``\\x1b``, ``\\n``, ``\\u202e``).

:func:`safe_line` is for names, which are one line; :func:`safe_block` keeps the newlines
and tabs of multi-line text (messages, tracebacks, output). Both return the
text itself, unchanged, when there is nothing to neutralise. The raw text stays
available where a program reads it (``remote_message``, ``remote_traceback``,
the ``args`` of an exception); only what is shown goes through here.
:func:`safe_repr` shows a value the target sent where a program expected
something else: short, on one line, safe.
"""

from __future__ import annotations

import reprlib
from typing import Any

_MARKER = "*HTML*"
_LINE_BREAKS = str.maketrans("", "", "\n\t")


def safe_line(text: str) -> str:
    """``text`` as one safe line: every non-printable character escaped."""
    if not text.isprintable():
        text = "".join(_escape(char) for char in text)
    return _unmarked(text)


def safe_block(text: str) -> str:
    """``text`` safe to show, keeping its newlines and tabs."""
    if not text.translate(_LINE_BREAKS).isprintable():
        text = "".join(char if char in "\n\t" else _escape(char) for char in text)
    return _unmarked(text)


def _escape(char: str) -> str:
    if char.isprintable():
        return char
    return char.encode("unicode_escape", "backslashreplace").decode("ascii")


def _unmarked(text: str) -> str:
    """Robot's ``*HTML*`` marker at the start, shown as text."""
    stripped = text.lstrip()
    if stripped.startswith(_MARKER):
        start = len(text) - len(stripped)
        return text[:start] + "\\" + text[start:]
    return text


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 200


def safe_repr(value: Any) -> str:
    """``repr(value)`` shortened (``reprlib``: long strings, deep or long
    containers cut with ``...``) as a :func:`safe_line`; a value holding an
    int too large for ``repr`` is named by its type."""
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int beyond str()'s digits
        return f"<{type(value).__name__} holding an int too large to show>"
    return safe_line(text)
