"""Transparent proxies for remote objects: ``_RemoteProxy`` and ``_RecursiveProxy``.

Every operation on a proxy is one request, one round trip: attribute get/set,
item get/set/delete, calls, ``len``, ``in``, comparisons and arithmetic. A method
call ``proxy.name(...)`` is one round trip too: the agent tells, once per type,
which attributes of that type are callable, so ``proxy.name`` is known to be a
method without asking and the call goes out as a single ``method`` request.

Plain data (the runner's ``HANDLED_TYPES``) comes back as local values, anything
else as a new proxy (a ``_RecursiveProxy`` from a recursive one).

The proxy's own state lives in attributes prefixed ``_rpl_``; the reference's
constructor arguments ``local_spec``, ``parent`` and ``is_remote_owned`` are kept
there, not as plain attributes, so they never shadow a remote attribute of the
same name (``pathlib.Path.parent``).

``repr()`` and ``str()`` are local and cheap; :meth:`get_remote_repr` asks the
target. Hashing is by identity (proxies can be dict keys without a round trip).

Dropped proxies that own their handle queue it for release without I/O; it is
released by the next request of the session.

A method attribute (``proxy.name``) is a proxy like any other: the reference's
settings (``remote_proxy_use_asynchronous_response``,
``set_remote_proxy_timeout``) made on it apply to every call of
``proxy.name``, without any round trip.

Every proxy is built by :func:`make_proxy`; what proxies need from their runner
is the :class:`~.proxyrunner.ProxyRunner` protocol.
"""

from __future__ import annotations

import builtins
import inspect
from typing import Any, Callable, Optional, Union

from ..errors import InvalidProxySession, RemoteTimeout
from ..remotetext import safe_line
from ..timeouts import TimeLike, optional_seconds
from ..wire import codec
from ..wire.messages import MODE_AUTO, MODE_NONE, MODE_PLAIN, MODE_REF, MODE_VALUE
from .proxyrunner import ProxyRunner

#: Stands for "this proxy" in the arguments of a request (see ``_rpl_request``).
_SELF = object()


def _spec_methods(local_spec: Any) -> Optional[frozenset[str]]:
    if local_spec is None:
        return None
    return frozenset(
        name
        for name, value in inspect.getmembers(local_spec)
        if callable(value) and not name.startswith("__")
    )


class _CallSettings:
    """Asynchronous mode and timeout of a proxy, or of one of its methods
    (``None`` there: as the proxy)."""

    __slots__ = ("asynchronous", "timeout")

    def __init__(self, asynchronous: Optional[bool] = None, timeout: Any = None) -> None:
        self.asynchronous = asynchronous
        #: seconds; None for the runner's default; _INHERIT for the owner's
        self.timeout = timeout


_INHERIT = object()

#: Why a proxy cannot be used any more: its state -> what the error says.
_GONE = {
    "released": "was released (release_proxy, or the Release Proxy keyword)",
    "moved to another proxy": "was moved to another proxy by set_from_remote_proxy",
}


