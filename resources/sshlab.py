"""A lab of SSH hosts in network namespaces, built and torn down by the tests.

Needs root. Every host is a network namespace made here (``ip netns add``)
running its own ``sshd`` (``ip netns exec``, in a mount and UTS namespace of
its own, so each host has its own hostname and its own view of a few
directories). Addresses are 10.77.N.x, N picked free per lab::

    controller (root namespace)  10.77.N.1/30 ---- 10.77.N.2   bastion
                                                   10.77.N.5/30 ---- 10.77.N.6   dut1
                                                   10.77.N.9/30 ---- 10.77.N.10  dut2

The root namespace gets an ``unreachable`` route for 10.77.N.0/24: the DUTs
have no route from the controller and nothing sent to the lab's addresses
ever leaves the machine. The bastion does not forward, so the way to a DUT is
a login on the bastion (traffic to a DUT crosses the bastion).

Hosts and users (users are ``<token><letter>``; all log in with the lab's
client key and with their password, DUT users may ``sudo`` with it):

* ``bastion``: user ``jump`` (bash); its ``~/.ssh/rpl_id`` logs in on the DUTs.
* ``dut1``: a login banner; users ``bash`` (a slow, chatty ``~/.bashrc`` with
  a ``PS1`` and ``PROMPT_COMMAND`` of its own), ``dash`` (a non-UTF-8 locale:
  ISO-8859-1, or ``C`` when ``localedef`` fails) and ``busybox`` (BusyBox
  ``ash`` as login shell); the newest Python 3 found is on ``PATH`` as
  ``python3.X`` next to the system ``python3``.
* ``dut2``, a BusyBox board: no ``bash`` at all (hidden by an overlay on
  ``/usr/bin``), ``sh`` and the core tools are BusyBox applets, no
  ``python3`` but the oldest Python 3 found (3.6 or later) as ``python3.X``;
  user ``board`` (login shell ``/bin/sh``, an ``$ENV`` file setting its own
  ``PS1`` and printing), and user ``oldpy``, who has no usable Python: its
  ``PATH`` (set by sshd) leaves out ``/usr/local/bin`` (the board's
  ``python3.X``) and starts with ``~/bin``, where a stand-in ``python3`` says
  it is 3.4.10 and ``python`` links to the Python 2.7 found (if any).

The Pythons found under ``$PYENV_ROOT/versions`` (default ``/root/.pyenv``)
are visible to every user of every host at their own paths (their
``libpython`` is found by an absolute RPATH): an unreadable ancestor such as
``/root`` is covered, inside the hosts' mount namespaces only, by a tmpfs
that holds just a bind mount of the versions directory. Nothing of this is
visible outside the lab and nothing on the machine is chmod'ed.

``stop()`` removes everything (processes, namespaces, links, route, users,
sudoers file, files) and returns what it removed, counted; ``leftovers()``
lists anything of the lab that still exists. Labs left by a killed run are
swept by the next ``start()`` (records in ``/run/rpl-lab``).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import glob
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional

from sshtarget import (
    SUDOERS_DIR,
    ClientKey,
    SshdProcess,
    _exists,
    _pid_alive,
    _random_password,
    _run,
    _sshd_pids_for,
    _write,
    apt_install,
    available,
    count_user_processes,
    create_user,
    delete_user,
    ensure_packages,
    install_sudoers,
    keygen,
    new_token,
    sshd_config,
    write_sshd_config,
)

REGISTRY_DIR = "/run/rpl-lab"
NET_PREFIX = "10.77"
BUSYBOX = "/usr/bin/busybox"
DASH = "/usr/bin/dash"
PORT = 22
TOOLS = ("ip", "unshare", "mount", "mknod")


# --------------------------------------------------------------------------- #
# What the lab is made of (data)
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class UserSpec:
    """A user of one host: ``role`` names it in ``SshLab.users``."""

    role: str
    letter: str
    host: str
    login_shell: str  # "bash", "dash", "busybox" or "sh" (the host's /bin/sh)
    #: sshd ``SetEnv`` for this user; ``@home`` in a value is the home
    #: directory; ``("@locale", "latin1")`` sets a non-UTF-8 ``LANG``.
    env: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, str], ...] = ()  # (path relative to home, text)
    scripts: tuple[tuple[str, str], ...] = ()  # as files, executable
    #: (path relative to home, target); the target ``@python2`` is the
    #: Python 2.7 found (see :func:`find_python2`; no link without one).
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HostSpec:
    """A host: a namespace linked to ``via`` (None: to the controller)."""

    name: str
    via: Optional[str]
    bash: bool = True
    busybox_board: bool = False  # /bin/sh and core tools are BusyBox applets
    python: str = "system"  # "system", "newest" or "oldest" (see module doc)
    banner: Optional[str] = None


CHATTY_BASHRC = r"""# A slow, chatty start-up file, as some real ones are.
echo "rpl-lab: loading the tools of $(hostname) ..."
sleep 0.3
echo "rpl-lab: done"
export PS1='\u@\h:\w\$ '
export PROMPT_COMMAND='printf "\033]0;%s@%s\007" "$USER" "$(hostname)"; echo "[$(date +%T)]"'
case $- in *i*) ;; *) return ;; esac
"""

BOARD_SHRC = r"""# Read by every interactive sh ($ENV)
echo "board $(hostname): welcome"
PS1='board:$PWD# '
"""

BANNER = """\
*****************************************************************
*  dut1: a lab host of RemoteProxyLibrary's tests.              *
*  Unauthorised access is prohibited; sessions may be logged.   *
*****************************************************************
"""

#: A stand-in for an old python3, on the PATH of the user without a usable Python.
OLD_PYTHON3 = """#!/bin/sh
# A stand-in for an old python3 (3.4): says its version and runs nothing.
case "$1" in
-V|--version) echo "Python 3.4.10" ;;
*) echo "python3 (3.4.10, a stand-in) cannot run this" >&2; exit 1 ;;
esac
"""

HOSTS: tuple[HostSpec, ...] = (
    HostSpec("bastion", via=None),
    HostSpec("dut1", via="bastion", python="newest", banner=BANNER),
    HostSpec("dut2", via="bastion", bash=False, busybox_board=True, python="oldest"),
)

USERS: tuple[UserSpec, ...] = (
    UserSpec("jump", "j", "bastion", "bash"),
    UserSpec("bash", "b", "dut1", "bash", files=((".bashrc", CHATTY_BASHRC),)),
    UserSpec("dash", "d", "dut1", "dash", env=(("@locale", "latin1"),)),
    UserSpec("busybox", "y", "dut1", "busybox"),
    UserSpec(
        "board", "o", "dut2", "sh", env=(("ENV", "@home/.shrc"),), files=((".shrc", BOARD_SHRC),)
    ),
    UserSpec(
        "oldpy",
        "p",
        "dut2",
        "sh",
        env=(("PATH", "@home/bin:/usr/bin:/bin"),),
        scripts=(("bin/python3", OLD_PYTHON3),),
        links=(("bin/python", "@python2"),),
    ),
)


def fleet(count: int) -> tuple[tuple[HostSpec, ...], tuple[UserSpec, ...]]:
    """Specs of a lab of ``count`` alike DUTs behind the bastion, for many
    targets at once: hosts ``dut01``, ``dut02``, ... each with one user
    (roles ``u01``, ``u02``, ...; login shell ``sh``) and the system's
    Python; the bastion's user is ``jump``. ``SshLab(*fleet(20))``."""
    if not 1 <= count <= 60:
        raise ValueError(f"a fleet has 1 to 60 DUTs (the /24 of a lab), not {count}")
    hosts = [HostSpec("bastion", via=None)]
    users = [UserSpec("jump", "j", "bastion", "bash")]
    for number in range(1, count + 1):
        name = f"{number:02d}"
        hosts.append(HostSpec(f"dut{name}", via="bastion"))
        users.append(UserSpec(f"u{name}", f"u{name}", f"dut{name}", "sh"))
    return tuple(hosts), tuple(users)


