"""Every exception RemoteProxyLibrary raises, in one tree.

::

    RemoteProxyLibraryError
     +-- TerminalError                 bytes could not be moved through the terminal
     |    +-- TerminalClosed           the other end went away (EOF, channel closed)
     |    +-- TerminalTimeout          (also TimeoutError) nothing matched in time
     +-- ShellError                    a hop of the shell stack failed; names the hop
     |    +-- ShellStartTimeout        (also TimeoutError) the hop's prompt never came
     |    +-- ShellCommandTimeout      (also TimeoutError) exec_command did not finish in time
     |    +-- ShellConnectionFailed    unknown host, refused port, no route
     |    +-- ShellAuthenticationFailed  wrong password or key, wrong su password
     |    +-- HostKeyRejected          the host's key is not trusted under the host-key policy
     |    |    +-- HostKeyChanged      the key differs from the known one (re-installed host?)
     |    +-- ShellPermissionDenied    e.g. no sudo rights
     |    +-- UnknownShell             a shelldict names no known shell
     |    +-- ShellStackEmpty          pop() or exec on a terminal with no shell
     +-- RunnerException               (reference name) the Python runner failed
     |    +-- RunnerTerminalSessionBroken   the runner's session is unusable
     |    +-- DirectChannelUnavailable  direct="on", but the direct channel could not be opened
     |    +-- RunnerTerminalSessionClosed   used after close() or before initialize()
     |    +-- RunnerTerminalUnableToDeserialize  a reply could not be decoded
     |    +-- UnableToSerialize        a value cannot travel (either direction)
     |    +-- ProtocolViolation        a corrupted or unexpected frame for a request
     |    +-- RemoteTimeout            (also TimeoutError) carries response_id
     |    +-- NoSuchResponse           (also KeyError) no late response with that id is pending
     |    +-- InvalidProxySession      proxy of a closed/recovered session or moved away
     |    +-- RemoteError              remote exception of a non-builtin type
     |    +-- CommandTimeout           (also TimeoutError) a command ran past its timeout;
     |    |                            carries the output so far (and the result once killed)
     |    +-- TransferTimeout          (also TimeoutError) a file transfer did not finish in time
     |    +-- NoUsablePython           no Python the agent runs on; names what was found
     +-- SessionInitializationFailed   recovery gave up; args[0] is the last error
 +-- ParallelError                 some of many targets failed; every failure by target
 +-- NoSuchTerminal                (also LookupError) no open terminal has that index or alias
 +-- NoSuchProxy                   (also LookupError) no proxy is registered under that name
 +-- TerminalInterrupted           stopped (a Robot timeout) while the terminal changed state

Remote exceptions of builtin types (``KeyError``, ``AttributeError``, ...) are
raised locally as that very type; their ``remote_traceback`` attribute holds the
traceback text from the target.

Passwords never appear in any message: hops render credentials as ``******``.
"""

from __future__ import annotations

from typing import Any, Optional

from .remotetext import safe_block, safe_line


class RemoteProxyLibraryError(Exception):
    """Root of every exception raised by RemoteProxyLibrary."""


class TerminalError(RemoteProxyLibraryError):
    """Bytes could not be moved through the terminal."""


class TerminalClosed(TerminalError):
    """The terminal's other end went away (EOF, closed channel, dead child)."""


class TerminalTimeout(TerminalError, TimeoutError):
    """Nothing expected arrived through the terminal in time."""


class ShellError(RemoteProxyLibraryError):
    """A hop of a shell stack failed.

    ``hop`` describes the shell (kind, host, user), ``last_output`` is the tail of
    what the terminal showed last (credentials never included).
    """

    def __init__(self, message: str, hop: str = "", last_output: str = "") -> None:
        self.hop = hop
        self.last_output = last_output
        text = f"{hop}: {message}" if hop else message
        if last_output:
            text += f"\nLast output seen:\n{last_output}"
        super().__init__(text)


class ShellStartTimeout(ShellError, TimeoutError):
    """A hop's prompt (or a command's end) never came within the timeout."""


class ShellCommandTimeout(ShellError, TimeoutError):
    """A command run with ``exec_command`` did not finish in time; it was
    interrupted and the shell made usable again."""


class ShellConnectionFailed(ShellError):
    """A hop could not connect: unknown host, refused port, no route."""


class ShellAuthenticationFailed(ShellError):
    """A hop refused the credentials (SSH password or key, su password)."""


class HostKeyRejected(ShellError):
    """An SSH hop refused the host's key under its host-key policy: the key is
    not in the known_hosts files (policy ``reject``), or it changed.

    Not a :class:`ShellConnectionFailed`: those may go away when tried again,
    a refused key stays refused until the known_hosts file or the policy changes.
    """


class HostKeyChanged(HostKeyRejected):
    """The host's key differs from the one recorded for it in a known_hosts
    file: the host was re-installed, or someone is in the middle. The message
    names the host, the file and how to remove the old key."""


class ShellPermissionDenied(ShellError):
    """A hop is not allowed for this user (e.g. no sudo rights)."""


class UnknownShell(ShellError):
    """A shell dict names a shell kind that is not registered."""


class ShellStackEmpty(ShellError):
    """An operation needs a shell but the terminal holds none."""


class RunnerException(RemoteProxyLibraryError):
    """Base of the Python runner's exceptions (name from the reference API)."""


class RunnerTerminalSessionBroken(RunnerException):
    """The runner's session is broken; ``args[0]`` is the original exception."""


class DirectChannelUnavailable(RunnerException):
    """``direct="on"`` was asked for, but the direct channel could not be
    opened (the hops leave the host, the server refuses forwarding, ...); the
    message says why."""


