"""Keywords for many terminals at once: open them, run Python on each, in parallel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Literal, Optional, Union

from robot.api import logger
from robot.api.deco import keyword
from robot.utils import is_truthy

from ..errors import ParallelError
from ..managed import ManagedTerminal, TerminalSettings, call_on_terminals, start_terminals
from ..recovery import AutoRunnerTerminal
from ..shells import Shell
from .calls import with_call_hints
from .converters import Seconds, Terminals
from .core import LibraryCore, PythonCommand, TerminalId
from .terminals import HostKeyPolicy, Password, SshDefaults, shells_from_dicts, ssh_stack
from .values import returns_target_data

#: The keys of a target dictionary of `Open Terminals` that `Open SSH Terminal`
#: takes as arguments (``alias`` and the terminal settings apart).
SSH_KEYS = (
    "host",
    "username",
    "password",
    "port",
    "key_file",
    "host_key_policy",
    "known_hosts",
    "ssh_config",
    "passphrase",
    "jump",
    "su_user",
    "su_password",
    "sudo",
    "sudo_user",
    "sudo_password",
    "hops",
)
SETTING_KEYS = ("timeout", "prompt_timeout", "python", "auto_recovery")
TARGET_KEYS = (*SSH_KEYS, "shells", "alias", *SETTING_KEYS)

#: How results of many terminals are keyed: by alias, else by index.
ResultKey = Union[str, int]
#: What the keywords on many terminals do when some fail (``on_failure``).
OnFailure = Literal["fail", "continue"]


class ManyTerminalKeywords(LibraryCore):
    """Open Terminals, Run Python On Terminals, Call Remote Function On Terminals."""

    #: Set from the import arguments by the library class.
    _ssh_defaults: SshDefaults = SshDefaults()

    @keyword("Open Terminals", tags=["terminal", "parallel"])
    def open_terminals(
        self,
        *targets: Union[dict[str, Any], str],
        username: Optional[str] = None,
        password: Password = None,
        port: Optional[int] = None,
        key_file: Optional[str] = None,
        host_key_policy: Optional[HostKeyPolicy] = None,
        known_hosts: Optional[str] = None,
        ssh_config: Optional[str] = None,
        passphrase: Password = None,
        jump: Union[dict[str, Any], str, None] = None,
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
        max_parallel: Optional[int] = None,
        on_failure: OnFailure = "fail",
    ) -> dict[ResultKey, Union[int, str]]:
        """Opens a terminal to each of ``targets`` in parallel, starts Python in
        each, and returns their indices by alias.

        A target is a host name (an alias of ``~/.ssh/config`` or of
        ``ssh_config`` will do), which also becomes the terminal's alias, or
        a dictionary:
        - with ``host``: the arguments of `Open SSH Terminal` (``host``,
          ``username``, ``password``, ``port``, ``key_file``, ``jump``,
          ``sudo``, ``hops``, ...) and ``alias`` (default: ``host``);
        - with ``shells``: a list of shell dictionaries, as `Open Terminal`
          takes, and ``alias`` (default: none, the terminal is named by its
          index).
        Either may also hold ``timeout``, ``prompt_timeout``, ``python`` and
        ``auto_recovery`` for that terminal.

        The named arguments are those of `Open SSH Terminal`, given to every
        SSH target that does not give its own. ``max_parallel`` bounds how
        many terminals are opened at once (default: all, up to 64).

        Unlike the other Open keywords this one also starts Python in every
        terminal, so they are ready for `Run Python On Terminals` and
        `Call Remote Function On Terminals`; an auto-recovering terminal is
        opened now too. The terminals are registered in the order given and
        the last one becomes the current terminal.

        If some targets fail, the others are still opened and the keyword
        fails after all have ended, naming every target that failed and why
        (one line each); the ones that opened stay open (close them with
        `Close All Terminals`). With ``on_failure=continue`` it does not
        fail: it returns the indices of those that opened and, for each that
        failed, its error as text (``ShellError: ...``, as in the failure
        message, logged too).

        Examples:
        | ${indices} = | Open Terminals | 10.0.0.2 | 192.168.1.2 | username=admin |
        | ...          | password=${PASSWORD} |
        | Should Be Equal | ${indices}[192.168.1.2] | ${3} |
        | Open Terminals | dut1 | ssh_config=${CURDIR}/lab_ssh_config | sudo=${True} |
        | ${root} = | Create Dictionary | host=10.0.0.2 | sudo=${True} | alias=root |
        | ${local} = | Create Dictionary | shells=${{[{'shellname': 'BashShell'}]}} | alias=here |
        | Open Terminals | ${root} | ${local} | username=admin | password=${PASSWORD} |
        | ...            | python=python3 |

        With ``on_failure=continue``, a target that cannot be reached:
        | ${down} = | Create Dictionary | host=10.0.0.9 | port=${1} | alias=down |
        | ${opened} = | Open Terminals | 10.0.0.2 | ${down} | username=admin |
        | ...         | password=${PASSWORD} | on_failure=continue |
        | Should Be Equal | ${opened}[10.0.0.2] | ${2} |
        | Should Start With | ${opened}[down] | SessionInitializationFailed: |
        """
        common: dict[str, Any] = {
            "username": username,
            "password": password,
            "port": port,
            "key_file": key_file,
            "host_key_policy": host_key_policy,
            "known_hosts": known_hosts,
            "ssh_config": ssh_config,
            "passphrase": passphrase,
            "jump": jump,
            "su_user": su_user,
            "su_password": su_password,
            "sudo": sudo,
            "sudo_user": sudo_user,
            "sudo_password": sudo_password,
            "hops": hops,
        }
        defaults = self._terminal_settings(timeout, prompt_timeout, python, auto_recovery)
        _check_on_failure(on_failure, "Open Terminals")
        if not targets:
            raise ValueError("Open Terminals needs at least one target.")
        entries = [self._target_terminal(target, common, defaults) for target in targets]
        self._check_aliases(entries)
        keyed = {number: entry for number, entry in enumerate(entries)}
        failure: Optional[ParallelError] = None
        try:
            start_terminals(keyed, max_parallel)
        except ParallelError as error:
            failure = error
        opened: dict[ResultKey, Union[int, str]] = {}
        for number, entry in keyed.items():
            if failure is None or number in failure.results:
                index = self._register(entry, "opened, Python started")
                opened[entry.alias or index] = index
        if failure is None:
            return opened
        reported = ParallelError(
            "Open Terminals",
            {_label(entries[n]): e for n, e in failure.errors.items()},
            opened,
            "the others are open" if opened else "",
        )
        if on_failure == "fail":
            raise reported from None
        logger.info(str(reported))
        result: dict[ResultKey, Union[int, str]] = {}
        for number, entry in keyed.items():
            if number in failure.errors:
                result[_label(entry)] = _error_text(failure.errors[number])
            else:
                result[entry.alias or entry.index] = entry.index
        return result

    def _target_terminal(
        self, target: Union[Mapping[str, Any], str], common: dict[str, Any],
        defaults: TerminalSettings,
    ) -> ManagedTerminal:  # fmt: skip
        """The (not yet opened) terminal of one target of `Open Terminals`."""
        if isinstance(target, str):
            target = {"host": target}
        if not isinstance(target, Mapping):
            raise TypeError(
                f"Open Terminals: a target is a host or a dictionary, not {type(target).__name__}"
            )
        unknown = sorted(set(target) - set(TARGET_KEYS))
        if unknown:
            raise ValueError(
                f"Open Terminals: unknown keys {', '.join(unknown)} in target {dict(target)!r}; "
                f"a target may have: {', '.join(TARGET_KEYS)}"
            )
        values = {key: _converted(key, value) for key, value in target.items()}
        settings = self._terminal_settings(
            values.get("timeout"),
            values.get("prompt_timeout"),
            values.get("python"),
            values.get("auto_recovery"),
            base=defaults,
        )
        alias = values.get("alias") or None
        shells: list[Shell]
        if "shells" in values:
            if "host" in values:
                raise ValueError(
                    f"Open Terminals: a target has 'host' or 'shells', not both: {dict(target)!r}"
                )
            shells = shells_from_dicts(values["shells"], settings)
            self._ssh_defaults.apply(shells, first=True)
        elif "host" in values:
            ssh = {**common, **{k: v for k, v in values.items() if k in SSH_KEYS}}
            shells = ssh_stack(settings, self._ssh_defaults, **ssh)
            alias = alias or str(values["host"])
        else:
            raise ValueError(f"Open Terminals: a target needs 'host' or 'shells': {target!r}")
        return ManagedTerminal(shells, settings, alias)

    def _check_aliases(self, entries: list[ManagedTerminal]) -> None:
        seen: set[str] = set()
        for entry in entries:
            if not entry.alias:
                continue
            if entry.alias in seen:
                raise ValueError(f"Open Terminals: alias '{entry.alias}' is given twice.")
            seen.add(entry.alias)
            self._check_alias_free(entry.alias)

    @keyword("Run Python On Terminals", tags=["python", "parallel"])
    @returns_target_data
    def run_python_on_terminals(
        self,
        *code: str,
        terminals: Optional[Terminals] = None,
        timeout: Optional[Seconds] = None,
        max_parallel: Optional[int] = None,
        on_failure: OnFailure = "fail",
    ) -> dict[ResultKey, Any]:
        """Runs the same Python code on several terminals in parallel and
        returns the values by terminal alias (its index if it has none).

        ``code`` as with `Run Python`; ``terminals`` is one index or alias,
        or a list of them (default: every open terminal). Python is started
        first where it is not running.

        If it fails on some terminals, the keyword fails after all have ended,
        naming every terminal that failed and why (one line each). With
        ``on_failure=continue`` it does not fail: it returns the values of the
        others and, for each terminal that failed, its error as text
        (``NameError: name 'x' is not defined``, as in the failure message,
        logged too).

        Examples:
        | Open Terminals | 10.0.0.2 | 192.168.1.2 | username=admin | password=${PASSWORD} |
        | ${names} = | Run Python On Terminals | __import__('socket').gethostname() |
        | ${pids} = | Run Python On Terminals | __import__('os').getpid() |
        | ...       | terminals=${{['10.0.0.2', 'dut']}} |
        | ${pid} = | Run Python On Terminals | os.getpid() | terminals=dut |
        | Run Python | only_here = 1 | terminal=dut |
        | ${values} = | Run Python On Terminals | only_here | on_failure=continue |
        | Should Be Equal | ${values}[dut] | ${1} |
        | Should Start With | ${values}[10.0.0.2] | NameError: |
        """
        text = "\n".join(code)
        return self._on_terminals(
            terminals,
            lambda runner: runner.run_python(text, timeout=timeout),
            "Run Python On Terminals",
            max_parallel,
            on_failure,
        )

    @keyword("Call Remote Function On Terminals", tags=["python", "parallel"])
    @returns_target_data
    def call_remote_function_on_terminals(
        self,
        function: str,
        *args: Any,
        terminals: Optional[Terminals] = None,
        max_parallel: Optional[int] = None,
        on_failure: OnFailure = "fail",
        **kwargs: Any,
    ) -> dict[ResultKey, Any]:
        """Calls ``function`` with the same arguments on several terminals in
        parallel and returns the results by terminal alias (its index if it
        has none).

        ``function``, ``args`` and ``kwargs`` as with `Call Remote Function`
        (plain data comes back as values, anything else as proxies, each of
        its own terminal). ``function`` is looked up in each terminal's
        Python namespace: import its module there first with
        `Import Remote Module` (``terminal=`` for each, or
        `Run Python On Terminals` with ``import socket``); only ``os``,
        ``sys`` and the builtins are there without an import, and what
        `Run Python` assigns. ``terminals``, ``on_failure`` and failures as
        with `Run Python On Terminals`. The named arguments ``terminals``,
        ``max_parallel`` and ``on_failure`` are taken by this keyword, not
        passed on.

        Examples:
        | Open Terminals | 10.0.0.2 | 192.168.1.2 | username=admin | password=${PASSWORD} |
        | ${systems} = | Call Remote Function On Terminals | os.uname |
        | ...          | terminals=${{['10.0.0.2', '192.168.1.2']}} |
        | Should Be Equal | ${systems['10.0.0.2'].sysname} | Linux |
        | ${joined} = | Call Remote Function On Terminals | os.path.join | a | b |
        | Should Be Equal | ${joined}[dut] | a/b |
        | Run Python On Terminals | import socket |
        | ${names} = | Call Remote Function On Terminals | socket.gethostname | terminals=dut |
        """

        def call(runner: AutoRunnerTerminal) -> Any:
            return with_call_hints(
                lambda: runner.call(function, *args, **kwargs), function, args, kwargs
            )

        return self._on_terminals(
            terminals,
            call,
            f"Call Remote Function On Terminals ({function})",
            max_parallel,
            on_failure,
        )

    def _on_terminals(
        self,
        terminals: Union[Terminals, list[TerminalId], TerminalId],
        call: Callable[[AutoRunnerTerminal], Any],
        doing: str,
        max_parallel: Optional[int],
        on_failure: OnFailure = "fail",
    ) -> dict[ResultKey, Any]:
        _check_on_failure(on_failure, doing)
        if terminals is None:
            entries = [entry for entry in self._terminals if not entry.closed]
        else:
            entries = [self._entry(terminal) for terminal in _as_list(terminals)]
        if not entries:
            raise ValueError(f"{doing}: no terminal (none is open, or none was given).")
        keyed: dict[ResultKey, ManagedTerminal] = {}
        for entry in entries:
            keyed[entry.alias or entry.index] = entry
        for entry in keyed.values():
            entry.check_usable()
        try:
            results = call_on_terminals(keyed, call, doing, max_parallel, self._workers())
        except ParallelError as error:
            if on_failure == "fail":
                raise
            logger.info(str(error))
            results = {key: error.results[key] if key in error.results else
                       _error_text(error.errors[key]) for key in keyed}  # fmt: skip
        logger.info(f"{doing}: {len(results)} terminals: {', '.join(map(str, results))}")
        return results


def _as_list(terminals: Any) -> list[TerminalId]:
    if isinstance(terminals, (str, int)):
        return [terminals]
    return list(terminals)


def _check_on_failure(on_failure: str, doing: str) -> None:
    if on_failure not in ("fail", "continue"):
        raise ValueError(f"{doing}: on_failure is fail or continue, not {on_failure!r}")


def _error_text(error: BaseException) -> str:
    """An error of one terminal as ``on_failure=continue`` returns it: as a
    line of the failure message says it."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _label(entry: ManagedTerminal) -> str:
    return entry.alias or entry.describe_shells()


def _converted(key: str, value: Any) -> Any:
    """A target dictionary's value as the keyword's argument would be
    converted (Robot gives dictionaries' values as they are: often strings)."""
    if value is None or value == "":
        return None
    if key in ("sudo", "auto_recovery"):
        return is_truthy(value)
    if key == "port":
        return int(value)
    if key in ("timeout", "prompt_timeout"):
        return Seconds.from_value(value)
    return value
