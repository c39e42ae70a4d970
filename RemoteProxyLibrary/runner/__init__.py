"""RunnerTerminal and the transparent proxies on top of the agent protocol."""

from .proxies import _RecursiveProxy, _RemoteProxy
from .runnerterminal import RunnerTerminal, RunResult

__all__ = ["RunResult", "RunnerTerminal", "_RecursiveProxy", "_RemoteProxy"]
