"""A real, throw-away OpenSSH server on 127.0.0.1 for tests.

``SshTarget`` starts a private ``sshd`` (own config, own host key, free port)
and creates three unique local users:

* ``key``: logs in with a key only (password field ``*``), passwordless sudo.
* ``password``: logs in with a password (and with the same key), sudo asks
  for the password.
* ``su``: has a password, no sudo rights; meant as the target of ``su``.

``SshTarget.extra_sshd()`` starts more sshds for the same users with some
options changed (keyboard-interactive, a host key of their own).

Everything is removed again by ``stop()`` (also registered with ``atexit``);
users left behind by a killed test run are swept by the next ``start()``.

Stdlib only. Needs root (``available()`` says why not).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
SUDOERS_DIR = "/etc/sudoers.d"
PRIVSEP_DIR = "/run/sshd"
GECOS_MARKER = "rpl-sshtarget owner="
NAME_PREFIX = "rpl"
ROLES = {"key": "k", "password": "p", "su": "s"}

_apt_updated = False
_install_lock = threading.Lock()
_user_uids: dict[str, int] = {}  # names ever created here -> uid (survives userdel)


# --------------------------------------------------------------------------- #
# Packages / availability
# --------------------------------------------------------------------------- #


def _is_root() -> bool:
    return os.geteuid() == 0


def _have_sudo() -> bool:
    return bool(shutil.which("sudo") or os.path.exists("/usr/bin/sudo"))


def _missing_tools() -> list[str]:
    missing = []
    for path in (SSHD, SSH_KEYGEN):
        if not os.path.exists(path):
            missing.append(path)
    if not _have_sudo():
        missing.append("sudo")
    for tool in ("useradd", "userdel", "chpasswd", "visudo"):
        if not (shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}")):
            missing.append(tool)
    return missing


def ensure_packages() -> None:
    """Install openssh-server and sudo with apt-get if missing and root.

    Never raises: a failure shows up as ``available()`` returning False.
    """
    if _missing_tools():
        apt_install(["openssh-server", "sudo"], missing=_missing_tools)
        _stop_system_sshd()


def apt_install(packages: list[str], missing: Callable[[], list[str]]) -> None:
    """``apt-get install`` ``packages`` when ``missing()`` is not empty (root only).

    Never raises. ``apt-get update`` runs once per process. A ``policy-rc.d``
    that forbids service starts is put in place during the install so no
    system daemon (sshd on port 22) gets started.
    """
    global _apt_updated
    if not _is_root() or not missing() or not shutil.which("apt-get"):
        return
    with _install_lock:
        if not missing():
            return
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        policy = "/usr/sbin/policy-rc.d"
        made_policy = False
        if not os.path.exists(policy):
            try:
                with open(policy, "w") as f:
                    f.write("#!/bin/sh\nexit 101\n")
                os.chmod(policy, 0o755)
                made_policy = True
            except OSError:
                pass
        try:
            if not _apt_updated:
                subprocess.run(
                    ["apt-get", "update"], env=env, capture_output=True, timeout=600, check=False
                )
                _apt_updated = True
            subprocess.run(
                ["apt-get", "install", "-y", "--no-install-recommends", *packages],
                env=env,
                capture_output=True,
                timeout=900,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            pass
        finally:
            if made_policy:
                with contextlib.suppress(OSError):
                    os.remove(policy)


def _stop_system_sshd() -> None:
    """Kill a system sshd that a package install may have started."""
    for pidfile in ("/run/sshd.pid", "/var/run/sshd.pid"):
        try:
            with open(pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if _proc_comm(pid) == "sshd":
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)


def available() -> tuple[bool, str]:
    """(True, "") if an SshTarget can be started here, else (False, reason)."""
    if os.name != "posix" or not hasattr(os, "geteuid"):
        return False, "SSH target needs a POSIX system"
    if not _is_root():
        return False, "SSH target needs root (creates users and runs sshd)"
    missing = _missing_tools()
    if missing:
        return False, "SSH target needs " + ", ".join(missing) + " (apt-get install failed?)"
    return True, ""


# --------------------------------------------------------------------------- #
# /proc helpers
# --------------------------------------------------------------------------- #


def _proc_comm(pid: int) -> Optional[str]:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def _proc_status(pid: int) -> dict[str, str]:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                out[key] = value.strip()
    except OSError:
        pass
    return out


def _proc_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _pids_of_uid(uid: int) -> list[int]:
    """Live (non-zombie) processes with uid as real/effective/saved/fs uid."""
    pids = []
    for pid in _all_pids():
        status = _proc_status(pid)
        if not status or status.get("State", "").startswith(("Z", "X")):
            continue
        try:
            uids = {int(u) for u in status.get("Uid", "").split()}
        except ValueError:
            continue
        if uid in uids:
            pids.append(pid)
    return pids


def _uid_of(name: str) -> Optional[int]:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return _user_uids.get(name)


def count_user_processes(name: str) -> int:
    """Number of live (non-zombie) processes running as user ``name``.

    Works after the user is deleted too, for users created by this module.
    """
    uid = _uid_of(name)
    if uid is None:
        return 0
    return len(_pids_of_uid(uid))


def _kill_user_processes(name: str, timeout: float = 10.0) -> bool:
    uid = _uid_of(name)
    if uid is None:
        return True
    deadline = time.monotonic() + timeout
    while True:
        pids = _pids_of_uid(uid) + _sshd_pids_for(name)
        if not pids:
            return True
        if time.monotonic() > deadline:
            return False
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _sshd_pids_for(name: str) -> list[int]:
    """sshd processes serving ``name``: root monitors and the user's children."""
    uid = _uid_of(name)
    title = re.compile(r"^sshd: " + re.escape(name) + r"(?: \[|@)")
    pids = []
    for pid in _all_pids():
        if _proc_comm(pid) != "sshd":
            continue
        status = _proc_status(pid)
        if not status or status.get("State", "").startswith(("Z", "X")):
            continue
        uids = status.get("Uid", "").split()
        if title.match(_proc_cmdline(pid)) or (uid is not None and str(uid) in uids):
            pids.append(pid)
    return sorted(pids)


