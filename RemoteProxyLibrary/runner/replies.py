"""The controller's reading of a reply: the value, or the exception to raise.

Sans-IO: a reply payload in, a value or an exception out. Every field comes
from the target and is checked (``wire.messages`` lays them out); nothing here
runs code the target sent.
"""

from __future__ import annotations

import builtins
import logging
from typing import Any, Callable, Optional

from ..errors import RemoteError, RunnerTerminalUnableToDeserialize, UnableToSerialize
from ..wire import codec, messages
from ..wire.messages import STATUS_CANNOT_TRAVEL, STATUS_OK

LOGGER = logging.getLogger("RemoteProxyLibrary.runner")

_MISSING = object()


def decode_reply(payload: Any) -> messages.Reply:
    """The reply's fields (value still encoded);
    :class:`RunnerTerminalUnableToDeserialize` when they are malformed."""
    try:
        return messages.decode_reply(payload)
    except codec.DecodeError as error:
        raise RunnerTerminalUnableToDeserialize(f"malformed reply: {error}") from None


def outcome(reply: messages.Reply, ref_decoder: Optional[Callable[[codec.Ref], Any]] = None) -> Any:
    """The value of ``reply`` (Refs turned into what ``ref_decoder`` makes of
    them), or raise what the reply says went wrong."""
    try:
        value = reply.value(ref_decoder if reply.status == STATUS_OK else None)
    except codec.DecodeError as error:
        raise RunnerTerminalUnableToDeserialize(f"cannot decode the reply: {error}") from None
    if reply.status == STATUS_OK:
        return value
    if reply.status == STATUS_CANNOT_TRAVEL:
        raise UnableToSerialize(f"return value cannot travel by value: {value}")
    raise remote_exception(value)


def remote_exception(description: Any) -> BaseException:
    """The local exception for a remote one: a builtin type as itself, any other
    as :class:`RemoteError`; ``remote_traceback`` holds the remote traceback.

    The remote exception's attributes that are plain data come along: set on
    a builtin one (``FileNotFoundError.filename``, ``SystemExit.code``), and
    readable as attributes of a :class:`RemoteError` (``error.returncode`` of
    a ``subprocess.CalledProcessError``)."""
    try:
        fields = messages.check_exception_description(description)
        module, qualname, args, message, remote_traceback, attributes = fields
    except codec.DecodeError as problem:
        return RunnerTerminalUnableToDeserialize(
            f"malformed exception description in the reply ({problem})"
        )
    LOGGER.info("Remote traceback:\n%s", remote_traceback)
    error: Optional[BaseException] = None
    cls = getattr(builtins, qualname, None) if module == "builtins" else None
    if isinstance(cls, type) and issubclass(cls, Exception):
        error = _builtin_exception(cls, args, message)
        if error is not None:
            for name, value in attributes.items():
                if name.startswith("_") or name == "args":
                    continue
                try:
                    if getattr(error, name, _MISSING) != value:
                        setattr(error, name, value)
                except (AttributeError, TypeError, ValueError):
                    pass  # read-only or of another type here: the message has it
    if error is None:
        name = qualname if module == "builtins" else f"{module}.{qualname}"
        error = RemoteError(name, message, remote_traceback, attributes)
    error.remote_traceback = remote_traceback  # type: ignore[attr-defined]
    if hasattr(error, "add_note"):
        error.add_note("Remote traceback:\n" + remote_traceback.rstrip())
    return error


def _builtin_exception(
    cls: type[Exception], args: Optional[tuple], message: str
) -> Optional[Exception]:
    """``cls(*args)``, else ``cls(message)``; None when neither fits (e.g.
    ExceptionGroup or UnicodeDecodeError with arguments that could not travel)."""
    for arguments in (args, (message,)) if args is not None else ((message,),):
        try:
            return cls(*arguments)
        except Exception:
            continue
    return None