class _RemoteProxyBase:
    """Machinery shared by every proxy kind (not part of the reference API)."""

    _rpl_runner: ProxyRunner
    #: How results come back: plain data by value, anything else as a proxy.
    _rpl_results = MODE_PLAIN

    def __init__(
        self,
        session: ProxyRunner,
        remote_name: Optional[str],
        local_spec: Any = None,
        parent: Any = None,
        is_remote_owned: Optional[bool] = True,
        ref: Optional[codec.Ref] = None,
    ) -> None:
        put = object.__setattr__
        put(self, "_rpl_runner", session)
        put(self, "_rpl_name", remote_name)
        put(self, "_rpl_session_id", session.session_id if remote_name is not None else None)
        put(self, "_rpl_spec", local_spec)
        put(self, "_rpl_spec_methods", _spec_methods(local_spec))
        put(self, "_rpl_parent", parent)
        put(self, "_rpl_owned", bool(is_remote_owned))
        put(self, "_rpl_type", ref.type_name if ref is not None else None)
        put(self, "_rpl_callable", ref.callable if ref is not None else None)
        inherited = parent._rpl_settings.timeout if isinstance(parent, _RemoteProxyBase) else None
        put(self, "_rpl_settings", _CallSettings(False, inherited))
        #: per method name: settings made on ``proxy.name`` (created when set)
        put(self, "_rpl_method_settings", None)
        #: why the proxy cannot be used any more (a key of _GONE), or None
        put(self, "_rpl_gone", None)

    # ---- state -------------------------------------------------------------------
    def _rpl_check(self) -> None:
        gone = self._rpl_gone
        if gone is not None:
            raise InvalidProxySession(
                f"proxy {self._rpl_shown()} {_GONE[gone]} and cannot be used any more"
            )
        if self._rpl_name is None:
            raise InvalidProxySession("empty proxy: fill it with set_from_remote_proxy first")
        if self._rpl_session_id != self._rpl_runner.session_id:
            raise InvalidProxySession(
                f"proxy {self._rpl_shown()} belongs to a session "
                f"of {self._rpl_runner.label} that ended (closed, recovered, or a shell "
                "pushed or popped): get it again"
            )

    def _rpl_shown(self) -> str:
        """``name of type``, safe to show: both come from the target and may
        hold anything (see :mod:`...remotetext`)."""
        return f"{safe_line(str(self._rpl_name))} of {safe_line(self._rpl_type or '?')}"

    def _rpl_ref_for_session(self, session_id: int) -> codec.Ref:
        """How this proxy travels as an argument: a Ref the agent resolves."""
        self._rpl_check()
        if self._rpl_session_id != session_id:
            raise InvalidProxySession(f"proxy {self._rpl_shown()} belongs to another session")
        return codec.Ref(self._rpl_name, self._rpl_type or "", bool(self._rpl_callable))

    def _rpl_ref(self) -> codec.Ref:
        return self._rpl_ref_for_session(self._rpl_runner.session_id)

    def _rpl_wrap(self, value: Any) -> Any:
        """Turn a Ref in a reply into a proxy of this proxy's family."""
        if isinstance(value, codec.Ref):
            return make_proxy(self._rpl_runner, value)
        return value

    def _rpl_timeout_seconds(self, settings: _CallSettings) -> float:
        """How long a call made with ``settings`` may run: the runner's timeout
        when none is set; negative: :class:`RemoteTimeout` at once."""
        timeout = settings.timeout
        if timeout is _INHERIT:
            timeout = self._rpl_settings.timeout
        if timeout is None:
            return float(self._rpl_runner.timeout)
        return float(timeout)

    def _rpl_effective_timeout(self) -> float:
        return self._rpl_timeout_seconds(self._rpl_settings)

    def _rpl_request(
        self,
        op: str,
        args: tuple,
        mode: Optional[int] = None,
        settings: Optional[_CallSettings] = None,
        asynchronous: Optional[bool] = None,
    ) -> Any:
        """One round trip; honours asynchronous mode and the timeout of
        ``settings`` (default: this proxy's); ``asynchronous`` overrides them.

        ``_SELF`` in ``args`` stands for this proxy; it is resolved after the
        session is prepared (``prepare`` may just have filled this proxy). An
        auto-recovering session runs it again if the session broke under it.
        """
        if mode is None:
            mode = self._rpl_results
        chosen = settings if settings is not None else self._rpl_settings
        if asynchronous is None:
            asynchronous = chosen.asynchronous
            if asynchronous is None:
                asynchronous = self._rpl_settings.asynchronous
        return self._rpl_runner.with_recovery(
            lambda: self._rpl_attempt(op, args, mode, chosen, bool(asynchronous))
        )

    def _rpl_attempt(
        self, op: str, args: tuple, mode: int, settings: _CallSettings, asynchronous: bool
    ) -> Any:
        runner = self._rpl_runner
        self._rpl_check()
        if any(arg is _SELF for arg in args):
            ref = self._rpl_ref()
            args = tuple(ref if arg is _SELF else arg for arg in args)
        pending = runner.send_request(op, args, mode)
        wrap = self._rpl_wrap
        if asynchronous:
            runner.keep_for_later(pending)
            return RemoteTimeout(
                pending.request_id, wrap, f"asynchronous call {pending.request_id}"
            )
        timeout = self._rpl_timeout_seconds(settings)
        return wrap(runner.wait_reply(pending, timeout, None, wrap))

    def _rpl_invoke(self, args: tuple, kwargs: dict, asynchronous: Optional[bool] = None) -> Any:
        """Call the proxied object."""
        return self._rpl_request("apply", (_SELF, args, kwargs), asynchronous=asynchronous)

    def _rpl_method_settings_for(self, name: str, create: bool = False) -> Optional[_CallSettings]:
        table = self._rpl_method_settings
        if table is None:
            if not create:
                return None
            table = {}
            object.__setattr__(self, "_rpl_method_settings", table)
        settings = table.get(name)
        if settings is None and create:
            settings = table[name] = _CallSettings(None, _INHERIT)
        return settings

    def _rpl_release(self) -> None:
        """Unusable from now on; an owned remote object is released (no I/O)."""
        if self._rpl_gone is None and self._rpl_owned and self._rpl_name is not None:
            self._rpl_runner.add_handle_to_garbage(self._rpl_session_id, self._rpl_name)
        object.__setattr__(self, "_rpl_owned", False)
        object.__setattr__(self, "_rpl_gone", "released")

    # ---- reference API -----------------------------------------------------------
    def as_local_value(self) -> Any:
        """A local copy of the proxied object (it must be plain data)."""
        return self._rpl_request("identity", (_SELF,), MODE_VALUE)

    def as_recursive_proxy(self) -> _RecursiveProxy:
        """A :class:`_RecursiveProxy` for the same remote object."""
        self._rpl_check()
        ref = codec.Ref(self._rpl_name, self._rpl_type or "", bool(self._rpl_callable))
        proxy = make_proxy(self._rpl_runner, ref, recursive=True, owned=False, parent=self)
        assert isinstance(proxy, _RecursiveProxy)
        return proxy

    def get_proxy_handle(self) -> Optional[str]:
        """The remote name (handle) of the proxied object."""
        return self._rpl_name

    def get_remote_proxy_response(
        self, remotetimeout: RemoteTimeout, timeout: Optional[float] = None
    ) -> Any:
        """The response of a call that returned or raised ``remotetimeout``.

        Blocks until it comes (at most ``timeout`` seconds when given); raises the
        remote exception if the call failed.
        """
        value = self._rpl_runner.get_response(remotetimeout.response_id, timeout)
        return remotetimeout.response_wrap(value)

    def remote_proxy_autoprepare(self) -> None:
        """Initialize the proxy's session if needed (auto-recovering runners)."""
        self._rpl_runner.initialize_if_needed()

    def remote_proxy_use_asynchronous_response(self) -> None:
        """From now on, calls return a :class:`RemoteTimeout` handle at once."""
        self._rpl_settings.asynchronous = True

    def remote_proxy_use_synchronous_response(self) -> None:
        """From now on, calls wait for their response (the default)."""
        self._rpl_settings.asynchronous = False

    def set_from_remote_proxy(self, proxy: _RemoteProxyBase) -> None:
        """Take over the content of ``proxy``; ``proxy`` becomes unusable
        (:class:`InvalidProxySession`) so two proxies never own one handle."""
        if proxy is self:
            return
        put = object.__setattr__
        for name in ("_rpl_runner", "_rpl_name", "_rpl_session_id", "_rpl_spec",
                     "_rpl_spec_methods", "_rpl_parent", "_rpl_owned", "_rpl_type",
                     "_rpl_callable", "_rpl_gone"):  # fmt: skip
            put(self, name, getattr(proxy, name))
        put(proxy, "_rpl_owned", False)
        put(proxy, "_rpl_gone", "moved to another proxy")

    def set_proxy_spec(self, local_spec: Any) -> None:
        """Declare which methods the remote object has, from a local class."""
        object.__setattr__(self, "_rpl_spec", local_spec)
        object.__setattr__(self, "_rpl_spec_methods", _spec_methods(local_spec))

    def set_remote_proxy_timeout(self, timeout: Optional[TimeLike]) -> None:
        """How long this proxy's calls may run on the target (seconds or a
        time string) before they raise :class:`RemoteTimeout`; their response
        can be fetched later with :meth:`get_remote_proxy_response`.

        ``None`` is the runner's ``timeout`` (3600 s unless set otherwise); a
        negative one makes every call raise :class:`RemoteTimeout` at once.
        (The older library added ``prompt_timeout`` to it: here the timeout is
        the call's, and a dead target is found by a separate liveness check.)"""
        self._rpl_settings.timeout = optional_seconds(timeout)

    def get_remote_repr(self) -> str:
        """``repr()`` of the remote object (one round trip)."""
        return str(self._rpl_request("repr", (_SELF,), MODE_VALUE))

    # ---- python protocol ---------------------------------------------------------
    def __repr__(self) -> str:
        state = ""
        if self._rpl_gone is not None:
            state = f" ({self._rpl_gone})"
        elif self._rpl_name is None:
            state = " (empty)"
        return f"<{type(self).__name__} {self._rpl_shown()}{state}>"

    __str__ = __repr__

    def __hash__(self) -> int:
        return id(self)

    def __del__(self) -> None:
        try:
            if self._rpl_owned and self._rpl_name is not None and self._rpl_gone is None:
                self._rpl_runner.add_handle_to_garbage(self._rpl_session_id, self._rpl_name)
        except Exception:  # never fail in __del__ (interpreter shutdown)
            pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_rpl_") or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        methods = self._rpl_spec_methods
        if methods is None and self._rpl_type is not None:
            methods = self._rpl_runner.methods_of(self._rpl_type)
        if methods is not None and name in methods:
            return _RemoteMethod(self, name)
        return self._rpl_request("getattr", (_SELF, name))

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_rpl_"):
            object.__setattr__(self, name, value)
            return
        self._rpl_request("setattr", (_SELF, name, value), MODE_NONE)

    def __delattr__(self, name: str) -> None:
        self._rpl_request("delattr", (_SELF, name), MODE_NONE)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._rpl_invoke(args, kwargs)

    def __getitem__(self, key: Any) -> Any:
        return self._rpl_request("getitem", (_SELF, key))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._rpl_request("setitem", (_SELF, key, value), MODE_NONE)

    def __delitem__(self, key: Any) -> None:
        self._rpl_request("delitem", (_SELF, key), MODE_NONE)

    def __len__(self) -> int:
        return int(self._rpl_request("len", (_SELF,), MODE_VALUE))

    def __contains__(self, item: Any) -> bool:
        return bool(self._rpl_request("contains", (_SELF, item), MODE_VALUE))

    def __bool__(self) -> bool:
        return bool(self._rpl_request("bool", (_SELF,), MODE_VALUE))

    def __iter__(self) -> Any:
        iterator = self._rpl_request("iter", (_SELF,), MODE_REF)
        while True:
            try:
                yield iterator._rpl_request("next", (_SELF,))
            except StopIteration:
                return

    def __next__(self) -> Any:
        return self._rpl_request("next", (_SELF,))

    def __enter__(self) -> Any:
        """``with proxy as x``: the remote ``__enter__``'s result (a value of
        the handled types, else a proxy)."""
        return self._rpl_request(
            "method", (_SELF, "__enter__", (), {}), MODE_AUTO, asynchronous=False
        )

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> bool:
        """The remote ``__exit__``. A local exception reaches it as a remote
        exception of the same builtin type (others as ``RuntimeError`` naming
        the type) with the same text, so a remote transaction rolls back."""
        args: tuple = (None, None, None)
        if exc_type is not None:
            name = exc_type.__name__
            if getattr(builtins, name, None) is not exc_type:
                name, text = "RuntimeError", f"{exc_type.__name__}: {exc}"
            else:
                text = str(exc)
            kind = self._rpl_request("eval", (f"__import__('builtins').{name}",), MODE_REF)
            args = (kind, self._rpl_request("apply", (kind, (text,), {}), MODE_REF), None)
        exit_args: tuple = (_SELF, "__exit__", args, {})
        return bool(self._rpl_request("method", exit_args, MODE_VALUE, asynchronous=False))


