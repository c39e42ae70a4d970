"""What the reference classes show as keywords when used as Robot libraries.

The older library's users import its classes straight into Robot
(``Library  RemoteProxyLibrary.runnerterminal.RunnerTerminal  WITH NAME  t``),
where every public method becomes a keyword. Methods that are not part of the
reference API (``evaluate``, ``send_request``, ...) are marked here so that
Robot leaves them out: no ``Evaluate`` keyword then hides BuiltIn's. The mark
is the attribute Robot's own ``robot.api.deco.not_keyword`` sets; the engine
does not import Robot for it.
"""

from __future__ import annotations

from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable[..., object])


def not_keyword(function: F) -> F:
    """Leave ``function`` out of the keywords of a class used as a library."""
    function.robot_not_keyword = True  # type: ignore[attr-defined]
    return function
