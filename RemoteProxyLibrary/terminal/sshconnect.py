"""Authenticated SSH connections made by paramiko, directly or through jump hosts.

An :class:`SshLogin` says everything needed to log in to one server (nothing
is looked up here: ``~/.ssh/config`` is read by whoever builds the login). An
:class:`SshConnection` makes it: a TCP connection, or, when the login has a
``jump``, a ``direct-tcpip`` channel opened by the jump host's own connection
(what OpenSSH's ``ProxyJump`` does), so that every login on the way is
paramiko's and the target sees the jump host as its client. Jumps nest.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from typing import Any, Optional

import paramiko

from .hostkeys import (
    DEFAULT_KNOWN_HOSTS,
    DEFAULT_POLICY,
    HostKeyMismatch,
    apply_policy,
    check_policy,
    file_listing,
    host_key_name,
    known_hosts_files,
)
from .sshauth import Answerer, LoginAuth

LOGGER = logging.getLogger("RemoteProxyLibrary.terminal")

#: Larger than paramiko's 2 MiB default so bulk transfers are not window-bound.
WINDOW_SIZE = 16 * 1024 * 1024
MAX_PACKET_SIZE = 32 * 1024

#: AEAD ciphers first: no separate HMAC pass in Python per packet.
FAST_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")


def _fast_transport(*args: Any, **kwargs: Any) -> paramiko.Transport:
    """A paramiko Transport that prefers AES-GCM (the server still chooses
    among what both sides offer, so older servers keep working)."""
    transport = paramiko.Transport(*args, **kwargs)
    options = transport.get_security_options()
    offered = tuple(options.ciphers)
    first = tuple(c for c in FAST_CIPHERS if c in offered)
    options.ciphers = first + tuple(c for c in offered if c not in first)
    return transport


@dataclass(frozen=True)
class SshLogin:
    """How to log in to one SSH server; credentials are never in ``repr()``.

    - ``key_files``: private keys to offer, in order; ``passphrase`` opens
      the encrypted ones.
    - ``use_agent``: offer the keys of the SSH agent (``SSH_AUTH_SOCK``);
      ``default_keys``: offer the usual ``~/.ssh/id_*`` files.
    - ``answer``: answers keyboard-interactive prompts other than the first
      password prompt (a second factor); see :mod:`.sshauth`.
    - ``host_key_policy`` and ``known_hosts``: see :mod:`.hostkeys`.
    - ``timeout``: each step of the login (seconds); ``connect_timeout`` the
      TCP connection and the SSH handshake (default: ``timeout``).
    - ``jump``: the login of the host to connect through (``ProxyJump``).
    """

    host: str
    username: str
    port: int = 22
    password: Optional[str] = field(default=None, repr=False)
    key_files: tuple[str, ...] = ()
    passphrase: Optional[str] = field(default=None, repr=False)
    use_agent: bool = False
    default_keys: bool = False
    answer: Optional[Answerer] = field(default=None, repr=False, compare=False)
    host_key_policy: str = DEFAULT_POLICY
    known_hosts: str = DEFAULT_KNOWN_HOSTS
    timeout: float = 30.0
    connect_timeout: Optional[float] = None
    jump: Optional[SshLogin] = None

    def __post_init__(self) -> None:
        check_policy(self.host_key_policy)
        if not 0 < int(self.port) < 65536:
            raise ValueError(f"port must be 1-65535, not {self.port!r}")

    def describe(self) -> str:
        """``user@host:port``, and the jump hosts it goes through."""
        text = f"{self.username}@{self.host}:{self.port}"
        if self.jump is not None:
            text += f" through {self.jump.describe()}"
        return text


def _no_delay(sock: Any) -> None:
    """No Nagle on the connection's TCP socket (as OpenSSH does for
    interactive sessions): a small packet sent right after another, before
    its acknowledgement, would wait for it, up to the peer's delayed ACK
    (40 ms). A jump host's channel is no socket: its own connection has it."""
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class JumpFailed(Exception):
    """Logging in through ``login`` (a jump host) failed with ``error``."""

    def __init__(self, login: SshLogin, error: BaseException, target: str) -> None:
        self.login = login
        self.error = error
        self.target = target
        super().__init__(f"jump host {login.describe()}: {type(error).__name__}: {error}")


class SshConnection:
    """An authenticated SSH connection for ``login``; ``client`` is the
    connected :class:`paramiko.SSHClient`. Close it with :meth:`close`.

    Fails with paramiko's exceptions and socket errors of the login itself,
    :class:`.hostkeys.HostKeyUnknown` or :class:`.hostkeys.HostKeyMismatch`
    for a refused host key, and :class:`JumpFailed` (wrapping one of those)
    when a jump host failed or could not reach the next host.
    """

    def __init__(self, login: SshLogin) -> None:
        self.login = login
        self.jump: Optional[SshConnection] = None
        sock: Optional[paramiko.Channel] = None
        if login.jump is not None:
            self.jump, sock = self._through(login.jump)
        try:
            self.client = self._connect(sock)
        except BaseException:
            if self.jump is not None:
                self.jump.close()
            raise

    def _through(self, jump: SshLogin) -> tuple[SshConnection, paramiko.Channel]:
        target = f"{self.login.host}:{self.login.port}"
        try:
            connection = SshConnection(jump)
        except JumpFailed:
            raise
        except Exception as error:
            raise JumpFailed(jump, error, target) from error
        try:
            transport = connection.transport
            channel = transport.open_channel(
                "direct-tcpip",
                dest_addr=(self.login.host, self.login.port),
                src_addr=("127.0.0.1", 0),
                window_size=WINDOW_SIZE,
                max_packet_size=MAX_PACKET_SIZE,
                timeout=self.login.timeout,
            )
        except Exception as error:
            connection.close()
            raise JumpFailed(jump, error, target) from error
        LOGGER.debug("%s: tunnel to %s open", jump.describe(), target)
        return connection, channel

    def _connect(self, sock: Optional[paramiko.Channel]) -> paramiko.SSHClient:
        login = self.login
        client = paramiko.SSHClient()
        try:
            apply_policy(client, login.host_key_policy, login.known_hosts)
            client.connect(
                login.host,
                port=login.port,
                username=login.username,
                sock=sock,
                timeout=login.connect_timeout or login.timeout,
                banner_timeout=login.connect_timeout or login.timeout,
                auth_timeout=login.timeout,
                transport_factory=_fast_transport,
                auth_strategy=LoginAuth(login),
            )
        except paramiko.BadHostKeyException as error:
            client.close()
            name = host_key_name(login.host, login.port)
            where = file_listing(name, known_hosts_files(login.known_hosts))
            raise HostKeyMismatch(name, error.key, error.expected_key, where) from None
        except BaseException:
            client.close()
            raise
        transport = client.get_transport()
        assert transport is not None
        transport.set_keepalive(0)
        _no_delay(transport.sock)
        return client

    @property
    def transport(self) -> paramiko.Transport:
        transport = self.client.get_transport()
        if transport is None:
            raise EOFError("SSH connection closed")
        return transport

    def is_active(self) -> bool:
        transport = self.client.get_transport()
        return transport is not None and transport.is_active()

    def close(self) -> None:
        """Close this connection, then the jump hosts' (idempotent)."""
        try:
            self.client.close()
        finally:
            if self.jump is not None:
                self.jump.close()
