"""Many targets at once through the lab: a fleet of DUTs behind the bastion
(``sshlab.fleet``), each reached by paramiko through the bastion (``jump``),
opened and called in parallel; a target that fails is named with its error
and the others are closed. The bench (``bench/bench_many.py``) does the
same with 20 DUTs and times it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sshlab import SshLab, available_lab, ensure_lab_packages, fleet

from RemoteProxyLibrary import ParallelError, ShellAuthenticationFailed, SshShell
from RemoteProxyLibrary.recovery.parallel import call_on_runners, open_runners

pytestmark = pytest.mark.timeout(120)

DUTS = 4
TIMEOUT = 15


@pytest.fixture(scope="module")
def fleet_lab() -> Iterator[SshLab]:
    ensure_lab_packages()
    ok, reason = available_lab()
    if not ok:
        pytest.skip(reason)
    lab = SshLab(*fleet(DUTS)).start()
    try:
        yield lab
    finally:
        lab.stop()


def through_the_bastion(lab: SshLab, role: str, password: str = "") -> SshShell:
    jump, user = lab.users["jump"], lab.users[role]
    bastion, dut = lab.hosts["bastion"], lab.hosts[user.host]
    return SshShell(
        dut.address,
        user.name,
        password or user.password,
        timeout=TIMEOUT,
        jump=SshShell(bastion.address, jump.name, key_file=jump.key_file, timeout=TIMEOUT),
    )


def test_a_fleet_is_built_as_specified(fleet_lab):
    assert sorted(fleet_lab.hosts) == ["bastion"] + [f"dut{n:02d}" for n in range(1, DUTS + 1)]
    assert all(fleet_lab.hosts[f"dut{n:02d}"].via == "bastion" for n in range(1, DUTS + 1))
    assert fleet_lab.users["u03"].host == "dut03"
    with pytest.raises(ValueError, match="1 to 60 DUTs"):
        fleet(61)


def test_open_and_call_every_dut_in_parallel(fleet_lab):
    roles = [f"u{n:02d}" for n in range(1, DUTS + 1)]
    runners = open_runners(
        {fleet_lab.users[role].host: [through_the_bastion(fleet_lab, role)] for role in roles},
        prompt_timeout=TIMEOUT,
        prepare=lambda key, runner: runner.import_libraries("socket"),
    )
    try:
        names = call_on_runners(runners, "socket.gethostname")
        assert names == {f"dut{n:02d}": f"dut{n:02d}" for n in range(1, DUTS + 1)}
        users = call_on_runners(runners, "os.getuid")
        assert users == {fleet_lab.users[r].host: fleet_lab.users[r].uid for r in roles}
    finally:
        for runner in runners.values():
            runner.close()


def test_a_dut_that_refuses_is_named_and_the_others_are_closed(fleet_lab):
    stacks = {
        f"dut{n:02d}": [through_the_bastion(fleet_lab, f"u{n:02d}", "Wr0ng" if n == 2 else "")]
        for n in range(1, DUTS + 1)
    }
    with pytest.raises(ParallelError) as info:
        open_runners(stacks, prompt_timeout=TIMEOUT)
    error = info.value
    assert list(error.errors) == ["dut02"]
    assert isinstance(error.errors["dut02"], ShellAuthenticationFailed)
    assert sorted(error.results) == ["dut01", "dut03", "dut04"][: DUTS - 1]
    assert str(error).startswith("opening the terminals: 1 of 4 failed:\n  dut02: ")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        fleet_lab.user_processes(f"u{n:02d}") for n in range(1, DUTS + 1)
    ):
        time.sleep(0.1)
    assert not any(fleet_lab.user_processes(f"u{n:02d}") for n in range(1, DUTS + 1))
