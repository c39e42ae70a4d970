"""The agent's end of the direct channel: requests and replies on a loopback
TCP connection instead of the terminal. Runs on the target, stdlib only.

The controller asks for it through the terminal (a ``D`` request carrying a
one-time token). :func:`listen` opens a listener on ``127.0.0.1``, port 0
(loopback only); the agent answers, still through the terminal, with the
port and a token of its own. :func:`accept` then takes connections until
one presents the controller's token: any other is closed (a wrong token,
none within ``TOKEN_WAIT`` seconds, or too many tries), and the listener is
closed as soon as the controller is connected, after ``ACCEPT_TIMEOUT``
seconds, or when the offer is withdrawn, whichever comes first. The agent
then sends its own token, so the controller knows it reached the agent and
not whatever else listens on that port.

On the connection both ways carry raw frames (``wire.framing``, rule 2b).
:class:`DirectLink` reads it with one thread at a time, which runs the
requests it read itself (see ``agent.lane``: a watcher takes the reading
away from a request that runs long). Each reply goes back on the link its
request came on.

Kept free of annotations, f-strings and keyword-only arguments: simple old
syntax travels furthest.
"""

import collections
import errno
import hmac
import select
import socket
import threading
import time

from ..wire import framing, messages
from .lane import Lane

#: Seconds the listener waits for the controller at most.
ACCEPT_TIMEOUT = 10.0
#: Seconds a connection may take to present its token.
TOKEN_WAIT = 2.0
#: Connections taken (the controller's included) before the listener closes.
MAX_TRIES = 16
#: Bytes read at once from the connection.
READ_SIZE = 1 << 18
#: Messages up to this size may be queued and sent together with others.
QUEUED = 1 << 16

_clock = getattr(time, "monotonic", time.time)


def listen():
    """A listening socket on the loopback, or None when there is none."""
    try:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except (OSError, socket.error):
        return None
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(MAX_TRIES)
    except (OSError, socket.error):
        listener.close()
        return None
    return listener


class Acceptor(object):
    """Waits on ``listener`` for the connection presenting ``token``."""

    def __init__(self, listener, token, timeout=ACCEPT_TIMEOUT, tries=MAX_TRIES):
        self.listener = listener
        self.token = token
        self.deadline = _clock() + timeout
        self.tries = tries
        self.withdrawn = False
        self.refused = 0  # connections closed for a wrong token, none, or too late

    def withdraw(self):
        """Stop waiting (the controller gave up): from now on connections are
        refused, and the waiting thread closes the listener."""
        self.withdrawn = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except (OSError, socket.error):
            pass

    def accept(self):
        """The connection that presented the token (its token read), or None."""
        candidates = {}  # type: dict  # socket -> [bytes received, deadline]
        winner = None
        try:
            while not self.withdrawn:
                now = _clock()
                if now >= self.deadline or (self.tries <= 0 and not candidates):
                    return None
                watched = list(candidates)
                if self.tries > 0:
                    watched.append(self.listener)
                due = min([self.deadline] + [entry[1] for entry in candidates.values()])
                try:
                    readable = select.select(watched, [], [], max(min(due - now, 0.2), 0))[0]
                except (OSError, socket.error, select.error, ValueError):
                    return None
                for sock in readable:
                    if sock is self.listener:
                        self._take(candidates)
                        continue
                    winner = self._read_token(sock, candidates)
                    if winner is not None:
                        return winner
                now = _clock()
                for sock in [s for s, entry in candidates.items() if entry[1] <= now]:
                    self._refuse(sock, candidates)
        finally:
            self.listener.close()
            for sock in list(candidates):
                if sock is not winner:
                    self._refuse(sock, candidates)
        return None

    def _take(self, candidates):
        try:
            sock = self.listener.accept()[0]
        except (OSError, socket.error):
            return
        self.tries -= 1
        candidates[sock] = [b"", min(_clock() + TOKEN_WAIT, self.deadline)]

    def _read_token(self, sock, candidates):
        entry = candidates[sock]
        try:
            got = sock.recv(len(self.token) - len(entry[0]))
        except (OSError, socket.error):
            got = b""
        if not got:
            self._refuse(sock, candidates)
            return None
        entry[0] += got
        if len(entry[0]) < len(self.token):
            return None
        if not hmac.compare_digest(entry[0], self.token):
            self._refuse(sock, candidates)
            return None
        del candidates[sock]
        return sock

    def _refuse(self, sock, candidates):
        candidates.pop(sock, None)
        self.refused += 1
        try:
            sock.close()
        except (OSError, socket.error):
            pass