# --------------------------------------------------------------------------- #
# What the lab gives tests
# --------------------------------------------------------------------------- #


@dataclass
class LabUser:
    """A user of the lab. ``key_file``: the client key on the controller;
    ``hop_key_file``: a copy in the user's home, for ``ssh -i`` typed in its shell."""

    role: str
    name: str
    host: str
    login_shell: str
    password: str
    key_file: str
    hop_key_file: str
    home: str
    uid: int


@dataclass
class LabHost:
    """A host of the lab: its namespace, address, sshd and what it offers."""

    name: str
    namespace: str
    address: str
    port: int
    via: Optional[str]
    bash: bool
    busybox_board: bool
    #: Python interpreters on this host's PATH besides the system ones: name -> path.
    pythons: dict[str, str] = field(default_factory=dict)
    sshd: Optional[SshdProcess] = None

    @property
    def pid(self) -> Optional[int]:
        """Pid of this host's listening sshd."""
        return self.sshd.pid if self.sshd else None


def available_lab() -> tuple[bool, str]:
    """(True, "") if a lab can be built here, else (False, one-line reason)."""
    ok, reason = available()
    if not ok:
        return ok, reason.replace("SSH target", "SSH lab")
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    missing += [path for path in (BUSYBOX, DASH) if not os.path.exists(path)]
    if missing:
        return False, "SSH lab needs " + ", ".join(missing)
    return True, ""


