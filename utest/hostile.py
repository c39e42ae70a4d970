"""The test's end of the hostile-agent harness (``hostile_agent.py``).

``HostileTarget`` listens on a Unix socket; every ``hostile_agent.py`` that a
runner starts (as its ``python``, in a real pty) connects to it and is then
played by the test: it gets the target's config, reports what the controller
sends, and writes what the test chooses. Requests go to ``handler(agent,
request_id, payload)``, by default an honest answer from the real agent's
worker; a test sets another handler to answer with crafted frames.
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Optional

from RemoteProxyLibrary import AutoRunnerTerminal, BashShell, InteractiveSession
from RemoteProxyLibrary.runnerterminal import RunnerTerminal
from RemoteProxyLibrary.wire import codec, framing, messages

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile_agent.py")
LENGTH = struct.Struct(">I")
SENDER = framing.FrameProtocol()


def frame(request_id: int, kind: str, payload: bytes, raw: bool = False) -> bytes:
    """The frames of one message, as an honest agent writes them."""
    return SENDER.frame(request_id, kind, payload, raw=raw)


def reply_payload(
    value_bytes: bytes,
    status: int = messages.STATUS_OK,
    stdout: str = "",
    stderr: str = "",
    described: Optional[dict] = None,
) -> bytes:
    """An ``R`` reply's payload around an already encoded value."""
    return messages.encode_reply(status, stdout, stderr, described or {}, value_bytes)


def reply(
    request_id: int, value: Any = None, status: int = messages.STATUS_OK, **fields: Any
) -> bytes:
    """The frame of a well-formed reply carrying ``value``."""
    return frame(
        request_id, messages.KIND_REQUEST, reply_payload(codec.encode(value), status, **fields)
    )


def exception_reply(
    request_id: int,
    module: str,
    qualname: str,
    args: Optional[tuple] = None,
    message: str = "",
    traceback: str = "Traceback (most recent call last):\n",
    attributes: Optional[dict] = None,
) -> bytes:
    """The frame of a reply saying a remote exception happened."""
    description = (module, qualname, args, message, traceback, attributes or {})
    return reply(request_id, description, messages.STATUS_EXCEPTION)


class Agent:
    """One run of ``hostile_agent.py`` (one session), numbered from 1."""

    def __init__(self, target: HostileTarget, sock: socket.socket, number: int) -> None:
        self.target = target
        self.sock = sock
        self.number = number
        self.pid = 0
        self._lock = threading.Lock()

    def send(self, value: Any) -> None:
        data = codec.encode(value)
        with self._lock:
            self.sock.sendall(LENGTH.pack(len(data)) + data)

    def write(self, data: bytes) -> None:
        """Bytes for the agent to write to its tty, as they are."""
        self.send(("write", bytes(data)))

    def write_direct(self, data: bytes) -> None:
        """Bytes for the agent to write on the direct channel (config
        ``direct="serve"``), as they are."""
        self.send(("write_direct", bytes(data)))

    def close_direct(self) -> None:
        """The agent closes its end of the direct channel."""
        self.send(("close_direct",))

    def honest(self, request_id: int, payload: bytes) -> None:
        """Answer the request as the real agent would."""
        self.send(("honest", request_id, bytes(payload)))

    def configure(self, **config: Any) -> None:
        self.send(("config", config))

    def exit(self) -> None:
        """The agent's python ends (without answering anything)."""
        self.send(("exit",))


Handler = Callable[[Agent, int, bytes], None]


def honest(agent: Agent, request_id: int, payload: bytes) -> None:
    agent.honest(request_id, payload)


