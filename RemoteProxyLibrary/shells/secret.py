"""Passwords that never show up in a log, an exception or ``repr()``."""

from __future__ import annotations

from typing import Any, Optional, Union

MASK = "******"


class Secret:
    """A credential. ``str()`` and ``repr()`` are masked; ``value`` is the text."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = str(value)

    @property
    def value(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


SecretLike = Union[str, Secret, Any]


def as_secret(value: Optional[SecretLike]) -> Optional[Secret]:
    """Wrap ``value`` (a str, our Secret, or anything with a ``value`` such as
    ``robot.api.types.Secret``) as a :class:`Secret`; ``None`` stays ``None``."""
    if value is None or isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value)
    inner = getattr(value, "value", None)
    if isinstance(inner, str):
        return Secret(inner)
    raise TypeError(f"a password must be a string or a Secret, not {type(value).__name__}")


def scrub(text: str, *secrets: Optional[Secret]) -> str:
    """Replace every secret's value in ``text`` with the mask."""
    for secret in secrets:
        if secret is not None and secret.value:
            text = text.replace(secret.value, MASK)
    return text
