"""Auto-recovery against real faults: killed processes, cut and blackholed TCP."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import pytest
import sshtarget
from paths import expected

from RemoteProxyLibrary import (
    BashShell,
    InvalidProxySession,
    SessionInitializationFailed,
    SshShell,
)
from RemoteProxyLibrary.recovery.autorecoveringterminal import AutoRecoveringTerminal
from RemoteProxyLibrary.recovery.autorunnerterminal import AutoRunnerTerminal

PID = "__import__('os').getpid()"


def wait_until(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def threads_settle(before: int) -> bool:
    return wait_until(lambda: threading.active_count() <= before, timeout=10)


def make_runner(shells, prepare=None, **kwargs):
    runner = AutoRunnerTerminal(prompt_timeout=kwargs.pop("prompt_timeout", 8))
    runner.liveness_interval = 1.0
    runner.liveness_timeout = 2.0
    runner.initialize_with_shells(
        shells, prepare or (lambda: None), sleep_between_tries=0.2, **kwargs
    )
    return runner


@pytest.fixture
def ssh_user(ssh_target):
    return ssh_target.users["password"]


def ssh_shell(target, user, port=None):
    return SshShell(target.host, user.name, user.password, port=port or target.port, timeout=8)


# ---- local faults ----------------------------------------------------------------
def test_killed_remote_python_recovers_plain_run_python():
    runner = make_runner([BashShell(timeout=8)])
    pid = runner.run_python(PID)
    os.kill(pid, signal.SIGKILL)
    start = time.monotonic()
    new_pid = runner.run_python(PID)
    assert new_pid != pid
    assert time.monotonic() - start < 5
    runner.close()


def test_prepared_empty_proxy_survives_recovery_and_others_are_invalidated():
    calls = []
    runner = AutoRunnerTerminal(prompt_timeout=8)
    os_proxy = runner.create_empty_recursive_proxy()

    def prepare():
        calls.append(1)
        runner.import_libraries("os")
        os_proxy.set_from_remote_proxy(runner.get_recursive_proxy("os"))

    runner.initialize_with_shells([BashShell(timeout=8)], prepare, sleep_between_tries=0.2)
    pid = os_proxy.getpid()
    stale = runner.get_recursive_proxy("os")
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: runner.connection.broken is not None, 5)
    assert os_proxy.getpid() != pid
    assert len(calls) == 2
    with pytest.raises(InvalidProxySession):
        stale.getpid()
    runner.close()


def _pythons_of_this_test(marker: str) -> list[int]:
    """Pids of python processes started with ``marker`` in their environment."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if marker.encode() in environ and comm.startswith("python"):
            found.append(int(entry))
    return found


def _agents_of_this_test(marker: str) -> list[int]:
    """As above, without each agent's heartbeat helper (a child of it)."""
    found = _pythons_of_this_test(marker)
    return [pid for pid in found if _parent(pid) not in found]


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rpartition(b")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def test_threads_meeting_a_broken_session_recover_it_once(monkeypatch):
    marker = f"RPL_RECOVERY_TEST_{os.getpid()}_{time.monotonic_ns()}"
    monkeypatch.setenv(marker, "1")  # inherited by the bash and its python3
    prepared = []
    runner = make_runner([BashShell(timeout=8)], prepare=lambda: prepared.append(1))
    pid = runner.run_python(PID)
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: runner.connection.broken is not None, 5)
    results: list[object] = []
    barrier = threading.Barrier(4)

    def call() -> None:
        barrier.wait()
        try:
            results.append(runner.run_python(PID))
        except Exception as error:  # reported by the assertion below
            results.append(error)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 4 and len(set(results)) == 1, results
    assert results[0] != pid and isinstance(results[0], int)
    assert len(prepared) == 2  # the first start and ONE recovery
    assert _agents_of_this_test(marker) == [results[0]]
    runner.close()
    assert wait_until(lambda: not _pythons_of_this_test(marker), 5)


def test_finalize_errors_are_only_logged(caplog):
    def finalize():
        raise RuntimeError("finalize exploded")

    runner = AutoRunnerTerminal(prompt_timeout=8)
    runner.initialize_with_shells([BashShell(timeout=8)], finalize=finalize)
    assert runner.run_python("1") == 1
    runner.close()
    assert "finalize exploded" in caplog.text


def test_initialization_failure_after_max_tries_carries_original():
    terminal = AutoRecoveringTerminal()
    terminal.initialize(
        [BashShell(timeout=2, shell="/no/such/shell -i")], sleep_between_tries=0.1, max_tries=2
    )
    with pytest.raises(SessionInitializationFailed) as info:
        terminal.initialize_terminal()
    assert info.value.args[0] is not None
    assert "BashShell" in str(info.value.args[0])