def _binary(op: str, reflected: bool = False) -> Callable[[_RemoteProxyBase, Any], Any]:
    if reflected:

        def method(self: _RemoteProxyBase, other: Any) -> Any:
            return self._rpl_request(op, (other, _SELF))

    else:

        def method(self: _RemoteProxyBase, other: Any) -> Any:
            return self._rpl_request(op, (_SELF, other))

    return method


def _unary(op: str) -> Callable[[_RemoteProxyBase], Any]:
    def method(self: _RemoteProxyBase) -> Any:
        return self._rpl_request(op, (_SELF,))

    return method


for _op in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(_RemoteProxyBase, f"__{_op}__", _binary(_op))
for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul",
            "lshift", "rshift"):  # fmt: skip
    setattr(_RemoteProxyBase, f"__{_op}__", _binary(_op))
    setattr(_RemoteProxyBase, f"__r{_op}__", _binary(_op, reflected=True))
for _op in ("and", "or", "xor"):
    setattr(_RemoteProxyBase, f"__{_op}__", _binary(_op + "_"))
    setattr(_RemoteProxyBase, f"__r{_op}__", _binary(_op + "_", reflected=True))
for _op in ("neg", "pos", "abs", "invert"):
    setattr(_RemoteProxyBase, f"__{_op}__", _unary(_op))
