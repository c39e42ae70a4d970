"""Argument types of the keywords and their Robot Framework converters."""

from __future__ import annotations

import ast
from typing import Any, Union

from robot.utils import secs_to_timestr, timestr_to_secs

from ..managed import TerminalInfo
from ..runner import RunnerTerminal
from .calls import RemoteCall


class Seconds(float):
    """A time in seconds: a Robot Framework time string such as ``10 s``,
    ``1 min 30 s`` or ``1 hour``, or a plain number of seconds such as ``2.5``."""

    @classmethod
    def from_value(cls, value: Union[str, int, float]) -> Seconds:
        return cls(timestr_to_secs(value))

    def __str__(self) -> str:
        return secs_to_timestr(float(self)) if self >= 0 else f"{float(self):g} seconds"

    __repr__ = __str__


#: Defaults of the library's time arguments.
DEFAULT_TIMEOUT = Seconds(3600)
DEFAULT_PROMPT_TIMEOUT = Seconds(30)
DEFAULT_SLEEP_BETWEEN_TRIES = Seconds(1)


class Terminals(list):
    """Terminals named by index or alias: one of them (``dut1``, ``2``) or a
    list of them (``${{['dut1', 'dut2']}}``, or the text ``['dut1', 2]``)."""

    @classmethod
    def from_value(cls, value: Union[str, int, list, tuple]) -> Terminals:
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                value = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                raise ValueError(f"{value!r} is not a list of indices or aliases") from None
        if isinstance(value, (list, tuple)):
            for item in value:
                if not isinstance(item, (int, str)) or isinstance(item, bool):
                    raise ValueError(
                        f"a terminal is an index or an alias, not {type(item).__name__}: {item!r}"
                    )
            return cls(value)
        if value == "":
            return cls()  # none given (as an empty list)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return cls([value])
        raise ValueError("expected an index or alias of a terminal, or a list of them")


class Proxy:
    """A proxy of a remote object (as returned by `Get Proxy` and others), or
    the name under which a proxy is registered in the terminal's proxy registry
    (see `Proxy registry`). Names are looked up in the terminal given with
    ``terminal``, by default the current terminal."""

    # Only a type for argument conversion and documentation: never instantiated.

    @staticmethod
    def from_value(value: object) -> Any:
        # A proxy is passed as it is; a string is a name, resolved by the keyword
        # in the terminal it works on (the converter does not know which). No
        # docstring here: Robot would show it instead of the class's.
        if RunnerTerminal.isproxy(value) or isinstance(value, str):
            return value
        raise ValueError("expected a proxy or the name of a registered proxy")


def _remote_call(value: object) -> RemoteCall:
    raise ValueError(
        "expected what 'Start Remote Function Call' or 'Start Proxy Method Call' returned"
    )


def _terminal_info(value: object) -> TerminalInfo:
    raise ValueError("expected what 'Get Terminal' returned")


#: ``ROBOT_LIBRARY_CONVERTERS`` of the library (RemoteCall and TerminalInfo
#: are there for libdoc, which documents the types it knows converters of).
CONVERTERS = {
    Seconds: Seconds.from_value,
    Proxy: Proxy.from_value,
    Terminals: Terminals.from_value,
    RemoteCall: _remote_call,
    TerminalInfo: _terminal_info,
}