def ensure_lab_packages() -> None:
    """Install sshd, sudo, busybox and dash with apt-get when missing (root only)."""
    ensure_packages()
    apt_install(
        ["busybox", "dash"],
        missing=lambda: [p for p in (BUSYBOX, DASH) if not os.path.exists(p)],
    )


def find_pythons(root: Optional[str] = None) -> dict[tuple[int, int], str]:
    """Python 3.6+ interpreters of pyenv's ``versions`` directory, newest patch
    of each minor: ``{(3, 6): '/root/.pyenv/versions/3.6.15/bin/python3.6', ...}``."""
    root = root or os.environ.get("PYENV_ROOT") or "/root/.pyenv"
    found: dict[tuple[int, int], tuple[tuple[int, ...], str]] = {}
    for path in glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3.*")):
        match = re.search(r"/versions/(3)\.(\d+)\.(\d+)/bin/python3\.(\d+)$", path)
        if not match or match.group(2) != match.group(4) or not os.access(path, os.X_OK):
            continue
        version = tuple(int(g) for g in match.groups()[:3])
        minor = (3, version[1])
        if minor >= (3, 6) and (minor not in found or found[minor][0] < version):
            found[minor] = (version, path)
    return {minor: path for minor, (_, path) in sorted(found.items())}


def find_python2(root: Optional[str] = None) -> str:
    """A Python 2.7 of pyenv's ``versions`` directory ('' if none): a Python
    too old for the agent."""
    root = root or os.environ.get("PYENV_ROOT") or "/root/.pyenv"
    found = sorted(glob.glob(os.path.join(root, "versions", "2.7.*", "bin", "python2.7")))
    return next((path for path in reversed(found) if os.access(path, os.X_OK)), "")


# --------------------------------------------------------------------------- #
# The lab
# --------------------------------------------------------------------------- #


