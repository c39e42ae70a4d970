"""Which Python on the target starts the agent (``python=`` of the runners).

``python`` is one of:

- ``"auto"`` (the default): the newest ``python3.X`` (X >= 6) found on the
  target's ``PATH``, then ``python3``, then ``python``;
- a command, typed as it is (``python3``, ``/opt/py/bin/python3.9``,
  ``sleep 1; python3``);
- a list of such commands (an item ``"auto"`` stands for the three above),
  tried in order.

Costs: the candidates are tried by one line typed into the shell, so a target
whose first candidate is usable starts one Python in one round trip, as with a
single command. Each candidate runs stage-0 behind a gate of a few bytes that
any Python (2 included) can parse: a Python older than :data:`MIN_VERSION`
exits with status :data:`TOO_OLD` before it reads anything, and the line goes
on with the next candidate (also after "not found", 127, and "not
executable", 126). Any other end of a candidate (its agent ran and ended, it
crashed) ends the line, so an agent that dies is never followed by another
one.

Only when no agent starts does a second line ask each candidate where it is
and which version it is (``command -v``, ``-V``), for an error naming what
was found: ``python3 is 3.4.10, python is 2.7.18: the agent needs Python 3.6
or newer``. A ``PythonShell`` (``>>>``) needs no choice: its Python is checked
by the same gate, as an ``assert``.

The lines are POSIX ``sh`` (bash, dash, BusyBox ``ash``) and stay under 1000
bytes, the line length BusyBox's line editing accepts.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional, Union

from ..errors import NoUsablePython, RunnerException, RunnerTerminalSessionBroken
from ..shells import Shell
from ..shells.base import clean_output

#: What ``python=`` may be: ``"auto"``, a command, or a list of them.
PythonSpec = Union[str, Sequence[str]]

AUTO = "auto"
#: The oldest Python the agent runs on.
MIN_VERSION = (3, 6)
#: Exit status of the gate on a Python older than MIN_VERSION.
TOO_OLD = 97
#: Statuses after which the next candidate is tried.
_NEXT = f"{TOO_OLD}|126|127"
#: Stands for "the newest python3.X on PATH" among the candidates.
NEWEST = "python3.X"
#: What ``auto`` tries, in order.
AUTO_CANDIDATES = (NEWEST, "python3", "python")
#: BusyBox's line editing takes lines up to 1024 bytes.
MAX_LINE = 1000

_MINOR = MIN_VERSION[1] - 1
_TUPLE = f"({MIN_VERSION[0]},{MIN_VERSION[1]})"
#: Shell: the name of the newest python3.X (X > _MINOR) on PATH, or nothing.
_NEWEST_NAME = (
    f'$(IFS=:;m={_MINOR};for d in $PATH;do for f in "$d"/python3.*;do v=${{f##*/python3.}};'
    'case $v in *[!0-9]*|"");;*)[ $v -gt $m ]&&[ -x "$f" ]&&m=$v;;esac;done;done;'
    f"[ $m = {_MINOR} ]||echo python3.$m)"
)
#: Shell: the names of every python3.X on PATH (for the diagnosis).
_ALL_NAMES = (
    '$(IFS=:;for d in $PATH;do for f in "$d"/python3.*;do v=${f##*/python3.};'
    'case $v in *[!0-9]*|"");;*)[ -x "$f" ]&&echo python3.$v;;esac;done;done)'
)
_SIMPLE = re.compile(r"[\w./+-]+")
_VERSION = re.compile(r"Python (\d+)\.(\d+)(?:\.(\d+))?")
_TRIED = re.compile(r"RPL-TRY (.+)")
_OLD = re.compile(r"RPL-OLD (\d+\.\d+\.\d+)")


def candidates(python: PythonSpec) -> tuple[str, ...]:
    """The commands ``python`` stands for, in order (``auto`` expanded; the
    newest python3.X as :data:`NEWEST`)."""
    items = [python] if isinstance(python, str) else list(python)
    found: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"python: a command or 'auto' expected, got {item!r}")
        item = item.strip()
        found += AUTO_CANDIDATES if item == AUTO else (item,)
    if not found:
        raise ValueError("python: the list of candidates is empty")
    return tuple(dict.fromkeys(found))


def normalize(python: PythonSpec) -> Union[str, tuple[str, ...]]:
    """``python`` checked: a str as it is, a list as a tuple (hashable, for settings)."""
    candidates(python)
    return python if isinstance(python, str) else tuple(python)


def describe(python: PythonSpec) -> str:
    """``python`` in words: ``auto``, ``python3``, ``python3.9 or python3``."""
    if isinstance(python, str):
        return python
    return " or ".join(python)


def gate(stage0: str) -> str:
    """Stage-0 behind the version gate, run with ``-c`` from a shell."""
    return f"import sys;sys.version_info<{_TUPLE}and sys.exit({TOO_OLD});{stage0}"


def gate_at_prompt(stage0: str) -> str:
    """Stage-0 behind the version gate, typed at a ``>>>`` (fails with
    ``RPL-OLD x.y.z`` on an older Python, which stays at its prompt)."""
    return (
        f"import sys;assert sys.version_info>={_TUPLE},"
        f"'RPL-OLD %d.%d.%d'%tuple(sys.version_info[:3]);{stage0}"
    )


def launch_line(python: PythonSpec, stage0: str) -> str:
    """The one shell line that starts the agent with the first usable candidate.

    One command is typed as it is (behind the gate). Several are tried in a
    loop over their names, or, when one of them is more than a word (``sleep
    1; python3``), one after the other in blocks; each says ``RPL-TRY
    <command>`` before it runs."""
    tried = candidates(python)
    quoted = shlex.quote(gate(stage0))
    check = f"case $? in {_NEXT});;*)break;;esac;"
    if len(tried) == 1 and tried[0] != NEWEST:
        line = f"{tried[0]} -c {quoted}"
    elif all(c == NEWEST or _SIMPLE.fullmatch(c) for c in tried):
        words = " ".join(_NEWEST_NAME if c == NEWEST else c for c in tried)
        line = (
            f"_rpl_0={quoted};for _rpl_c in {words};do "
            f'echo "RPL-TRY $_rpl_c";"$_rpl_c" -c "$_rpl_0";{check}'
            "done;unset _rpl_0 _rpl_c"
        )
    else:
        blocks = []
        for command in tried:
            if command == NEWEST:
                blocks.append(
                    f'_rpl_n={_NEWEST_NAME};[ -z "$_rpl_n" ]||{{ echo "RPL-TRY $_rpl_n";'
                    f'$_rpl_n -c "$_rpl_0";{check}}};'
                )
            else:
                blocks.append(f'echo RPL-TRY {shlex.quote(command)};{command} -c "$_rpl_0";{check}')
        line = (
            f"_rpl_0={quoted};for _rpl_c in 1;do "
            + "".join(blocks)
            + "done;unset _rpl_0 _rpl_c _rpl_n"
        )
    if len(line) > MAX_LINE:
        raise ValueError(
            f"python={python!r}: the line starting these {len(tried)} candidates is "
            f"{len(line)} bytes, more than the {MAX_LINE} a shell is sure to take: "
            "give fewer or shorter commands"
        )
    return line


def started(python: PythonSpec, before: str) -> str:
    """The candidate that started the agent, from what the line printed before it."""
    marks = _TRIED.findall(clean_output(before))
    return marks[-1].strip() if marks else candidates(python)[0]


def probe_line(python: PythonSpec) -> str:
    """The shell line that says, for each candidate that is one word, where
    it is and its ``-V`` (the diagnosis of a failed start)."""
    words = []
    for command in candidates(python):
        if command == NEWEST:
            words.append(_ALL_NAMES)
        elif _SIMPLE.fullmatch(command):
            words.append(shlex.quote(command))
    return (
        'echo "RPL-PATH $PATH";for _rpl_c in ' + " ".join(words) + ';do echo "RPL-P $_rpl_c";'
        'command -v "$_rpl_c"&&"$_rpl_c" -V 2>&1 </dev/null;done;unset _rpl_c'
    )


@dataclass
class Found:
    """What the diagnosis found of one candidate."""

    name: str
    path: str = ""
    says: str = ""

    @property
    def version(self) -> Optional[tuple[int, ...]]:
        match = _VERSION.search(self.says)
        if not match:
            return None
        return tuple(int(part) for part in match.groups() if part is not None)

    def __str__(self) -> str:
        if not self.path:
            return f"{self.name} not found"
        version = self.version
        if version is None:
            return f"{self.name} ({self.path}) does not say its version ({self.says[:80]!r})"
        return f"{self.name} is {'.'.join(map(str, version))}"


def parse_probe(output: str) -> tuple[str, list[Found]]:
    """(PATH, what was found of each candidate) from :func:`probe_line`'s output."""
    path = ""
    found: list[Found] = []
    for line in clean_output(output).splitlines():
        line = line.strip()
        if line.startswith("RPL-PATH "):
            path = line[len("RPL-PATH ") :]
        elif line.startswith("RPL-P "):
            name = line[len("RPL-P ") :]
            if name in (f.name for f in found):
                found.append(Found(""))  # a duplicate name, PATH order: ignored below
            else:
                found.append(Found(name))
        elif found and line:
            current = found[-1]
            if not current.path:
                current.path = line
            elif not current.says:
                current.says = line
    return path, [f for f in found if f.name]


