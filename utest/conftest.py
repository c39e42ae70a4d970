"""Shared pytest fixtures: a real sshd target, a lab of SSH hosts in network
namespaces, a fault-injecting proxy, and hostile targets."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

RESOURCES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "resources")
if RESOURCES not in sys.path:
    sys.path.insert(0, RESOURCES)

from faultproxy import FaultProxy  # noqa: E402
from hostile import HostileTarget  # noqa: E402
from sshlab import SshLab, available_lab, ensure_lab_packages  # noqa: E402
from sshtarget import SshTarget, available, ensure_packages  # noqa: E402


@pytest.fixture(scope="session")
def ssh_target() -> Iterator[SshTarget]:
    """One private sshd on 127.0.0.1 with key/password/su users per session.

    Skips the test when not root or sshd/sudo cannot be installed.
    """
    ensure_packages()
    ok, reason = available()
    if not ok:
        pytest.skip(reason)
    target = SshTarget().start()
    try:
        yield target
    finally:
        target.stop()


@pytest.fixture(scope="session")
def ssh_lab() -> Iterator[SshLab]:
    """The lab of resources/sshlab.py (bastion, dut1, dut2), one per session.

    Skips the test when not root or the tools it needs cannot be installed.
    """
    ensure_lab_packages()
    ok, reason = available_lab()
    if not ok:
        pytest.skip(reason)
    lab = SshLab().start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def fault_proxy(ssh_target: SshTarget) -> Iterator[FaultProxy]:
    """A started FaultProxy in front of ``ssh_target`` (connect to ``.port``)."""
    proxy = FaultProxy(ssh_target.host, ssh_target.port).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def target() -> Iterator[HostileTarget]:
    """A hostile target (utest/hostile.py): a fake agent answering the
    controller through a real pty as each test scripts it. A module whose
    targets are of another kind defines its own ``target``."""
    hostile = HostileTarget()
    yield hostile
    hostile.close()


@pytest.fixture
def direct_target() -> Iterator[HostileTarget]:
    """A hostile target that also serves the direct channel."""
    hostile = HostileTarget(direct="serve")
    yield hostile
    hostile.close()
