"""The agent: runs on the target, inside its own Python (2.7 or 3.6+), stdlib only.

Stage-0 (typed at the target's prompt) has put the tty in raw mode and exec'd
the bundle holding this module and ``wire``. :func:`main` then

- keeps private copies of the tty for frames, points fds 0/1/2 at /dev/null and
  at pipes (so prints and child processes never write into the frame stream);
- forks a heartbeat helper that tells the controller "busy, not dead" while
  a call holds the GIL (see ``messages.HEARTBEAT_INTERVAL``);
- answers requests in the thread that read them, one after the other (a
  watcher hands the reading to another thread when one runs long, see
  ``agent.lane``), so slow calls run side by side and fast ones cost no
  thread hand-off;
- sends what remote code prints with the reply of the request that printed it
  (``O`` frames carry output of background threads and child processes);
- on ``D`` (the direct channel offered) listens on the loopback for the
  controller (see ``agent.direct``) and from then on also answers requests
  that come that way, each reply on the link its request came on;
- on ``Z`` (close) puts everything back and returns to whoever called it.

Requests, replies and the other message kinds are laid out in ``wire.messages``
(shipped in the same bundle), which the controller uses too. ``P`` (ping) is
answered by the reader thread itself, so a busy worker does not look dead.

What differs on Python 2.7 is chosen in ``wire.compat`` and ``agent.compat``
(see their docs); here only the names of builtin types and the traceback.
"""

import fcntl
import importlib
import itertools
import mmap
import operator
import os
import sys
import tempfile
import termios
import threading
import traceback

from ..wire import codec, framing, messages
from ..wire.compat import PY2, STRINGS, TEXT, builtins, quiet, text
from ..wire.messages import (
    MODE_AUTO,
    MODE_NONE,
    MODE_REF,
    MODE_VALUE,
    STATUS_CANNOT_TRAVEL,
    STATUS_EXCEPTION,
    STATUS_OK,
)
from . import direct, ops_commands, ops_files
from .compat import read, select, write
from .lane import Lane

TYPE_CHECKING = False
if TYPE_CHECKING:  # type comments only: Python 2.7 has no typing module
    from typing import Any, Callable, Dict, List, Tuple  # noqa: F401  # novm


class CannotTravel(Exception):
    """The result was asked for by value but is not plain data."""


HANDLE_PREFIX = "_rpl_h"

#: Messages larger than this go as raw frames once that is known to be safe.
RAW_THRESHOLD = 1 << 14

#: Seconds the output thread is given on close to forward what is left.
OUTPUT_GRACE = 1.0


def _resolve_name(ns, name):
    if name in ns:
        return ns[name]
    return eval(name, ns)


class Worker(object):
    """Executes requests in a namespace shared by all threads."""

    def __init__(self, agent):
        self.agent = agent

    def reply(self, payload):
        """The reply payload to the request ``payload``; never raises (sans-IO:
        what the request printed is captured, not written anywhere)."""
        agent = self.agent
        out = []  # type: List[str]
        err = []  # type: List[str]
        described = {}  # type: Dict[str, List[str]]
        agent.capture.out = out
        agent.capture.err = err
        agent.capture.described = described
        agent.busy_changed(1)
        try:
            status, value = self.execute(payload)
        finally:
            agent.busy_changed(-1)
            agent.capture.out = None
            agent.capture.err = None
            agent.capture.described = None
        try:
            return messages.encode_reply(status, "".join(out), "".join(err), described, value)
        except Exception as error:  # a reply must go back whatever happened
            description = codec.encode(agent.describe_error(error))
            return messages.encode_reply(STATUS_EXCEPTION, "", "", {}, description)

    def execute(self, payload):
        """Return (status, encoded value); never raises."""
        agent = self.agent
        try:
            request = messages.decode_request(payload, agent.deref)
            for name in request.release:
                agent.ns.pop(name, None)
            op, args = request.op, request.args
            if op == "describe":
                obj = _resolve_name(agent.ns, args[0])
                return STATUS_OK, codec.encode(agent.keep(obj, args[0]))
            result = OPS[op](agent, *args)
            if request.assign_to:
                agent.ns[request.assign_to] = result
            return STATUS_OK, agent.outgoing(result, request.mode, request.assign_to)
        except CannotTravel as error:
            return STATUS_CANNOT_TRAVEL, codec.encode(str(error))
        except BaseException as error:  # everything goes back to the controller
            return STATUS_EXCEPTION, codec.encode(agent.describe_error(error))