def failure(
    shell: Shell, python: PythonSpec, said: str, in_python: bool, timeout: float
) -> RunnerException:
    """The error of an agent that did not start in ``shell`` (its prompt
    came back; ``said`` is what it showed). Out of a shell (not ``>>>``) this
    types :func:`probe_line` to say what was found."""
    where = shell.describe()
    said = clean_output(said).strip()[-500:]
    if in_python:
        old = _OLD.search(said)
        if old:
            return NoUsablePython(
                f"{where}: its Python is {old.group(1)}: the agent needs Python "
                f"{_version(MIN_VERSION)} or newer"
            )
        return RunnerTerminalSessionBroken(
            f"{where}: Python did not start the agent; the shell said: {said!r}"
        )
    try:
        path, found = parse_probe(shell.exec_command(probe_line(python), timeout))
    except Exception as error:  # the diagnosis is a courtesy: say what is known
        return RunnerTerminalSessionBroken(
            f"{where}: {describe(python)!r} did not start the agent (and asking which "
            f"Pythons there are failed: {type(error).__name__}); the shell said: {said!r}"
        )
    usable = [f for f in found if f.version is not None and f.version >= MIN_VERSION]
    shown = _TRIED.sub("", said).strip()
    if usable:
        return _not_started(where, python, said, usable[0], found, shown)
    parts = [str(f) for f in found]
    tried = candidates(python)
    if NEWEST in tried and not any(f.name.startswith("python3.") for f in found):
        parts.insert(tried.index(NEWEST), "no python3.X")
    probed = {f.name for f in found}
    unprobed = [c for c in tried if c != NEWEST and c not in probed]
    parts += [f"{c!r} did not start it" for c in unprobed]
    if unprobed and not found:
        return RunnerTerminalSessionBroken(
            f"{where}: {describe(python)!r} did not start the agent; the shell said: {shown!r}"
        )
    return NoUsablePython(
        f"{where}: no usable Python: {', '.join(parts)}: the agent needs Python "
        f"{_version(MIN_VERSION)} or newer (PATH={path})"
    )


def _not_started(
    where: str, python: PythonSpec, said: str, usable: Found, found: list[Found], shown: str
) -> RunnerException:
    """There is a usable Python, but no agent started: say which candidate
    ended the line (only older, missing and unexecutable ones are passed over)."""
    marks = _TRIED.findall(said)
    ender = marks[-1].strip() if marks else candidates(python)[0]
    known = {f.name: f for f in found}
    about = known.get(ender)
    what = ender
    if about is not None and about.path:
        what += f" ({_version(about.version) if about.version else '?'}, {about.path})"
    text = f"{where}: {what} did not start the agent"
    if ender != usable.name:
        text += (
            f" and ended the line, so {usable.name} ({_version(usable.version or ())}) "
            "was not tried (only Pythons older than "
            f"{_version(MIN_VERSION)}, not found or not executable are passed over)"
        )
    return RunnerTerminalSessionBroken(f"{text}; the shell said: {shown!r}")


def _version(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))
