"""Remote calls started in the background: what the ``Start ... Call`` keywords
return and `Get Call Response` takes."""

from __future__ import annotations

import re
from typing import Any, Optional

from ..errors import RemoteTimeout
from ..runner import RunnerTerminal

_UNSET = object()


class RemoteCall:
    """A remote call running in the background. Give it to `Get Call Response`.

    ``description`` says what was called; the call's value (or exception) is
    kept once fetched, so asking again gives the same answer.
    """

    def __init__(
        self, target: Any, handle: RemoteTimeout, description: str, timeout: float
    ) -> None:
        self._target = target
        self._handle = handle
        self._timeout = timeout
        self._value: Any = _UNSET
        self._error: Optional[BaseException] = None
        self.description = description

    @classmethod
    def start(
        cls, target: Any, args: tuple, kwargs: dict, description: str, timeout: float
    ) -> RemoteCall:
        """Call ``target`` (a proxy of a callable, or a method attribute
        ``proxy.name``) without waiting; its settings stay as they are."""
        if not RunnerTerminal.isproxy(target):
            raise TypeError(f"{description} is not a remote callable: {target!r}")
        return cls(target, RunnerTerminal.start_call(target, *args, **kwargs), description, timeout)

    def response(self, timeout: Optional[float] = None) -> Any:
        """The call's value; waits at most ``timeout`` seconds (default: the
        terminal's call timeout), then raises :class:`RemoteTimeout` and the
        call can be waited for again."""
        if self._error is not None:
            raise self._error
        if self._value is not _UNSET:
            return self._value
        wait = self._timeout if timeout is None else timeout
        try:
            value = self._target.get_remote_proxy_response(self._handle, wait)
        except RemoteTimeout:
            raise RemoteTimeout(
                self._handle.response_id,
                message=f"Call {self.description} did not finish within {wait:g} s; "
                "its response can be asked for again.",
            ) from None
        except Exception as error:
            self._error = error
            raise
        self._value = value
        return value

    def __repr__(self) -> str:
        return f"<RemoteCall {self.description}>"


def with_string_argument_hint(call: Any, args: tuple, kwargs: dict) -> Any:
    """``call()``; a remote ``TypeError`` of a call given strings says that Robot
    gives strings and where the docs show how to pass other values."""
    try:
        return call()
    except TypeError as error:
        remote_traceback = getattr(error, "remote_traceback", None)
        given = [*args, *kwargs.values()]
        if remote_traceback is None or not any(isinstance(value, str) for value in given):
            raise
        hinted = TypeError(
            f"{error} (arguments from Robot are strings: see 'Arguments' in the library "
            "documentation for passing numbers, lists and other values)"
        )
        hinted.remote_traceback = remote_traceback  # type: ignore[attr-defined]
        raise hinted from None


#: What a function name is looked up in on the target without an import (the
#: agent's namespace; `Run Python` adds to it).
NAMESPACE_HINT = (
    "import modules first with 'Import Remote Module'; only os and sys are there without an import"
)
_NOT_DEFINED = re.compile(r"name '([A-Za-z_]\w*)' is not defined")
_FIRST_NAME = re.compile(r"\s*([A-Za-z_]\w*)")


def with_name_hint(call: Any, function: str) -> Any:
    """``call()``; a remote ``NameError`` for the first name of ``function``
    (``socket`` of ``socket.gethostname``: its module was not imported) says
    to import it with `Import Remote Module`."""
    try:
        return call()
    except NameError as error:
        remote_traceback = getattr(error, "remote_traceback", None)
        missing = _NOT_DEFINED.search(str(error))
        first = _FIRST_NAME.match(function)
        if remote_traceback is None or not missing or not first:
            raise
        if missing.group(1) != first.group(1):
            raise  # raised inside the function: not a missing import
        hinted = NameError(f"{error} ({NAMESPACE_HINT})")
        hinted.remote_traceback = remote_traceback  # type: ignore[attr-defined]
        notes = getattr(error, "__notes__", None)
        if notes:  # the remote traceback (Python 3.11+)
            setattr(hinted, "__notes__", list(notes))  # noqa: B010
        raise hinted from None


def with_call_hints(call: Any, function: str, args: tuple, kwargs: dict) -> Any:
    """``call()`` of ``function`` with ``args`` and ``kwargs``, with the hints
    of :func:`with_string_argument_hint` and :func:`with_name_hint`."""
    return with_name_hint(lambda: with_string_argument_hint(call, args, kwargs), function)
