"""Robot Framework library: the lab of SSH hosts in network namespaces.

Import via ``resources/sshlab.resource``. GLOBAL scope: one lab per Robot
process (pabot runs each suite in its own) until ``Stop SSH Lab``.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from robot.api import logger  # noqa: E402
from robot.api.deco import keyword, library  # noqa: E402
from robot.api.exceptions import SkipExecution  # noqa: E402
from robot.api.types import Secret  # noqa: E402
from robot.libraries.BuiltIn import BuiltIn  # noqa: E402
from sshlab import SshLab, available_lab, ensure_lab_packages  # noqa: E402


@library(scope="GLOBAL", auto_keywords=False)
class SshLabLibrary:
    def __init__(self) -> None:
        self._lab: Optional[SshLab] = None

    @keyword("Start SSH Lab")
    def start_ssh_lab(self) -> dict:
        """Build the lab (skips the test or suite when that is not possible).

        Sets global variables: for each host (``BASTION``, ``DUT1``, ``DUT2``)
        ``${<HOST>_HOST}`` (its address), ``${<HOST>_PORT}``,
        ``${<HOST>_NAMESPACE}`` and ``${<HOST>_PYTHON}`` (the Python to use
        there by name); for each user (``JUMP``, ``BASH``, ``DASH``,
        ``BUSYBOX``, ``BOARD``) ``${<ROLE>_USER}``, ``${<ROLE>_PASSWORD}``
        and ``${<ROLE>_HOP_KEY}`` (its copy of the key, for ssh hops typed in
        its shell); ``${LAB_KEY_FILE}`` (the client key on this machine).
        Returns them as a dictionary. Reuses a running lab.
        """
        if self._lab is None:
            ensure_lab_packages()
            ok, reason = available_lab()
            if not ok:
                raise SkipExecution(reason)
            self._lab = SshLab().start()
            logger.info(f"SSH lab built in {self._lab.build_seconds:.2f} s")
        values = self._variables(self._lab)
        # Not BuiltIn().set_global_variable: it would log the passwords.
        variables = BuiltIn()._variables
        for name, value in values.items():
            variables.set_global("${" + name + "}", value)
        return values

    @keyword("Stop SSH Lab")
    def stop_ssh_lab(self) -> dict:
        """Tear the lab down; fails if anything of it is left. Returns what was removed, counted."""
        lab, self._lab = self._lab, None
        if lab is None:
            return {}
        removed = lab.stop()
        logger.info(f"SSH lab removed in {lab.teardown_seconds:.2f} s: {removed}")
        left = lab.leftovers()
        if left:
            raise AssertionError("the SSH lab left: " + "; ".join(left))
        return removed

    @keyword("Get Lab Shells")
    def get_lab_shells(
        self, role: str, sudo: bool = False, auth: str = "password", shell: str = "auto"
    ) -> list:
        """Shell dictionaries reaching user ``role`` on its DUT through the bastion.

        The bastion is reached over paramiko as ``jump``, the DUT by ``ssh``
        typed there, with ``auth`` ``password`` or ``key``; ``sudo`` adds a
        sudo hop to root. Passwords are Robot ``Secret`` objects (never
        logged). Use with `Open Terminal`: ``Open Terminal  @{shells}``.
        """
        lab = self._require()
        jump, user = lab.users["jump"], lab.users[role]
        bastion, dut = lab.hosts["bastion"], lab.hosts[user.host]
        first = {
            "shellname": "SshShell",
            "host": bastion.address,
            "port": bastion.port,
            "username": jump.name,
            "password": Secret(jump.password),
        }
        second: dict[str, Any] = {
            "shellname": "SshShell",
            "host": dut.address,
            "port": dut.port,
            "username": user.name,
            "shell": shell,
        }
        if auth == "key":
            second["key_file"] = jump.hop_key_file
        elif auth == "password":
            second["password"] = Secret(user.password)
        else:
            raise ValueError(f"auth must be 'password' or 'key', not {auth!r}")
        shells = [first, second]
        if sudo:
            shells.append({"shellname": "SudoShell", "password": Secret(user.password)})
        return shells

    @keyword("Kill Lab Sessions")
    def kill_lab_sessions(self, role: str) -> int:
        """SIGKILL the sshd processes serving user ``role``; returns how many."""
        return self._require().kill_sessions(role)

    @keyword("Count Lab User Processes")
    def count_lab_user_processes(self, role: str) -> int:
        """Live processes of user ``role``."""
        return self._require().user_processes(role)

    def _require(self) -> SshLab:
        if self._lab is None:
            raise RuntimeError("SSH lab not started: use 'Start SSH Lab' first")
        return self._lab

    @staticmethod
    def _variables(lab: SshLab) -> dict:
        values: dict[str, Any] = {"LAB_KEY_FILE": lab.client_key_file}
        for name, host in lab.hosts.items():
            prefix = name.upper()
            values[f"{prefix}_HOST"] = host.address
            values[f"{prefix}_PORT"] = host.port
            values[f"{prefix}_NAMESPACE"] = host.namespace
            values[f"{prefix}_PYTHON"] = next(iter(host.pythons), "python3")
        for role, user in lab.users.items():
            prefix = role.upper()
            values[f"{prefix}_USER"] = user.name
            values[f"{prefix}_PASSWORD"] = user.password
            values[f"{prefix}_HOP_KEY"] = user.hop_key_file
        return values
