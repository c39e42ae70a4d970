"""What a proxy needs from the runner it belongs to, written down as a Protocol.

:class:`~RemoteProxyLibrary.runner.runnerterminal.RunnerTerminal` (and so
``AutoRunnerTerminal``) implements it; proxies use nothing else of the runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, TypeVar

from ..wire import codec

if TYPE_CHECKING:
    from .connection import Pending

T = TypeVar("T")


class ProxyRunner(Protocol):
    """The runner side of a proxy."""

    #: Identity of the running agent; a proxy made under another one is stale.
    session_id: int
    #: Default seconds a remote call may take.
    timeout: float
    #: Seconds each step of starting a shell or the agent may take.
    prompt_timeout: float

    def send_request(
        self, op: str, args: tuple, mode: int = ..., assign_to: Optional[str] = None
    ) -> Pending:
        """Send one request (garbage rides along); its reply comes later."""

    def wait_reply(
        self,
        pending: Pending,
        timeout: Optional[float],
        ref_decoder: Optional[Callable[[codec.Ref], Any]] = None,
        response_wrap: Optional[Callable[[Any], Any]] = None,
    ) -> Any:
        """The reply's value; ``RemoteTimeout`` (carrying ``response_wrap``) if late."""

    def keep_for_later(self, pending: Pending) -> None:
        """Keep ``pending`` so :meth:`get_response` can fetch it by id."""

    def get_response(
        self,
        response_id: int,
        timeout: Optional[float] = None,
        ref_decoder: Optional[Callable[[codec.Ref], Any]] = None,
    ) -> Any:
        """The response of a call that timed out or was started asynchronously."""

    def with_recovery(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` (one request and its reply), recovering if the runner does."""

    def initialize_if_needed(self) -> None:
        """Make the session usable (a no-op unless the runner recovers)."""

    def methods_of(self, type_key: str) -> Optional[frozenset[str]]:
        """Callable attribute names the agent reported for ``type_key``."""

    def add_handle_to_garbage(self, session_id: int, handle: str) -> None:
        """Queue ``handle`` for release (no I/O: safe from ``__del__``)."""

    def describe(self) -> str:
        """Where the runner's Python runs (for messages)."""