def test_auto_recovering_terminal_run_recovers_after_shell_died():
    terminal = AutoRecoveringTerminal()
    terminal.initialize([BashShell(timeout=5)], sleep_between_tries=0.1)
    assert terminal.run("echo one").strip() == "one"
    terminal.get_session().terminal.close()
    assert terminal.run("echo two").strip() == "two"
    terminal.close()


def test_keyword_timeout_interrupting_a_call_leaves_session_usable():
    runner = make_runner([BashShell(timeout=8)])
    runner.import_libraries("time")

    def interrupt(signum, frame):
        raise TimeoutError("robot timeout")

    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(TimeoutError, match="robot timeout"):
            runner.run_python("time.sleep(1.5)")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert runner.run_python("'next keyword'") == "next keyword"
    runner.close()


# ---- SSH faults ------------------------------------------------------------------
def test_killed_sshd_child_recovers(ssh_target, ssh_user):
    before_threads = threading.active_count()
    runner = make_runner([ssh_shell(ssh_target, ssh_user)])
    pid = runner.run_python(PID)
    assert runner.path == expected(True)
    for sshd_pid in ssh_target.session_pids(ssh_user.name):
        os.kill(sshd_pid, signal.SIGKILL)
    start = time.monotonic()
    assert runner.run_python(PID) != pid
    assert time.monotonic() - start < 5 + 2
    assert runner.path == expected(True)  # the new session opened its own
    runner.close()
    assert threads_settle(before_threads)
    assert wait_until(lambda: sshtarget.count_user_processes(ssh_user.name) == 0)


def test_killed_remote_python_over_ssh(ssh_target, ssh_user):
    runner = make_runner([ssh_shell(ssh_target, ssh_user)])
    pid = runner.run_python(PID)
    assert runner.path == expected(True)
    os.kill(pid, signal.SIGKILL)
    assert runner.run_python(PID) != pid
    runner.close()
    assert wait_until(lambda: sshtarget.count_user_processes(ssh_user.name) == 0)


def test_stopped_remote_python_is_detected_and_recovered(ssh_target, ssh_user):
    runner = make_runner([ssh_shell(ssh_target, ssh_user)])
    pid = runner.run_python(PID)
    assert runner.path == expected(True)
    os.kill(pid, signal.SIGSTOP)
    start = time.monotonic()
    assert runner.run_python(PID) != pid
    assert time.monotonic() - start < 3 + 5
    runner.close()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)  # the stopped one may survive in a detached session
    assert wait_until(lambda: sshtarget.count_user_processes(ssh_user.name) == 0)


def test_tcp_reset_recovers(ssh_target, ssh_user, fault_proxy):
    runner = make_runner([ssh_shell(ssh_target, ssh_user, port=fault_proxy.port)])
    pid = runner.run_python(PID)
    assert runner.path == expected(True)
    fault_proxy.reset()
    start = time.monotonic()
    assert runner.run_python(PID) != pid
    assert time.monotonic() - start < 5
    runner.close()


def test_blackholed_link_is_detected_by_liveness_check(ssh_target, ssh_user, fault_proxy):
    runner = make_runner([ssh_shell(ssh_target, ssh_user, port=fault_proxy.port)], prompt_timeout=3)
    pid = runner.run_python(PID)
    assert runner.path == expected(True)
    fault_proxy.blackhole(True)
    timer = threading.Timer(3.5, fault_proxy.blackhole, args=(False,))
    timer.start()
    start = time.monotonic()
    try:
        assert runner.run_python(PID) != pid
    finally:
        timer.cancel()
    elapsed = time.monotonic() - start
    assert elapsed < 3 + 3 * 4 + 2
    assert runner.path == expected(True)
    runner.close()


def test_restarted_sshd_does_not_break_the_session(ssh_target, ssh_user):
    runner = make_runner([ssh_shell(ssh_target, ssh_user)])
    pid = runner.run_python(PID)
    assert runner.path == expected(True)
    ssh_target.restart()
    assert runner.run_python(PID) == pid
    for sshd_pid in ssh_target.session_pids(ssh_user.name):
        os.kill(sshd_pid, signal.SIGKILL)
    assert runner.run_python(PID) != pid
    runner.close()


def test_proxy_call_is_retried_when_the_session_breaks_under_it():
    runner = AutoRunnerTerminal(prompt_timeout=8)
    os_proxy = runner.create_empty_recursive_proxy()

    def prepare():
        os_proxy.set_from_remote_proxy(runner.get_recursive_proxy("os"))

    runner.initialize_with_shells([BashShell(timeout=8)], prepare, sleep_between_tries=0.2)
    pid = os_proxy.getpid()
    os.kill(pid, signal.SIGKILL)
    start = time.monotonic()
    assert os_proxy.getpid() != pid  # no exception: recovered and run again
    assert time.monotonic() - start < 3
    runner.close()