class RunnerTerminalSessionClosed(RunnerException):
    """The runner was used after ``close()`` or before ``initialize()``."""


class RunnerTerminalUnableToDeserialize(RunnerException):
    """A reply from the target could not be decoded by the controller's codec."""


class UnableToSerialize(RunnerException):
    """A value cannot travel: not a handled type and not a proxy."""


class ProtocolViolation(RunnerException):
    """A frame for a request arrived corrupted or made no sense."""


class RemoteTimeout(RunnerException, TimeoutError):
    """A remote call did not answer in time; its response can be fetched later.

    ``response_id`` identifies the pending response for
    ``_RemoteProxy.get_remote_proxy_response()``. ``response_wrap`` is called
    with the response when it is fetched; its return value is given back.
    """

    def __init__(self, response_id: Any, response_wrap: Any = None, message: str = "") -> None:
        self.response_id = response_id
        self.response_wrap = response_wrap if response_wrap is not None else _identity
        super().__init__(message or f"remote call {response_id} did not answer in time")


def _identity(value: Any) -> Any:
    return value


class NoSuchResponse(RunnerException, KeyError):
    """No late response with that id is pending in the session: it was fetched
    already, or the session it was started in ended (closed or recovered)."""

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0]) if self.args else ""


class InvalidProxySession(RunnerException):
    """A proxy was used whose session is gone (closed, recovered) or whose
    content was moved to another proxy by ``set_from_remote_proxy``."""


class RemoteError(RunnerException):
    """A remote exception of a type that is not a Python builtin.

    ``remote_type`` is ``module.QualName`` on the target, ``remote_message`` its
    ``str()``, ``remote_traceback`` the traceback text, ``remote_attributes``
    its attributes that are plain data, also readable as attributes of this
    exception (``error.returncode`` of a remote ``CalledProcessError``).
    Those hold the target's text as it came; the message (``str()``) shows it
    made safe (see :mod:`.remotetext`).
    """

    def __init__(
        self,
        remote_type: str,
        remote_message: str,
        remote_traceback: str = "",
        remote_attributes: Optional[dict[str, Any]] = None,
    ) -> None:
        self.remote_type = remote_type
        self.remote_message = remote_message
        self.remote_traceback = remote_traceback
        self.remote_attributes = dict(remote_attributes or {})
        super().__init__(f"{safe_line(remote_type)}: {safe_block(remote_message)}")

    def __getattr__(self, name: str) -> Any:
        attributes = self.__dict__.get("remote_attributes", {})
        if name in attributes:
            return attributes[name]
        remote = safe_line(str(self.__dict__.get("remote_type", "?")))
        raise AttributeError(f"{type(self).__name__} (remote {remote}) has no attribute {name!r}")


class CommandTimeout(RunnerException, TimeoutError):
    """A command on the target ran past its timeout.

    ``stdout`` and ``stderr`` hold its output so far (text or bytes, as asked;
    output sent to a local file is in that file, not here). ``result`` is the
    ``CommandResult`` when the command was killed (its ``rc`` is then
    ``-9``), None when it was left running.
    """

    def __init__(
        self, message: str, stdout: Any = "", stderr: Any = "", result: Any = None
    ) -> None:
        super().__init__(message)
        self.stdout = stdout
        self.stderr = stderr
        self.result = result


class TransferTimeout(RunnerException, TimeoutError):
    """A file transfer did not finish within its timeout; nothing was left
    under the destination's name."""


class NoUsablePython(RunnerException):
    """The target has no Python the agent can run on: none of the candidates
    of ``python=`` was found, or each was too old (not 2.7, older than 3.6). The message names
    what was found. Not a broken session: recovery does not try again."""


class SessionInitializationFailed(RunnerException):
    """Recovery gave up after ``max_tries``; ``args[0]`` is the last exception."""

    def __init__(self, original: Optional[BaseException] = None, *args: Any) -> None:
        super().__init__(original, *args)
        self.original = original


class ParallelError(RemoteProxyLibraryError):
    """Work on many targets in parallel failed on some of them (all ended).

    ``errors`` maps each target that failed to its exception, ``results``
    each other one to its result; the message names every failure, one line
    each: ``calling os.uname(): 2 of 20 failed: dut3: ShellAuthenticationFailed: ...``.
    """

    #: Robot Framework shows the message without the class name (it names each error).
    ROBOT_SUPPRESS_NAME = True

    def __init__(
        self,
        doing: str,
        errors: dict[Any, BaseException],
        results: dict[Any, Any],
        note: str = "",
    ) -> None:
        self.doing = doing
        self.errors = dict(errors)
        self.results = dict(results)
        total = len(self.errors) + len(self.results)
        note = f" ({note})" if note else ""
        lines = [f"{doing}: {len(self.errors)} of {total} failed{note}:"]
        for key, error in self.errors.items():
            text = str(error).strip().replace("\n", "\n    ")
            lines.append(f"  {key}: {type(error).__name__}: {text}" if text else
                         f"  {key}: {type(error).__name__}")  # fmt: skip
        super().__init__("\n".join(lines))


class NoSuchTerminal(RemoteProxyLibraryError, LookupError):
    """No open terminal has the given index or alias (or it was closed)."""

    #: Robot Framework shows the message without the class name.
    ROBOT_SUPPRESS_NAME = True


class NoSuchProxy(RemoteProxyLibraryError, LookupError):
    """No proxy is registered under the given name in the terminal."""

    ROBOT_SUPPRESS_NAME = True


class TerminalInterrupted(RemoteProxyLibraryError):
    """A terminal was stopped (a Robot timeout, Ctrl-C) while it changed state
    (opening, starting Python, pushing or popping a shell): its state is unknown."""

    ROBOT_SUPPRESS_NAME = True
