"""SSH hops: the first over paramiko with a pty, later ones by typing ``ssh``."""

from __future__ import annotations

import getpass
import logging
import os
import shlex
import time
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional, Union

from ..errors import (
    HostKeyChanged,
    HostKeyRejected,
    ShellAuthenticationFailed,
    ShellConnectionFailed,
    ShellError,
)
from ..terminal import SshLogin, SshTerminal, Terminal
from ..terminal.hostkeys import (
    ACCEPT,
    DEFAULT_KNOWN_HOSTS,
    DEFAULT_POLICY,
    REJECT,
    check_policy,
    host_key_name,
)
from ..terminal.sshconfig import parse_proxy_jump, read_host_config
from ..terminal.sshconnect import JumpFailed
from .base import Answer, Failure
from .bash import DEFAULT_SHELL, BashShell
from .secret import Secret, SecretLike, as_secret
from .sshfailures import connect_error

LOGGER = logging.getLogger("RemoteProxyLibrary.shells")

#: Jump hosts one login may go through (a loop in ssh_config ends here).
MAX_JUMPS = 8
#: Password prompts a typed hop answers from a second-factor function.
MAX_SECOND_FACTOR_PROMPTS = 8

_CONNECTION_FAILURES = [
    (r"Could not resolve hostname|Name or service not known|nodename nor servname", "unknown host"),
    (r"Connection refused", "connection refused"),
    (r"No route to host|Network is unreachable", "no route to host"),
    (r"Connection timed out|Operation timed out", "connection timed out"),
    (r"Connection closed by|Connection reset by", "connection closed by the host"),
]

#: A second factor: one answer, answers in order, or a function of the prompt.
SecondFactor = Union[SecretLike, Sequence[SecretLike], Callable[[str], Optional[SecretLike]], None]
#: A jump host: an SshShell, its arguments as a dict, or a ProxyJump string.
Jump = Union["SshShell", Mapping[str, Any], str, None]