class SshLab:
    """The hosts and users above, in namespaces of their own. Needs root."""

    def __init__(
        self, hosts: tuple[HostSpec, ...] = HOSTS, users: tuple[UserSpec, ...] = USERS
    ) -> None:
        self.host_specs = hosts
        self.user_specs = users
        self.token = ""
        self.tempdir = ""
        self.subnet = ""
        self.controller_address = ""
        self.client_key_file = ""
        self.known_hosts_file = ""
        self.sudoers_file = ""
        self.hosts: dict[str, LabHost] = {}
        self.users: dict[str, LabUser] = {}
        #: Python 3.6+ interpreters usable on every host, by minor version.
        self.pythons: dict[tuple[int, int], str] = {}
        #: Seconds the last start() and stop() took.
        self.build_seconds = 0.0
        self.teardown_seconds = 0.0
        self._namespaces: list[str] = []
        self._root_link = ""
        #: The near end of each veth pair: (namespace, None for the root one; name).
        self._links: list[tuple[Optional[str], str]] = []
        self._route = ""
        self._user_names: list[str] = []
        self._record = ""
        self._started = False
        self._lock = threading.RLock()

    # -- life cycle -------------------------------------------------------- #

    def start(self) -> SshLab:
        """Build the lab; raises RuntimeError (after cleaning up) if it cannot."""
        with self._lock:
            if self._started:
                return self
            ok, reason = available_lab()
            if not ok:
                raise RuntimeError(reason)
            began = time.monotonic()
            self._started = True
            atexit.register(self.stop)
            try:
                with contextlib.suppress(Exception):
                    cleanup_stale_labs()
                self._allocate()
                self._build_network()
                self._create_users()
                self._start_hosts()
            except BaseException:
                self.stop()
                raise
            self.build_seconds = time.monotonic() - began
            return self

    def stop(self) -> dict[str, int]:
        """Remove everything of the lab; returns what was removed, counted:
        ``processes``, ``namespaces``, ``links``, ``routes``, ``users``, ``files``.
        Idempotent (a second call removes and returns nothing)."""
        removed = dict.fromkeys(("processes", "namespaces", "links", "routes", "users", "files"), 0)
        with self._lock:
            if not self._started:
                return removed
            began = time.monotonic()
            self._started = False
            with contextlib.suppress(Exception):
                atexit.unregister(self.stop)
            for host in self.hosts.values():
                if host.sshd is not None:
                    if host.sshd.pid:
                        removed["processes"] += 1
                    host.sshd.stop()
            for namespace in self._namespaces:
                removed["processes"] += _kill_namespace_processes(namespace)
            for name in self._user_names:
                removed["processes"] += count_user_processes(name) + len(_sshd_pids_for(name))
                if _exists(name):
                    removed["users"] += 1
                delete_user(name)
            # A veth pair is one link with two ends: count the pairs still there.
            removed["links"] = sum(_link_exists(ns, name) for ns, name in self._links)
            for namespace in self._namespaces:
                if _ip_ok("netns", "del", namespace):
                    removed["namespaces"] += 1
            if self._root_link and _link_exists(None, self._root_link):
                _ip_ok("link", "del", self._root_link)
            if self._route and _ip_ok("route", "del", *self._route.split()):
                removed["routes"] += 1
            for path in (self.sudoers_file, self._record):
                if path and os.path.exists(path):
                    os.remove(path)
                    removed["files"] += 1
            if self.tempdir and os.path.isdir(self.tempdir):
                shutil.rmtree(self.tempdir, ignore_errors=True)
                removed["files"] += 1
            self.teardown_seconds = time.monotonic() - began
            return removed

    def leftovers(self) -> list[str]:
        """What of this lab still exists (empty after ``stop()``)."""
        found = []
        existing = set(_netns_list())
        found += [f"namespace {n}" for n in self._namespaces if n in existing]
        if self._root_link and _link_exists(None, self._root_link):
            found.append(f"link {self._root_link}")
        if self._route and self._route in _root_routes():
            found.append(f"route {self._route}")
        for name in self._user_names:
            if _exists(name):
                found.append(f"user {name}")
            count = count_user_processes(name) + len(_sshd_pids_for(name))
            if count:
                found.append(f"{count} processes of {name}")
        if self.tempdir:
            sshds = _pids_with_cmdline(self.tempdir + "/")
            if sshds:
                found.append(f"processes using {self.tempdir}: {sshds}")
        for path in (self.sudoers_file, self._record, self.tempdir):
            if path and os.path.exists(path):
                found.append(f"file {path}")
        return found

    def __enter__(self) -> SshLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- use --------------------------------------------------------------- #

    def run_in(self, host: str, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run ``argv`` as root in ``host``'s network namespace (not its mount
        namespace: the files seen are the controller's)."""
        return subprocess.run(
            ["ip", "netns", "exec", self.hosts[host].namespace, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def session_pids(self, role: str) -> list[int]:
        """Pids of the sshd processes serving user ``role``'s connections."""
        return _sshd_pids_for(self.users[role].name)

    def kill_sessions(self, role: str) -> int:
        """SIGKILL the sshd processes serving user ``role``; returns how many."""
        pids = self.session_pids(role)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)

    def user_processes(self, role: str) -> int:
        """Live processes of user ``role``."""
        return count_user_processes(self.users[role].name)

    def log_tail(self, host: str, lines: int = 30) -> str:
        sshd = self.hosts[host].sshd
        return sshd.log_tail(lines) if sshd else ""

    # -- building ---------------------------------------------------------- #

    def _allocate(self) -> None:
        os.makedirs(REGISTRY_DIR, mode=0o700, exist_ok=True)
        with _registry_lock():
            while True:
                token = new_token()
                names = [token + spec.letter for spec in self.user_specs]
                if not any(_exists(n) for n in names) and not os.path.exists(
                    os.path.join(REGISTRY_DIR, token + ".json")
                ):
                    break
            self.token = token
            used = _used_subnets()
            free = [n for n in range(256) if f"{NET_PREFIX}.{n}." not in used]
            if not free:
                raise RuntimeError(f"no free {NET_PREFIX}.N.0/24 for a lab")
            n = free[0]
            self.subnet = f"{NET_PREFIX}.{n}.0/24"
            self.tempdir = os.path.abspath(tempfile.mkdtemp(prefix=f"rpl-lab-{token}-"))
            os.chmod(self.tempdir, 0o755)
            self._namespaces = [f"{token}-{spec.name}" for spec in self.host_specs]
            self._root_link = f"{token}c"
            self._route = f"unreachable {self.subnet}"
            self._user_names = [token + spec.letter for spec in self.user_specs]
            self.sudoers_file = os.path.join(SUDOERS_DIR, token)
            self._record = os.path.join(REGISTRY_DIR, token + ".json")
            record = {
                "owner": os.getpid(),
                "namespaces": self._namespaces,
                "link": self._root_link,
                "route": self._route,
                "users": self._user_names,
                "sudoers": self.sudoers_file,
                "tempdir": self.tempdir,
            }
            _write(self._record, json.dumps(record), 0o600)
            # The route claims the subnet for this lab (other labs skip it).
            _ip(f"route add {self._route}")

    def _build_network(self) -> None:
        n = self.subnet.split(".")[2]
        for namespace in self._namespaces:
            _ip(f"netns add {namespace}")
            _ip(f"-n {namespace} link set lo up")
        by_name = dict(zip((s.name for s in self.host_specs), self._namespaces))
        for links, spec in enumerate(self.host_specs):
            namespace = by_name[spec.name]
            near, far = f"{NET_PREFIX}.{n}.{4 * links + 1}", f"{NET_PREFIX}.{n}.{4 * links + 2}"
            if spec.via is None:  # linked to the controller
                where, end = "", self._root_link
                self.controller_address = near
            else:
                where, end = f"-n {by_name[spec.via]} ", f"to-{spec.name}"[:15]
            _ip(f"{where}link add {end} type veth peer name eth0 netns {namespace}")
            _ip(f"{where}addr add {near}/30 dev {end}")
            _ip(f"{where}link set {end} up")
            self._links.append((by_name[spec.via] if spec.via else None, end))
            _ip(f"-n {namespace} addr add {far}/30 dev eth0")
            _ip(f"-n {namespace} link set eth0 up")
            self.hosts[spec.name] = LabHost(
                name=spec.name,
                namespace=namespace,
                address=far,
                port=PORT,
                via=spec.via,
                bash=spec.bash,
                busybox_board=spec.busybox_board,
            )

    def _create_users(self) -> None:
        self.client_key_file = os.path.join(self.tempdir, "client_ed25519_key")
        keygen(self.client_key_file, f"{self.token}-client")
        keys = ClientKey.load(self.client_key_file)
        auth_dir = os.path.join(self.tempdir, "authorized_keys")
        os.mkdir(auth_dir)
        os.chmod(auth_dir, 0o755)
        sudoers = [f"# RemoteProxyLibrary SshLab {self.token} (owner pid {os.getpid()})"]
        for spec in self.user_specs:
            name = self.token + spec.letter
            password = _random_password()
            entry = create_user(name, _login_shell(spec), password)
            hop_key = keys.install(entry, auth_dir)
            python2 = find_python2()
            made = [(r, t, 0o644) for r, t in spec.files]
            made += [(r, t, 0o755) for r, t in spec.scripts]
            made += [(r, python2, None) for r, t in spec.links if t == "@python2" and python2]
            made += [(r, t, None) for r, t in spec.links if t != "@python2"]
            for relative, text, mode in made:
                path = os.path.join(entry.pw_dir, relative)
                directory = os.path.dirname(path)
                if not os.path.isdir(directory):
                    os.makedirs(directory)
                    os.chown(directory, entry.pw_uid, entry.pw_gid)
                if mode is None:
                    os.symlink(text, path)
                else:
                    _write(path, text, mode)
                os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
            self.users[spec.role] = LabUser(
                role=spec.role,
                name=name,
                host=spec.host,
                login_shell=spec.login_shell,
                password=password,
                key_file=self.client_key_file,
                hop_key_file=hop_key,
                home=entry.pw_dir,
                uid=entry.pw_uid,
            )
            rule = "NOPASSWD: ALL" if spec.host == self.host_specs[0].name else "ALL"
            sudoers.append(f"{name} ALL=(ALL:ALL) {rule}")
        draft_dir = os.path.join(self.tempdir, "sudoers.d")
        os.mkdir(draft_dir)
        install_sudoers(self.token, "\n".join(sudoers) + "\n", draft_dir)

    def _start_hosts(self) -> None:
        self.pythons = find_pythons()
        locale_env = _latin1_locale(os.path.join(self.tempdir, "locale"))
        known_hosts = []
        for spec in self.host_specs:
            host = self.hosts[spec.name]
            directory = os.path.join(self.tempdir, "hosts", spec.name)
            os.makedirs(directory)
            host_key = os.path.join(directory, "ssh_host_ed25519_key")
            public = keygen(host_key, f"{self.token}-{spec.name}")
            known_hosts.append(f"{host.address} {public}\n")
            users = [u for u in self.user_specs if u.host == spec.name]
            # Nobody else logs in here (a host without users: nobody at all).
            allowed = " ".join(self.users[u.role].name for u in users) or "nobody"
            extra = f"AllowUsers {allowed}\n"
            if spec.banner:
                banner = os.path.join(directory, "banner")
                _write(banner, spec.banner, 0o644)
                extra += f"Banner {banner}\n"
            for user in users:
                settings = []
                for key, value in user.env:
                    if key == "@locale":
                        settings += [f"{k}={v}" for k, v in locale_env.items()]
                    else:
                        settings.append(
                            f"{key}={value.replace('@home', self.users[user.role].home)}"
                        )
                if settings:
                    name = self.users[user.role].name
                    extra += f"Match User {name}\n    SetEnv {' '.join(settings)}\n"
            config = os.path.join(directory, "sshd_config")
            text = sshd_config(
                host.address,
                host.port,
                host_key,
                os.path.join(directory, "sshd.pid"),
                os.path.join(self.tempdir, "authorized_keys"),
                extra,
            )
            write_sshd_config(config, text)
            script = self._host_script(spec, host, directory)
            host.sshd = SshdProcess(
                config,
                os.path.join(directory, "sshd.log"),
                host.port,
                prefix=(
                    "ip", "netns", "exec", host.namespace,
                    "unshare", "--mount", "--uts", "--propagation", "private",
                    "sh", "-c", script + '\nexec "$@"', "rpl-lab-" + spec.name,
                ),
            )  # fmt: skip
        # Started once all are configured; each is listening when start() returns.
        for spec in self.host_specs:
            sshd = self.hosts[spec.name].sshd
            assert sshd is not None
            sshd.start(timeout=10)
        self.known_hosts_file = os.path.join(self.tempdir, "known_hosts")
        _write(self.known_hosts_file, "".join(known_hosts), 0o644)

    def _host_script(self, spec: HostSpec, host: LabHost, directory: str) -> str:
        """Shell commands run in the host's new mount and UTS namespaces before sshd."""
        lines = ["set -e", f"hostname {shlex.quote(spec.name)}"]
        lines += _expose_pythons(self.pythons, os.path.join(directory, "pythons"))
        local_bin = os.path.join(directory, "usr-local-bin")
        os.mkdir(local_bin)
        if spec.python != "system" and self.pythons:
            minor = max(self.pythons) if spec.python == "newest" else min(self.pythons)
            name = f"python{minor[0]}.{minor[1]}"
            os.symlink(self.pythons[minor], os.path.join(local_bin, name))
            host.pythons[name] = self.pythons[minor]
        if any(
            self.users[u.role].login_shell == "busybox"
            for u in self.user_specs
            if u.host == spec.name
        ):
            os.symlink(BUSYBOX, os.path.join(local_bin, "ash"))
        if os.listdir(local_bin):
            lines.append(_overlay(local_bin, "/usr/local/bin"))
        if not spec.bash or spec.busybox_board or spec.python == "oldest":
            usr_bin = os.path.join(directory, "usr-bin")
            os.mkdir(usr_bin)
            hide = []
            if not spec.bash:
                hide += ["bash", "rbash", "bashbug"]
            if spec.python == "oldest":
                hide += [
                    n
                    for n in os.listdir("/usr/bin")
                    if re.fullmatch(r"(python|pydoc|pygettext)[0-9.]*(-config)?", n)
                ]
            for name in hide:
                if os.path.lexists(os.path.join("/usr/bin", name)):
                    os.mknod(os.path.join(usr_bin, name), stat.S_IFCHR, os.makedev(0, 0))
            if spec.busybox_board:
                applets = subprocess.run(
                    [BUSYBOX, "--list"], capture_output=True, text=True, check=True
                )
                for applet in applets.stdout.split():
                    if applet not in hide and os.path.lexists(os.path.join("/usr/bin", applet)):
                        os.symlink(BUSYBOX, os.path.join(usr_bin, applet))
            # last: mount and sh come from /usr/bin
            lines.append(_overlay(usr_bin, "/usr/bin"))
        return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def _login_shell(spec: UserSpec) -> str:
    return {
        "bash": "/bin/bash",
        "dash": "/bin/dash",
        "busybox": "/usr/local/bin/ash",
        "sh": "/bin/sh",
    }[spec.login_shell]


def _latin1_locale(directory: str) -> dict[str, str]:
    """An ISO-8859-1 locale compiled into ``directory`` (``LANG``, ``LOCPATH``);
    ``LANG=C`` (ASCII) when ``localedef`` cannot make one."""
    name = "de_DE.ISO-8859-1"
    try:
        os.makedirs(directory, mode=0o755)
        subprocess.run(
            ["localedef", "-i", "de_DE", "-f", "ISO-8859-1", os.path.join(directory, name)],
            capture_output=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return {"LANG": "C"}
    return {"LANG": name, "LOCPATH": directory}


def _overlay(upper: str, target: str) -> str:
    """A read-only overlay of ``upper`` (links, whiteouts) on ``target``."""
    return f"mount -t overlay rpl-lab -o lowerdir={upper}:{target} {target}"


def _expose_pythons(pythons: dict[tuple[int, int], str], mount_point: str) -> list[str]:
    """Commands that make the pyenv versions directory reachable by every user
    at its own path, when an ancestor (such as ``/root``) is not."""
    if not pythons:
        return []
    versions = os.path.dirname(os.path.dirname(os.path.dirname(next(iter(pythons.values())))))
    blocker = None
    path = "/"
    for part in versions.strip("/").split("/"):
        path = os.path.join(path, part)
        if not os.stat(path).st_mode & stat.S_IXOTH:
            blocker = path
            break
    if blocker is None:
        return []
    os.mkdir(mount_point)
    q = shlex.quote
    return [
        f"mount --bind {q(versions)} {q(mount_point)}",
        f"mount -t tmpfs -o mode=755,size=1m rpl-lab {q(blocker)}",
        f"mkdir -p {q(versions)}",
        f"mount --bind {q(mount_point)} {q(versions)}",
    ]


@contextlib.contextmanager
def _registry_lock() -> Iterator[None]:
    with open(os.path.join(REGISTRY_DIR, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _ip(command: str) -> None:
    """Run ``ip`` with the words of ``command`` (raises if it fails)."""
    _run(["ip", *command.split()])


def _ip_ok(*args: str) -> bool:
    return (
        subprocess.run(["ip", *args], capture_output=True, timeout=30, check=False).returncode == 0
    )


def _netns_list() -> list[str]:
    out = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=False
    ).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _link_exists(namespace: Optional[str], name: str) -> bool:
    where = ["-n", namespace] if namespace else []
    out = subprocess.run(
        ["ip", *where, "-o", "link", "show", "dev", name], capture_output=True, check=False
    )
    return out.returncode == 0 and bool(out.stdout.strip())


def _root_routes() -> list[str]:
    out = subprocess.run(
        ["ip", "-4", "route", "show"], capture_output=True, text=True, check=False
    ).stdout
    return [" ".join(line.split()) for line in out.splitlines()]


def _used_subnets() -> str:
    out = subprocess.run(
        ["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=False
    ).stdout
    return out + "\n".join(_root_routes())


def _kill_namespace_processes(namespace: str, timeout: float = 5.0) -> int:
    """SIGKILL every process in ``namespace``; returns how many there were."""
    killed: set[int] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(
            ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False
        )
        pids = [int(p) for p in out.stdout.split() if p.isdigit() and _pid_alive(int(p))]
        if not pids:
            break
        for pid in pids:
            killed.add(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    return len(killed)


def _pids_with_cmdline(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if text.encode() in f.read() and _pid_alive(int(entry)):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def cleanup_stale_labs() -> list[str]:
    """Remove the labs of dead owner processes; returns their tokens."""
    removed = []
    if not os.path.isdir(REGISTRY_DIR):
        return removed
    with _registry_lock():
        for path in glob.glob(os.path.join(REGISTRY_DIR, "*.json")):
            try:
                with open(path) as f:
                    record = json.load(f)
                owner = int(record["owner"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if owner == os.getpid() or _pid_alive(owner):
                continue
            for namespace in record.get("namespaces", []):
                _kill_namespace_processes(namespace)
            for name in record.get("users", []):
                with contextlib.suppress(Exception):
                    delete_user(name)
            for namespace in record.get("namespaces", []):
                _ip_ok("netns", "del", namespace)
            if record.get("link"):
                _ip_ok("link", "del", record["link"])
            if record.get("route"):
                _ip_ok("route", "del", *record["route"].split())
            for pid in _pids_with_cmdline(record.get("tempdir", "/nonexistent") + "/"):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.remove(record.get("sudoers", ""))
            shutil.rmtree(record.get("tempdir", ""), ignore_errors=True)
            os.remove(path)
            removed.append(os.path.basename(path)[:-5])
    return removed


__all__ = [
    "HOSTS",
    "USERS",
    "HostSpec",
    "LabHost",
    "LabUser",
    "SshLab",
    "UserSpec",
    "available_lab",
    "cleanup_stale_labs",
    "ensure_lab_packages",
    "find_python2",
    "find_pythons",
    "fleet",
]