# --------------------------------------------------------------------------- #
# Commands
# --------------------------------------------------------------------------- #


def _run(
    cmd: list[str], input: Optional[str] = None, ok: tuple[int, ...] = (0,)
) -> subprocess.CompletedProcess:
    """Run, retrying while /etc/passwd et al. are locked by a parallel run."""
    for attempt in range(50):
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=60)
        if proc.returncode in ok:
            return proc
        if "lock" in (proc.stderr or "").lower() and attempt < 49:
            time.sleep(0.1 + secrets.randbelow(100) / 1000)
            continue
        break
    raise RuntimeError(
        f"{' '.join(cmd)} failed with rc={proc.returncode}: {(proc.stderr or proc.stdout).strip()}"
    )


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _random_password(length: int = 16) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _delete_user(name: str) -> None:
    _kill_user_processes(name)
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    # rc 6: no such user, rc 12: could not remove home/mail (warnings), rc 8: busy
    proc = subprocess.run(["userdel", "-r", name], capture_output=True, text=True, timeout=60)
    if proc.returncode in (0, 6, 12):
        return
    _run(["userdel", "-r", "-f", name], ok=(0, 6, 12))


def _pid_alive(pid: int) -> bool:
    """True for a live process; zombies count as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _proc_status(pid).get("State", "").startswith(("Z", "X"))


def _kill_sshd_using(directory: str) -> None:
    """Kill orphaned listening sshd processes whose config is in directory."""
    for pid in _all_pids():
        if _proc_comm(pid) == "sshd" and directory + "/" in _proc_cmdline(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def cleanup_stale() -> list[str]:
    """Remove users/sudoers files/temp dirs left by dead owner processes.

    Returns the removed user names. Other live test runs are left alone.
    """
    removed = []
    for entry in pwd.getpwall():
        gecos = entry.pw_gecos or ""
        if not gecos.startswith(GECOS_MARKER):
            continue
        try:
            owner = int(gecos[len(GECOS_MARKER) :].split()[0])
        except (ValueError, IndexError):
            continue
        if owner == os.getpid() or _pid_alive(owner):
            continue
        name = entry.pw_name
        _user_uids.setdefault(name, entry.pw_uid)
        with contextlib.suppress(Exception):
            _delete_user(name)
            removed.append(name)
        if re.fullmatch(NAME_PREFIX + r"[a-z]{6}[kps]", name):
            token = name[:-1]
            with contextlib.suppress(OSError):
                os.remove(os.path.join(SUDOERS_DIR, token))
            tmp = tempfile.gettempdir()
            for d in os.listdir(tmp):
                if d.startswith(f"rpl-sshtarget-{token}-"):
                    _kill_sshd_using(os.path.join(tmp, d))
                    shutil.rmtree(os.path.join(tmp, d), ignore_errors=True)
    return removed


# --------------------------------------------------------------------------- #
# SshTarget
# --------------------------------------------------------------------------- #


@dataclass
class SshUser:
    """A user created for the target.

    ``key_file``: private key usable by the controller (root) to log in as
    this user, None if key login is not set up (the ``su`` user).
    ``hop_key_file``: the same key, owned by this user (mode 600) in its
    home, for ssh hops typed in this user's shell (``ssh -i <hop_key_file>``);
    it logs in as the ``key`` and ``password`` users.
    """

    role: str
    name: str
    password: Optional[str]
    key_file: Optional[str]
    home: str
    hop_key_file: str
    uid: int


class SshTarget:
    """Private sshd on 127.0.0.1 plus three throw-away users. Needs root."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port: int = 0
        self.tempdir: str = ""
        self.log_path: str = ""
        self.config_path: str = ""
        self.host_key_file: str = ""
        self.host_public_key: str = ""
        self.known_hosts_file: str = ""
        self.client_key_file: str = ""
        self.sudoers_file: str = ""
        self.users: dict[str, SshUser] = {}
        self.config_text: str = ""
        self._token = ""
        self._sshd: Optional[SshdProcess] = None
        self._extras: list[ExtraSshd] = []
        self._created_users: list[str] = []
        self._started = False
        self._lock = threading.RLock()

    # -- public ------------------------------------------------------------ #

    @property
    def pid(self) -> Optional[int]:
        """Pid of the listening sshd (None when not running)."""
        return self._sshd.pid if self._sshd is not None else None

    def start(self) -> SshTarget:
        with self._lock:
            if self._started:
                return self
            ok, reason = available()
            if not ok:
                raise RuntimeError(reason)
            self._started = True
            atexit.register(self.stop)
            try:
                with contextlib.suppress(Exception):
                    cleanup_stale()
                self._setup_files()
                self._create_users()
                self._write_sudoers()
                self._start_sshd()
            except BaseException:
                self.stop()
                raise
            return self

    def stop(self) -> None:
        """Stop sshd, kill the users' processes, delete users, files. Idempotent."""
        with self._lock:
            if not self._started:
                return
            self._started = False
            with contextlib.suppress(Exception):
                atexit.unregister(self.stop)
            errors = []
            extras, self._extras = self._extras, []
            for extra in extras:
                extra.stop()
            self._stop_sshd()
            for name in self._created_users:
                try:
                    _delete_user(name)
                except Exception as err:
                    errors.append(str(err))
            self._created_users = []
            if self.sudoers_file:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.sudoers_file)
            if self.tempdir:
                shutil.rmtree(self.tempdir, ignore_errors=True)
            if errors:
                raise RuntimeError("SshTarget cleanup problems: " + "; ".join(errors))

    def restart(self) -> None:
        """Restart the listening sshd on the same port with the same keys.

        Established sessions are served by their own sshd processes and
        normally survive this.
        """
        with self._lock:
            if not self._started:
                raise RuntimeError("SshTarget not started")
            self._stop_sshd()
            self._start_sshd()

    def extra_sshd(
        self,
        name: str,
        options: Optional[dict[str, str]] = None,
        extra: str = "",
        own_host_key: bool = False,
    ) -> ExtraSshd:
        """Start another sshd for the same users (see :class:`ExtraSshd`);
        it is stopped by :meth:`stop`."""
        with self._lock:
            if not self._started:
                raise RuntimeError("SshTarget not started")
            sshd = ExtraSshd(self, name, options, extra, own_host_key)
            self._extras.append(sshd)
            return sshd.start()

    def session_pids(self, username: str) -> list[int]:
        """Pids of the sshd processes serving ``username``'s connections.

        Includes the per-connection root monitor (``sshd: user [priv]``) and
        the unprivileged child (``sshd: user@pts/0`` / ``@notty``). Killing
        all of them drops the connections abruptly (like a crashed sshd).
        """
        return _sshd_pids_for(username)

    def user_pids(self, username: str) -> list[int]:
        """Live processes running as ``username`` (shells, commands, sshd)."""
        uid = _uid_of(username)
        return [] if uid is None else sorted(_pids_of_uid(uid))

    def log_tail(self, lines: int = 30) -> str:
        return _tail(self.log_path, lines)

    def __enter__(self) -> SshTarget:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals --------------------------------------------------------- #

    def _setup_files(self) -> None:
        while True:
            token = new_token()
            names = [token + suffix for suffix in ROLES.values()]
            if not any(_exists(n) for n in names) and not os.path.exists(
                os.path.join(SUDOERS_DIR, token)
            ):
                break
        self._token = token
        self.tempdir = os.path.abspath(tempfile.mkdtemp(prefix=f"rpl-sshtarget-{token}-"))
        os.chmod(self.tempdir, 0o755)
        self.log_path = os.path.join(self.tempdir, "sshd.log")
        self.config_path = os.path.join(self.tempdir, "sshd_config")
        self.host_key_file = os.path.join(self.tempdir, "ssh_host_ed25519_key")
        self.client_key_file = os.path.join(self.tempdir, "client_ed25519_key")
        self.known_hosts_file = os.path.join(self.tempdir, "known_hosts")
        auth_dir = os.path.join(self.tempdir, "authorized_keys")
        os.mkdir(auth_dir)
        os.chmod(auth_dir, 0o755)
        self.host_public_key = keygen(self.host_key_file, f"{token}-host")
        keygen(self.client_key_file, f"{token}-client")
        self.port = _free_port(self.host)
        with open(self.known_hosts_file, "w") as f:
            f.write(f"[{self.host}]:{self.port} {self.host_public_key}\n")
        os.chmod(self.known_hosts_file, 0o644)
        config = sshd_config(
            self.host,
            self.port,
            self.host_key_file,
            os.path.join(self.tempdir, "sshd.pid"),
            auth_dir,
        )
        self.config_text = config
        write_sshd_config(self.config_path, config)

    def _create_users(self) -> None:
        keys = ClientKey.load(self.client_key_file)
        auth_dir = os.path.join(self.tempdir, "authorized_keys")
        for role, suffix in ROLES.items():
            name = self._token + suffix
            password = None if role == "key" else _random_password()
            entry = create_user(name, "/bin/bash", password)
            self._created_users.append(name)
            hop_key = keys.install(entry, auth_dir if role in ("key", "password") else None)
            self.users[role] = SshUser(
                role=role,
                name=name,
                password=password,
                key_file=self.client_key_file if role in ("key", "password") else None,
                home=entry.pw_dir,
                hop_key_file=hop_key,
                uid=entry.pw_uid,
            )

    def _write_sudoers(self) -> None:
        key, pw = self.users["key"].name, self.users["password"].name
        text = (
            f"# RemoteProxyLibrary SshTarget {self._token} (owner pid {os.getpid()})\n"
            f"{key} ALL=(ALL:ALL) NOPASSWD: ALL\n"
            f"{pw} ALL=(ALL:ALL) ALL\n"
        )
        self.sudoers_file = install_sudoers(self._token, text, self.tempdir)

    def _start_sshd(self) -> None:
        self._sshd = SshdProcess(self.config_path, self.log_path, self.port, host=self.host)
        self._sshd.start()

    def _stop_sshd(self) -> None:
        sshd, self._sshd = self._sshd, None
        if sshd is not None:
            sshd.stop()


