"""The direct channel: requests and replies beside the terminal, raw both ways.

Once the agent runs, the controller may carry its requests and replies on a
byte stream of their own instead of the terminal (a ``direct-tcpip`` channel
of the first SSH hop's connection, or a local socket): no pty on the way, no
base64 towards the target, no line discipline. The terminal stays the
control path: liveness pings, the agent's heartbeat, the shell prompt
coming back when the agent dies, and close.

When it applies (:func:`unavailable`): the terminal can reach the loopback
of the host its first shell runs on (:meth:`Terminal.direct_reach`: an SSH
terminal always, a local pty when its first shell stays on this machine),
and every later shell stays on its host (``Shell.stays_on_host``: ``su``,
``sudo``, a sub-shell, Python; not a typed ``ssh``, not a network namespace).

How it opens (:func:`open_direct`): through the terminal the controller
sends a ``D`` request carrying a random one-time token; the agent listens on
``127.0.0.1`` (port 0) and answers with the port and a token of its own.
The controller opens the stream to that port, presents its token, and reads
the agent's: only the agent, told through the terminal, knows it. The agent
closes its listener as soon as the controller is connected (any other
connection, a wrong token or none, is closed; tries and time are bounded),
so nothing listens once the channel is up, nor after the agent exits.
Anything failing on the way (the server refusing forwarding, no answer, a
wrong token) leaves the terminal as the path: logged at INFO, or raised as
:class:`DirectChannelUnavailable` with ``direct="on"``.

Reading (:class:`DirectReader`): no reader thread. A caller waiting for a
reply reads the channel itself when no one else does (the leader), and
completes whichever requests the replies it reads answer; the others wait
for their reply or for the leader to leave, when one of them is woken to
read next. So a single caller has its reply with no thread hand-off on this
side beyond the transport's own, and parallel callers pipeline on one
channel.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any, Optional

from ..errors import (
    DirectChannelUnavailable,
    ProtocolViolation,
    RunnerException,
    TerminalClosed,
    TerminalError,
)
from ..remotetext import safe_line
from ..shells import InteractiveSession
from ..terminal.direct import DirectStream
from ..wire import codec, framing, messages

if TYPE_CHECKING:
    from .connection import AgentConnection, Pending

LOGGER = logging.getLogger("RemoteProxyLibrary.runner")

#: What ``direct=`` takes: use it when the hops allow (``auto``), always
#: (``on``: fail when not possible), never (``off``).
AUTO, ON, OFF = "auto", "on", "off"
MODES = (AUTO, ON, OFF)

#: What the path of a running session is called.
DIRECT, TERMINAL = "direct", "pty"

#: Seconds to wait for each step of opening the direct channel at most.
SETUP_TIMEOUT = 5.0

#: Seconds the leader waits on the stream before it looks around again.
READ_TICK = 0.5

#: Bytes per second a frame must come at, on average once it has been in
#: progress for the liveness budget: the agent writes each frame at once, so
#: a frame trickling in slower is a lying header swallowing what follows.
MIN_FRAME_RATE = 1024

#: Bytes read from the stream at once.
READ_SIZE = 1 << 18


def check_mode(direct: Any) -> str:
    """``direct`` checked: ``auto``, ``on`` or ``off`` (True and False mean
    on and off; any case)."""
    if direct is True or direct is False:
        return ON if direct else OFF
    text = str(direct).strip().lower()
    if text in ("true", "yes"):
        return ON
    if text in ("false", "no", "none"):
        return OFF
    if text not in MODES:
        raise ValueError(f"direct must be 'auto', 'on' or 'off', not {direct!r}")
    return text


def unavailable(interactive: InteractiveSession) -> str:
    """Why the direct channel cannot apply to this stack ('' when it can)."""
    terminal = interactive.terminal
    shells = interactive.shells
    if terminal is None or not shells:
        return "no terminal"
    first = shells[0]
    if not terminal.direct_reach(first.stays_on_host):
        return (
            f"{terminal.description} cannot reach the loopback of {first.describe()} "
            "(it does not run on this machine's network)"
        )
    for shell in shells[1:]:
        if not shell.stays_on_host:
            return f"{shell.describe()} leaves the host (another loopback)"
    return ""


def open_direct(
    connection: AgentConnection, interactive: InteractiveSession, mode: str, timeout: float
) -> str:
    """Open the direct channel for ``connection`` as ``mode`` says; the path
    the session uses from now on (:data:`DIRECT` or :data:`TERMINAL`)."""
    if mode == OFF:
        return TERMINAL
    where = connection.name
    reason = unavailable(interactive)
    if not reason:
        assert interactive.terminal is not None
        try:
            stream, leftover = _connect(connection, interactive.terminal, timeout)
        except _Failed as failure:
            reason = str(failure)
        else:
            connection.use_direct(stream, leftover)
            LOGGER.debug("%s: requests and replies go on the %s", where, stream.description)
            return DIRECT
    if mode == ON:
        raise DirectChannelUnavailable(f"{where}: no direct channel: {reason}")
    LOGGER.info("%s: no direct channel (%s): requests go through the terminal", where, reason)
    return TERMINAL


class _Failed(Exception):
    """Opening the direct channel failed (why: the message)."""


def _connect(
    connection: AgentConnection, terminal: Any, timeout: float
) -> tuple[DirectStream, bytes]:
    """Offer, connect, exchange tokens; the stream and bytes read past the
    agent's token."""
    wait = min(timeout, SETUP_TIMEOUT)
    token = secrets.token_bytes(messages.DIRECT_TOKEN_SIZE)
    answer = _ask(connection, messages.encode_direct_offer(token), wait)
    try:
        port, theirs = messages.decode_direct_answer(answer)
    except codec.DecodeError as error:
        raise _Failed(f"the agent's answer is malformed ({error})") from None
    if not port:
        raise _Failed("the agent could not listen on the target's loopback")
    try:
        stream = terminal.open_direct(port, wait)
    except TerminalError as error:
        _withdraw(connection, wait)
        raise _Failed(str(error)) from None
    try:
        stream.write(token)
        got = _read_exactly(stream, len(theirs), time.monotonic() + wait)
    except TerminalError as error:
        stream.close()
        _withdraw(connection, wait)
        raise _Failed(f"{stream.description}: {error}") from None
    if not hmac.compare_digest(got[: len(theirs)], theirs):
        stream.close()
        _withdraw(connection, wait)
        raise _Failed(f"what answers on {stream.description} is not the agent (wrong token)")
    return stream, got[len(theirs) :]


