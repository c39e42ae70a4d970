"""What the user's OpenSSH client configuration says about a host.

Read with paramiko's :class:`paramiko.SSHConfig` (``Host`` and ``Match``
blocks, ``%h``/``~`` tokens): ``HostName``, ``User``, ``Port``,
``IdentityFile``, ``IdentitiesOnly``, ``ProxyJump``, ``ConnectTimeout``,
``StrictHostKeyChecking`` and ``UserKnownHostsFile``. Other options are
ignored. Nothing here connects anywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import paramiko

from .hostkeys import policy_from_openssh

DEFAULT_SSH_CONFIG = "~/.ssh/config"


@dataclass(frozen=True)
class HostConfig:
    """The settings an ssh_config file gives ``alias`` (None: not set there)."""

    alias: str
    hostname: str
    user: Optional[str] = None
    port: Optional[int] = None
    identity_files: tuple[str, ...] = ()
    identities_only: bool = False
    proxy_jump: Optional[str] = None
    connect_timeout: Optional[float] = None
    host_key_policy: Optional[str] = None
    known_hosts: Optional[str] = None
    source: str = ""


def read_host_config(alias: str, config_file: Optional[str] = None) -> HostConfig:
    """The settings for ``alias`` in ``config_file`` (default ``~/.ssh/config``,
    which may be missing; a file given must exist).

    Raises :class:`ValueError` naming the file and the setting that is wrong.
    """
    path = os.path.expanduser(config_file or DEFAULT_SSH_CONFIG)
    if not os.path.isfile(path):
        if config_file:
            raise ValueError(f"ssh_config file {config_file!r} does not exist")
        return HostConfig(alias=alias, hostname=alias)
    try:
        values = paramiko.SSHConfig.from_path(path).lookup(alias)
    except (OSError, UnicodeDecodeError, paramiko.ssh_exception.ConfigParseError) as error:
        raise ValueError(f"cannot read the ssh_config file {path}: {error}") from None

    def number(name: str, kind: type) -> Optional[float]:
        value = values.get(name.lower())
        if value is None:
            return None
        try:
            result = kind(value)
        except ValueError:
            raise ValueError(f"{path}: {name} of {alias!r} is not a number: {value!r}") from None
        if result <= 0:
            raise ValueError(f"{path}: {name} of {alias!r} must be positive: {value!r}")
        return result

    port = number("Port", int)
    jump = values.get("proxyjump")
    known_hosts = values.get("userknownhostsfile")
    return HostConfig(
        alias=alias,
        hostname=values.get("hostname", alias),
        user=values.get("user"),
        port=int(port) if port is not None else None,
        identity_files=tuple(os.path.expanduser(f) for f in values.get("identityfile", [])),
        identities_only=values.get("identitiesonly", "no").lower() == "yes",
        proxy_jump=None if jump is None or jump.lower() == "none" else jump,
        connect_timeout=number("ConnectTimeout", float),
        host_key_policy=policy_from_openssh(values.get("stricthostkeychecking")),
        known_hosts=os.path.expanduser(known_hosts.split()[0]) if known_hosts else None,
        source=path,
    )


@dataclass(frozen=True)
class JumpHost:
    """One host of a ``ProxyJump`` list: ``[user@]host[:port]`` or ``ssh://...``."""

    host: str
    user: Optional[str] = None
    port: Optional[int] = None


def parse_proxy_jump(spec: str) -> list[JumpHost]:
    """The hosts of a ``ProxyJump`` value, first to connect to first.

    Raises :class:`ValueError` for an empty host or a bad port.
    """
    hosts = []
    for part in spec.split(","):
        text = part.strip()
        if text.startswith("ssh://"):
            text = text[len("ssh://") :].rstrip("/")
        user, _, hostport = text.rpartition("@")
        host, port_text = hostport, ""
        if hostport.startswith("["):  # [::1]:22
            host, _, rest = hostport[1:].partition("]")
            port_text = rest[1:] if rest.startswith(":") else ""
        elif hostport.count(":") == 1:
            host, _, port_text = hostport.partition(":")
        if not host:
            raise ValueError(f"ProxyJump {spec!r}: no host in {part!r}")
        port = None
        if port_text:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise ValueError(f"ProxyJump {spec!r}: bad port in {part!r}")
            port = int(port_text)
        hosts.append(JumpHost(host=host, user=user or None, port=port))
    return hosts