_RemoteProxyBase.__hash__ = lambda self: id(self)  # type: ignore[method-assign]


class _RemoteProxy(_RemoteProxyBase):
    """Exposes a remote object as a local one (see module doc).

    ``session`` is the RunnerTerminal (any :class:`ProxyRunner`),
    ``remote_name`` the remote object's name, ``local_spec`` an optional local
    class telling which methods it has, ``parent`` a proxy to keep alive while
    this one lives, ``is_remote_owned`` whether the remote object is released
    when this proxy is dropped (the constructor is :class:`_RemoteProxyBase`'s).
    """


class _RecursiveProxy(_RemoteProxy):
    """Like :class:`_RemoteProxy`, but every attribute, method and return value
    that is not of the runner's ``HANDLED_TYPES`` (None, bool, int, float,
    str, bytes by default) is a ``_RecursiveProxy`` too: containers stay
    remote, so ``sys_.path.append(x)`` changes the target's ``sys.path``."""

    _rpl_results = MODE_AUTO

    def __init__(
        self,
        session: ProxyRunner,
        remote_name: Optional[str],
        parent: Any = None,
        is_remote_owned: Optional[bool] = None,
        ref: Optional[codec.Ref] = None,
    ) -> None:
        owned = True if is_remote_owned is None else is_remote_owned
        super().__init__(session, remote_name, None, parent, owned, ref)

    def _rpl_wrap(self, value: Any) -> Any:
        if isinstance(value, codec.Ref):
            return make_proxy(self._rpl_runner, value, recursive=True)
        return value