class Pool(object):
    """Threads, reused; a new one starts when none is idle. A job is a
    function and its arguments."""

    def __init__(self, agent):
        self.agent = agent
        self.lock = threading.Lock()
        self.idle = 0
        self.jobs = []
        self.ready = threading.Condition(self.lock)

    def submit(self, function, *args):
        job = (function, args)
        with self.lock:
            if self.idle:
                self.idle -= 1
                self.jobs.append(job)
                self.ready.notify()
                return
        thread = threading.Thread(target=self.work, args=(job,), name="rpl-worker")
        thread.daemon = True
        thread.start()

    def work(self, job):
        """Run ``job``, then the jobs given to this thread while idle (the
        calling thread joins the pool; None: idle at once)."""
        while True:
            if job is not None:
                function, args = job
                function(*args)
            with self.lock:
                self.idle += 1
                while not self.jobs:
                    self.ready.wait()
                job = self.jobs.pop(0)
                if job is None:
                    return

    def stop(self):
        with self.lock:
            self.jobs.extend([None] * self.idle)
            self.idle = 0
            self.ready.notify_all()


class Capture(threading.local):
    out = None
    err = None
    described = None


class Router(object):
    """``sys.stdout``/``sys.stderr`` stand-in: text goes to the capture of the
    request running in this thread, else to the original stream (a pipe)."""

    def __init__(self, capture, attr, fallback):
        self._capture = capture
        self._attr = attr
        self._fallback = fallback

    def write(self, data):
        if not isinstance(data, STRINGS):  # as a real text stream does
            raise TypeError("write() argument must be str, not " + type(data).__name__)
        target = getattr(self._capture, self._attr)
        if target is None:
            return self._fallback.write(data)
        target.append(text(data))  # 2.7: a native str is read as compat.text does
        return len(data)

    def flush(self):
        if getattr(self._capture, self._attr) is None:
            self._fallback.flush()

    def __getattr__(self, name):
        return getattr(self._fallback, name)


