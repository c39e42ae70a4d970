"""Porting alias: ``RemoteProxyLibrary.InteractiveSession`` as in the older library.

There ``InteractiveSession`` was a module holding the class of the same name
and the shells, and code wrote both ``from crl.interactivesessions import
InteractiveSession`` then ``InteractiveSession.InteractiveSession()`` or
``InteractiveSession.BashShell()``, and ``from
crl.interactivesessions.InteractiveSession import InteractiveSession``. Here the
package's ``InteractiveSession`` is the class, and the class also carries
those names, so both spellings keep working.
"""

from .shells import (
    BashShell,
    KeyAuthenticatedSshShell,
    NamespaceShell,
    PythonShell,
    Shell,
    SshShell,
    SudoShell,
    SuShell,
)
from .shells import InteractiveSession as _InteractiveSession


class InteractiveSession(_InteractiveSession):
    """:class:`RemoteProxyLibrary.shells.InteractiveSession`, also reachable
    the way the older library's module was (see the module doc)."""

    BashShell = BashShell
    KeyAuthenticatedSshShell = KeyAuthenticatedSshShell
    NamespaceShell = NamespaceShell
    PythonShell = PythonShell
    Shell = Shell
    SshShell = SshShell
    SudoShell = SudoShell
    SuShell = SuShell


InteractiveSession.InteractiveSession = InteractiveSession  # type: ignore[attr-defined]

__all__ = [
    "BashShell",
    "InteractiveSession",
    "KeyAuthenticatedSshShell",
    "NamespaceShell",
    "PythonShell",
    "Shell",
    "SshShell",
    "SuShell",
    "SudoShell",
]
