"""Times given to the engine: seconds as numbers, or Robot Framework time strings.

The reference classes are also used directly as Robot libraries
(``Library  RemoteProxyLibrary.runnerterminal.RunnerTerminal``), where every
argument arrives as a string: ``"10 s"``, ``"1 min 30 s"``, ``"500 ms"`` mean
what they mean in Robot. Such a string is read with Robot Framework's own
``timestr_to_secs``, imported only when a non-numeric string is given (so the
engine does not import Robot otherwise).
"""

from __future__ import annotations

from typing import Optional, Union

TimeLike = Union[float, int, str]


def seconds(value: TimeLike) -> float:
    """``value`` in seconds: a number, a numeric string or a time string."""
    if isinstance(value, bool):
        raise TypeError(f"a time is a number of seconds or a time string, not {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        from robot.utils import timestr_to_secs  # a time string such as '1 min 30 s'

        try:
            return float(timestr_to_secs(value))
        except ValueError:
            raise ValueError(
                f"invalid time {value!r}: give seconds (2.5) or a time string ('1 min 30 s')"
            ) from None
    raise TypeError(f"a time is a number of seconds or a time string, not {type(value).__name__}")


def optional_seconds(value: Optional[TimeLike]) -> Optional[float]:
    """:func:`seconds`, with None (and Robot's ``None`` string) kept as None."""
    if value is None or (isinstance(value, str) and value.strip().upper() == "NONE"):
        return None
    return seconds(value)