class Agent(object):
    """State of one agent run: handles, fds, threads."""

    def __init__(self, tty_attrs, handled_types=None):
        self.tty_attrs = tty_attrs
        if handled_types is None:
            handled_types = _types_named(messages.DEFAULT_HANDLED_TYPES)
        self.handled_types = handled_types
        # os and sys are there from the start, as in the older library
        self.ns = {"__builtins__": builtins, "__name__": "__rpl__", "os": os, "sys": sys}
        self.counter = itertools.count(1)
        self.protocol = framing.FrameProtocol()
        self.write_lock = threading.Lock()
        self.capture = Capture()
        self.pool = Pool(self)
        self.worker = Worker(self)
        self.acceptor = None  # waiting for the controller on the direct channel
        self.direct = None  # the direct channel once the controller connected
        self.running = True
        self.raw_replies = False
        self.described = set()
        self.busy = 0  # requests executing (guarded by write_lock)
        self.busy_flag = None  # shared with the heartbeat process: 1 while busy
        self.heartbeat_pipe = None  # closing it stops the heartbeat process
        self.heartbeat_pid = 0
        self.commands = ops_commands.Commands()  # commands and file transfers running
        self.transfers = ops_files.Transfers()
        self.tty_lock = None  # fd whose record lock guards writes to the tty
        self.tty_lock_file = None
        self.modules = []  # type: List[Any]  # this package's modules (see main)
        self.output_thread = None  # type: Any
        self.lane = None  # type: Any  # the terminal's requests (see serve)
        self.held = []  # type: List[bytes]  # frames waiting for the next write
        self.served = threading.Event()  # the terminal's reading ended

    # ---- values ------------------------------------------------------------------
    def deref(self, ref):
        """A Ref from the controller names an object in our namespace."""
        return _resolve_name(self.ns, ref.name)

    def keep(self, obj, name=None):
        """Anything that cannot travel by value stays here behind a handle."""
        if name is None:
            name = HANDLE_PREFIX + str(next(self.counter))
            self.ns[name] = obj
        key = type_key(obj)
        described = self.capture.described
        if described is not None and key not in self.described:
            self.described.add(key)
            described[key] = method_names(obj)
        return codec.Ref(name, key, callable(obj))

    def outgoing(self, result, mode, assign_to):
        """The encoded result: by value, or a Ref to a handle, as ``mode`` says."""
        if mode == MODE_NONE:
            return codec.encode(None)
        if mode == MODE_REF:
            return codec.encode(self.keep(result, assign_to))
        if mode == MODE_AUTO and not isinstance(result, self.handled_types):
            return codec.encode(self.keep(result, assign_to))
        try:
            return codec.encode(result)
        except codec.EncodeError as error:
            if mode == MODE_VALUE:
                raise quiet(CannotTravel(str(error)))
            return codec.encode(self.keep(result, assign_to))  # MODE_AUTO, MODE_PLAIN

    def describe_error(self, error):
        """The exception as ``messages`` lays it out: what can travel of it
        (call it while handling ``error``: 2.7 keeps its traceback only there)."""
        traceback_ = sys.exc_info()[2] if PY2 else None
        cls = type(error)
        try:
            codec.encode(error.args)
            args = error.args
        except codec.EncodeError:
            args = None
        try:
            message = str(error)
        except Exception:  # a broken __str__ must not break the reply
            message = "<unprintable " + cls.__name__ + ">"
        module = cls.__module__
        if module in _BUILTIN_MODULES:
            module = "builtins"  # 2.7: "exceptions" and "__builtin__"
        return (module, _qualname(cls), args, message, _user_traceback(error, traceback_),
                _plain_attributes(error))  # fmt: skip

    # ---- heartbeat -----------------------------------------------------------------
    def start_heartbeat(self):
        """Fork the heartbeat process (before any thread exists: a safe fork).

        A frame is written in several ``write()`` calls when a signal cuts
        one short, and the helper's line must not land inside it: both
        processes write to the tty only holding a record lock (``lockf``) on
        a private temporary file (or, without one, on the tty itself). The
        kernel drops the lock of a process that dies, so neither can block
        the other for good."""
        try:
            self.tty_lock_file = tempfile.TemporaryFile()  # noqa: SIM115 (kept open)
            self.tty_lock = self.tty_lock_file.fileno()
        except OSError:
            self.tty_lock = self.tty_out
        try:
            fcntl.lockf(self.tty_lock, fcntl.LOCK_EX)
            fcntl.lockf(self.tty_lock, fcntl.LOCK_UN)
            flag = mmap.mmap(-1, 1)
            wake_read, wake_write = os.pipe()
            pid = os.fork()
        except (OSError, ValueError):
            self.tty_lock = None  # no heartbeat: a busy call may then be taken for a hang
            return
        if pid == 0:
            try:
                os.close(wake_write)
                _heartbeat(flag, os.getppid(), wake_read, self.tty_out, self.tty_lock)
            finally:
                os._exit(0)
        os.close(wake_read)
        self.busy_flag = flag
        self.heartbeat_pipe = wake_write
        self.heartbeat_pid = pid

    def stop_heartbeat(self):
        if self.heartbeat_pipe is not None:
            os.close(self.heartbeat_pipe)  # the helper wakes up and exits
            self.heartbeat_pipe = None
            try:
                os.waitpid(self.heartbeat_pid, 0)
            except OSError:
                pass
        self.tty_lock = None
        if self.tty_lock_file is not None:
            self.tty_lock_file.close()
            self.tty_lock_file = None

    def busy_changed(self, delta):
        """Count running requests; the helper beats while there are any."""
        with self.write_lock:
            self.busy += delta
            flag = self.busy_flag
            if flag is not None:
                flag[0:1] = b"\x01" if self.busy else b"\x00"

    # ---- frames ------------------------------------------------------------------
    def send(self, request_id, kind, payload, raw=None, hold=False):
        """Frame and write one message; large ones go raw once the controller
        has checked that the path carries every byte value (``E``). With
        ``hold`` a small one waits for the next message written (or
        :meth:`flush`): replies to requests read together go together."""
        if raw is None:
            raw = self.raw_replies and len(payload) > RAW_THRESHOLD
        parts = self.protocol.frame_parts(request_id, kind, payload, raw)
        with self.write_lock:
            if hold and len(payload) <= RAW_THRESHOLD:
                self.held.extend(parts)
                return
            self._write(parts)

    def flush(self):
        """Write the frames held back (see :meth:`send`)."""
        with self.write_lock:
            if self.held:
                self._write(())

    def _write(self, parts):
        """Write the held frames and ``parts`` (holding ``write_lock``)."""
        lock = self.tty_lock
        if lock is not None:
            _lock(lock, fcntl.LOCK_EX)
        try:
            if self.held:  # first, in one write (a large reply's parts follow)
                parts = itertools.chain((b"".join(self.held),), parts)
                del self.held[:]
            for part in parts:
                view = memoryview(part)
                while view:
                    view = view[write(self.tty_out, view) :]
        finally:
            if lock is not None:
                _lock(lock, fcntl.LOCK_UN)

    def serve(self):
        """Read and answer the terminal until closed (or it ends)."""
        self.lane = Lane(self.pool, self.execute, self.read_terminal, self.flush)
        if not self.read_terminal(0):
            # A request run here ran long: another thread reads now, and
            # this one waits for it to end (not blocking signal handlers).
            while not self.served.wait(1.0):
                pass

    def read_terminal(self, turn):
        """Read the terminal and run its requests in this thread (see
        ``agent.lane``) while this thread has the reading (``turn``); True
        when the reading ended (closed, or the terminal did), False when
        the watcher gave it to another thread."""
        lane = self.lane
        while self.running:
            data = read(self.tty_in, 1 << 16)
            if not data:
                break
            requests = []
            for event in self.protocol.receive(data):
                if isinstance(event, framing.Message) and event.kind == messages.KIND_REQUEST:
                    requests.append((event.request_id, event.payload))
                else:
                    self.handle(event)
                    if not self.running:
                        break
            if not self.running:  # closing: what came with the close runs aside
                for request_id, payload in requests:
                    self.pool.submit(self.execute, request_id, payload, False)
                break
            if requests and not lane.run(turn, requests):
                return False
        self.served.set()
        return True

    def execute(self, request_id, payload, hold):
        """Run one request of the terminal and send its reply (see ``Lane``)."""
        self.send(request_id, messages.KIND_REQUEST, self.worker.reply(payload), hold=hold)

    def answer(self, link, event):
        """Answer what is no request on ``link``: a ping, a corrupt frame
        (noise is skipped). True if it was one of those."""
        if not isinstance(event, framing.Message):
            if isinstance(event, framing.CorruptFrame) and event.request_id:
                # tell the caller now instead of letting it wait for its timeout
                reason = event.reason.encode("utf-8", "replace")
                link.send(event.request_id, messages.KIND_CORRUPT, reason)
            return True
        if event.kind == messages.KIND_PING:
            link.send(event.request_id, event.kind, event.payload)
            return True
        return False

    def handle(self, event):
        """Act on one event of the frame protocol read from the terminal
        (requests are not: :meth:`read_terminal` runs them)."""
        if self.answer(self, event):
            return
        kind = event.kind
        if kind == messages.KIND_DIRECT:
            self.offer_direct(event.request_id, event.payload)
        elif kind == messages.KIND_PROBE:  # echo it raw
            self.send(event.request_id, kind, event.payload, raw=True)
        elif kind == messages.KIND_RAW_REPLIES:  # the probe came back intact
            self.raw_replies = True
        elif kind == messages.KIND_CLOSE:
            self.running = False
            self.send(event.request_id, kind, b"")

    # ---- the direct channel ----------------------------------------------------------
    def offer_direct(self, request_id, payload):
        """Listen on the loopback for the controller (see ``agent.direct``);
        answer with the port and our own token. An empty token withdraws the
        offer. A second offer is refused (port 0)."""
        try:
            token = messages.decode_direct_offer(payload)
        except codec.DecodeError:
            token = b""
        if not token:
            if self.acceptor is not None:
                self.acceptor.withdraw()
            self.send(request_id, messages.KIND_DIRECT, messages.encode_direct_answer(0, b""))
            return
        listener = None
        if self.acceptor is None and self.direct is None:
            listener = direct.listen()
        if listener is None:
            self.send(request_id, messages.KIND_DIRECT, messages.encode_direct_answer(0, b""))
            return
        ours = os.urandom(messages.DIRECT_TOKEN_SIZE)
        self.acceptor = direct.Acceptor(listener, token)
        thread = threading.Thread(
            target=self.connect_direct, args=(self.acceptor, ours), name="rpl-direct"
        )
        thread.daemon = True
        thread.start()
        port = listener.getsockname()[1]
        self.send(request_id, messages.KIND_DIRECT, messages.encode_direct_answer(port, ours))

    def connect_direct(self, acceptor, ours):
        """Wait for the controller; once it is there, send our token and read
        its requests (this thread then joins the pool)."""
        sock = acceptor.accept()
        if sock is None:
            return
        link = direct.DirectLink(self, sock)
        try:
            sock.sendall(ours)
        except (OSError, IOError):
            link.close()
            return
        if not self.running:
            link.close()
            return
        self.direct = link
        link.read()
        if not link.closed:
            self.pool.work(None)

    def close_direct(self):
        if self.acceptor is not None:
            self.acceptor.withdraw()
        if self.direct is not None:
            self.direct.close()

    # ---- fds -----------------------------------------------------------------------
    def setup_fds(self):
        self.tty_in = os.dup(0)
        self.tty_out = os.dup(1)
        self.start_heartbeat()
        self.leave_controlling_terminal()
        self.saved = [os.dup(fd) for fd in (0, 1, 2)]
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        self.pipes = {}
        for fd, name in ((1, "stdout"), (2, "stderr")):
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            os.close(write_end)
            self.pipes[read_end] = name
        self.original_streams = (sys.stdout, sys.stderr)
        sys.stdout = Router(self.capture, "out", sys.stdout)
        sys.stderr = Router(self.capture, "err", sys.stderr)
        thread = threading.Thread(target=self.forward_output, name="rpl-output")
        thread.daemon = True
        thread.start()
        self.output_thread = thread
        self.commands.watch_signals()

    def leave_controlling_terminal(self):
        """Give up the tty as controlling terminal (we keep our fds to it), so
        that what remote code starts cannot open ``/dev/tty``: a ``sudo`` asking
        for a password or ``getpass`` would read our requests there. They get
        ENXIO instead and fail at once. Not done for a session leader, whom
        giving it up would hang up (the tty was spawned with Python itself)."""
        try:
            if os.getsid(0) != os.getpid():
                fcntl.ioctl(self.tty_in, termios.TIOCNOTTY)
        except (OSError, AttributeError):
            pass

    def forward_output(self):
        """Output that no request captured (threads, children) goes as O frames."""
        open_fds = list(self.pipes)
        while open_fds:
            ready, _, _ = select(open_fds, [], [])
            for fd in ready:
                data = read(fd, 1 << 16)
                if not data:
                    open_fds.remove(fd)
                    os.close(fd)
                    continue
                text = data.decode("utf-8", "replace")
                output = messages.encode_output(self.pipes[fd], text)
                self.send(messages.NO_REQUEST, messages.KIND_OUTPUT, output)

    def restore(self):
        if self.lane is not None:
            self.lane.close()
        self.close_direct()
        self.stop_heartbeat()
        self.commands.close()
        self.transfers.close()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        sys.stdout, sys.stderr = self.original_streams
        for fd, saved in zip((0, 1, 2), self.saved):
            os.dup2(saved, fd)
            os.close(saved)
        # the pipes' last writers are gone: what they held goes out, then EOF
        self.output_thread.join(OUTPUT_GRACE)
        self.pool.stop()
        termios.tcsetattr(self.tty_in, termios.TCSADRAIN, self.tty_attrs)
        os.close(self.tty_in)
        os.close(self.tty_out)
        self.ns.clear()


