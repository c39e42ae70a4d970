"""Robot Framework library: a real sshd test target and a fault proxy.

Import via ``resources/sshtarget.resource`` (or this file by path). GLOBAL
scope: one target is shared by all suites until ``Stop SSH Target``.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from faultproxy import FaultProxy  # noqa: E402
from robot.api import logger  # noqa: E402
from robot.api.deco import keyword, library  # noqa: E402
from robot.api.exceptions import SkipExecution  # noqa: E402
from robot.libraries.BuiltIn import BuiltIn  # noqa: E402
from sshtarget import SshTarget, available, count_user_processes, ensure_packages  # noqa: E402


@library(scope="GLOBAL", auto_keywords=False)
class SshTargetLibrary:
    def __init__(self) -> None:
        self._target: Optional[SshTarget] = None
        self._proxy: Optional[FaultProxy] = None

    @keyword("Start SSH Target")
    def start_ssh_target(self) -> dict:
        """Start the sshd target (skips the test/suite when not possible).

        Sets global variables ``${SSH_HOST}`` ``${SSH_PORT}`` ``${KEY_USER}``
        ``${KEY_FILE}`` ``${PW_USER}`` ``${PW_PASSWORD}`` ``${SU_USER}``
        ``${SU_PASSWORD}`` ``${KNOWN_HOSTS_FILE}`` ``${SSH_TARGET_LOG}`` and
        ``${KEY_USER_HOP_KEY}`` ``${PW_USER_HOP_KEY}`` ``${SU_USER_HOP_KEY}``
        (per-user key copies for ssh hops typed in that user's shell).
        Returns the same values as a dictionary. Reuses a running target.
        """
        if self._target is None:
            ensure_packages()
            ok, reason = available()
            if not ok:
                raise SkipExecution(reason)
            self._target = SshTarget().start()
        values = self._variables(self._target)
        # Not BuiltIn().set_global_variable: it would log the passwords.
        variables = BuiltIn()._variables
        for name, value in values.items():
            variables.set_global("${" + name + "}", value)
        logger.info(f"SSH target on {values['SSH_HOST']}:{values['SSH_PORT']}")
        return values

    @keyword("Stop SSH Target")
    def stop_ssh_target(self) -> None:
        """Stop the fault proxy and the target, removing its users."""
        self.stop_fault_proxy()
        target, self._target = self._target, None
        if target is not None:
            target.stop()

    @keyword("Restart SSH Target")
    def restart_ssh_target(self) -> None:
        """Restart the listening sshd on the same port."""
        self._require().restart()

    @keyword("Get SSH Session Pids")
    def get_ssh_session_pids(self, username: str) -> list:
        """Pids of the sshd processes serving ``username``."""
        return self._require().session_pids(username)

    @keyword("Kill SSH Sessions")
    def kill_ssh_sessions(self, username: str) -> int:
        """SIGKILL the sshd processes serving ``username``; returns how many."""
        import signal

        pids = self._require().session_pids(username)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    @keyword("Create Encrypted Key")
    def create_encrypted_key(self, path: str) -> Any:
        """Copy the key user's key to ``path``, encrypted with a new random
        passphrase, and return that passphrase as a Robot ``Secret`` (its
        value is never logged)."""
        import secrets
        import shutil
        import subprocess

        from robot.api.types import Secret

        target = self._require()
        passphrase = secrets.token_urlsafe(12)
        shutil.copy(target.client_key_file, path)
        os.chmod(path, 0o600)
        subprocess.run(
            ["ssh-keygen", "-q", "-p", "-P", "", "-N", passphrase, "-f", path],
            check=True,
            capture_output=True,
        )
        return Secret(passphrase)

    @keyword("Count User Processes")
    def count_user_processes(self, username: str) -> int:
        return count_user_processes(username)

    @keyword("Start Fault Proxy")
    def start_fault_proxy(self) -> int:
        """Start a FaultProxy in front of the target; sets and returns ``${PROXY_PORT}``."""
        self.stop_fault_proxy()
        target = self._require()
        self._proxy = FaultProxy(target.host, target.port).start()
        BuiltIn().set_global_variable("${PROXY_PORT}", self._proxy.port)
        return self._proxy.port

    @keyword("Stop Fault Proxy")
    def stop_fault_proxy(self) -> None:
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            proxy.stop()

    @keyword("Set Fault Proxy Delay")
    def set_fault_proxy_delay(self, upstream: float = 0.0, downstream: float = 0.0) -> None:
        self._require_proxy().set_delay(float(upstream), float(downstream))

    @keyword("Reset Fault Proxy Connections")
    def reset_fault_proxy_connections(self) -> None:
        self._require_proxy().reset()

    @keyword("Set Fault Proxy Blackhole")
    def set_fault_proxy_blackhole(self, on: bool = True) -> None:
        self._require_proxy().blackhole(on)

    @keyword("Get Fault Proxy Connection Count")
    def get_fault_proxy_connection_count(self) -> int:
        return self._require_proxy().connection_count()

    def _require(self) -> SshTarget:
        if self._target is None:
            raise RuntimeError("SSH target not started: use 'Start SSH Target' first")
        return self._target

    def _require_proxy(self) -> FaultProxy:
        if self._proxy is None:
            raise RuntimeError("Fault proxy not started: use 'Start Fault Proxy' first")
        return self._proxy

    @staticmethod
    def _variables(target: SshTarget) -> dict:
        key, pw, su = target.users["key"], target.users["password"], target.users["su"]
        return {
            "SSH_HOST": target.host,
            "SSH_PORT": target.port,
            "KEY_USER": key.name,
            "KEY_FILE": key.key_file,
            "PW_USER": pw.name,
            "PW_PASSWORD": pw.password,
            "SU_USER": su.name,
            "SU_PASSWORD": su.password,
            "KNOWN_HOSTS_FILE": target.known_hosts_file,
            "SSH_TARGET_LOG": target.log_path,
            "KEY_USER_HOP_KEY": key.hop_key_file,
            "PW_USER_HOP_KEY": pw.hop_key_file,
            "SU_USER_HOP_KEY": su.hop_key_file,
        }
