"""The target Pythons of this machine the tests and the bench run the agent on.

Every ``python3.X`` from 3.6 on of a pyenv build (``~/.pyenv/versions``), and
a Python 2.7: pyenv's, else ``python2.7`` or ``python2`` on ``PATH``. Each
one is asked its version before it is listed. Stdlib only; also a Robot
Framework library (``Find Python 2.7``).
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
from typing import Optional

#: Why there is no 2.7 when none is found (a one-line skip reason).
NO_PYTHON27 = "no Python 2.7 on this machine (pyenv install 2.7.18 gives one)"


def _version(python: str) -> Optional[tuple[int, int]]:
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print('%d %d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = result.stdout.split()
    if result.returncode != 0 or len(parts) != 2:
        return None
    return int(parts[0]), int(parts[1])


@functools.lru_cache(maxsize=1)
def pythons3() -> tuple[str, ...]:
    """Every pyenv ``python3`` from 3.6 on, oldest first."""
    found = []
    for path in glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")):
        version = _version(path)
        if version is not None and version >= (3, 6):
            found.append((version, path))
    return tuple(path for _, path in sorted(found))


@functools.lru_cache(maxsize=1)
def python27() -> Optional[str]:
    """A Python 2.7 interpreter, or None."""
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python2.7")))
    candidates += [found for found in map(shutil.which, ("python2.7", "python2")) if found]
    for path in candidates:
        if _version(path) == (2, 7):
            return path
    return None


def find_python_27() -> str:
    """Robot keyword ``Find Python 2.7``: its path, or skips the test (or
    the suite, in a suite setup) saying why."""
    path = python27()
    if path is None:
        from robot.api import SkipExecution

        raise SkipExecution(NO_PYTHON27)
    return path


find_python_27.robot_name = "Find Python 2.7"  # type: ignore[attr-defined]