def _heartbeat(busy_flag, agent_pid, wake_fd, tty_fd, lock_fd):
    """The helper's loop: beat while the agent is busy and not stopped; end
    when the agent closes (or loses, by dying) its end of the wake pipe. A
    beat is written only between the agent's frames (``lock_fd``'s lock)."""
    while True:
        ready, _, _ = select([wake_fd], [], [], messages.HEARTBEAT_INTERVAL)
        if ready:
            return
        if busy_flag[0:1] != b"\x00" and _runs(agent_pid) and _lock(lock_fd, fcntl.LOCK_EX):
            try:
                write(tty_fd, messages.HEARTBEAT)
            finally:
                _lock(lock_fd, fcntl.LOCK_UN)


def _lock(fd, operation):
    """``lockf`` that reports failure (False) instead of raising."""
    try:
        fcntl.lockf(fd, operation)
    except OSError:
        return False
    return True


def _runs(pid):
    """False when the process is stopped, a zombie, or cannot be looked at."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as stat:
            state = stat.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"T", b"t", b"Z", b"X")


def type_key(obj):
    """Names what an object's methods depend on: its type, or the module itself."""
    if isinstance(obj, type(sys)):
        return "module:" + str(getattr(obj, "__name__", "?"))
    cls = type(obj)
    if cls.__module__ in _BUILTIN_MODULES:
        return _qualname(cls)
    return cls.__module__ + "." + _qualname(cls)