def _ask(connection: AgentConnection, payload: bytes, wait: float) -> Any:
    pending = connection.request(messages.KIND_DIRECT, payload)
    if not pending.wait(wait):
        connection.forget(pending)
        raise _Failed(f"the agent did not answer the offer within {wait:g} s")
    try:
        return pending.payload()
    except RunnerException as error:
        raise _Failed(f"the offer failed: {error}") from None


def _withdraw(connection: AgentConnection, wait: float) -> None:
    """Tell the agent to stop listening (and wait until it has)."""
    try:
        _ask(connection, messages.encode_direct_offer(b""), wait)
    except (_Failed, RunnerException) as error:
        LOGGER.debug("%s: withdrawing the direct offer: %s", connection.name, error)


def _read_exactly(stream: DirectStream, size: int, deadline: float) -> bytes:
    got = b""
    while len(got) < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TerminalClosed("no token came back in time")
        got += stream.read(size - len(got), remaining)
    return got


class DirectReader:
    """Reads the direct stream for ``connection`` in the callers' threads
    (see the module doc): one leader at a time, the others wait."""

    def __init__(self, connection: AgentConnection, stream: DirectStream) -> None:
        self.connection = connection
        self.stream = stream
        self.receiver = framing.FrameProtocol(
            max_message=connection.max_message,
            max_unfinished=connection.max_unfinished,
            accept_raw=True,
        )
        self._raw_mark = 0
        self._reading = threading.Lock()  # held by the leader
        self._lock = threading.Lock()
        self._followers: list[Pending] = []
        #: When the last byte came (a frame stalled halfway is a lie; see _lead)
        self._last_byte = time.monotonic()
        #: Since when a frame has been in progress, and the bytes since (a
        #: frame trickling in slower than MIN_FRAME_RATE is a lie too)
        self._frame_since: Optional[float] = None
        self._frame_bytes = 0

    # ---- waiting -------------------------------------------------------------------
    def wait(self, pending: Pending, timeout: Optional[float]) -> bool:
        """Wait for ``pending``'s reply, reading the stream while no one else
        does; False if it did not come within ``timeout`` (None: no limit)."""
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        followers = self._followers
        reading = self._reading
        if not self.stream.closed and reading.acquire(False):
            # No one reads: lead at once, with no follower bookkeeping (anyone
            # who comes meanwhile joins the followers before trying to lead,
            # so is woken below or leads after us).
            try:
                self._lead(pending, deadline)
            finally:
                reading.release()
                if followers:
                    self._wake_one()
            if not pending.done() and _expired(deadline):
                return False
        while not pending.done():
            if self.stream.closed:  # no one reads any more: stop() or a break completes it
                left = None if deadline is None else deadline - time.monotonic()
                if not pending.sleep(left) and not pending.done():
                    return False
                continue
            with self._lock:
                followers.append(pending)  # before trying to lead: never missed
            if self._reading.acquire(False):
                self._leave(pending)
                try:
                    self._lead(pending, deadline)
                finally:
                    self._reading.release()
                    self._wake_one()
                if not pending.done() and _expired(deadline):
                    return False
                continue
            try:
                woken = pending.sleep(None if deadline is None else deadline - time.monotonic())
            finally:  # an exception of a signal handler (a Robot timeout) included
                self._leave(pending)
            if pending.done():
                break
            if not woken:
                if not self._reading.locked():
                    self._wake_one()  # a wake-up meant for us may have been spent
                return False
        if followers and not reading.locked():
            self._wake_one()
        return True

    def _leave(self, pending: Pending) -> None:
        with self._lock:
            try:
                self._followers.remove(pending)
            except ValueError:
                pass

    def _wake_one(self) -> None:
        """Have a waiting caller read next (after the leader left)."""
        with self._lock:
            waiting = [p for p in self._followers if not p.done()]
        for pending in waiting:
            if pending.wake():
                return

    # ---- reading -------------------------------------------------------------------
    def _lead(self, pending: Pending, deadline: Optional[float]) -> None:
        """Read and dispatch until ``pending`` is done or ``deadline`` passed."""
        connection = self.connection
        stream = self.stream
        while not pending.done():
            if connection.broken is not None or connection.closed or stream.closed:
                return
            wait = READ_TICK if deadline is None else min(deadline - time.monotonic(), READ_TICK)
            try:
                data = stream.read(READ_SIZE, max(wait, 0))
            except TerminalError as error:
                if not (connection.closing or connection.closed):
                    lost = TerminalClosed(
                        f"{connection.name}: the direct channel to the agent was lost ({error})"
                    )
                    lost.__cause__ = error
                    connection.mark_broken(lost)
                return
            # Anything else came from a signal handler of this thread (a Robot
            # timeout, Ctrl-C) while it waited: nothing was read, the session
            # is fine, and it is the caller's to handle.
            if data:
                try:
                    self._dispatch(data)
                except BaseException as error:  # the reader never fails silently
                    # A failure of our own, or a signal handler's exception in the
                    # middle: what the receiver holds can no longer be trusted.
                    connection.mark_broken(connection.reader_failed(error))
                    if not isinstance(error, Exception):
                        raise
                    return
            else:
                self._check_stall()
            if wait <= 0:
                return

    def _dispatch(self, data: bytes) -> None:
        connection = self.connection
        receiver = self.receiver
        now = time.monotonic()
        self._last_byte = now
        progress = receiver.progress
        for event in receiver.receive(data):
            if isinstance(event, framing.Message):
                connection.on_message(event)
            elif isinstance(event, framing.CorruptFrame):
                connection.on_corrupt(event)
            else:
                text = bytes(event.data[:400]).decode("utf-8", "replace")
                connection.notices.append(("noise", f"on the direct channel: {safe_line(text)}"))
        if (
            receiver.progress != progress
            or receiver.raw_received - self._raw_mark >= connection.raw_heard
        ):
            connection.last_heard = now
            self._raw_mark = receiver.raw_received
        if receiver.buffered:
            if self._frame_since is None:
                self._frame_since, self._frame_bytes = now, 0
            self._frame_bytes += len(data)
            self._check_stall()
        else:
            self._frame_since = None

    def _check_stall(self) -> None:
        """A frame begun and not continued for the liveness budget: an honest
        agent writes a frame in one go, so this is a lying header swallowing
        what follows (the session is deaf on this channel): broken."""
        connection = self.connection
        budget = connection.liveness_interval + connection.liveness_timeout
        if not self.receiver.buffered:
            return
        now = time.monotonic()
        if now - self._last_byte > budget:
            connection.mark_broken(
                ProtocolViolation(
                    f"{connection.name}: a frame on the direct channel stopped halfway for "
                    f"{budget:g} s; replies may be swallowed in it"
                )
            )
            return
        since = self._frame_since
        if since is not None and now - since > budget:
            rate = self._frame_bytes / (now - since)
            if rate < MIN_FRAME_RATE:
                connection.mark_broken(
                    ProtocolViolation(
                        f"{connection.name}: a frame on the direct channel came at "
                        f"{rate:.0f} bytes/s for {now - since:.0f} s (an agent writes a "
                        f"frame at once); replies may be swallowed in it"
                    )
                )

    def close(self) -> None:
        """Close the stream: a leader reading it stops; waiters are woken."""
        self.stream.close()
        self._wake_one()


def _expired(deadline: Optional[float]) -> bool:
    return deadline is not None and time.monotonic() >= deadline