class SshShell(BashShell):
    """A shell on ``host`` reached over SSH.

    As the first shell of a stack it connects from the controller with paramiko,
    configured as ``ssh`` would be: ``host`` may be an alias of the user's
    ``~/.ssh/config`` (or of the file ``ssh_config``), whose ``HostName``,
    ``User``, ``Port``, ``IdentityFile``, ``ProxyJump``, ``ConnectTimeout``,
    ``StrictHostKeyChecking`` and ``UserKnownHostsFile`` apply unless given
    here (arguments given win). Without a password the keys of an SSH agent
    and the usual ``~/.ssh/id_*`` files are offered too; ``passphrase`` opens
    encrypted keys. ``key_file`` is a path on the controller.

    Pushed onto another shell it types ``ssh`` there: ``key_file``,
    ``ssh_config`` and ``known_hosts`` are then paths on that host, and that
    host's ssh reads its own configuration.

    ``host_key_policy``: ``accept`` (any key; the default, as lab targets are
    re-installed all the time), ``accept-new`` (unknown hosts are added to
    ``known_hosts``, default ``~/.ssh/known_hosts``; a changed key is refused
    with :class:`HostKeyChanged`) or ``reject`` (known hosts only). Not given,
    the ssh_config's ``StrictHostKeyChecking`` decides, else ``accept``.

    Keyboard-interactive logins (network devices) get ``password`` at the
    first password prompt; ``second_factor`` answers the prompts after it (a
    one-time code, a second password): one answer, a list of answers in
    order, or a function given each prompt's text and returning the answer.
    ``second_password`` is the older library's name for a single one.

    The older library's signature works by position and name:
    ``SshShell(ip, username, password, tty_echo, second_password, port,
    init_env)``; ``ip`` is ``host``, ``init_env`` a file sourced once logged
    in, ``tty_echo`` is accepted and ignored (echo is always off). Everything
    else is given by name.

    ``jump``: connect through this host, like OpenSSH's ``ProxyJump``: another
    SshShell (only its login is used), a dict of its arguments, or a string
    ``[user@]host[:port][,...]``; the login to ``host`` is made through a
    ``direct-tcpip`` channel of the jump host's connection.

    Passwords, the passphrase and second-factor answers may be plain strings
    or Secrets; they are never logged.
    """

    shellname = "SshShell"
    exited_error = ShellConnectionFailed
    stays_on_host = False

    def __init__(
        self,
        host: Optional[str] = None,
        username: Optional[str] = None,
        password: Optional[SecretLike] = None,
        tty_echo: bool = False,
        second_password: Optional[SecretLike] = None,
        port: Optional[int] = None,
        init_env: Optional[str] = None,
        *,
        key_file: Optional[str] = None,
        timeout: float = 30,
        shell: str = DEFAULT_SHELL,
        ssh_options: Sequence[str] = (),
        ip: Optional[str] = None,
        host_key_policy: Optional[str] = None,
        known_hosts: Optional[str] = None,
        ssh_config: Optional[str] = None,
        passphrase: Optional[SecretLike] = None,
        second_factor: SecondFactor = None,
        jump: Jump = None,
        connect_timeout: Optional[float] = None,
    ) -> None:
        super().__init__(timeout=timeout, shell=shell, init_env=init_env)
        if not isinstance(tty_echo, bool):
            raise TypeError(
                f"the 4th argument is tty_echo, as in the older library, not {tty_echo!r}: "
                "give port (and key_file, timeout) by name"
            )
        if ip is not None:
            if host is not None and host != ip:
                raise TypeError(f"got both host={host!r} and ip={ip!r}: give one")
            host = ip
        if not host or not isinstance(host, str):
            raise ValueError(f"host must be a host name or an ssh_config alias, not {host!r}")
        self.host = host
        self.username = username or None
        self.password = as_secret(password)
        self.port = int(port) if port else None
        if self.port is not None and not 0 < self.port < 65536:
            raise ValueError(f"port must be 1-65535, not {port!r}")
        self.key_file = key_file or None
        self.ssh_options = tuple(ssh_options)
        self.host_key_policy = check_policy(host_key_policy) if host_key_policy else None
        self.known_hosts = known_hosts or None
        self.ssh_config = ssh_config or None
        self.passphrase = as_secret(passphrase)
        if second_factor is not None and second_password is not None:
            raise ValueError("give second_factor or second_password, not both")
        self.second_factor = _second_factor(
            second_factor if second_password is None else second_password
        )
        self.connect_timeout = float(connect_timeout) if connect_timeout else None
        self.jump_spec = jump if isinstance(jump, str) else None
        self.jump = self._jump_shell(jump)
        self._resolved: Optional[SshLogin] = None

    def _jump_shell(self, jump: Jump) -> Optional[SshShell]:
        if jump is None or jump == "":
            return None
        if isinstance(jump, SshShell):
            return jump
        if isinstance(jump, Mapping):
            arguments = dict(jump)
            if arguments.pop("shellname", "SshShell") != "SshShell":
                raise ValueError(f"a jump host is an SshShell, not {jump.get('shellname')!r}")
            arguments.setdefault("timeout", self.timeout)
            arguments.setdefault("ssh_config", self.ssh_config)
            return SshShell(**arguments)
        if isinstance(jump, str):
            return self._jump_chain(jump)
        raise TypeError(
            f"jump must be an SshShell, a dict or a string like 'user@host:port', "
            f"not {type(jump).__name__}"
        )

    def _jump_chain(self, spec: str) -> SshShell:
        """``ProxyJump`` hosts as nested SshShells (the last one is returned)."""
        shell: Optional[SshShell] = None
        for hop in parse_proxy_jump(spec):
            shell = SshShell(
                hop.host,
                hop.user,
                port=hop.port,
                timeout=self.timeout,
                ssh_config=self.ssh_config,
                jump=shell,
            )
        assert shell is not None
        return shell

    def describe(self) -> str:
        return f"SshShell({self._target()})"

    def _target(self) -> str:
        login = self._resolved
        if login is None:
            user = f"{self.username}@" if self.username else ""
            port = f":{self.port}" if self.port else ""
            text = f"{user}{self.host}{port}"
            if self.jump is not None:
                text += f" through {self.jump._target()}"
            return text
        host = login.host if login.host == self.host else f"{self.host} -> {login.host}"
        text = f"{login.username}@{host}:{login.port}"
        if login.jump is not None:
            text += f" through {login.jump.describe()}"
        return text

    def password_of_user(self) -> Optional[Secret]:
        return self.password

    def secrets(self) -> tuple[Optional[Secret], ...]:
        found: list[Optional[Secret]] = [self.password, self.passphrase]
        if isinstance(self.second_factor, tuple):
            found += self.second_factor
        if self.jump is not None:
            found += self.jump.secrets()
        return tuple(found)

    # ---- first hop: paramiko -----------------------------------------------------
    def login(self) -> SshLogin:
        """How paramiko logs in to this hop as the first of a stack: the
        arguments given, completed from the ssh_config file (read now)."""
        return self._login(None, None, 0)

    def _login(
        self, inherited_policy: Optional[str], inherited_known_hosts: Optional[str], depth: int
    ) -> SshLogin:
        if depth > MAX_JUMPS:
            raise ShellError(
                f"more than {MAX_JUMPS} jump hosts (a ProxyJump loop in ssh_config?)", self.hop()
            )
        try:
            config = read_host_config(self.host, self.ssh_config)
        except ValueError as error:
            raise ShellError(str(error), self.hop()) from None
        policy = self.host_key_policy or inherited_policy
        known_hosts = self.known_hosts or inherited_known_hosts
        jump = self.jump
        if jump is None and config.proxy_jump:
            try:
                jump = self._jump_chain(config.proxy_jump)
            except ValueError as error:
                raise ShellError(f"{config.source}: {error}", self.hop()) from None
        key_files = [self.key_file] if self.key_file else []
        key_files += [path for path in config.identity_files if os.path.isfile(path)]
        no_password = self.password is None
        try:
            return SshLogin(
                host=config.hostname,
                username=self.username or config.user or getpass.getuser(),
                port=self.port or config.port or 22,
                password=self.password.value if self.password else None,
                key_files=tuple(key_files),
                passphrase=self.passphrase.value if self.passphrase else None,
                use_agent=no_password and not config.identities_only,
                default_keys=no_password and not key_files,
                answer=self._answerer(),
                host_key_policy=policy or config.host_key_policy or DEFAULT_POLICY,
                known_hosts=known_hosts or config.known_hosts or DEFAULT_KNOWN_HOSTS,
                timeout=self.timeout,
                connect_timeout=self.connect_timeout or config.connect_timeout,
                jump=jump._login(policy, known_hosts, depth + 1) if jump else None,
            )
        except ValueError as error:
            raise ShellError(str(error), self.hop()) from None

    def _answerer(self) -> Optional[Callable[[str], Optional[str]]]:
        """Second-factor answers for one login (a list is used up in order)."""
        factor = self.second_factor
        if factor is None:
            return None
        if isinstance(factor, tuple):
            answers = [secret.value for secret in factor if secret is not None]

            def next_answer(prompt: str) -> Optional[str]:
                return answers.pop(0) if answers else None

            return next_answer
        function = factor

        def ask(prompt: str) -> Optional[str]:
            try:
                reply = as_secret(function(prompt))
            except Exception as error:  # runs in paramiko's thread: report, do not raise
                LOGGER.warning("%s: second_factor(%r) failed: %r", self.describe(), prompt, error)
                return None
            return reply.value if reply is not None else None

        return ask

    def spawn(self) -> Terminal:
        login = self.login()
        self._resolved = login
        started = time.monotonic()
        try:
            terminal = SshTerminal(login, command=self.shell_with_prompt())
        except JumpFailed as error:
            failure = connect_error(error.error, login, started, self.hop(), error)
            if failure is error.error:
                raise
            raise failure from None
        except Exception as error:
            failure = connect_error(error, login, started, self.hop())
            if failure is error:
                raise
            raise failure from None
        try:
            self._come_up(terminal, parent=None)
        except BaseException:
            self.terminal = None
            terminal.close()
            raise
        return terminal

    # ---- later hops: typed ssh ---------------------------------------------------
    def command_line(self) -> str:
        self._resolved = None
        if self.jump is not None and self.jump_spec is None:
            raise ShellError(
                "a jump host given as an SshShell or a dict works for the first hop only "
                "(paramiko); for a typed ssh give jump as a string 'user@host:port' (ssh -J)",
                self.hop(),
            )
        options = ["-t", *self._host_key_options(), "-o", "LogLevel=ERROR"]
        connect_timeout = self.connect_timeout or self.timeout
        options += ["-o", f"ConnectTimeout={max(1, int(connect_timeout))}"]
        if self.port:
            options += ["-p", str(self.port)]
        if self.ssh_config:
            options += ["-F", self.ssh_config]
        if self.jump_spec:
            options += ["-J", self.jump_spec]
        if self.key_file:
            options += ["-i", self.key_file]
        if self.password is None and self.passphrase is None and self.second_factor is None:
            options += ["-o", "BatchMode=yes"]
        else:
            options += ["-o", "NumberOfPasswordPrompts=2"]
        options += list(self.ssh_options)
        target = f"{self.username}@{self.host}" if self.username else self.host
        words = ["ssh", *options, target]
        return " ".join(shlex.quote(w) for w in words) + " " + shlex.quote(self.shell_with_prompt())

    def _host_key_options(self) -> list[str]:
        """The host-key policy as ``ssh`` options (the typed hop's default is
        ``accept``: that host's ssh_config is not read here)."""
        policy = self.host_key_policy or DEFAULT_POLICY
        if policy == ACCEPT:
            return ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        value = "yes" if policy == REJECT else "accept-new"
        options = ["-o", f"StrictHostKeyChecking={value}"]
        if self.known_hosts:
            options += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        return options

    def dialogue(self) -> list[Answer | Failure]:
        name = host_key_name(self.host, self.port or 22)
        where = f" -f {shlex.quote(self.known_hosts)}" if self.known_hosts else ""
        on = f" on {self.parent.describe()}" if self.parent is not None else ""
        steps: list[Answer | Failure] = [
            Answer(
                r"continue connecting \(yes/no[^)]*\)\?",
                lambda shell: "yes",
                HostKeyRejected,
                "host key not accepted",
            ),
            Failure(
                r"REMOTE HOST IDENTIFICATION HAS CHANGED",
                HostKeyChanged,
                f"the host key of {name} has changed (the host was re-installed, or someone "
                f"is intercepting the connection); if the change is expected, remove the old "
                f"key{on} with: ssh-keygen -R {shlex.quote(name)}{where} "
                f"(or use host_key_policy=accept)",
            ),
            Failure(
                r"No \S+ host key is known for|Host key verification failed",
                HostKeyRejected,
                f"the host key of {name} is not known{on} and host_key_policy is reject "
                f"(use accept-new to add it)",
            ),
            Answer(
                r"Enter passphrase for key [^\r\n]*: *$",
                lambda shell: self.passphrase,
                ShellAuthenticationFailed,
                "key passphrase refused",
                missing="asked for the passphrase of a key, none given",
            ),
            self._password_answer(),
            Failure(r"Permission denied", ShellAuthenticationFailed, "permission denied"),
        ]
        steps += [Failure(p, ShellConnectionFailed, m) for p, m in _CONNECTION_FAILURES]
        return steps

    def _password_answer(self) -> Answer:
        """The password at the first password prompt; further ones (a second
        password asked by keyboard-interactive) get the second factor."""
        answer = self._answerer()
        count = [0]

        def reply(shell: Any) -> Optional[Union[Secret, str]]:
            count[0] += 1
            if count[0] == 1:
                return self.password
            text = str(shell.terminal.spawn.after) if shell.terminal is not None else ""
            value = answer(text.strip()) if answer is not None else None
            return Secret(value) if value is not None else None

        times = 1
        if isinstance(self.second_factor, tuple):
            times += len(self.second_factor)
        elif self.second_factor is not None:
            times += MAX_SECOND_FACTOR_PROMPTS
        return Answer(r"[Pp]assword: *$", reply, max_times=times)


def _second_factor(
    value: SecondFactor,
) -> Union[tuple[Optional[Secret], ...], Callable[[str], Any], None]:
    if value is None:
        return None
    if callable(value) and not isinstance(value, (str, Secret)):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(as_secret(item) for item in value)
    return (as_secret(value),)


class KeyAuthenticatedSshShell(SshShell):
    """The older library's SSH hop that logs in with a key:
    ``KeyAuthenticatedSshShell(host, initial_prompt, tty_echo=False)``.

    An :class:`SshShell` without a password (keys: ``key_file``, an agent or
    the usual files); ``initial_prompt`` (the prompt the older library waited
    for) and ``tty_echo`` are accepted and ignored: our own prompt tells when
    the shell is ready. Any other :class:`SshShell` argument by name.
    """

    shellname = "KeyAuthenticatedSshShell"

    def __init__(
        self,
        host: Optional[str] = None,
        initial_prompt: Optional[str] = None,
        tty_echo: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(host, tty_echo=bool(tty_echo), **kwargs)
        self.initial_prompt = initial_prompt
