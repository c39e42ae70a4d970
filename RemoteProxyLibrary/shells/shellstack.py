"""Build a shell stack from data: a list of dicts with a ``shellname`` key."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from ..errors import UnknownShell
from .base import Shell
from .bash import BashShell
from .namespace import NamespaceShell
from .python import PythonShell
from .ssh import KeyAuthenticatedSshShell, SshShell
from .su import SuShell
from .sudo import SudoShell

BUILTIN_SHELLS: Mapping[str, type[Shell]] = {
    cls.shellname: cls
    for cls in (
        BashShell,
        SshShell,
        SudoShell,
        SuShell,
        PythonShell,
        NamespaceShell,
        KeyAuthenticatedSshShell,
    )
}


class ShellStack:
    """Turns shell dicts into shell objects.

    ``{'shellname': 'SshShell', 'host': 'h', 'username': 'u', 'password': 'p'}``
    becomes ``SshShell(host='h', username='u', password='p')``. ``shellname`` is
    a registered name (the built-in ones, or added with :meth:`register_shell`)
    or a dotted path ``package.module.ClassName`` to a :class:`Shell` subclass.
    """

    def __init__(self, shells: Optional[Mapping[str, type[Shell]]] = None) -> None:
        self._shells: dict[str, type[Shell]] = dict(BUILTIN_SHELLS)
        self._shells.update(shells or {})
        self.shells: list[Shell] = []

    def register_shell(self, name: str, shell_class: type[Shell]) -> None:
        """Make ``name`` usable as a ``shellname`` in this stack."""
        if not (isinstance(shell_class, type) and issubclass(shell_class, Shell)):
            raise TypeError(f"{shell_class!r} is not a Shell subclass")
        self._shells[name] = shell_class

    def initialize(self, shelldicts: Iterable[Mapping[str, Any]]) -> list[Shell]:
        """Create the shells of ``shelldicts`` (in order); also kept in ``shells``."""
        self.shells = [self.create(d) for d in shelldicts]
        return self.shells

    def create(self, shelldict: Mapping[str, Any]) -> Shell:
        """One shell from one dict."""
        kwargs = dict(shelldict)
        try:
            name = kwargs.pop("shellname")
        except KeyError:
            raise UnknownShell(f"shell dict has no 'shellname': keys {sorted(kwargs)}") from None
        shell_class = self._resolve(str(name))
        try:
            return shell_class(**kwargs)
        except TypeError as error:
            raise UnknownShell(f"cannot create {name} from {sorted(kwargs)}: {error}") from None

    def _resolve(self, name: str) -> type[Shell]:
        if name in self._shells:
            return self._shells[name]
        module_name, _, class_name = name.rpartition(".")
        if module_name:
            try:
                candidate = getattr(importlib.import_module(module_name), class_name)
            except (ImportError, AttributeError) as error:
                raise UnknownShell(f"cannot import shell {name!r}: {error}") from None
            if isinstance(candidate, type) and issubclass(candidate, Shell):
                return candidate
        known = ", ".join(sorted(self._shells))
        raise UnknownShell(f"unknown shellname {name!r}; known: {known}")
