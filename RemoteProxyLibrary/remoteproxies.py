"""Porting alias: ``RemoteProxyLibrary.remoteproxies`` as in the older library."""

from .runner.proxies import _RecursiveProxy, _RemoteProxy

__all__ = ["_RecursiveProxy", "_RemoteProxy"]