class ExtraSshd:
    """Another sshd of an :class:`SshTarget`: the same users and keys, its
    own port, its own log, some ``sshd_config`` options changed.

    ``options`` replace (or add) global options, e.g. ``{"UsePAM": "yes",
    "KbdInteractiveAuthentication": "yes", "PasswordAuthentication": "no"}``;
    ``extra`` is appended (``Match`` blocks). With ``own_host_key`` it has a
    host key of its own, which :meth:`restart` can re-generate (a target that
    was re-installed). ``known_hosts_file`` lists its current key.
    Made by :meth:`SshTarget.extra_sshd`, stopped with the target.
    """

    def __init__(
        self,
        target: SshTarget,
        name: str,
        options: Optional[dict[str, str]] = None,
        extra: str = "",
        own_host_key: bool = False,
    ) -> None:
        if not re.fullmatch(r"[a-z0-9-]+", name):
            raise ValueError(f"ExtraSshd name must be [a-z0-9-]+, not {name!r}")
        self.target = target
        self.name = name
        self.host = target.host
        base = os.path.join(target.tempdir, f"sshd-{name}")
        self.config_path = base + ".config"
        self.log_path = base + ".log"
        self.known_hosts_file = base + ".known_hosts"
        self.host_key_file = target.host_key_file
        if own_host_key:
            self.host_key_file = base + "_host_ed25519_key"
        self.port = _free_port(self.host)
        self.host_public_key = ""
        settings = dict(options or {})
        settings.update(
            {"Port": str(self.port), "HostKey": self.host_key_file, "PidFile": base + ".pid"}
        )
        self._config = _with_options(target.config_text, settings) + extra
        self._own_host_key = own_host_key
        self._sshd = SshdProcess(self.config_path, self.log_path, self.port, host=self.host)

    @property
    def pid(self) -> Optional[int]:
        return self._sshd.pid

    def start(self) -> ExtraSshd:
        if self._own_host_key and not os.path.exists(self.host_key_file):
            self._new_host_key()
        else:
            self._read_host_key()
        write_sshd_config(self.config_path, self._config)
        self._sshd.start()
        return self

    def stop(self) -> None:
        self._sshd.stop()

    def restart(self, new_host_key: bool = False) -> None:
        """Restart on the same port; ``new_host_key`` (needs ``own_host_key``)
        generates a new host key first, as a re-installed host would have."""
        if new_host_key and not self._own_host_key:
            raise ValueError("this sshd shares the target's host key: make it with own_host_key")
        self._sshd.stop()
        if new_host_key:
            self._new_host_key()
        self._sshd.start()

    def log_tail(self, lines: int = 30) -> str:
        return self._sshd.log_tail(lines)

    def _new_host_key(self) -> None:
        for path in (self.host_key_file, self.host_key_file + ".pub"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        self._known(keygen(self.host_key_file, self.name))

    def _read_host_key(self) -> None:
        with open(self.host_key_file + ".pub") as f:
            self._known(" ".join(f.read().split()[:2]))

    def _known(self, public_key: str) -> None:
        self.host_public_key = public_key
        _write(self.known_hosts_file, f"[{self.host}]:{self.port} {public_key}\n", 0o644)


def _with_options(config: str, options: dict[str, str]) -> str:
    """``config`` with the global ``options`` set (replaced where present)."""
    wanted = {key.lower(): (key, value) for key, value in options.items()}
    lines = []
    for line in config.splitlines():
        key = line.split(None, 1)[0].lower() if line.strip() else ""
        if key in wanted:
            name, value = wanted.pop(key)
            line = f"{name} {value}"
        lines.append(line)
    lines += [f"{name} {value}" for name, value in wanted.values()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- #
# Building blocks shared with the lab (resources/sshlab.py)
# --------------------------------------------------------------------------- #


def new_token() -> str:
    """``rpl`` and six random lowercase letters: the stem of a run's names."""
    return NAME_PREFIX + "".join(secrets.choice(string.ascii_lowercase) for _ in range(6))


def keygen(path: str, comment: str) -> str:
    """Make an ed25519 key pair at ``path`` (mode 600); returns the public key (``type base64``)."""
    _run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path])
    os.chmod(path, 0o600)
    with open(path + ".pub") as f:
        return " ".join(f.read().split()[:2])


