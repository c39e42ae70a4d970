"""Variable file: starts the library's remote server on a free loopback port
(``python -m RemoteProxyLibrary.keywords.remote --port 0``) and gives ``${PORT}``.

One server per Robot process (pabot runs each suite in a process of its own):
the suite stops it with ``Stop Remote Server``; it is killed at exit if not.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tempfile
import time


def get_variables(timeout: float = 30) -> dict:
    directory = tempfile.mkdtemp(prefix="rpl-remote-")
    port_file = os.path.join(directory, "port")
    server = subprocess.Popen(
        [sys.executable, "-m", "RemoteProxyLibrary.keywords.remote", "--port", "0",
         "--port-file", port_file, "--library-argument", "timeout=1 min",
         "--library-argument", "prompt_timeout=15 s"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    atexit.register(_stop, server, directory)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(port_file):
            with open(port_file) as f:
                text = f.read().strip()
            if text.isdigit():
                return {"PORT": int(text), "SERVER_PID": server.pid}
        if server.poll() is not None:
            raise RuntimeError(f"the remote server ended at once (status {server.returncode})")
        time.sleep(0.05)
    _stop(server, directory)
    raise RuntimeError(f"the remote server gave no port within {timeout:g} s")


def _stop(server: subprocess.Popen, directory: str) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        os.remove(os.path.join(directory, name))
    if os.path.isdir(directory):
        os.rmdir(directory)
