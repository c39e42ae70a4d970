"""The rules of docs/ARCHITECTURE.md, checked on the source.

- Imports only point down the layers: terminal -> shells -> wire -> agent ->
  runner -> recovery -> managed -> keywords (``errors`` and ``timeouts`` are
  below them all; ``timeouts`` imports Robot's time-string parser only when it
  is given a time string).
- ``wire`` and ``agent`` (shipped to the target) import only the standard
  library and the layers they may use; only ``keywords`` imports ``robot``.
- ``keywords`` imports only public names (no ``_`` prefix) and nothing from
  ``wire``: it uses the engine's public API.
- The message layer's constants are defined once, in ``wire/messages.py``.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

PACKAGE = "RemoteProxyLibrary"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
LAYERS = ["terminal", "shells", "wire", "agent", "runner", "recovery", "managed", "keywords"]
SHIPPED = {"wire", "agent"}
BASE = {"<top:errors>", "<top:timeouts>", "<top:robotnames>", "<top:remotetext>"}


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((".".join([PACKAGE, *parts]), path))
    return found


def imports_of(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(absolute module, imported names, line) for every import in the file."""
    is_package = path.name == "__init__.py"
    package_parts = name.split(".") if is_package else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, [], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((module, [alias.name for alias in node.names], node.lineno))
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    if len(parts) == 1:
        return "<root>"
    return parts[1] if parts[1] in LAYERS else "<top:" + parts[1] + ">"


ALL = modules()


@pytest.mark.parametrize("name,path", ALL, ids=[name for name, _ in ALL])
def test_imports_point_down(name, path):
    own = layer_of(name)
    if own not in LAYERS:
        return  # the package root and the porting aliases offer the public API
    problems = []
    for module, names, line in imports_of(name, path):
        other = layer_of(module)
        where = f"{path.relative_to(ROOT.parent)}:{line} imports {module}"
        if other is None:
            top = module.split(".")[0]
            if top == "robot" and own != "keywords":
                problems.append(f"{where}: only keywords/ imports robot")
            if own in SHIPPED and top not in sys.stdlib_module_names:
                problems.append(f"{where}: {own}/ is shipped and imports only the standard library")
            continue
        if other in BASE:
            if own in SHIPPED:
                problems.append(f"{where}: {own}/ is shipped and imports only the stdlib")
            continue
        if other == "<root>":
            if own != "keywords" or names != ["__version__"]:
                problems.append(f"{where}: only keywords/ takes __version__ from the package")
            continue
        if other not in LAYERS:
            problems.append(f"{where}: a layer imports no porting alias")
            continue
        if LAYERS.index(other) > LAYERS.index(own):
            problems.append(f"{where}: {own}/ is below {other}/")
        if own == "keywords" and other != "keywords":
            if other == "wire":
                problems.append(f"{where}: keywords/ uses the engine, not the wire")
            private = [n for n in [*names, *module.split(".")] if n.startswith("_")]
            if private:
                problems.append(f"{where}: keywords/ imports private names {private}")
    assert not problems, "\n".join(problems)


def test_the_layers_cover_every_package():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYERS)


MESSAGE_CONSTANT = re.compile(r"^\s*(MODE_\w+|STATUS_\w+|KIND_\w+|HEARTBEAT\w*)\s*[:=]", re.M)


def test_message_constants_are_defined_once():
    messages = ROOT / "wire" / "messages.py"
    defined: dict[str, list[str]] = {}
    for _, path in ALL:
        text = path.read_text(encoding="utf-8")
        for match in MESSAGE_CONSTANT.finditer(text):
            defined.setdefault(match.group(1), []).append(str(path.relative_to(ROOT)))
        if path != messages:
            assert "~rpl-busy~" not in text, f"{path}: the heartbeat line is spelled in messages"
    assert defined, "no message constant found: is the pattern stale?"
    twice = {name: where for name, where in defined.items() if where != ["wire/messages.py"]}
    assert not twice, twice
