"""Which path the runner's requests take in this test run.

The runner and recovery suites run three times in CI (``resources/test.sh``):
with ``RPL_DIRECT=on`` (the direct channel wherever the hops allow it, and a
failure to open it fails the test), ``off`` (always the terminal) and unset
(``auto``). A runner made without ``direct=`` follows the variable; a stack
whose hops leave the host (a typed ``ssh``) asks for ``direct_for(False)``.
"""

from __future__ import annotations

import os
from typing import Optional


def mode() -> str:
    """``on``, ``off`` or ``auto``: ``RPL_DIRECT`` of this run."""
    return os.environ.get("RPL_DIRECT", "").strip().lower() or "auto"


def direct_for(hops_stay: bool) -> Optional[str]:
    """``direct=`` for a runner on a stack whose hops stay on the first host
    (``hops_stay``) or not: the run's own (None), except ``on`` where the
    direct channel cannot apply (``auto``: the terminal is the path)."""
    if not hops_stay and mode() == "on":
        return "auto"
    return None


def expected(hops_stay: bool) -> str:
    """The path a runner with ``direct_for(hops_stay)`` takes."""
    return "direct" if hops_stay and mode() != "off" else "pty"
