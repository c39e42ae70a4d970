"""The library over Robot Framework's remote library interface (XML-RPC).

``python -m RemoteProxyLibrary.keywords.remote --port 8270`` serves the
library with ``robotremoteserver`` (``pip install robotremoteserver``); a
suite then imports ``Library  Remote  http://127.0.0.1:8270``. The library
runs in the server's process, terminals and proxies stay there.

XML-RPC carries strings, numbers, booleans, bytes, lists and dictionaries,
nothing else, so :class:`RemoteInterface` (a dynamic library around the
library) decides what crosses:

- Arguments are converted here as Robot Framework converts them for the
  library itself (``10 s`` to seconds, ``${True}``, lists and dicts as
  given). A ``Secret`` does not cross: the client sends its masked text, so
  passwords are given as plain strings (they cross the XML-RPC link in clear).
- A keyword returning a proxy returns its **name** in the registry of its
  terminal: the name it is registered under, else a new one (``proxy 1``,
  ``proxy 2``, ...) it is registered under now. Every keyword taking a proxy
  takes that name (with ``terminal=`` when its terminal is not the current
  one); `Release Proxy` with the name releases it.
- `Start Remote Function Call` and `Start Proxy Method Call` return the name of
  the call (``call 1``, ...), which `Get Call Response` takes.
- `Start Command` returns the name of the command (``command 1``, ...), which
  `Read Command Output`, `Wait For Command`, `Send Signal To Command` and
  `Terminate Command` take (or no handle: the terminal's last command, as
  locally).
- `Get Terminal` and `Get Terminals` return dictionaries with the attributes
  of ``TerminalInfo`` as keys (the Remote library gives them as
  dictionaries whose items read as attributes: ``${info.alias}`` as locally).
  So do the command and file keywords with their results (`Wait For Command`
  and `Terminate Command`: ``rc``, ``stdout``, ``stderr``, ...; `Put File`,
  `Get File`, `Put Directory`, `Get Directory`: ``size``, ``destination``,
  ``rate``, ...): every field and property of a result object (a dataclass,
  a named tuple or another object of the library) is a key.
- Other values cross as ``robotremoteserver`` sends them: ``None`` as an
  empty string, tuples and sets as lists, dictionaries with string keys,
  other objects (dates, decimals) as their text. Proxies inside lists or
  dictionaries become names too.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
from collections.abc import Mapping
from typing import Any, Callable, Optional

from robot.running.arguments import PythonArgumentParser
from robot.running.arguments.customconverters import CustomArgumentConverters

from ..errors import InvalidProxySession
from ..managed import TerminalInfo
from ..runner import RunnerTerminal
from ..runner.commands import RemoteCommand
from .calls import RemoteCall
from .converters import CONVERTERS
from .library import RemoteProxyLibrary
from .values import loggable_text


class RemoteInterface:
    """RemoteProxyLibrary as a dynamic library for ``robotremoteserver``:
    the same keywords, with what crosses XML-RPC as the module doc says.

    ``library_arguments`` are the library's import arguments (``timeout``,
    ``python``, ``auto_recovery``, ...)."""

    def __init__(self, **library_arguments: Any) -> None:
        parser = PythonArgumentParser()
        init = parser.parse(RemoteProxyLibrary.__init__, "RemoteProxyLibrary")
        _, named = init.convert([], list(library_arguments.items()))
        self._library = RemoteProxyLibrary(**dict(named))
        self._keywords: dict[str, Callable[..., Any]] = {}
        for attribute in dir(type(self._library)):
            method = getattr(self._library, attribute, None)
            name = getattr(method, "robot_name", None)
            if callable(method) and name:
                self._keywords[name] = method
        self._specs = {name: parser.parse(method, name) for name, method in self._keywords.items()}
        self._converters = CustomArgumentConverters.from_dict(
            {**CONVERTERS, RemoteCall: self._call_named, RemoteCommand: self._command_named}
        )
        self._calls: dict[str, RemoteCall] = {}
        self._commands: dict[str, RemoteCommand] = {}
        self._numbers = itertools.count(1)
        #: Why the last command name given (in this run_keyword) is not known.
        self._unknown_name = ""

    # ---- the dynamic library API ---------------------------------------------------
    def get_keyword_names(self) -> list[str]:
        return sorted(self._keywords)

    def get_keyword_arguments(self, name: str) -> list[str]:
        spec = self._specs[name]
        arguments = [self._with_default(spec.defaults, arg) for arg in spec.positional]
        if spec.var_positional:
            arguments.append(f"*{spec.var_positional}")
        elif spec.named_only:
            arguments.append("*")
        arguments += [self._with_default(spec.defaults, arg) for arg in spec.named_only]
        if spec.var_named:
            arguments.append(f"**{spec.var_named}")
        return arguments

    @staticmethod
    def _with_default(defaults: Mapping[str, Any], name: str) -> str:
        return f"{name}={defaults[name]}" if name in defaults else name

    def get_keyword_documentation(self, name: str) -> str:
        if name == "__intro__":
            return type(self._library).__doc__ or ""
        if name == "__init__":
            return type(self._library).__init__.__doc__ or ""
        return self._keywords[name].__doc__ or ""

    def get_keyword_tags(self, name: str) -> list[str]:
        return list(getattr(self._keywords[name], "robot_tags", ()))

    def run_keyword(self, name: str, args: list, kwargs: Optional[dict] = None) -> Any:
        """Run keyword ``name``: arguments converted as Robot Framework would,
        the value made of what XML-RPC carries (see the module doc)."""
        spec = self._specs[name]
        self._unknown_name = ""
        try:
            positional, named = spec.convert(list(args), list((kwargs or {}).items()),
                                             self._converters)  # fmt: skip
        except ValueError as error:
            # Robot says only "cannot be converted to RemoteCommand or None"
            if self._unknown_name and self._unknown_name not in str(error):
                raise ValueError(f"{error} {self._unknown_name}") from None
            raise
        value = self._keywords[name](*positional, **dict(named))
        tags = set(self.get_keyword_tags(name))
        return self._remote_value(value, results=bool(tags & RESULT_TAGS))

    # ---- what crosses ----------------------------------------------------------------
    def _remote_value(self, value: Any, results: bool = False) -> Any:
        """``value`` as it crosses; with ``results`` (a command or file
        keyword's value) result objects become dictionaries of their fields."""
        if isinstance(value, str):
            # XML cannot carry a lone surrogate (a name that is not UTF-8 on the target)
            return loggable_text(value)
        if isinstance(value, int) and not isinstance(value, bool) and not (
            XMLRPC_MIN_INT <= value <= XMLRPC_MAX_INT
        ):
            return int_text(value)
        if value is None or isinstance(value, (bytes, int, float)):
            return value
        if RunnerTerminal.isproxy(value):
            return self._proxy_name(value)
        if isinstance(value, RemoteCall):
            name = f"call {next(self._numbers)}"
            self._calls[name] = value
            return name
        if isinstance(value, RemoteCommand):
            return self._command_name(value)
        if isinstance(value, TerminalInfo):
            return {key: self._remote_value(item) for key, item in
                    dataclasses.asdict(value).items()}  # fmt: skip
        if isinstance(value, Mapping):
            return {key: self._remote_value(item, results) for key, item in value.items()}
        fields = result_fields(value) if results else None
        if fields is not None:
            return {key: self._remote_value(item, results) for key, item in fields.items()}
        if isinstance(value, (list, tuple)):
            items = [self._remote_value(item, results) for item in value]
            if any(new is not old for new, old in zip(items, value)):
                return items
        return value

    def _command_name(self, command: RemoteCommand) -> str:
        """The name of ``command`` (a new one, ``command N``, the first time)."""
        for name, known in self._commands.items():
            if known is command:
                return name
        name = f"command {next(self._numbers)}"
        self._commands[name] = command
        return name

    def _command_named(self, value: str) -> RemoteCommand:
        if value in self._commands:
            return self._commands[value]
        known = ", ".join(f"'{name}'" for name in self._commands) or "none"
        self._unknown_name = (
            f"No command named '{value}': give what 'Start Command' returned "
            f"(commands started so far: {known})."
        )
        raise ValueError(self._unknown_name)

    def _proxy_name(self, proxy: Any) -> str:
        """The name of ``proxy`` in its terminal's registry; registered under
        a new name if it has none."""
        for info in self._library.get_terminals():
            for name, known in self._library._entry(info.index).proxies.items():
                if known is proxy:
                    return name
        name = f"proxy {next(self._numbers)}"
        for info in self._library.get_terminals():
            try:
                self._library.register_proxy(proxy, name, terminal=info.index)
            except InvalidProxySession:  # a proxy of another terminal
                continue
            return name
        raise InvalidProxySession(f"{proxy!r} belongs to no open terminal: it cannot be named")

    def _call_named(self, value: str) -> RemoteCall:
        if value in self._calls:
            return self._calls[value]
        known = ", ".join(f"'{name}'" for name in self._calls) or "none"
        raise ValueError(f"no call named '{value}' (calls started so far: {known})")


#: Tags of the keywords whose result objects cross as dictionaries.
RESULT_TAGS = {"commands", "files"}
#: This library's top package (``__name__`` is ``__main__`` when served with ``-m``).
PACKAGE = RunnerTerminal.__module__.split(".")[0]


#: XML-RPC's ints are 32 bits: larger ones cross as their text.
XMLRPC_MIN_INT, XMLRPC_MAX_INT = -(2**31), 2**31 - 1


def int_text(value: int) -> str:
    """``value`` in decimal, or in hex past Python's limit on decimal digits."""
    try:
        return str(value)
    except ValueError:
        return hex(value)


def result_fields(value: Any) -> Optional[dict[str, Any]]:
    """The fields of a result object by name (a dataclass's fields, a named
    tuple's, or the public attributes of an object of this library), its
    public properties too; None for any other value."""
    cls = type(value)
    names: list[str]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [field.name for field in dataclasses.fields(value)]
    elif isinstance(value, tuple) and hasattr(cls, "_fields"):
        names = list(cls._fields)
    elif cls.__module__.split(".")[0] == PACKAGE and hasattr(value, "__dict__"):
        names = [name for name in vars(value) if not name.startswith("_")]
    else:
        return None
    for klass in cls.__mro__:
        for name, attribute in vars(klass).items():
            if isinstance(attribute, property) and not name.startswith("_") and name not in names:
                names.append(name)
    return {name: getattr(value, name) for name in names}


def serve(host: str = "127.0.0.1", port: int = 8270, port_file: Optional[str] = None,
          **library_arguments: Any) -> None:  # fmt: skip
    """Serve the library on ``host:port`` (0: a free port, written to
    ``port_file``) until `Stop Remote Server` (or a signal) stops it."""
    try:
        from robotremoteserver import RobotRemoteServer
    except ImportError:
        raise SystemExit(
            "serving the library needs robotremoteserver: pip install robotremoteserver"
        ) from None
    interface = RemoteInterface(**library_arguments)
    try:
        RobotRemoteServer(interface, host=host, port=port, port_file=port_file)
    finally:
        interface._library.close_all_terminals()


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m RemoteProxyLibrary.keywords.remote",
        description="Serve RemoteProxyLibrary over Robot Framework's remote library interface.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8270, help="0: a free port")
    parser.add_argument("--port-file", help="write the port used to this file")
    parser.add_argument(
        "--library-argument",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an import argument of the library, e.g. timeout=10 min (repeatable)",
    )
    options = parser.parse_args(argv)
    arguments = dict(item.split("=", 1) for item in options.library_argument)
    serve(options.host, options.port, options.port_file, **arguments)


if __name__ == "__main__":
    main(sys.argv[1:])
