"""Host-key policies of the SSH connections paramiko makes.

- ``accept``: any host key; no known_hosts file is read or written. The
  default: lab targets are re-installed all the time, and each new install
  has a new host key, so a stricter default would fail every login after a
  re-install until someone edits a known_hosts file.
- ``accept-new``: a host found in the known_hosts files must show the key
  recorded there; a host not found is added to the user's known_hosts file
  (OpenSSH's ``StrictHostKeyChecking=accept-new``).
- ``reject``: only hosts found in the known_hosts files, with the key
  recorded there (OpenSSH's ``StrictHostKeyChecking=yes``).

The files: the user's (``known_hosts``, ``~/.ssh/known_hosts`` by default),
read and appended to; the system's ``/etc/ssh/ssh_known_hosts``, only read.
A host on a port other than 22 is recorded as ``[host]:port``, as OpenSSH does.
"""

from __future__ import annotations

import logging
import os
from typing import Optional

import paramiko
from paramiko.hostkeys import HostKeyEntry

LOGGER = logging.getLogger("RemoteProxyLibrary.terminal")

ACCEPT = "accept"
ACCEPT_NEW = "accept-new"
REJECT = "reject"
POLICIES = (ACCEPT, ACCEPT_NEW, REJECT)
#: See the module documentation for why.
DEFAULT_POLICY = ACCEPT
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
SYSTEM_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts",)

#: OpenSSH's ``StrictHostKeyChecking`` values as policies. ``ask`` cannot ask
#: anyone here: like ``ssh -o BatchMode=yes``, an unknown key is refused.
_OPENSSH_VALUES = {
    "yes": REJECT,
    "ask": REJECT,
    "accept-new": ACCEPT_NEW,
    "no": ACCEPT,
    "off": ACCEPT,
}


def check_policy(value: str) -> str:
    """``value`` if it names a policy (any case), else :class:`ValueError`."""
    policy = str(value).strip().lower()
    if policy not in POLICIES:
        choices = ", ".join(repr(p) for p in POLICIES)
        raise ValueError(f"host_key_policy must be one of {choices}, not {value!r}")
    return policy


def policy_from_openssh(value: Optional[str]) -> Optional[str]:
    """The policy of an OpenSSH ``StrictHostKeyChecking`` value (None if unknown)."""
    if value is None:
        return None
    return _OPENSSH_VALUES.get(value.strip().lower())


def host_key_name(host: str, port: int) -> str:
    """How known_hosts files name ``host``: ``host``, or ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


class HostKeyUnknown(paramiko.SSHException):
    """Policy ``reject``: the host is in no known_hosts file."""

    def __init__(self, name: str, key: paramiko.PKey, known_hosts: str) -> None:
        self.name = name
        self.key = key
        self.known_hosts = known_hosts
        super().__init__(
            f"the host key of {name} ({key.get_name()} {key.fingerprint}) is not in "
            f"{known_hosts} or {', '.join(SYSTEM_KNOWN_HOSTS)}"
        )


class HostKeyMismatch(paramiko.SSHException):
    """The host shows another key than the one recorded in ``known_hosts``."""

    def __init__(
        self, name: str, key: paramiko.PKey, expected: paramiko.PKey, known_hosts: str
    ) -> None:
        self.name = name
        self.key = key
        self.expected = expected
        self.known_hosts = known_hosts
        super().__init__(
            f"the host key of {name} has changed: it is now {key.get_name()} "
            f"{key.fingerprint}, {known_hosts} has {expected.get_name()} {expected.fingerprint}"
        )


def append_known_host(path: str, name: str, key: paramiko.PKey) -> None:
    """Add one line for ``name`` to the known_hosts file ``path`` (created
    with mode 600, in a directory created with mode 700, if missing)."""
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    line = HostKeyEntry([name], key).to_line()
    if not line:
        raise ValueError(f"cannot write a known_hosts line for {name}")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as file:
        file.write(line)


def file_listing(name: str, paths: tuple[str, ...]) -> str:
    """The first of ``paths`` that has a key for ``name`` ("" if none)."""
    for path in paths:
        if os.path.isfile(path) and paramiko.HostKeys(path).lookup(name) is not None:
            return path
    return ""


class _AddNew(paramiko.MissingHostKeyPolicy):
    def __init__(self, known_hosts: str) -> None:
        self.known_hosts = known_hosts

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        append_known_host(self.known_hosts, hostname, key)
        LOGGER.info(
            "host key of %s (%s %s) added to %s",
            hostname,
            key.get_name(),
            key.fingerprint,
            self.known_hosts,
        )


class _Refuse(paramiko.MissingHostKeyPolicy):
    def __init__(self, known_hosts: str) -> None:
        self.known_hosts = known_hosts

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        raise HostKeyUnknown(hostname, key, self.known_hosts)


def known_hosts_files(known_hosts: str) -> tuple[str, ...]:
    """The files a policy reads: the user's, then the system's."""
    return (os.path.expanduser(known_hosts), *SYSTEM_KNOWN_HOSTS)


def apply_policy(client: paramiko.SSHClient, policy: str, known_hosts: str) -> None:
    """Make ``client`` check host keys by ``policy`` (see the module doc).

    The files are loaded as paramiko's "system" keys, so paramiko never
    rewrites them; ``accept-new`` appends one line per new host.
    """
    policy = check_policy(policy)
    if policy == ACCEPT:
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # in memory only
        return
    user_file = os.path.expanduser(known_hosts)
    for path in known_hosts_files(known_hosts):
        if os.path.isfile(path):
            try:
                client.load_system_host_keys(path)
            except (OSError, UnicodeDecodeError) as error:
                raise ValueError(f"cannot read the known_hosts file {path}: {error}") from None
    if policy == ACCEPT_NEW:
        client.set_missing_host_key_policy(_AddNew(user_file))
    else:
        client.set_missing_host_key_policy(_Refuse(user_file))
