"""The controller's reading of a reply: the value, or the exception to raise.

Sans-IO: a reply payload in, a value or an exception out. Every field comes
from the target and is checked (``wire.messages`` lays them out); nothing here
runs code the target sent. The target's text reaches messages and logs only
made safe (:mod:`..remotetext`): a remote ``ValueError('*HTML*<img ...>')``
is raised as a ``ValueError`` whose ``args`` are as sent and whose ``str()``
shows the marker as text.
"""

from __future__ import annotations

import builtins
import logging
from typing import Any, Callable, Optional

from ..errors import (
    ProtocolViolation,
    RemoteError,
    RunnerTerminalUnableToDeserialize,
    UnableToSerialize,
)
from ..remotetext import safe_block, safe_repr
from ..wire import codec, messages
from ..wire.messages import STATUS_CANNOT_TRAVEL, STATUS_OK

LOGGER = logging.getLogger("RemoteProxyLibrary.runner")

_MISSING = object()


def odd_reply(op: str, what: str, value: Any) -> ProtocolViolation:
    """The error for a reply to ``op`` whose ``what`` (``value``, shown
    safely) makes no sense."""
    return ProtocolViolation(f"the target's reply to {op} made no sense: {what} was "
                             f"{safe_repr(value)}")  # fmt: skip


def decode_reply(payload: Any) -> messages.Reply:
    """The reply's fields (value still encoded);
    :class:`RunnerTerminalUnableToDeserialize` when they are malformed."""
    try:
        return messages.decode_reply(payload)
    except codec.DecodeError as error:
        raise RunnerTerminalUnableToDeserialize(f"malformed reply: {error}") from None


def value_of(
    reply: messages.Reply, ref_decoder: Optional[Callable[[codec.Ref], Any]] = None
) -> Any:
    """The decoded value of ``reply`` (an exception description or a reason
    when it is not ok): the CPU work of reading a reply, logging nothing."""
    try:
        return reply.value(ref_decoder if reply.status == STATUS_OK else None)
    except codec.DecodeError as error:
        raise RunnerTerminalUnableToDeserialize(f"cannot decode the reply: {error}") from None


def outcome(
    reply: messages.Reply,
    ref_decoder: Optional[Callable[[codec.Ref], Any]] = None,
    value: Any = _MISSING,
) -> Any:
    """The value of ``reply`` (Refs turned into what ``ref_decoder`` makes of
    them), or raise what the reply says went wrong. ``value``: the reply's
    value already decoded by :func:`value_of`."""
    if value is _MISSING:
        value = value_of(reply, ref_decoder)
    if reply.status == STATUS_OK:
        return value
    if reply.status == STATUS_CANNOT_TRAVEL:
        if not isinstance(value, str):  # the agent sends a text; anything else is a lie
            value = f"(the target gave a {type(value).__name__} as the reason)"
        raise UnableToSerialize(f"return value cannot travel by value: {safe_block(value)}")
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
    error: Optional[BaseException] = None
    cls = getattr(builtins, qualname, None) if module == "builtins" else None
    if isinstance(cls, type) and issubclass(cls, Exception):
        error = _builtin_exception(cls, args, message)
        if error is not None:
            # Attributes first: they can make str() (SyntaxError.msg,
            # OSError.strerror), so it is checked as it finally reads.
            _set_attributes(error, attributes)
            safe = _shown_safely(error, message)
            if safe is not error:
                _set_attributes(safe, attributes)
            error = safe
    if error is None:
        name = qualname if module == "builtins" else f"{module}.{qualname}"
        error = RemoteError(name, message, remote_traceback, attributes)
    error.remote_traceback = remote_traceback  # type: ignore[attr-defined]
    if hasattr(error, "add_note"):
        error.add_note("Remote traceback:\n" + safe_block(remote_traceback).rstrip())
    return error


def _set_attributes(error: Exception, attributes: dict) -> None:
    for name, value in attributes.items():
        if name.startswith("_") or name == "args":
            continue
        try:
            if getattr(error, name, _MISSING) != value:
                setattr(error, name, value)
        except (AttributeError, TypeError, ValueError):
            pass  # read-only or of another type here: the message has it


def _shown_safely(error: Exception, message: str) -> Exception:
    """``error`` itself when its ``str()`` is safe to show; else the same
    exception (same type name, a subclass of its type, same ``args``) whose
    ``str()`` is the safe form (see :mod:`..remotetext`). A ``str()`` that
    fails (an int above Python's digit limit) shows the target's message."""
    try:
        text = str(error)
    except Exception:
        text = None
    shown = safe_block(message if text is None else text)
    if shown == text:
        return error
    cls = type(error)
    lookalike = type(
        cls.__name__,
        (cls,),
        {"__module__": cls.__module__, "__qualname__": cls.__qualname__, "__str__": _shown},
    )
    try:
        safe = lookalike(*error.args)
    except Exception:  # cannot happen with args cls took; stay on the safe side
        safe = lookalike()
    safe._rpl_shown = shown
    return safe


def _shown(error: BaseException) -> str:
    return str(error.__dict__.get("_rpl_shown", ""))


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
