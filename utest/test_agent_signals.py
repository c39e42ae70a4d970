"""The agent dies of SIGHUP/SIGTERM even when the signals come back to back.

A killed sshd child hangs the agent's terminal up: SIGHUP, often with a
SIGTERM right behind it. The second handler runs inside the first one's
cleanup, in the same thread; with a plain lock there the agent deadlocked and
stayed alive, orphaned, after its terminal was gone. Run in a child process
(the handlers end by killing their own process)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from RemoteProxyLibrary.agent.ops_commands import Commands

    class Running(dict):
        def values(self):  # the second signal lands while close() holds its lock
            if not hasattr(self, "signalled"):
                self.signalled = True
                os.kill(os.getpid(), signal.SIGTERM)
            return dict.values(self)

    commands = Commands()
    commands.watch_signals()
    commands.running = Running()
    os.kill(os.getpid(), signal.SIGHUP)
    print("survived")
    """
)


def test_back_to_back_hangup_and_terminate_kill_the_agent(tmp_path):
    root = str(__import__("pathlib").Path(__file__).resolve().parent.parent)
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(root=root)],
                          capture_output=True, text=True, timeout=20, check=False)  # fmt: skip
    assert done.returncode in (-signal.SIGTERM, -signal.SIGHUP), (done.returncode, done.stderr)
    assert "survived" not in done.stdout