class DirectLink(object):
    """The connection to the controller once it presented its token.

    ``agent`` gives ``pool`` (threads), ``worker`` (``reply(payload)``) and
    ``answer(link, event)`` (pings, corrupt frames)."""

    def __init__(self, agent, sock):
        self.agent = agent
        self.sock = sock
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, socket.error):
            pass
        self.protocol = framing.FrameProtocol(accept_raw=True)
        self.write_lock = threading.Lock()
        self.queue = collections.deque()  # type: collections.deque  # small messages to write
        self.closed = False
        self.lane = Lane(agent.pool, self.execute, self.read, self.flush, "rpl-direct-watch")

    def send(self, request_id, kind, payload, raw=None, hold=False):
        """Frame and write one message (always raw: the link carries every
        byte); a closed link drops it (the controller is gone). A small one
        sent while another thread writes is queued, and that thread sends it
        right after its own, together with any others; with ``hold`` it waits
        in the queue for the next message that is sent (the reader's replies
        to a batch of requests go together, see read)."""
        if len(payload) <= QUEUED:
            self.queue.append(self.protocol.frame(request_id, kind, payload, True))
            if hold:
                return
        else:
            with self.write_lock:
                try:
                    for part in self.protocol.frame_parts(request_id, kind, payload, True):
                        if self.closed:
                            return
                        self.sock.sendall(part)
                except (OSError, socket.error):
                    self._close()
        self.flush()

    def flush(self):
        """Write what is queued, unless another thread writes (it does then)."""
        queue = self.queue
        while queue:
            if not self.write_lock.acquire(False):
                return
            try:
                parts = []
                while queue:
                    parts.append(queue.popleft())
                if not self.closed:
                    self.sock.sendall(b"".join(parts))
            except (OSError, socket.error):
                self._close()
            finally:
                self.write_lock.release()

    def execute(self, request_id, payload, hold):
        """Run one request and send its reply here (see ``Lane``)."""
        reply = self.agent.worker.reply(payload)
        self.send(request_id, messages.KIND_REQUEST, reply, hold=hold)

    def read(self, turn=0):
        """Read requests and run them in this thread (see ``Lane``) for as
        long as it has the reading (``turn``: which one it was given).
        Returns when the watcher took the reading away or the link closed."""
        agent = self.agent
        protocol = self.protocol
        lane = self.lane
        # recv_into a buffer of our own: recv(READ_SIZE) would allocate (and
        # shrink) READ_SIZE bytes per read, several microseconds each
        buf = bytearray(READ_SIZE)
        view = memoryview(buf)
        while not self.closed:
            try:
                size = self.sock.recv_into(buf)
            except (OSError, socket.error) as error:
                if getattr(error, "errno", None) == errno.EINTR:
                    continue
                size = 0
            if not size:
                self.close()
                return
            data = view[:size].tobytes()
            requests = []
            for event in protocol.receive(data):
                if isinstance(event, framing.Message) and event.kind == messages.KIND_REQUEST:
                    requests.append((event.request_id, event.payload))
                else:
                    agent.answer(self, event)
            if requests and not lane.run(turn, requests):
                return

    def close(self):
        """Close the connection: the controller sees its end close."""
        with self.write_lock:
            self._close()

    def _close(self):
        if self.closed:
            return
        self.closed = True
        self.lane.close()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, socket.error):
            pass
        self.sock.close()
