"""Stage-0 and the agent bundle: how the agent gets onto the target.

Stage-0 is one line typed at the target's ``>>>`` (or run as ``python3 -c``
from a shell). It saves the tty settings, switches the tty to raw mode, says
``RPL-READY`` and reads exactly ``len(blob)`` bytes: the base64 of the
zlib-compressed bundle. The bundle registers ``wire`` (compat, codec,
framing, messages) and ``agent`` (compat, the command and file operations, the
agent) as modules of a private package ``_remoteproxylibrary`` and runs
``agent.main``; when the agent returns (on close) it removes those modules
again. Stage-0 and the bundle run on Python 2.7 as on 3.x: the sources travel
as UTF-8 ``bytes`` literals and are decoded before ``compile``.
"""

from __future__ import annotations

import base64
import shlex
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PACKAGE = "_remoteproxylibrary"
READY = "RPL-READY"

_ROOT = Path(__file__).resolve().parent.parent
_MODULES = (
    ("wire", "compat"),
    ("wire", "codec"),
    ("wire", "framing"),
    ("wire", "messages"),
    ("agent", "compat"),
    ("agent", "ops_commands"),
    ("agent", "filerules"),
    ("agent", "ops_files"),
    ("agent", "lane"),
    ("agent", "direct"),
    ("agent", "agent"),
)

_LOADER = """
def _rpl_boot(sources, tty_attrs):
    import sys, types
    pkg = {package!r}
    names = []
    def module(name, is_package):
        m = types.ModuleType(name)
        m.__package__ = name if is_package else name.rpartition(".")[0]
        if is_package:
            m.__path__ = []
        sys.modules[name] = m
        names.append(name)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, m)
        return m
    try:
        for sub in ("", ".wire", ".agent"):
            module(pkg + sub, True)
        for name, source in sources:
            m = module(pkg + "." + name, False)
            code = compile(source.decode("utf-8"), "<rpl " + name + ">", "exec", 0, True)
            exec(code, m.__dict__)
        sys.modules[pkg + ".agent.agent"].main(tty_attrs)
    finally:
        for name in names:
            sys.modules.pop(name, None)
_rpl_boot({sources!r}, _rpl_t)
del _rpl_boot
"""


@dataclass(frozen=True)
class Bootstrap:
    """What is typed (``stage0``) and what is then sent raw (``blob``)."""

    stage0: str
    blob: bytes

    def command_for_shell(self, python: str = "python3") -> str:
        """Stage-0 as a shell command line starting ``python``."""
        return f"{python} -c {shlex.quote(self.stage0)}"


@lru_cache(maxsize=1)
def build() -> Bootstrap:
    """Build stage-0 and the bundle from this package's own sources."""
    sources = []
    for package, module in _MODULES:
        text = (_ROOT / package / f"{module}.py").read_bytes()
        sources.append((f"{package}.{module}", text))
    bundle = _LOADER.format(package=PACKAGE, sources=tuple(sources))
    blob = base64.b64encode(zlib.compress(bundle.encode("utf-8"), 9))
    ready = READY[:3] + "'+b'" + READY[3:]
    size = len(blob)
    stage0 = (
        "import os,tty,termios,zlib,base64;_rpl_t=termios.tcgetattr(0);tty.setraw(0);"
        f"_rpl_d=os.write(1,b'{ready}\\r\\n');_rpl_d=b'';"
        f"exec('while len(_rpl_d)<{size}:_rpl_d+=os.read(0,{size}-len(_rpl_d))');"
        "exec(zlib.decompress(base64.b64decode(_rpl_d)));del _rpl_d,_rpl_t"
    )
    return Bootstrap(stage0=stage0, blob=blob)