#: The modules of builtin types and exceptions (2.7 has two, other names).
_BUILTIN_MODULES = ("builtins", "__builtin__", "exceptions")


def _qualname(cls):
    """``cls.__qualname__`` (2.7 has only ``__name__``)."""
    return getattr(cls, "__qualname__", None) or cls.__name__


def method_names(obj):
    """Callable attributes (no dunders) found on the type (or module) of ``obj``."""
    names = []
    try:
        if isinstance(obj, type(sys)):
            items = list(vars(obj).items())
        else:
            cls = type(obj)
            items = [(name, getattr(cls, name, None)) for name in dir(cls)]
        for name, value in items:
            if not name.startswith("__") and callable(value):
                names.append(name)
    except Exception:  # a hostile __dir__ must not break the reply
        pass
    return names


def _import(agent, *names):
    for name in names:
        if name.startswith(("import ", "from ")):
            exec(name, agent.ns)
        else:
            agent.ns[name.partition(".")[0]] = __import__(name)


_CODE_CACHE = {}  # type: Dict[str, Tuple[bool, Any]]


def _compile(source):
    code = _CODE_CACHE.get(source)
    if code is None:
        try:
            code = (True, compile(source, "<remote>", "eval"))
        except SyntaxError:
            code = None  # not an expression: statements (compiled below, no chained traceback)
        if code is None:
            code = (False, compile(source, "<remote>", "exec"))
        if len(_CODE_CACHE) > 256:
            _CODE_CACHE.clear()
        _CODE_CACHE[source] = code
    return code


