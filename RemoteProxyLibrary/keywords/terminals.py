"""Keywords that open, switch, inspect, change and close terminals."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Optional, Union

from robot.api import logger
from robot.api.deco import keyword
from robot.api.types import Secret

from ..managed import TerminalInfo, TerminalSettings
from ..shells import BashShell, Shell, ShellStack, SshShell, SudoShell, SuShell
from ..shells.bash import DEFAULT_SHELL
from .converters import DEFAULT_SLEEP_BETWEEN_TRIES, Seconds
from .core import LibraryCore, PythonCommand, TerminalId

Password = Union[Secret, str, None]
#: The host-key policies of SSH hops (see `SSH`).
HostKeyPolicy = Literal["accept", "accept-new", "reject"]


@dataclass(frozen=True)
class SshDefaults:
    """Library-wide SSH settings (import arguments ``host_key_policy`` and
    ``known_hosts``), for SSH hops that give none of their own."""

    host_key_policy: Optional[str] = None
    known_hosts: Optional[str] = None

    def apply(self, shells: Iterable[Shell], first: bool) -> None:
        """Give the SSH hops among ``shells`` the defaults they lack.

        ``first``: the first of ``shells`` is the first hop of its terminal
        (paramiko). ``known_hosts`` is a path on this machine, so typed hops
        (paths on the host they are typed on) get only the policy.
        """
        for index, shell in enumerate(shells):
            if not isinstance(shell, SshShell):
                continue
            if shell.host_key_policy is None:
                shell.host_key_policy = self.host_key_policy
            if first and index == 0 and shell.known_hosts is None:
                shell.known_hosts = self.known_hosts


def shells_from_dicts(
    shelldicts: Sequence[Mapping[str, Any]], settings: TerminalSettings
) -> list[Shell]:
    """Shells from shell dicts; ``timeout`` defaults to the prompt timeout."""
    dicts = []
    for shelldict in shelldicts:
        if not isinstance(shelldict, Mapping):
            raise TypeError(
                f"a hop must be a dictionary like {{'shellname': 'SudoShell'}}, "
                f"not {type(shelldict).__name__}"
            )
        hop = dict(shelldict)
        hop.setdefault("timeout", settings.prompt_timeout)
        dicts.append(hop)
    return ShellStack().initialize(dicts)


def ssh_stack(
    settings: TerminalSettings,
    defaults: SshDefaults,
    host: str,
    username: Optional[str] = None,
    password: Password = None,
    port: Optional[int] = None,
    key_file: Optional[str] = None,
    *,
    host_key_policy: Optional[str] = None,
    known_hosts: Optional[str] = None,
    ssh_config: Optional[str] = None,
    passphrase: Password = None,
    jump: Union[dict[str, Any], str, None] = None,
    su_user: Optional[str] = None,
    su_password: Password = None,
    sudo: bool = False,
    sudo_user: str = "root",
    sudo_password: Password = None,
    hops: Optional[Sequence[Mapping[str, Any]]] = None,
    second_factor: Union[list[Password], Password] = None,
    connect_timeout: Optional[float] = None,
) -> list[Shell]:
    """The shells of `Open SSH Terminal` (and of each target of `Open Terminals`)."""
    wait = settings.prompt_timeout
    shells: list[Shell] = [
        SshShell(
            host,
            username,
            password,
            port=port,
            key_file=key_file or None,
            timeout=wait,
            host_key_policy=host_key_policy,
            known_hosts=known_hosts,
            ssh_config=ssh_config,
            passphrase=passphrase,
            jump=jump,
            second_factor=second_factor,
            connect_timeout=connect_timeout,
        )
    ]
    if su_user:
        shells.append(SuShell(su_user, su_password, timeout=wait))
    if sudo:
        shells.append(SudoShell(sudo_user, sudo_password, timeout=wait))
    shells += shells_from_dicts(hops or [], settings)
    defaults.apply(shells, first=True)
    return shells


class TerminalKeywords(LibraryCore):
    """Open Local Terminal, Open SSH Terminal, Open Terminal, Push Shell, ..."""

    #: Set from the import arguments by the library class.
    _ssh_defaults: SshDefaults = SshDefaults()

    @keyword("Open Local Terminal", tags=["terminal"])
    def open_local_terminal(
        self,
        alias: Optional[str] = None,
        shell: str = DEFAULT_SHELL,
        *,
        timeout: Optional[Seconds] = None,
        prompt_timeout: Optional[Seconds] = None,
        python: PythonCommand = None,
        auto_recovery: Optional[bool] = None,
        direct: Optional[str] = None,
    ) -> int:
        """Opens a terminal on this machine (a local pty) and returns its index.

        ``alias`` names the terminal for `Switch Terminal` and the ``terminal``
        argument of other keywords. ``shell`` is the command starting an
        interactive POSIX shell, or ``auto`` (the default): bash without rc
        files where there is bash, else ``sh``.

        ``timeout``, ``prompt_timeout``, ``python``, ``auto_recovery`` and
        ``direct`` override the library's settings for this terminal (see
        `Importing`); ``python`` is ``auto``, a command or a list of commands
        (see `Python on the target`).

        The new terminal becomes the current one.

        Examples:
        | Open Local Terminal |
        | ${index} = | Open Local Terminal | alias=local | timeout=10 min |
        | Open Local Terminal | alias=sh | shell=sh -i | auto_recovery=True |
        | Open Local Terminal | alias=py | python=['python3.99', 'python3'] |
        | Run Python | 1 | terminal=py |
        """
        settings = self._terminal_settings(
            timeout, prompt_timeout, python, auto_recovery, direct=direct
        )
        shells: list[Shell] = [BashShell(timeout=settings.prompt_timeout, shell=shell)]
        return self._open(shells, alias, settings)

    @keyword("Open SSH Terminal", tags=["terminal"])
    def open_ssh_terminal(
        self,
        host: str,
        username: Optional[str] = None,
        password: Password = None,
        port: Optional[int] = None,
        key_file: Optional[str] = None,
        alias: Optional[str] = None,
        *,
        host_key_policy: Optional[HostKeyPolicy] = None,
        known_hosts: Optional[str] = None,
        ssh_config: Optional[str] = None,
        passphrase: Password = None,
        jump: Union[dict[str, Any], str, None] = None,
        second_factor: Union[list[Password], Password] = None,
        connect_timeout: Optional[Seconds] = None,
        su_user: Optional[str] = None,
        su_password: Password = None,
        sudo: bool = False,
        sudo_user: str = "root",
        sudo_password: Password = None,
        hops: Optional[list[dict[str, Any]]] = None,
        timeout: Optional[Seconds] = None,
        prompt_timeout: Optional[Seconds] = None,
        python: PythonCommand = None,
        auto_recovery: Optional[bool] = None,
        direct: Optional[str] = None,
    ) -> int:
        """Opens a terminal on ``host`` over SSH and returns its index.

        Logs in as ``username`` with ``password`` (a
        [https://robotframework.org/robotframework/latest/RobotFrameworkUserGuide.html#secret-type|Secret]
        or a plain string) or with the private key ``key_file`` (a path on this
        machine; ``passphrase`` opens it if it is encrypted). Without a
        password the keys of an SSH agent and ``~/.ssh/id_*`` are offered too.
        Passwords and passphrases never reach the log; prefer Secrets, whose
        values Robot does not log even at ``TRACE`` level.

        ``host`` may be an alias of ``~/.ssh/config``, or of the file
        ``ssh_config``: its ``HostName``, ``User``, ``Port``, ``IdentityFile``,
        ``ProxyJump``, ``ConnectTimeout``, ``StrictHostKeyChecking`` and
        ``UserKnownHostsFile`` apply where no argument is given (see `SSH`).

        ``host_key_policy`` (``accept``, ``accept-new`` or ``reject``) and
        ``known_hosts`` override the library's for this terminal (see `SSH`).

        ``second_factor`` answers the prompts of a keyboard-interactive login
        that come after the password one (a one-time code, a second password):
        one answer, or a list of answers in order. ``connect_timeout`` bounds
        the TCP connection and the server's first answer (default:
        ``prompt_timeout``, or the ssh_config's ``ConnectTimeout``): a server
        that accepts the connection but stays silent fails then, saying so.

        The shell is started by asking the server to run it with our prompt;
        a server that refuses to run commands (as some devices' do) gets it
        typed into its login shell instead, which must then be a POSIX shell.

        ``jump``: log in through this host first, like OpenSSH's ``ProxyJump``:
        ``user@host:port`` (logging in with keys), or a dictionary of its
        ``host``, ``username``, ``password``, ``port``, ``key_file``, ...

        Further hops, in this order, once logged in:
        - ``su_user``: ``su`` to that user, answering ``su_password``;
        - ``sudo``: ``sudo`` to ``sudo_user`` (root by default), answering
          ``sudo_password`` if sudo asks. By default that is the password of the
          user running sudo: ``su_password`` after ``su``, else ``password``;
        - ``hops``: a list of shell dictionaries, as with `Open Terminal`.

        ``alias``, ``timeout``, ``prompt_timeout``, ``python``,
        ``auto_recovery`` and ``direct`` as with `Open Local Terminal`.

        Examples:
        | Open SSH Terminal | 10.0.0.2 | admin | ${PASSWORD} | alias=target |
        | Open SSH Terminal | 10.0.0.2 | admin | key_file=%{HOME}/.ssh/id_ed25519 |
        | Open SSH Terminal | 10.0.0.2 | admin | ${PASSWORD} | sudo=${True} |
        | Open SSH Terminal | dut1 | ssh_config=${CURDIR}/lab_ssh_config | alias=dut1 |
        | Open SSH Terminal | 10.0.0.2 | admin | ${PASSWORD} | host_key_policy=accept-new |
        | Open SSH Terminal | 10.0.0.2 | key_file=${CURDIR}/keys/id_ed25519 | passphrase=${PHRASE} |
        | Open SSH Terminal | 192.168.1.2 | admin | ${PASSWORD} | jump=admin@10.0.0.2 |
        | Open SSH Terminal | 10.0.0.2 | admin | ${PASSWORD} | su_user=app | su_password=${PW} |
        | ${hop} = | Create Dictionary | shellname=SshShell | host=192.168.1.2 | username=admin |
        | ...      | password=${PASSWORD} |
        | Open SSH Terminal | 10.0.0.2 | admin | ${PASSWORD} | hops=${{[$hop]}} |
        """
        settings = self._terminal_settings(
            timeout, prompt_timeout, python, auto_recovery, direct=direct
        )
        shells = ssh_stack(
            settings,
            self._ssh_defaults,
            host,
            username,
            password,
            port,
            key_file,
            host_key_policy=host_key_policy,
            known_hosts=known_hosts,
            ssh_config=ssh_config,
            passphrase=passphrase,
            jump=jump,
            su_user=su_user,
            su_password=su_password,
            sudo=sudo,
            sudo_user=sudo_user,
            sudo_password=sudo_password,
            hops=hops,
            second_factor=second_factor,
            connect_timeout=connect_timeout,
        )
        return self._open(shells, alias, settings)

    @keyword("Open Terminal", tags=["terminal"])
    def open_terminal(
        self,
        *shells: dict[str, Any],
        alias: Optional[str] = None,
        timeout: Optional[Seconds] = None,
        prompt_timeout: Optional[Seconds] = None,
        python: PythonCommand = None,
        auto_recovery: Optional[bool] = None,
        direct: Optional[str] = None,
    ) -> int:
        """Opens a terminal from a stack of shell dictionaries and returns its index.

        Each of ``shells`` is a dictionary naming a shell kind with ``shellname``
        and giving its arguments: ``BashShell`` (``shell``), ``SshShell``
        (``host``, ``username``, ``password``, ``port``, ``key_file``,
        ``host_key_policy``, ``known_hosts``, ``ssh_config``, ``passphrase``,
        ``second_factor``, ``jump``, ``connect_timeout``; see `SSH`),
        ``SuShell`` (``username``, ``password``, ``login``), ``SudoShell``
        (``username``, ``password``), ``PythonShell`` (``python``), or a dotted path
        to a Shell subclass of your own. The first shell is started on this
        machine (``SshShell`` connects with paramiko), each next one inside the
        previous one. ``timeout`` of a shell defaults to ``prompt_timeout``.

        Other arguments as with `Open Local Terminal`.

        Examples:
        | ${ssh} = | Create Dictionary | shellname=SshShell | host=10.0.0.2 | username=admin |
        | ...      | password=${PASSWORD} |
        | ${sudo} = | Create Dictionary | shellname=SudoShell | password=${PASSWORD} |
        | Open Terminal | ${ssh} | ${sudo} | alias=root@dut |
        | Open Terminal | {'shellname': 'BashShell'} | {'shellname': 'PythonShell'} |
        | @{STACK} = | Create List | ${ssh} | ${sudo} |
        | Open Terminal | @{STACK} | auto_recovery=True |
        """
        settings = self._terminal_settings(
            timeout, prompt_timeout, python, auto_recovery, direct=direct
        )
        if not shells:
            raise ValueError("Open Terminal needs at least one shell dictionary.")
        stack = shells_from_dicts(shells, settings)
        self._ssh_defaults.apply(stack, first=True)
        return self._open(stack, alias, settings)

    @keyword("Push Shell", tags=["terminal"])
    def push_shell(
        self, hop: Union[dict[str, Any], str], *, terminal: TerminalId = None, **options: Any
    ) -> None:
        """Starts another shell inside the terminal's current one.

        ``hop`` is a shell dictionary (see `Open Terminal`) or a shell name
        with its arguments given as named ``options``. Python keywords then run
        in the new shell. Python running in the terminal is stopped first and
        proxies made before become invalid (the registry is emptied).

        The shell starts at once on an open terminal (its failure fails this
        keyword and leaves the terminal as it was); an auto-recovering terminal
        not opened yet only records it. Either way the shell is part of the
        stack reopened by auto recovery.

        A ``SudoShell`` given no ``password`` answers sudo with the password of
        the user it runs as: the ``password`` of the last ``SuShell`` or
        ``SshShell`` hop (as every ``SudoShell`` does, in `Open Terminal` and
        ``hops`` too).

        Examples:
        | Push Shell | SshShell | host=dut1 | ssh_config=${CURDIR}/lab_ssh_config |
        | Push Shell | SudoShell |
        | Push Shell | SuShell | username=app | password=${APP_PASSWORD} |
        | ${hop} = | Create Dictionary | shellname=BashShell |
        | Push Shell | ${hop} | terminal=dut |
        """
        entry = self._entry(terminal)
        if isinstance(hop, str) and hop.lstrip().startswith("{"):
            hop = ast.literal_eval(hop)  # Robot keeps a str given for ``dict | str``
        if isinstance(hop, Mapping):
            shelldict = {**hop, **options}
        else:
            shelldict = {"shellname": hop, **options}
        (new_shell,) = shells_from_dicts([shelldict], entry.settings)
        self._ssh_defaults.apply([new_shell], first=False)
        entry.push(new_shell)
        logger.info(f"{entry.name.capitalize()}: {entry.describe_shells()}")

    @keyword("Pop Shell", tags=["terminal"])
    def pop_shell(self, *, terminal: TerminalId = None) -> str:
        """Leaves the terminal's current shell and returns its description.

        Python running in the terminal is stopped first; proxies made before
        become invalid. The first shell cannot be popped: use `Close Terminal`.

        Example:
        | Push Shell | SudoShell |
        | Run Python | import os; assert os.getuid() == 0 |
        | Pop Shell |
        """
        entry = self._entry(terminal)
        shell = entry.pop()
        logger.info(f"{entry.name.capitalize()}: left {shell.describe()}")
        return shell.describe()

    @keyword("Switch Terminal", tags=["terminal"])
    def switch_terminal(self, terminal: Union[int, str]) -> Optional[int]:
        """Makes the terminal with index or alias ``terminal`` the current one and
        returns the index of the previous current terminal (``None`` if none).

        Example:
        | ${previous} = | Switch Terminal | dut |
        | Run Python | print('on dut') |
        | Switch Terminal | ${previous} |
        """
        previous = self._terminals.current_index
        entry = self._entry(terminal)
        self._terminals.current = entry
        return previous

    @keyword("Get Terminal", tags=["terminal"])
    def get_terminal(self, terminal: TerminalId = None) -> TerminalInfo:
        """Returns information on a terminal (default: the current one).

        The result (a `TerminalInfo`) has attributes ``index``, ``alias``,
        ``shells`` (the hops, bottom first), ``auto_recovery``,
        ``python_running``, ``proxies`` (the names in its proxy registry),
        ``round_trips`` (requests sent to Python on the target so far, each one
        round trip), ``closed`` and ``python`` (the command that started
        Python on the target, e.g. the one ``auto`` chose; empty before Python
        first ran). A closed terminal can be asked for by its index or alias.

        Example:
        | ${info} = | Get Terminal | dut |
        | Should Be Equal | ${info.alias} | dut |
        | Run Python | 1 | terminal=dut |
        | Log | ${info.python} |
        """
        return self._entry(terminal, usable=False).info()

    @keyword("Get Terminals", tags=["terminal"])
    def get_terminals(self, include_closed: bool = False) -> list[TerminalInfo]:
        """Returns information on every open terminal (with ``include_closed``,
        closed ones too), in the order they were opened: a list of
        `TerminalInfo`, as `Get Terminal` returns for one.

        Example:
        | ${terminals} = | Get Terminals |
        | FOR | ${info} | IN | @{terminals} |
        | Log | ${info.index} ${info.alias} ${info.shells} python: ${info.python_running} |
        | END |
        """
        return [entry.info() for entry in self._terminals if include_closed or not entry.closed]

    @keyword("Close Terminal", tags=["terminal"])
    def close_terminal(self, terminal: TerminalId = None) -> None:
        """Stops Python, leaves every shell and closes the terminal (default: the
        current one). Its index and alias then name a closed terminal.

        Closing a closed terminal does nothing.
        """
        if terminal is None and not self._terminals:
            logger.info("No current terminal to close.")
            return
        self._close_entry(self._entry(terminal, usable=False))

    @keyword("Close All Terminals", tags=["terminal"])
    def close_all_terminals(self) -> None:
        """Closes every terminal; indices start from 1 again afterwards.

        The library also closes all its terminals when the execution ends.
        Typical use: ``Suite Teardown    Close All Terminals``.
        """
        self._close_all()

    @keyword("Configure Auto Recovery", tags=["terminal"])
    def configure_auto_recovery(
        self,
        enabled: bool = True,
        max_tries: int = 3,
        sleep_between_tries: Seconds = DEFAULT_SLEEP_BETWEEN_TRIES,
    ) -> None:
        """Sets auto recovery of the terminals opened from now on.

        With ``enabled``, a terminal whose connection breaks (the target's
        Python was killed, the SSH session dropped, the target rebooted) is
        reopened, its hops redone and Python restarted by the next keyword
        using it; a call that broke is tried again, ``max_tries`` times in all,
        sleeping ``sleep_between_tries`` between opening attempts. Proxies made
        before a recovery raise ``InvalidProxySession``: get them again.

        The ``auto_recovery`` argument of the Open keywords overrides
        ``enabled`` for one terminal. See `Auto recovery`.

        Example:
        | Configure Auto Recovery | max_tries=5 | sleep_between_tries=2 s |
        """
        if max_tries < 1:
            raise ValueError(f"max_tries must be at least 1, got {max_tries}.")
        self._settings = replace(
            self._settings,
            auto_recovery=bool(enabled),
            max_tries=int(max_tries),
            sleep_between_tries=float(sleep_between_tries),
        )