class _RemoteMethod:
    """``proxy.name`` where ``name`` is a known method: calling it is one
    ``method`` request. The reference's call settings made on it apply to every
    call of ``proxy.name``; any other attribute first fetches it as a proxy."""

    __slots__ = ("_rpl_name", "_rpl_owner", "_rpl_resolved")

    def __init__(self, owner: _RemoteProxyBase, name: str) -> None:
        self._rpl_owner = owner
        self._rpl_name = name
        self._rpl_resolved: Optional[_RemoteProxyBase] = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._rpl_invoke(args, kwargs)

    def _rpl_invoke(self, args: tuple, kwargs: dict, asynchronous: Optional[bool] = None) -> Any:
        owner = self._rpl_owner
        return owner._rpl_request(
            "method",
            (_SELF, self._rpl_name, args, kwargs),
            settings=owner._rpl_method_settings_for(self._rpl_name),
            asynchronous=asynchronous,
        )

    def _rpl_target(self) -> _RemoteProxyBase:
        if self._rpl_resolved is None:
            owner = self._rpl_owner
            self._rpl_resolved = owner._rpl_request("getattr", (_SELF, self._rpl_name), MODE_REF)
        return self._rpl_resolved

    def _rpl_ref_for_session(self, session_id: int) -> codec.Ref:
        return self._rpl_target()._rpl_ref_for_session(session_id)

    def _rpl_own_settings(self) -> _CallSettings:
        settings = self._rpl_owner._rpl_method_settings_for(self._rpl_name, create=True)
        assert settings is not None
        return settings

    # ---- reference API: call settings of ``proxy.name`` --------------------------
    def remote_proxy_use_asynchronous_response(self) -> None:
        """From now on, calls of this method return a :class:`RemoteTimeout` at once."""
        self._rpl_own_settings().asynchronous = True

    def remote_proxy_use_synchronous_response(self) -> None:
        """From now on, calls of this method wait for their response."""
        self._rpl_own_settings().asynchronous = False

    def set_remote_proxy_timeout(self, timeout: Optional[TimeLike]) -> None:
        """Timeout of this method's calls (as for the proxy's own calls)."""
        self._rpl_own_settings().timeout = optional_seconds(timeout)

    def get_remote_proxy_response(
        self, remotetimeout: RemoteTimeout, timeout: Optional[float] = None
    ) -> Any:
        """The response of a call that returned or raised ``remotetimeout``."""
        return self._rpl_owner.get_remote_proxy_response(remotetimeout, timeout)

    def remote_proxy_autoprepare(self) -> None:
        """Initialize the session if needed (auto-recovering runners)."""
        self._rpl_owner.remote_proxy_autoprepare()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_rpl_"):
            raise AttributeError(name)
        return getattr(self._rpl_target(), name)

    def __repr__(self) -> str:
        return f"<remote method {safe_line(self._rpl_name)} of {self._rpl_owner!r}>"