def _eval(agent, source):
    is_expression, code = _compile(source)
    result = eval(code, agent.ns)
    return result if is_expression else None


def _call(agent, target, args, kwargs):
    if isinstance(target, STRINGS):
        target = _resolve_name(agent.ns, target)
    return target(*args, **kwargs)


def _apply(agent, obj, args, kwargs):
    return obj(*args, **kwargs)


def _identity(agent, obj):
    return obj


def _method(agent, obj, name, args, kwargs):
    return getattr(obj, name)(*args, **kwargs)


def _value(agent, name):
    return _resolve_name(agent.ns, name)


def _ping(agent):
    return "pong"


def _configure(agent, handled_type_names):
    """What travels by value in MODE_AUTO: these types (``module.qualname``)."""
    agent.handled_types = _types_named(handled_type_names)


def _types_named(names):
    types = []
    for name in names:
        module, _, qualname = name.rpartition(".")
        found = type(None)  # type: Any
        if name != "builtins.NoneType":
            found = builtins if module == "builtins" else importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
        if not isinstance(found, type):
            raise TypeError(name + " is not a type")
        types.append(found)
        if PY2 and name in _PY2_ALSO:  # what the name stands for there too
            types.append(getattr(builtins, _PY2_ALSO[name]))
    return tuple(types)


#: On 2.7 an int may be a long and text is unicode (a native str is ``bytes``).
_PY2_ALSO = {"builtins.int": "long", "builtins.str": "unicode"}


