"""The controller's end of the agent protocol: requests in flight, matched by id.

One reader thread turns terminal bytes into protocol events and completes the
pending request of each reply. Any number of threads may send requests at once;
each request is one frame out and one reply back (one round trip). Noise and
output of the target are queued here and handed to whoever asks (the calling
thread logs them): the reader thread itself never logs.

The reader thread also watches that the target is alive, whatever the callers'
timeouts: while requests wait and nothing has been heard for
``liveness_interval`` seconds it sends a ping, and when the agent is not heard
within ``liveness_timeout`` after it the session is broken: every waiting
request fails at once. Callers just wait for their reply, at most their own
timeout.

What counts as hearing the agent is what a reader that still follows the
stream can vouch for: a frame whose checksum checks, base64 payload bytes (each
is checked as it arrives), the agent's heartbeat line (a call holding the
target's GIL is busy, not dead), and raw payload bytes arriving as a stream
(``RAW_HEARD`` bytes since the agent was last heard). Noise is not, and
neither is a trickle into a raw frame: a lying raw header that swallows the
replies and ping answers that follow it leaves the session deaf, and a deaf
session must break (and be recovered) within the liveness budget, not keep
every call waiting for its timeout.

Anything in the stream that shows it can no longer be trusted (a raw frame
that fails its check: other frames' bytes may have been taken for it;
unfinished messages above ``max_unfinished``) breaks the session at once, and
so does any failure of the reader itself, with that failure as the cause.

With a direct channel (:meth:`AgentConnection.use_direct`, see
:mod:`.direct`) requests go on it as raw frames and their replies come back
there, read by the waiting callers themselves; the terminal stays the
control path: its reader thread still takes pings, heartbeats, output and
the shell prompt that shows the agent is gone, and checks liveness for every
request, whichever way it went.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any, Optional

from ..errors import (
    ProtocolViolation,
    RunnerTerminalSessionBroken,
    RunnerTerminalSessionClosed,
    TerminalClosed,
    TerminalError,
    TerminalTimeout,
)
from ..remotetext import safe_block, safe_line
from ..terminal import Terminal
from ..terminal.direct import DirectStream
from ..wire import codec, framing, messages
from .direct import DIRECT, TERMINAL, DirectReader
from .notices import Notices

LOGGER = logging.getLogger("RemoteProxyLibrary.runner")

#: Sent before every frame: if the agent died and a shell (sh, bash, python)
#: reads what we send, each frame line is a comment there and does nothing.
#: The agent's framing skips it as noise.
INERT = b"#"

#: Seconds the reader waits for bytes before it looks at liveness again.
READ_TICK = 0.5

#: Raw payload bytes that count as hearing the agent although no check has
#: passed yet: a big raw reply on a slow link is heard, the few bytes of ping
#: answers swallowed by a lying raw header are not.
RAW_HEARD = 16 << 10


_COMPLETING = threading.Lock()


class Pending:
    """A request in flight: completed once, by whoever reads its reply.

    Completion is a lock held from creation until the reply comes (cheaper
    than a ``threading.Event``: this is on the path of every call); waiters
    acquire and release it at once, so any number of them may wait.

    A request sent on the direct channel is waited for through its
    ``reader`` (a ``direct.DirectReader``): the waiting caller reads the
    channel itself when no one else does, and is woken (:meth:`wake`) to take
    over the reading when the caller who read before it is done.
    """

    __slots__ = (
        "_done", "_error", "_gate", "_payload", "_woken", "kind", "owner", "reader",
        "request_id", "sent_at", "subject", "what",
    )  # fmt: skip

    def __init__(self, request_id: int, kind: str, owner: Optional[AgentConnection] = None) -> None:
        self.request_id = request_id
        self.kind = kind
        self.sent_at = time.monotonic()
        self._gate = threading.Lock()
        self._gate.acquire()
        self._done = False
        self._payload: Any = None
        self._error: Optional[BaseException] = None
        self._woken = False  # the gate is open for a wake-up, not a completion
        #: The connection the request went out on.
        self.owner = owner
        #: Who reads the reply when it is waited for (None: the reader thread).
        self.reader: Any = None
        #: What the request does, for messages (set by whoever sends it).
        self.what = ""
        #: What ``what`` is made of when it is first needed (set by whoever
        #: sends it: most calls never need it).
        self.subject: Any = None

    def complete(self, payload: Any = None, error: Optional[BaseException] = None) -> None:
        with _COMPLETING:  # the reader and a failing caller may race: first one wins
            if self._done:
                return
            self._payload = payload
            self._error = error
            self._done = True
            if self._woken:  # the gate is open already; the woken waiter sees done
                return
        self._gate.release()

    def done(self) -> bool:
        return self._done

    def wait(self, timeout: Optional[float]) -> bool:
        """True once completed, False if not within ``timeout`` (None: no limit)."""
        if self._done:
            return True
        reader = self.reader
        if reader is not None:
            return bool(reader.wait(self, timeout))
        gate = self._gate
        if gate.acquire(True, -1 if timeout is None else max(timeout, 0)):
            gate.release()
            return True
        return self._done

    def wake(self) -> bool:
        """Wake a waiter of :meth:`sleep` without completing (it is to read
        the direct channel now); False if done or already woken."""
        with _COMPLETING:
            if self._done or self._woken:
                return False
            self._woken = True
        self._gate.release()
        return True

    def sleep(self, timeout: Optional[float]) -> bool:
        """Wait until completed or woken; False if neither within ``timeout``."""
        gate = self._gate
        if not gate.acquire(True, -1 if timeout is None else max(timeout, 0)):
            return False
        with _COMPLETING:
            if not self._done:
                self._woken = False  # the wake-up is taken; the gate stays shut
                return True
        gate.release()  # completed: open for every other waiter
        return True

    def drop(self) -> None:
        """Stop waiting for it: its reply, if it comes, is dropped."""
        if self.owner is not None:
            self.owner.forget(self)

    def payload(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._payload


class AgentConnection:
    """Requests to a running agent over ``terminal`` (see module doc)."""

    def __init__(
        self,
        terminal: Terminal,
        name: str = "",
        sentinels: tuple[str, ...] = (),
        liveness_interval: float = 2.0,
        liveness_timeout: float = 3.0,
        max_message: int = 1 << 31,
        max_unfinished: int = 64 << 20,
    ) -> None:
        self.terminal = terminal
        #: Silence (seconds) while requests wait after which the agent is pinged.
        self.liveness_interval = liveness_interval
        #: Seconds a ping may go unanswered (and nothing heard) before the
        #: session counts as broken.
        self.liveness_timeout = liveness_timeout
        self._ping: Optional[Pending] = None
        #: Shell prompts of the stack: seeing one means the agent is gone.
        self.sentinels = tuple(s for s in sentinels if s)
        self._noise_tail = ""
        self._noise_partial = ""
        #: heartbeats seen: the agent was busy in a call holding the GIL
        self.heard_heartbeats = 0
        #: When the agent was last heard (see the module doc).
        self.last_heard = time.monotonic()
        self.name = name or terminal.description
        self.max_message = max_message
        self.max_unfinished = max_unfinished
        #: Raw payload bytes that count as hearing the agent (see RAW_HEARD).
        self.raw_heard = RAW_HEARD
        self._receiver = framing.FrameProtocol(
            max_message=max_message, max_unfinished=max_unfinished
        )
        #: The direct channel's reader once it is in use (see .direct).
        self.direct: Optional[DirectReader] = None
        self._raw_mark = 0
        self._sender = framing.FrameProtocol()
        self._ids = itertools.count(1)
        self._pending: dict[int, Pending] = {}
        self._lock = threading.Lock()
        self._garbage: deque[str] = deque()
        #: Output and noise between replies, bounded (see .notices).
        self.notices = Notices()
        self.round_trips = 0
        self.hello: Optional[Pending] = Pending(messages.NO_REQUEST, messages.KIND_HELLO, self)
        self.broken: Optional[BaseException] = None
        self.closed = False
        #: close was asked for: requests still waiting end as closed, not broken
        self.closing = False
        #: after close was asked for, the shell's prompt came back (read here)
        self.prompt_back = False
        #: The target sends large replies as raw frames (path checked binary-clean).
        self.raw_replies = False
        self._reader = threading.Thread(target=self._read_loop, name="rpl-reader", daemon=True)

    def start(self, initial: bytes = b"") -> None:
        self.terminal.taken_by = f"the Python agent ({self.name})"
        if initial:
            self._dispatch(initial)
        self._reader.start()

    def use_direct(self, stream: DirectStream, initial: bytes = b"") -> None:
        """Send requests on ``stream`` from now on, as raw frames, and take
        their replies from there (``initial``: bytes already read from it)."""
        reader = DirectReader(self, stream)
        if initial:
            reader._dispatch(initial)
        self.direct = reader

    @property
    def path(self) -> str:
        """``direct`` when requests go on the direct channel, else ``pty``."""
        return DIRECT if self.direct is not None else TERMINAL

    def accept_raw(self, accept: bool) -> None:
        """Take raw frames from now on (or no longer): only while the path is
        being probed, and once it is known to carry every byte value."""
        self._receiver.accept_raw = accept

    # ---- sending -------------------------------------------------------------------
    def request(self, kind: str, payload: bytes) -> Pending:
        """Send one message; the returned Pending completes with the reply."""
        request_id = next(self._ids)
        pending = Pending(request_id, kind, self)
        with self._lock:
            # checked under the lock: _fail_all and stop empty the table under
            # it, so a request registered here is always completed
            if self.broken is not None:
                raise RunnerTerminalSessionBroken(self.broken)
            if self.closed:
                raise RunnerTerminalSessionClosed(f"{self.name}: closed")
            self._pending[request_id] = pending
            if kind == messages.KIND_REQUEST:
                self.round_trips += 1
        direct = self.direct if kind == messages.KIND_REQUEST else None
        try:
            if direct is not None:
                pending.reader = direct
                if len(payload) > self._sender.max_chunk:
                    direct.stream.write_parts(
                        self._sender.frame_parts(request_id, kind, payload, raw=True)
                    )
                else:
                    direct.stream.write(self._sender.frame(request_id, kind, payload, raw=True))
            elif len(payload) > self._sender.max_chunk:
                self.terminal.write_parts(self._commented(request_id, kind, payload))
            else:
                self.terminal.write(INERT + self._sender.frame(request_id, kind, payload))
        except TerminalError as error:
            self._fail_all(error)
            raise RunnerTerminalSessionBroken(error) from error
        return pending

    def notify(self, kind: str, payload: bytes) -> None:
        """Send a message that has no reply."""
        try:
            self.terminal.write(INERT + self._sender.frame(messages.NO_REQUEST, kind, payload))
        except TerminalError as error:
            self._fail_all(error)
            raise RunnerTerminalSessionBroken(error) from error

    def _commented(self, request_id: int, kind: str, payload: Any) -> Iterator[bytes]:
        for part in self._sender.frame_parts(request_id, kind, payload):
            yield INERT
            yield part

    def release_later(self, handle: str) -> None:
        """Queue ``handle`` for release; no I/O (safe from ``__del__``)."""
        self._garbage.append(handle)

    def take_garbage(self, limit: int = 100000) -> list[str]:
        """Handles queued for release (they ride along with the next request)."""
        taken: list[str] = []
        garbage = self._garbage
        if not garbage:
            return taken
        while garbage and len(taken) < limit:
            try:
                taken.append(garbage.popleft())
            except IndexError:
                break
        return taken

    @property
    def garbage_count(self) -> int:
        return len(self._garbage)

    # ---- receiving -----------------------------------------------------------------
    def _read_loop(self) -> None:
        terminal = self.terminal
        receiver = self._receiver
        while not self.closed and self.broken is None:
            try:
                data = terminal.read(1 << 18, self._next_tick())
                if data:
                    progress, beats = receiver.progress, self.heard_heartbeats
                    self._dispatch(data)
                    if (
                        receiver.progress != progress
                        or self.heard_heartbeats != beats
                        or receiver.raw_received - self._raw_mark >= RAW_HEARD
                    ):
                        self.last_heard = time.monotonic()
                        self._raw_mark = receiver.raw_received
                self._check_liveness()
            except TerminalError as error:
                if not self.closed:
                    self._fail_all(error)
                return
            except Exception as error:  # the reader never dies silently
                self._fail_all(self.reader_failed(error))
                return

    def reader_failed(self, error: BaseException) -> ProtocolViolation:
        """The session's cause of death when the reader itself failed."""
        try:
            text = f"{type(error).__name__}: {error}"
        except Exception:  # even its message fails: the type must do
            text = type(error).__name__
        failure = ProtocolViolation(
            f"{self.name}: reading the agent's replies failed ({safe_line(text)}); "
            "the session is broken"
        )
        failure.__cause__ = error
        return failure

    def _next_tick(self) -> float:
        """Seconds until liveness must be looked at again (at most READ_TICK),
        so a silent target is found out on time, not a tick later."""
        ping = self._ping
        if ping is not None:
            due = ping.sent_at + self.liveness_timeout
        elif self._pending:
            due = self.last_heard + self.liveness_interval
        else:
            return READ_TICK
        return min(max(due - time.monotonic(), 0.05), READ_TICK)

    def _check_liveness(self) -> None:
        """Ping a silent target while requests wait; break the session when
        the ping goes unanswered and nothing else comes (see module doc)."""
        ping = self._ping
        now = time.monotonic()
        if ping is not None:
            if ping.done() or self.last_heard > ping.sent_at:
                self._ping = None  # answered, or the target spoke (a heartbeat)
                self.forget(ping)
            elif now - ping.sent_at >= self.liveness_timeout:
                self._fail_all(
                    TerminalTimeout(
                        f"{self.name}: no answer to a liveness check within "
                        f"{self.liveness_timeout:g} s and nothing else heard from the "
                        "agent (the link or the target hung, or the stream from it "
                        "can no longer be read)"
                    )
                )
            return
        if not self._pending or now - self.last_heard < self.liveness_interval:
            return
        request_id = next(self._ids)
        ping = Pending(request_id, messages.KIND_PING, self)
        frame = INERT + self._sender.frame(request_id, messages.KIND_PING, b"")
        with self._lock:
            self._pending[request_id] = ping
        if self.terminal.try_write(frame):
            self._ping = ping
        else:  # a long write holds the terminal: try again at the next tick
            self.forget(ping)

    def _dispatch(self, data: bytes) -> None:
        for event in self._receiver.receive(data):
            if isinstance(event, framing.Message):
                self.on_message(event)
            elif isinstance(event, framing.Noise):
                text = bytes(event.data).decode("utf-8", "replace")
                self._check_sentinels(text)
                self._noise_lines(text)
            elif isinstance(event, framing.CorruptFrame):
                self.on_corrupt(event)

    def on_message(self, event: framing.Message) -> None:
        """Hand a message to the request it answers (checked: id and kind)."""
        kind = event.kind
        if kind == messages.KIND_OUTPUT:
            self._notice_output(event.payload)
            return
        if kind == messages.KIND_HELLO:
            hello, self.hello = self.hello, None
            if hello is not None:
                hello.complete(event.payload)
            else:
                self.notices.append(("noise", "a second hello from the agent"))
            return
        pending = self._pop(event.request_id)
        if pending is None:
            self.notices.append(("noise", f"reply to unknown request {event.request_id}"))
        elif kind == messages.KIND_CORRUPT:
            reason = safe_line(bytes(event.payload[:200]).decode("utf-8", "replace"))
            pending.complete(
                error=ProtocolViolation(
                    f"{self.name}: request {event.request_id} arrived corrupted "
                    f"at the agent ({reason}) and was dropped there"
                )
            )
        elif kind != pending.kind:
            pending.complete(
                error=ProtocolViolation(
                    f"{self.name}: the answer to request {event.request_id} "
                    f"({pending.kind}) came as a message of kind {kind}"
                )
            )
        else:
            pending.complete(event.payload)

    def on_corrupt(self, event: framing.CorruptFrame) -> None:
        reason = f"corrupted frame: {event.reason}"
        if event.fatal and not self._probing(event.request_id):
            self._fail_all(
                ProtocolViolation(
                    f"{self.name}: {reason}; the stream from the agent can no longer "
                    "be trusted (replies may have been lost in it)"
                )
            )
            return
        pending = self._pop(event.request_id) if event.request_id is not None else None
        if pending is not None:
            pending.complete(error=ProtocolViolation(f"{self.name}: {reason}"))
        self.notices.append(("noise", reason))

    def _probing(self, request_id: Optional[int]) -> bool:
        """Is ``request_id`` the binary probe? Its raw echo may come back
        damaged (the path is not binary-clean: that is what it finds out), and
        nothing else waits while it is out, so its damage is not fatal."""
        with self._lock:
            pending = self._pending.get(request_id) if request_id is not None else None
        return pending is not None and pending.kind == messages.KIND_PROBE

    def _noise_lines(self, text: str) -> None:
        """Queue noise for logging, whole lines, without the agent's heartbeats."""
        text = self._noise_partial + text
        lines = text.split("\n")
        self._noise_partial = lines.pop()
        if len(self._noise_partial) > 4096:  # no newline coming: let it out
            lines.append(self._noise_partial)
            self._noise_partial = ""
        kept = []
        for line in lines:
            line = line.rstrip("\r")
            if line == messages.HEARTBEAT_LINE:
                self.heard_heartbeats += 1
            elif line:
                kept.append(line)
        if kept:
            self.notices.append(("noise", "\n".join(kept)))

    def _check_sentinels(self, text: str) -> None:
        window = self._noise_tail + text
        for prompt in self.sentinels:
            if prompt in window:
                if self.closing:  # asked to close: the shell's prompt is expected
                    self.prompt_back = True
                    return
                self._fail_all(
                    TerminalClosed(f"{self.name}: the agent is gone, a shell prompt came back")
                )
                return
        self._noise_tail = window[-200:]

    def mark_broken(self, error: BaseException) -> None:
        """Declare the session broken: every waiting request fails with ``error``."""
        self._fail_all(error)

    def _notice_output(self, payload: Any) -> None:
        """Output of the target's background writers, made safe to log."""
        try:
            stream, text = messages.decode_output(payload)
        except codec.DecodeError:
            self.notices.append(("noise", "undecodable output frame"))
            return
        self.notices.append((safe_line(stream[:40]), safe_block(text)))

    def _pop(self, request_id: int) -> Optional[Pending]:
        with self._lock:
            return self._pending.pop(request_id, None)

    def _fail_all(self, error: BaseException) -> None:
        if self.broken is None:
            self.broken = error
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        for item in pending:
            item.complete(error=RunnerTerminalSessionBroken(error))
        if self.hello is not None:
            self.hello.complete(error=RunnerTerminalSessionBroken(error))
        if self.direct is not None:
            self.direct.close()

    def forget(self, pending: Pending) -> None:
        """Stop waiting for ``pending`` (its reply, if any, is dropped)."""
        with self._lock:
            self._pending.pop(pending.request_id, None)

    def drain_notices(self) -> list[tuple[str, str]]:
        """Output and noise seen since the last call (for the caller to log)."""
        return self.notices.drain()

    def stop(self) -> None:
        """Stop reading (the terminal stays open); idempotent."""
        self.closed = True
        self.terminal.taken_by = None
        reader = self._reader
        if reader.is_alive() and threading.current_thread() is not reader:
            # Wait for it, broken or not: a reader still in a read would take
            # what the shells expect next (two readers of one pty, and pexpect
            # then blocks in a read whose data the reader took). It looks at
            # ``closed`` at least every READ_TICK.
            reader.join(2 if self.broken is None else READ_TICK + 1)
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        for item in pending:
            item.complete(error=RunnerTerminalSessionClosed(f"{self.name}: closed"))
        if self.direct is not None:
            self.direct.close()
