"""Keywords that make and use proxies of remote objects."""

from __future__ import annotations

from typing import Any, Optional

from robot.api import logger
from robot.api.deco import keyword

from ..runner import RunnerTerminal
from .calls import RemoteCall, with_string_argument_hint
from .converters import Proxy, Seconds
from .core import LibraryCore, TerminalId
from .values import returns_target_data


class ProxyKeywords(LibraryCore):
    """Get Proxy, Call Proxy Method, Get Proxy Attribute, Release Proxy, ..."""

    @keyword("Get Proxy", tags=["proxy"])
    def get_proxy(
        self, remote_object: str, name: Optional[str] = None, *, terminal: TerminalId = None
    ) -> Any:
        """Returns a proxy of the remote object ``remote_object`` evaluates to
        and registers it under ``name`` (default: ``remote_object``).

        ``remote_object`` is a name or an expression in the terminal's
        namespace. It is evaluated once, now: the proxy refers to that one
        object (kept alive on the target until the proxy is released), whatever
        the name refers to later. So ``Get Proxy  []  name=items`` gives one
        list that `Call Proxy Method` appends to, and ``open(path, 'w')`` one
        file. (The Python API's ``get_proxy_object(name)`` refers to a name
        instead, as in the older library.)

        Examples:
        | Import Remote Module | os |
        | Get Proxy | os |
        | ${cwd} = | Call Proxy Method | os | getcwd |
        | ${environ} = | Get Proxy | os.environ | name=env |
        | Get Proxy | [] | name=items |
        | Call Proxy Method | items | append | ${1} |
        """
        entry = self._entry(terminal)
        proxy = entry.runner().evaluate(remote_object, proxy=True)
        entry.register(name or remote_object, proxy)
        return proxy

    @keyword("Get Proxy From Call", tags=["proxy"])
    @returns_target_data
    def get_proxy_from_call(
        self, function: str, *args: Any, terminal: TerminalId = None, **kwargs: Any
    ) -> Any:
        """Calls ``function`` on the target and returns a proxy of the result,
        whatever its type. The remote object lives as long as the proxy.

        Arguments as with `Call Remote Function`; use `Register Proxy` to give
        the proxy a name.

        Example:
        | ${process} = | Get Proxy From Call | subprocess.Popen | ${{['sleep', '1']}} |
        | ${status} = | Call Proxy Method | ${process} | wait |
        """
        runner = self._entry(terminal).runner()
        return runner.get_proxy_object_from_call(function, *args, **kwargs)

    @keyword("Register Proxy", tags=["proxy"])
    def register_proxy(self, proxy: Proxy, name: str, *, terminal: TerminalId = None) -> None:
        """Registers ``proxy`` under ``name`` in the terminal's proxy registry,
        so keywords can take ``name`` in its place (see `Proxy registry`).

        A name is unique in its terminal: registering it again replaces the
        previous proxy. Register a proxy in the terminal it belongs to.

        Example:
        | ${process} = | Get Proxy From Call | subprocess.Popen | ${{['sleep', '1']}} |
        | Register Proxy | ${process} | sleeper |
        | Call Proxy Method | sleeper | wait |
        """
        target, _ = self._proxy(proxy, terminal)
        self._entry(terminal).register(name, target)

    @keyword("Call Proxy Method", tags=["proxy"])
    @returns_target_data
    def call_proxy_method(
        self, proxy: Proxy, method: str, *args: Any, terminal: TerminalId = None, **kwargs: Any
    ) -> Any:
        """Calls ``method`` of the remote object of ``proxy`` with ``args`` and
        ``kwargs`` and returns the result: plain data as a value, anything else
        as a proxy. One round trip.

        Examples:
        | ${file} = | Evaluate Python | open('/etc/hostname') |
        | ${text} = | Call Proxy Method | ${file} | read |
        | Get Proxy | os.path |
        | ${parts} = | Call Proxy Method | os.path | split | /tmp/a.txt |
        | ${process} = | Get Proxy From Call | subprocess.Popen | ${{['sleep', '1']}} |
        | Call Proxy Method | ${process} | wait | timeout=${5} |
        """
        target, _ = self._proxy(proxy, terminal)
        return with_string_argument_hint(
            lambda: RunnerTerminal.call_method(target, method, *args, **kwargs), args, kwargs
        )

    @keyword("Get Proxy Attribute", tags=["proxy"])
    @returns_target_data
    def get_proxy_attribute(
        self, proxy: Proxy, attribute: str, *, terminal: TerminalId = None
    ) -> Any:
        """Returns ``attribute`` of the remote object of ``proxy``: plain data as
        a value, anything else as a proxy.

        Example:
        | ${process} = | Get Proxy From Call | subprocess.Popen | ${{['sleep', '1']}} |
        | ${pid} = | Get Proxy Attribute | ${process} | pid |
        """
        target, _ = self._proxy(proxy, terminal)
        return getattr(target, attribute)

    @keyword("Set Proxy Attribute", tags=["proxy"])
    def set_proxy_attribute(
        self, proxy: Proxy, attribute: str, value: Any, *, terminal: TerminalId = None
    ) -> None:
        """Sets ``attribute`` of the remote object of ``proxy`` to ``value`` (plain
        data, or a proxy standing for its remote object).

        Example:
        | ${config} = | Evaluate Python | __import__('types').SimpleNamespace(verbose=False) |
        | Set Proxy Attribute | ${config} | verbose | ${True} |
        """
        target, _ = self._proxy(proxy, terminal)
        setattr(target, attribute, value)

    @keyword("Get Local Value", tags=["proxy"])
    @returns_target_data
    def get_local_value(self, proxy: Proxy, *, terminal: TerminalId = None) -> Any:
        """Returns a local copy of the remote object of ``proxy``; it must be
        plain data (see `Run Python`).

        Example:
        | ${environ} = | Get Proxy | dict(os.environ) | name=env copy |
        | ${copy} = | Get Local Value | env copy |
        """
        target, _ = self._proxy(proxy, terminal)
        return target.as_local_value()

    @keyword("Set Proxy Timeout", tags=["proxy"])
    def set_proxy_timeout(
        self, proxy: Proxy, timeout: Optional[Seconds], *, terminal: TerminalId = None
    ) -> None:
        """Sets how long calls through ``proxy`` may run on the target before
        they fail with ``RemoteTimeout`` (see `Timeouts`).

        ``None`` means the ``timeout`` of the terminal the proxy belongs to
        (default one hour). A negative timeout makes every call fail at once
        (the call still runs on the target).

        Example:
        | ${process} = | Get Proxy From Call | subprocess.Popen | ${{['sleep', '1']}} |
        | Set Proxy Timeout | ${process} | 10 s |
        """
        target, _ = self._proxy(proxy, terminal)
        target.set_remote_proxy_timeout(None if timeout is None else float(timeout))

    @keyword("Start Proxy Method Call", tags=["proxy", "async"])
    def start_proxy_method_call(
        self, proxy: Proxy, method: str, *args: Any, terminal: TerminalId = None, **kwargs: Any
    ) -> RemoteCall:
        """Starts calling ``method`` of the remote object of ``proxy`` and
        returns at once; give the returned call to `Get Call Response`.

        ``proxy`` itself stays synchronous for other keywords.

        Example:
        | ${process} = | Get Proxy From Call | subprocess.Popen | ${{['sleep', '30']}} |
        | ${call} = | Start Proxy Method Call | ${process} | wait |
        | Call Proxy Method | ${process} | terminate |
        | ${status} = | Get Call Response | ${call} |
        """
        source, entry = self._proxy(proxy, terminal)
        target = getattr(source, method)
        timeout = (entry.settings if entry else self._settings).timeout
        return RemoteCall.start(target, args, kwargs, f"{method}() of {source!r}", timeout)

    @keyword("Release Proxy", tags=["proxy"])
    def release_proxy(self, proxy: Proxy, *, terminal: TerminalId = None) -> None:
        """Unregisters ``proxy`` and releases its remote object; using the proxy
        afterwards fails with ``InvalidProxySession``.

        The target drops the object with the next request (no extra round
        trip). Proxies not released are released once nothing refers to them.

        Examples:
        | ${process} = | Get Proxy From Call | subprocess.Popen | ${{['sleep', '1']}} |
        | Register Proxy | ${process} | sleeper |
        | Release Proxy | sleeper |
        | ${other} = | Evaluate Python | object() |
        | Release Proxy | ${other} |
        """
        target, _ = self._proxy(proxy, terminal)
        names = [name for each in self._terminals for name in each.unregister(target)]
        logger.info(f"Releasing {target!r}" + (f" (was {', '.join(names)})" if names else ""))
        RunnerTerminal.release_proxy(target)