#: Attributes of builtin exceptions worth keeping (OSError, SystemExit,
#: ImportError, SyntaxError, StopIteration, UnicodeError); any other exception
#: keeps the public attributes of its instance dict. Only plain data travels.
_EXCEPTION_ATTRIBUTES = (
    "errno", "strerror", "filename", "filename2", "code", "name", "path", "msg", "lineno",
    "offset", "text", "end_lineno", "end_offset", "value", "encoding", "object", "start",
    "end", "reason",
)  # fmt: skip


def _plain_attributes(error):
    names = list(_EXCEPTION_ATTRIBUTES)
    try:
        names += [name for name in vars(error) if not name.startswith("_")]
    except TypeError:
        pass
    attributes = {}
    for name in names:
        try:
            value = getattr(error, name)
            codec.encode(value)
        except Exception:  # absent, a broken property, or not plain data
            continue
        attributes[name] = value
    return attributes


def _is_ours(filename):
    return filename == _OWN_FILE or filename.startswith("<rpl ")


def _user_traceback(error, traceback_=None):
    """The traceback text without the agent's own frames (on 2.7 those of
    ``traceback_``: its exceptions carry none)."""
    try:
        if PY2:
            return _user_traceback_py2(error, traceback_)
        described = traceback.TracebackException(type(error), error, error.__traceback__)  # novm
        seen = set()
        pending = [described]  # type: List[Any]
        while pending:
            item = pending.pop()
            if item is None or id(item) in seen:
                continue
            seen.add(id(item))
            item.stack = traceback.StackSummary.from_list(  # novm
                [frame for frame in item.stack if not _is_ours(frame.filename)]
            )
            pending += [item.__cause__, item.__context__]
        return "".join(described.format())
    except Exception:  # never lose the error for its traceback
        tb = getattr(error, "__traceback__", traceback_)
        return "".join(traceback.format_exception(type(error), error, tb))


def _user_traceback_py2(error, traceback_):
    """Python 2.7: no chained exceptions, and frames are plain tuples."""
    frames = [frame for frame in traceback.extract_tb(traceback_) if not _is_ours(frame[0])]
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    return "".join(lines)


_OWN_FILE = sys._getframe().f_code.co_filename


def _dir(agent, obj):
    return dir(obj)


def _callable(agent, obj):
    return callable(obj)


def _operator(name):
    function = getattr(operator, name, None)
    if function is None:  # matmul on 2.7
        return None
    return lambda agent, *args: function(*args)


def _builtin(name):
    function = getattr(builtins, name)
    return lambda agent, *args: function(*args)


OPS = {  # type: Dict[str, Callable[..., Any]]
    "eval": _eval,
    "call": _call,
    "apply": _apply,
    "identity": _identity,
    "method": _method,
    "value": _value,
    "import": _import,
    "ping": _ping,
    "configure": _configure,
    "dir": _dir,
    "callable": _callable,
}
_BUILTINS = """getattr setattr delattr len iter next repr str bool hash format reversed"""
for _name in _BUILTINS.split():
    OPS[_name] = _builtin(_name)
_OPERATORS = """getitem setitem delitem contains eq ne lt le gt ge add sub mul truediv floordiv
mod pow neg pos abs invert and_ or_ xor lshift rshift matmul iadd isub imul index"""
for _name in _OPERATORS.split():
    _function = _operator(_name)
    if _function is not None:
        OPS[_name] = _function
if PY2:  # text stays text (str() of a unicode is ASCII there)
    OPS["str"] = lambda agent, obj: obj if isinstance(obj, TEXT) else str(obj)
OPS.update(ops_commands.OPS)
OPS.update(ops_files.OPS)


def main(tty_attrs, handled_types=None):
    """Serve frames until closed, then give the terminal back (see module doc)."""
    agent = Agent(tty_attrs, handled_types)
    # Python 2.7 sets the globals of a module to None once nothing holds the
    # module (the bundle drops them on return): threads still running hold
    # the agent, and so the modules.
    package = __name__.partition(".")[0]
    agent.modules = [module for name, module in list(sys.modules.items())
                     if name.partition(".")[0] == package]  # fmt: skip
    agent.setup_fds()
    try:
        hello = messages.encode_hello(os.getpid(), sys.version_info)
        agent.send(messages.NO_REQUEST, messages.KIND_HELLO, hello)
        agent.serve()
    finally:
        agent.restore()
