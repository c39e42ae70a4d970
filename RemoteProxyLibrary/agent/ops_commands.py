"""Commands on the target: the agent's side of ``runner.commands``.

Shipped in the agent bundle (stdlib only, Python 2.7 and 3.6+). Each command runs in
a session (and so a process group) of its own, with stdin from the data given
or ``/dev/null`` and stdout/stderr on pipes read by two threads of the agent:
a child never writes into the frame stream, and the whole group can be
signalled at once.

Ops (registered in the agent's ``OPS``):

``cmd_start(spec)``
    start a command; ``spec`` is a dict: ``args`` (list of str), ``cwd``,
    ``env`` (dict: str value sets, None removes), ``inherit_env`` (bool),
    ``stdin`` (bytes or None), ``merge`` (stderr into stdout), ``timeout``
    (seconds or None: past it the whole group gets SIGKILL here, on the
    target, whoever waits), ``buffer`` (bytes kept per stream before the
    command is made to wait for a reader). Returns ``(cid, pid)``.
``cmd_poll(cid, max_bytes, wait)``
    wait up to ``wait`` seconds for output or the end; returns ``(stdout,
    stderr, end)``: the bytes read since the last poll (at most ``max_bytes``
    each) and, once the command ended and all its output was taken,
    ``end = (returncode, timed_out, held)`` (the command is then
    forgotten); ``held``: its process had exited on its own (not signalled)
    when it was signalled or timed out, so a process it started held its
    output open.
``cmd_signal(cid, signum, group)``
    send a signal to the command's process group (or only to its process).
``cmd_forget(cid)``
    kill the group if it still runs, and forget the command.

A command ends when its process has exited *and* both pipes are closed (a
background child still holding them keeps it running, as with
``subprocess.run``). Past its timeout, or when the controller sends SIGKILL
to its group, the whole group is killed; a process that left the group
(``setsid``) but holds the pipes is given up on ``GIVE_UP`` seconds later
(what it writes afterwards is read and thrown away). When the agent closes,
or dies of SIGHUP (its terminal went away) or SIGTERM, commands still running
are killed with their groups.
"""

import errno
import os
import signal
import threading

from ..wire.compat import binary, quiet
from .compat import monotonic, native_arguments, spawn, wait, wait_for

#: Seconds to wait for the pipes to close after the group got SIGKILL.
GIVE_UP = 2.0
#: Bytes read from a pipe at once.
READ_SIZE = 1 << 16


class Command(object):
    """One running command, its output buffers and its end."""

    def __init__(self, cid, spec):
        self.cid = cid
        self.cond = threading.Condition()
        self.out = bytearray()
        self.err = bytearray()
        self.limit = max(int(spec.get("buffer") or (8 << 20)), READ_SIZE)
        self.returncode = None
        self.timed_out = False
        self.exited = False  # its own process exited
        self.signalled = False  # it was signalled (or timed out) before it exited
        self.held = False  # it exited unsignalled, and was signalled after: see module doc
        self.finished = False
        self.dropped = False
        self.give_up_at = None  # after a SIGKILL to the group: stop waiting for the pipes
        self.streams = 0
        timeout = spec.get("timeout")
        self.deadline = None if timeout is None else monotonic() + float(timeout)
        stdin_data = spec.get("stdin")
        cwd = os.path.abspath(os.path.expanduser(spec["cwd"])) if spec.get("cwd") else None
        try:
            self.proc = spawn(
                spec["args"],
                stdin_data is not None,
                spec.get("merge"),
                cwd,
                _environment(spec.get("env"), spec.get("inherit_env", True)),
            )
        except OSError as error:
            raise quiet(_start_failure(error, spec["args"], cwd))
        self.pid = self.proc.pid
        threads = [threading.Thread(target=self._watch, name="rpl-cmd-watch")]
        pipes = [(self.proc.stdout, self.out)]
        if self.proc.stderr is not None:
            pipes.append((self.proc.stderr, self.err))
        for pipe, buffer in pipes:
            self.streams += 1
            threads.append(
                threading.Thread(target=self._pump, args=(pipe, buffer), name="rpl-cmd-out")
            )
        if stdin_data is not None:
            threads.append(
                threading.Thread(target=self._feed, args=(bytes(stdin_data),), name="rpl-cmd-in")
            )
        for thread in threads:
            thread.daemon = True
            thread.start()

    # ---- threads -------------------------------------------------------------
    def _feed(self, data):
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(stdin.fileno(), view[:READ_SIZE]) :]
        except OSError:
            pass  # the command closed its stdin or ended: what it did not read is lost
        finally:
            try:
                stdin.close()
            except OSError:
                pass

    def _pump(self, pipe, buffer):
        fd = pipe.fileno()
        try:
            while True:
                try:
                    data = os.read(fd, READ_SIZE)
                except OSError:
                    data = b""
                with self.cond:
                    if not data:
                        return
                    if self.dropped:
                        continue  # nobody will read it
                    buffer += data
                    self.cond.notify_all()
                    while len(buffer) >= self.limit and not (self.finished or self.dropped):
                        self.cond.wait()  # nobody reads: the command waits for a reader
        finally:
            with self.cond:
                self.streams -= 1
                self.cond.notify_all()
            try:
                pipe.close()
            except OSError:
                pass

    def _remaining(self):
        if self.deadline is None:
            return None
        return max(self.deadline - monotonic(), 0.0)

    def _watch(self):
        if not wait(self.proc, self._remaining()):
            self._time_out()
            self.proc.wait()
        with self.cond:
            self.exited = True
            self.returncode = self.proc.returncode
            while self.streams:
                now = monotonic()
                if self.give_up_at is None and self.deadline is not None and now >= self.deadline:
                    self._time_out()  # the group, or what is left of it, holds the pipes
                if self.give_up_at is not None:
                    if now >= self.give_up_at:
                        break  # a process outside the group holds the pipes
                    self.cond.wait(self.give_up_at - now)
                else:
                    self.cond.wait(self._remaining())
            self.finished = True
            self.cond.notify_all()

    def _time_out(self):
        self.timed_out = True
        self.signal(signal.SIGKILL, True)

    # ---- requests ------------------------------------------------------------
    def signal(self, signum, group=True):
        with self.cond:
            if not self.exited:
                self.signalled = True
            elif not (self.finished or self.signalled):
                self.held = True
            if signum == signal.SIGKILL and group and self.give_up_at is None:
                self.give_up_at = monotonic() + GIVE_UP
                self.cond.notify_all()
        try:
            if group:
                os.killpg(self.pid, signum)
            elif self.proc.returncode is None:
                self.proc.send_signal(signum)
        except OSError as error:  # the process (group) is gone already
            if error.errno not in (errno.ESRCH, errno.EPERM):
                raise

    def drop(self):
        """Kill the group if it runs and throw its output away from now on."""
        with self.cond:
            self.dropped = True
            del self.out[:]
            del self.err[:]
            self.cond.notify_all()
            if not self.finished:
                self.signal(signal.SIGKILL, True)

    def release(self):
        """Its end was reported: what a process it left behind writes from
        now on is read and thrown away."""
        with self.cond:
            self.dropped = True
            self.cond.notify_all()

    def poll(self, max_bytes, wait):
        """``(stdout, stderr, end)``: see the module doc."""
        with self.cond:
            wait_for(self.cond, lambda: self.out or self.err or self.finished,
                     max(float(wait), 0.0))  # fmt: skip
            out = binary(bytes(self.out[:max_bytes]))
            err = binary(bytes(self.err[:max_bytes]))
            del self.out[:max_bytes]
            del self.err[:max_bytes]
            if out or err:
                self.cond.notify_all()  # a pump waiting for room goes on
            end = None
            if self.finished and not self.out and not self.err:
                end = (self.returncode, self.timed_out, self.held)
            return out, err, end


