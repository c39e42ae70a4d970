"""The Robot Framework keyword layer: small components over the engine.

``RemoteProxyLibrary`` (the library class) puts the components together:
:mod:`terminals` (open, switch, hop, close), :mod:`python` (run code, call
functions), :mod:`proxies` (proxies and their registry), on the shared state of
:mod:`core`. Only this package imports ``robot``.
"""

from .library import RemoteProxyLibrary

__all__ = ["RemoteProxyLibrary"]
