"""Keywords that run Python on the target: code, expressions, calls, imports."""

from __future__ import annotations

from typing import Any, Optional

from robot.api import logger
from robot.api.deco import keyword

from ..errors import UnableToSerialize
from .calls import RemoteCall, with_call_hints
from .converters import Seconds
from .core import LibraryCore, TerminalId
from .values import returns_target_data


class PythonKeywords(LibraryCore):
    """Run Python, Evaluate Python, Call Remote Function, Import Remote Module, ..."""

    @keyword("Run Python", tags=["python"])
    @returns_target_data
    def run_python(
        self, *code: str, timeout: Optional[Seconds] = None, terminal: TerminalId = None
    ) -> Any:
        """Runs Python code on the target and returns its value.

        ``code`` is an expression (its value is returned) or statements (``None``
        is returned); several arguments are joined as lines (see `Multi-line
        code` for indented blocks). It runs in the terminal's Python namespace,
        where `Import Remote Module` imports and where names assigned here stay
        for later keywords.

        The value must be plain data (see `Python and proxies`); use
        `Evaluate Python` to get other values as proxies. A remote exception
        fails the keyword with the same type and message; its remote traceback
        is in the log, like anything the code printed.

        ``timeout`` defaults to the terminal's ``timeout`` (see `Timeouts`).

        Examples:
        | ${sum} = | Run Python | 1 + 2 |
        | Run Python | import os |
        | ${pid} = | Run Python | os.getpid() | terminal=dut |
        | Run Python | total = 0 |
        | ... | for i in range(10): total += i |
        """
        if not "".join(code).strip():
            raise ValueError(
                "Run Python got no code. (Robot takes 'name=value' as a named argument: "
                "write code such as timeout=5 as 'timeout\\=5'.)"
            )
        runner = self._entry(terminal).runner()
        try:
            return runner.run_python("\n".join(code), timeout=timeout)
        except UnableToSerialize as error:
            raise UnableToSerialize(
                f"The code ran on the target, but its value cannot come back by value "
                f"({error}). Use Evaluate Python to get it as a proxy, or assign it to a "
                "name in the code (item = ...) and use Get Proxy with that name."
            ) from None

    @keyword("Evaluate Python", tags=["python"])
    @returns_target_data
    def evaluate_python(
        self,
        expression: str,
        name: Optional[str] = None,
        *,
        timeout: Optional[Seconds] = None,
        terminal: TerminalId = None,
    ) -> Any:
        """Evaluates a Python expression on the target: plain data comes back as
        a value, anything else as a proxy of the remote object.

        With ``name`` a proxy is also registered under that name in the
        terminal's proxy registry (see `Proxy registry`).

        Examples:
        | ${count} = | Evaluate Python | len(os.listdir('/')) |
        | ${file} = | Evaluate Python | open('/etc/hostname') | name=hostname file |
        | ${text} = | Call Proxy Method | hostname file | read |
        """
        entry = self._entry(terminal)
        runner = entry.runner()
        value = runner.evaluate(expression, timeout=timeout)
        if name and runner.isproxy(value):
            entry.register(name, value)
        elif name:
            logger.info(f"Not registered as '{name}': the value came back as plain data.")
        return value

    @keyword("Call Remote Function", tags=["python"])
    @returns_target_data
    def call_remote_function(
        self, function: str, *args: Any, terminal: TerminalId = None, **kwargs: Any
    ) -> Any:
        """Calls ``function`` on the target with ``args`` and ``kwargs``.

        ``function`` is a name or expression in the terminal's Python
        namespace, such as ``os.getcwd``: import modules first with
        `Import Remote Module` (only ``os``, ``sys`` and the builtins are
        there without it, and what `Run Python` assigns). A function whose
        module was not imported fails with ``NameError`` saying so.
        Arguments travel by value when they are plain data; proxies (of the same
        terminal) stand for their remote objects. Plain data comes back as a
        value, anything else as a proxy.

        The named argument ``terminal`` is taken by this keyword, not passed on.

        Examples:
        | Import Remote Module | os.path |
        | ${path} = | Call Remote Function | os.path.join | /tmp | a.txt |
        | ${data} = | Call Remote Function | json.dumps | ${{{'a': 1}}} | indent=${2} |
        """
        runner = self._entry(terminal).runner()
        return with_call_hints(lambda: runner.call(function, *args, **kwargs),
                               function, args, kwargs)  # fmt: skip

    @keyword("Import Remote Module", tags=["python"])
    def import_remote_module(self, *modules: str, terminal: TerminalId = None) -> None:
        """Imports modules in the terminal's Python namespace.

        Each of ``modules`` is a module name (``os``, ``os.path``: the top
        package gets bound, as with ``import os.path``) or an import statement.

        The terminal remembers them: they are imported again whenever Python
        starts anew in it (after an auto recovery, `Push Shell` or `Pop Shell`).

        Examples:
        | Import Remote Module | os | subprocess | xml.etree.ElementTree |
        | Import Remote Module | from collections import OrderedDict |
        """
        self._entry(terminal).import_modules(*modules)

    @keyword("Start Remote Function Call", tags=["python", "async"])
    def start_remote_function_call(
        self, function: str, *args: Any, terminal: TerminalId = None, **kwargs: Any
    ) -> RemoteCall:
        """Starts calling ``function`` on the target and returns at once.

        Arguments as with `Call Remote Function`. Returns a call object: give it
        to `Get Call Response` for the value. Other keywords can use the
        terminal meanwhile; each remote call runs in its own thread.

        Example:
        | ${call} = | Start Remote Function Call | time.sleep | ${2} |
        | Run Python | 1 + 1 |
        | Get Call Response | ${call} |
        """
        entry = self._entry(terminal)
        target = entry.runner().get_proxy_object(function)
        return RemoteCall.start(target, args, kwargs, f"{function}()", entry.settings.timeout)

    @keyword("Get Call Response", tags=["python", "async"])
    @returns_target_data
    def get_call_response(self, call: RemoteCall, timeout: Optional[Seconds] = None) -> Any:
        """Waits for a call started by `Start Remote Function Call` or
        `Start Proxy Method Call` and returns its value (plain data as a value,
        anything else as a proxy), or fails with its remote exception.

        ``timeout`` defaults to the terminal's ``timeout``. If the call does not
        finish in time, the keyword fails with ``RemoteTimeout`` and the call can
        be waited for again. Asking again after it finished gives the same answer.

        Example:
        | ${process} = | Get Proxy From Call | subprocess.Popen | ${{['sleep', '1']}} |
        | ${call} = | Start Proxy Method Call | ${process} | wait |
        | ${status} = | Get Call Response | ${call} | timeout=1 min |
        """
        if not isinstance(call, RemoteCall):  # called from Python, not converted by Robot
            raise TypeError(
                "Expected what 'Start Remote Function Call' or 'Start Proxy Method Call' "
                f"returned, got {type(call).__name__}."
            )
        return call.response(None if timeout is None else float(timeout))
