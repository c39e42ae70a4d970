"""Waiting for a prompt or stage-0 costs bounded memory, however much the
target prints meanwhile; a command's output is still kept whole."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from RemoteProxyLibrary import BashShell, InteractiveSession
from RemoteProxyLibrary.terminal import bounded

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# In a child process: its peak RSS is what is measured.
SCRIPT = textwrap.dedent(
    """
    import resource, sys
    sys.path.insert(0, {root!r})
    from RemoteProxyLibrary import BashShell, InteractiveSession
    from RemoteProxyLibrary.runnerterminal import RunnerTerminal
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    runner = RunnerTerminal(prompt_timeout=6, python={python!r})
    try:
        runner.initialize(session)
    except Exception as error:
        print(type(error).__name__, str(error)[:300].encode("unicode_escape").decode())
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) // 1024)
    session.close_terminal(force=True)
    """
)


def test_garbage_instead_of_the_ready_line_costs_bounded_memory():
    python = f"{sys.executable} {os.path.join(HERE, 'garbage_python.py')}"
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(root=ROOT, python=python)],
        capture_output=True, text=True, timeout=120, check=False,
        env=dict(os.environ, GARBAGE_SECONDS="20"),
    )  # fmt: skip
    lines = run.stdout.strip().splitlines()
    assert lines and lines[0].startswith("RunnerTerminalSessionBroken"), run.stdout + run.stderr
    assert "did not start within 6 s" in lines[0]
    grew_mb = int(lines[-1])
    assert grew_mb < 64, f"the controller grew by {grew_mb} MB waiting for stage-0"


def test_a_command_output_larger_than_the_buffers_comes_back_whole():
    session = InteractiveSession()
    session.spawn(BashShell(timeout=30))
    try:
        size = 3 * bounded.KEEP
        output = session.current_shell().exec_command(f"head -c {size} /dev/zero | tr '\\0' x")
        assert output.strip() == "x" * size
        assert session.current_shell().exec_command("echo next").strip() == "next"
    finally:
        session.close_terminal()