def _start_failure(error, args, cwd):
    """What failed to start, named: the working directory (made absolute) or
    the program."""
    reason = error.strerror or str(error)
    if cwd is not None and not (os.path.isdir(cwd) and os.access(cwd, os.X_OK)):
        return OSError(error.errno, "cannot run the command on the target: its working "
                       "directory cannot be entered ({})".format(reason), cwd)  # fmt: skip
    return OSError(error.errno, "cannot run {!r} on the target: {}".format(args[0], reason),
                   args[0])  # fmt: skip


def _environment(changes, inherit):
    if not changes and inherit:
        return None
    env = dict(os.environ) if inherit else {}
    for name, value in (changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class Commands(object):
    """The commands of one agent run, by id."""

    def __init__(self):
        # Re-entrant: a SIGHUP and a SIGTERM arriving back to back run
        # _dying -> close inside close, in the main thread (a plain lock
        # left the agent deadlocked, alive after its terminal was gone).
        self.lock = threading.RLock()
        self.running = {}
        self.counter = 0
        self.previous_handlers = {}

    def watch_signals(self):
        """Kill the commands when the agent dies of SIGHUP or SIGTERM (call
        from the main thread; :meth:`close` puts the old handlers back)."""
        for signum in (signal.SIGHUP, signal.SIGTERM):
            try:
                self.previous_handlers[signum] = signal.signal(signum, self._dying)
            except (ValueError, OSError):  # not the main thread: no such care
                pass

    def _dying(self, signum, frame):
        self.close()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def start(self, spec):
        with self.lock:
            self.counter += 1
            cid = self.counter
        command = Command(cid, spec)
        with self.lock:
            self.running[cid] = command
        return cid, command.pid

    def get(self, cid):
        with self.lock:
            command = self.running.get(cid)
        if command is None:
            raise LookupError("no command {} on the target (it ended and was read, "
                              "or its agent was restarted)".format(cid))  # fmt: skip
        return command

    def poll(self, cid, max_bytes, wait):
        command = self.get(cid)
        out, err, end = command.poll(max_bytes, wait)
        if end is not None:
            with self.lock:
                self.running.pop(cid, None)
            command.release()
        return out, err, end

    def forget(self, cid):
        with self.lock:
            command = self.running.pop(cid, None)
        if command is not None:
            command.drop()

    def close(self):
        """Kill every command still running (the agent is closing)."""
        with self.lock:
            commands = list(self.running.values())
            self.running.clear()
        for command in commands:
            command.drop()
        handlers, self.previous_handlers = self.previous_handlers, {}
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def _start(agent, spec):
    return agent.commands.start(spec)


def _poll(agent, cid, max_bytes, wait):
    return agent.commands.poll(cid, max_bytes, wait)


def _signal(agent, cid, signum, group):
    agent.commands.get(cid).signal(signum, group)


def _forget(agent, cid):
    agent.commands.forget(cid)


OPS = {
    "cmd_start": native_arguments(_start),
    "cmd_poll": _poll,
    "cmd_signal": _signal,
    "cmd_forget": _forget,
}