def sshd_config(
    listen: str, port: int, host_key: str, pid_file: str, auth_dir: str, extra: str = ""
) -> str:
    """The text of a private sshd's config: no PAM, keys in ``auth_dir/<user>``."""
    return f"""\
ListenAddress {listen}
Port {port}
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {auth_dir}/%u
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitEmptyPasswords no
StrictModes no
PermitRootLogin no
MaxStartups 100:30:200
MaxSessions 50
MaxAuthTries 10
UseDNS no
LogLevel VERBOSE
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
AcceptEnv LANG LC_* TERM
{extra}"""


def write_sshd_config(path: str, text: str) -> None:
    """Write ``text`` to ``path`` and have sshd check it (raises if it is invalid)."""
    with open(path, "w") as f:
        f.write(text)
    os.makedirs(PRIVSEP_DIR, mode=0o755, exist_ok=True)
    os.chmod(PRIVSEP_DIR, 0o755)
    _run([SSHD, "-t", "-f", path])


def create_user(name: str, shell: str, password: Optional[str]) -> pwd.struct_passwd:
    """``useradd`` a throw-away user marked with this process as its owner.

    No ``password``: the password field is ``*`` (no password, key logins
    still work; ``!`` would make sshd without PAM refuse them too).
    Deleted by :func:`delete_user`, or by :func:`cleanup_stale` once the
    owner process is gone.
    """
    cmd = ["useradd", "-m", "-s", shell, "-c", f"{GECOS_MARKER}{os.getpid()}"]
    if password is None:
        cmd += ["-p", "*"]
    _run([*cmd, name])
    entry = pwd.getpwnam(name)
    _user_uids[name] = entry.pw_uid
    if password is not None:
        _run(["chpasswd"], input=f"{name}:{password}\n")
    return entry


