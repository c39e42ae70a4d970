"""An SSH server that gives a login shell but refuses to run commands.

Stands in for the devices whose SSH server answers ``exec`` requests with a
failure (vendor CLIs in front of a Linux, some restricted servers): the
client must ask for a shell and type into it. Behind the refusal sits a
real ``/bin/sh -i`` on a real pty, as the user running the tests.
"""

from __future__ import annotations

import os
import pty
import queue
import select
import socket
import subprocess
import threading

import paramiko

USER = "device"
PASSWORD = "device-password"


class _Server(paramiko.ServerInterface):
    def __init__(self) -> None:
        self.shells: queue.Queue[paramiko.Channel] = queue.Queue()
        self.exec_refused = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        if (username, password) == (USER, PASSWORD):
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, *args: object) -> bool:
        return True

    def check_channel_env_request(self, channel: object, name: bytes, value: bytes) -> bool:
        return True

    def check_channel_exec_request(self, channel: object, command: bytes) -> bool:
        self.exec_refused.set()
        return False

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shells.put(channel)
        return True


def _pump(channel: paramiko.Channel) -> None:
    """A real interactive shell on a real pty, wired to ``channel``."""
    master, slave = pty.openpty()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", "PS1": "device> "}
    process = subprocess.Popen(
        ["/bin/sh", "-i"], stdin=slave, stdout=slave, stderr=slave, env=env,
        start_new_session=True, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    try:
        while process.poll() is None and not channel.closed:
            ready, _, _ = select.select([master, channel], [], [], 0.2)
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                channel.sendall(data)
            if channel in ready:
                data = channel.recv(65536)
                if not data:
                    break
                os.write(master, data)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        os.close(master)
        channel.close()


class ShellOnlyServer:
    """Listens on 127.0.0.1 (``port``) until :meth:`stop`; one thread per client."""

    def __init__(self) -> None:
        self.host_key = paramiko.Ed25519Key.from_private_key_file(_host_key_file())
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.servers: list[_Server] = []
        self._transports: list[paramiko.Transport] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(sock)
            transport.add_server_key(self.host_key)
            server = _Server()
            self.servers.append(server)
            self._transports.append(transport)
            transport.start_server(server=server)
            threading.Thread(target=self._serve, args=(transport, server), daemon=True).start()

    @staticmethod
    def _serve(transport: paramiko.Transport, server: _Server) -> None:
        while transport.is_active():
            try:
                channel = server.shells.get(timeout=1)
            except queue.Empty:
                continue
            threading.Thread(target=_pump, args=(channel,), daemon=True).start()

    def stop(self) -> None:
        self.listener.close()
        for transport in self._transports:
            transport.close()


_KEY_FILE: list[str] = []


def _host_key_file() -> str:
    """One Ed25519 host key per test run (ssh-keygen: paramiko cannot write one)."""
    if not _KEY_FILE:
        import tempfile

        directory = tempfile.mkdtemp(prefix="rpl-shellonly-")
        path = os.path.join(directory, "host_key")
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True
        )
        _KEY_FILE.append(path)
    return _KEY_FILE[0]