class HostileTarget:
    """Plays the agents started with :attr:`python` (see module doc).

    ``config`` is given to every agent when it starts (see
    ``hostile_agent.DEFAULTS``); :attr:`handler` answers the requests.
    """

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.handler: Handler = honest
        self.events: queue.Queue[tuple[int, tuple]] = queue.Queue()
        self.agents: list[Agent] = []
        self._directory = tempfile.mkdtemp(prefix="rpl-hostile-")  # short: AF_UNIX paths
        self.path = os.path.join(self._directory, "control")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(8)
        self._closed = False
        self._runners: list[RunnerTerminal] = []
        self._sessions: list[InteractiveSession] = []
        threading.Thread(target=self._accept, name="hostile-accept", daemon=True).start()

    @property
    def python(self) -> str:
        """What to give a runner as its ``python``."""
        return f"{sys.executable} {HARNESS} {self.path}"

    @property
    def agent(self) -> Agent:
        """The agent started last."""
        deadline = time.monotonic() + 10
        while not self.agents or not self.agents[-1].pid:
            if time.monotonic() > deadline:
                raise TimeoutError("no hostile agent started")
            time.sleep(0.01)
        return self.agents[-1]

    # ---- runners on it ---------------------------------------------------------------
    @property
    def direct(self) -> str:
        """The runners' ``direct=``: ``on`` when the agents serve the direct
        channel, else ``auto`` (they refuse it: the terminal is the path)."""
        return "on" if self.config.get("direct") == "serve" else "auto"

    def runner(self, **settings: Any) -> RunnerTerminal:
        """A RunnerTerminal started on a new hostile agent in a local bash."""
        session = InteractiveSession()
        session.spawn(BashShell(timeout=10))
        self._sessions.append(session)
        direct = settings.pop("direct", self.direct)
        runner = RunnerTerminal(prompt_timeout=10, python=self.python, direct=direct)
        for name, value in settings.items():
            setattr(runner, name, value)
        self._runners.append(runner)
        runner.initialize(session)
        return runner

    def auto_runner(self, **settings: Any) -> AutoRunnerTerminal:
        """An AutoRunnerTerminal on hostile agents (a new one at each recovery)."""
        runner = AutoRunnerTerminal(prompt_timeout=10, python=self.python, direct=self.direct)
        for name, value in settings.items():
            setattr(runner, name, value)
        runner.initialize_with_shells([BashShell(timeout=10)], sleep_between_tries=0)
        self._runners.append(runner)
        runner.initialize_if_needed()
        return runner

    # ---- what the agents saw ---------------------------------------------------------
    def next_message(self, kind: str = messages.KIND_REQUEST, timeout: float = 10) -> tuple:
        """``(agent number, request_id, payload)`` of the next message of ``kind``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                number, event = self.events.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise TimeoutError(f"no {kind} message reached the hostile agent") from None
            if event[0] == "message" and event[2] == kind:
                return number, event[1], event[3]

    def close(self) -> None:
        self._closed = True
        for runner in self._runners:
            try:
                runner.close()
            except Exception:
                pass
        for session in self._sessions:
            session.close_terminal(force=True)  # a hostile agent may ignore an exit
        self._server.close()
        for agent in self.agents:
            agent.sock.close()
        shutil.rmtree(self._directory, ignore_errors=True)

    # ---- the control channel ---------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                sock, _ = self._server.accept()
            except OSError:
                return
            agent = Agent(self, sock, len(self.agents) + 1)
            self.agents.append(agent)
            agent.send(dict(self.config))
            threading.Thread(target=self._serve, args=(agent,), daemon=True).start()

    def _serve(self, agent: Agent) -> None:
        buffer = b""
        while True:
            try:
                data = agent.sock.recv(1 << 20)
            except OSError:
                return
            if not data:
                return
            buffer += data
            while len(buffer) >= LENGTH.size:
                (size,) = LENGTH.unpack_from(buffer)
                if len(buffer) < LENGTH.size + size:
                    break
                event = codec.decode(buffer[LENGTH.size : LENGTH.size + size])
                buffer = buffer[LENGTH.size + size :]
                self._event(agent, event)

    def _event(self, agent: Agent, event: tuple) -> None:
        if event[0] == "started":
            agent.pid = event[1]
            return
        self.events.put((agent.number, event))
        if event[0] == "message" and event[2] == messages.KIND_REQUEST:
            self.handler(agent, event[1], event[3])


class Silent:
    """An answer of :func:`by_op`: no reply at all."""


def by_op(**answers: Callable[..., Any]) -> Handler:
    """A handler answering requests by op: ``answers[op](*args)`` gives the
    value to reply with (a :class:`Silent` one: no reply); other ops are
    answered honestly. The handler's ``calls`` lists ``(op, args)`` seen."""
    calls: list[tuple[str, tuple]] = []

    def handler(agent: Agent, request_id: int, payload: bytes) -> None:
        request = messages.decode_request(payload)
        calls.append((request.op, tuple(request.args)))
        answer = answers.get(request.op)
        if answer is None:
            agent.honest(request_id, payload)
            return
        value = answer(*request.args)
        if not isinstance(value, Silent):
            agent.write(reply(request_id, value))

    handler.calls = calls  # type: ignore[attr-defined]
    return handler