def delete_user(name: str) -> None:
    """Kill every process of user ``name`` (its sshd sessions too), then ``userdel -r``."""
    _delete_user(name)


@dataclass(frozen=True)
class ClientKey:
    """A client key pair given to users: for logging in, and for their own hops."""

    private_key: str
    public_key: str

    @classmethod
    def load(cls, path: str) -> ClientKey:
        with open(path) as f:
            private_key = f.read()
        with open(path + ".pub") as f:
            return cls(private_key, f.read())

    def install(self, entry: pwd.struct_passwd, auth_dir: Optional[str]) -> str:
        """Give user ``entry`` a copy of the key (``~/.ssh/rpl_id``, for hops it
        types) and, with ``auth_dir``, let the key log in as it. Returns the copy's path."""
        ssh_dir = os.path.join(entry.pw_dir, ".ssh")
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        hop_key = os.path.join(ssh_dir, "rpl_id")
        _write(hop_key, self.private_key, 0o600)
        _write(hop_key + ".pub", self.public_key, 0o644)
        for path in (ssh_dir, hop_key, hop_key + ".pub"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(ssh_dir, 0o700)
        if auth_dir is not None:
            _write(os.path.join(auth_dir, entry.pw_name), self.public_key, 0o644)
        return hop_key


def install_sudoers(name: str, text: str, draft_dir: str) -> str:
    """Check ``text`` with visudo and install it as ``/etc/sudoers.d/<name>``; returns the path."""
    draft = os.path.join(draft_dir, "sudoers")
    _write(draft, text, 0o440)
    _run(["visudo", "-cf", draft])
    # sudo ignores files in sudoers.d whose name contains '.'.
    tmp = os.path.join(SUDOERS_DIR, f".{name}.tmp")
    os.makedirs(SUDOERS_DIR, mode=0o755, exist_ok=True)
    _write(tmp, text, 0o440)
    path = os.path.join(SUDOERS_DIR, name)
    os.replace(tmp, path)
    return path


def listening(pid: int, port: int) -> bool:
    """True if a TCP socket listens on ``port`` in the network namespace of ``pid``."""
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if (
                len(fields) > 3
                and fields[3] == "0A"
                and int(fields[1].rpartition(":")[2], 16) == port
            ):
                return True
    return False


class SshdProcess:
    """One listening ``sshd -D`` with its config and log file: the sshd of an
    :class:`SshTarget`, of each of its extra sshds and of each lab host.

    ``start()`` waits until it listens on ``port`` in its own network
    namespace and, given ``host``, until it answers there with its banner
    (the address clients use). ``prefix`` runs it through other commands
    (``ip netns exec NAME ...``); that command line must end by exec'ing
    sshd, so ``pid`` is sshd's own.
    """

    def __init__(
        self,
        config_path: str,
        log_path: str,
        port: int,
        host: Optional[str] = None,
        prefix: tuple[str, ...] = (),
    ) -> None:
        self.config_path = config_path
        self.log_path = log_path
        self.port = port
        self.host = host
        self.prefix = tuple(prefix)
        self.proc: Optional[subprocess.Popen] = None
        self._log: Any = None

    @property
    def pid(self) -> Optional[int]:
        """Pid of the listening sshd (None when not running)."""
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def start(self, timeout: float = 10.0) -> None:
        """Start it and wait until it is up (raises with its log if it is not)."""
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*self.prefix, SSHD, "-D", "-e", "-f", self.config_path],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
            close_fds=True,
        )
        where = f"{self.host}:{self.port}" if self.host else f"port {self.port}"
        deadline = time.monotonic() + timeout
        while not self._up(self.proc.pid):
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self._close_log()
                raise RuntimeError(f"sshd exited with rc={rc}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"sshd did not accept connections on {where} within {timeout}s:\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.02)

    def _up(self, pid: int) -> bool:
        if not listening(pid, self.port):
            return False
        if self.host is None:
            return True
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                s.settimeout(2)
                return s.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the listening sshd (sessions it forked are left to their users' cleanup)."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._close_log()

    def log_tail(self, lines: int = 30) -> str:
        return _tail(self.log_path, lines)

    def _close_log(self) -> None:
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None


def _tail(path: str, lines: int) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _write(path: str, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)