AnyProxy = Union[_RemoteProxyBase, _RemoteMethod]


def make_proxy(
    runner: ProxyRunner,
    ref: Optional[codec.Ref],
    *,
    name: Optional[str] = None,
    recursive: bool = False,
    owned: bool = True,
    local_spec: Any = None,
    parent: Any = None,
) -> _RemoteProxy:
    """The one place proxies are built: a proxy of ``runner`` for the object
    ``ref`` describes, known remotely as ``name`` (default: the Ref's handle).

    ``owned`` proxies release the remote object when dropped; ``recursive``
    makes a :class:`_RecursiveProxy`. Without ``ref`` and ``name`` the proxy is
    empty (to be filled by ``set_from_remote_proxy``).
    """
    remote_name = name if name is not None else (ref.name if ref is not None else None)
    if recursive:
        return _RecursiveProxy(runner, remote_name, parent, owned, ref)
    return _RemoteProxy(runner, remote_name, local_spec, parent, owned, ref)


def is_proxy(obj: Any) -> bool:
    """True if ``obj`` is a remote proxy (a method attribute of one included)."""
    return isinstance(obj, (_RemoteProxyBase, _RemoteMethod))


def check_current(proxy: AnyProxy) -> None:
    """Raise :class:`InvalidProxySession` unless ``proxy`` can be used now
    (not released or moved, not empty, its session not ended)."""
    owner = proxy._rpl_owner if isinstance(proxy, _RemoteMethod) else proxy
    owner._rpl_check()


def proxy_runner(proxy: AnyProxy) -> ProxyRunner:
    """The runner ``proxy`` belongs to."""
    if isinstance(proxy, _RemoteMethod):
        return proxy._rpl_owner._rpl_runner
    return proxy._rpl_runner


def release_proxy(proxy: Any) -> None:
    """Make ``proxy`` unusable (:class:`InvalidProxySession` from now on) and
    release its remote object if it owns it: the target drops it with the
    session's next request (no I/O here). A method attribute has nothing of its
    own to release."""
    if isinstance(proxy, _RemoteMethod):
        return
    if not isinstance(proxy, _RemoteProxyBase):
        raise TypeError(f"not a remote proxy: {type(proxy).__name__}")
    proxy._rpl_release()


def call_method(proxy: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call method ``name`` of the remote object of ``proxy``, always on the
    target (also ``__repr__``, ``__str__``, ... which ``proxy.name`` would
    answer locally); one round trip."""
    if isinstance(proxy, _RemoteMethod):
        proxy = proxy._rpl_target()
    if not isinstance(proxy, _RemoteProxyBase):
        raise TypeError(f"not a remote proxy: {type(proxy).__name__}")
    return _RemoteMethod(proxy, name)(*args, **kwargs)


def start_call(target: Any, *args: Any, **kwargs: Any) -> RemoteTimeout:
    """Start calling ``target`` (a proxy of a callable, or a method attribute
    ``proxy.name``) and return at once: the returned :class:`RemoteTimeout`
    gives the response through ``get_remote_proxy_response``. The proxy's own
    settings stay as they are."""
    if not is_proxy(target):
        raise TypeError(f"not a remote callable: {target!r}")
    handle = target._rpl_invoke(args, kwargs, asynchronous=True)
    assert isinstance(handle, RemoteTimeout)
    return handle
