"""File transfers (and command output) of ours against paramiko SFTP and
SSHLibrary's SCP and SFTP, on one throwaway sshd, in one run.

Run on demand, as root (it starts the sshd and its test users)::

    python3 -m venv .venv-bench && .venv-bench/bin/pip install robotframework-sshlibrary
    .venv-test/bin/python bench/bench_transfers.py            # ~2 min with the 1 GB memory figure
    .venv-test/bin/python bench/bench_transfers.py --memory-mb 0 --no-sshlibrary

Prints one JSON line per figure on stdout (progress on stderr), e.g.::

    {"figure": "put_one_hop_mb_per_s", "ours": 60.1, "sshlibrary_scp": 170.2,
     "ratio": 0.35, "ratio_is": "ours/sshlibrary_scp", "target": "ours >= sshlibrary_scp", ...}

The other side runs in its own virtual environment (``.venv-bench``, see
``bench/sshlibrary/sshlibrary_side.py``); paramiko SFTP is measured there too.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (HERE, ROOT, os.path.join(ROOT, "resources")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from common import error_text, log  # noqa: E402

from RemoteProxyLibrary import InteractiveSession, SshShell, SudoShell  # noqa: E402
from RemoteProxyLibrary.runnerterminal import RunnerTerminal  # noqa: E402

BENCH_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")
SIDE = os.path.join(HERE, "sshlibrary", "sshlibrary_side.py")
MB = 1_000_000


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def median_rate(size: int, seconds: list[float]) -> dict[str, Any]:
    return {"value": round(size / MB / statistics.median(seconds), 1),
            "runs_mb_per_s": [round(size / MB / s, 1) for s in seconds]}  # fmt: skip


def guard(function: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return function()
    except Exception as error:
        log(f"failed: {error_text(error)}")
        return {"error": error_text(error)}


class Stack:
    """An InteractiveSession with its shells and a runner on top."""

    def __init__(self, *shells: Any) -> None:
        self.session = InteractiveSession()
        self.session.spawn(shells[0])
        for shell in shells[1:]:
            self.session.push(shell)
        self.runner = RunnerTerminal(timeout=600, prompt_timeout=20)
        self.runner.initialize(self.session)

    def close(self) -> None:
        try:
            self.runner.close()
        finally:
            self.session.close_terminal()


# ---- our side ----------------------------------------------------------------------------
def ours_put_get(runner: RunnerTerminal, source: str, workdir: str, reps: int) -> dict:
    size, expected = os.path.getsize(source), sha256(source)
    remote = os.path.join(workdir, "ours-remote.bin")
    back = os.path.join(workdir, "ours-back.bin")
    puts, gets = [], []
    for _ in range(reps):
        result = runner.files.put(source, remote)
        assert result.sha256 == expected, "put: digest differs"
        puts.append(result.seconds)
        result = runner.files.get(remote, back)
        assert result.sha256 == expected and sha256(back) == expected, "get: digest differs"
        gets.append(result.seconds)
    for path in (remote, back):
        with contextlib.suppress(OSError):
            os.unlink(path)
    path = runner.path  # the direct channel or the terminal's pty
    return {"put": {**median_rate(size, puts), "path": path},
            "get": {**median_rate(size, gets), "path": path}}  # fmt: skip


def ours_small_files(runner: RunnerTerminal, tree: str, workdir: str) -> dict[str, Any]:
    files = sorted(os.listdir(tree))
    destination = os.path.join(workdir, "ours-tree")
    started = time.perf_counter()
    result = runner.files.put_directory(tree, destination)
    directory_s = time.perf_counter() - started
    assert result.files == len(files)
    shutil.rmtree(destination)
    os.mkdir(destination)
    os.chmod(destination, 0o777)
    started = time.perf_counter()
    for name in files:
        runner.files.put(os.path.join(tree, name), destination + "/")
    each_s = time.perf_counter() - started
    assert len(os.listdir(destination)) == len(files)
    shutil.rmtree(destination)
    return {"directory_s": round(directory_s, 3), "each_file_s": round(each_s, 3),
            "files": len(files)}  # fmt: skip


def _read_until(terminal: Any, marker: bytes, timeout: float = 300) -> int:
    """Read the terminal's bytes until ``marker``; how many came."""
    deadline = time.monotonic() + timeout
    count, tail = 0, b""
    while time.monotonic() < deadline:
        data = terminal.read(1 << 18, 1.0)
        count += len(data)
        tail = (tail + data)[-len(marker) - 64 :]
        if marker in tail:
            return count
    raise TimeoutError(f"no {marker!r} within {timeout:g} s")


def _drain(terminal: Any) -> None:
    """Read what still comes (the shell's prompt) until it is quiet."""
    while terminal.read(1 << 16, 0.3):
        pass


def raw_pty(stack: Stack, size: int) -> dict[str, Any]:
    """Bytes through the top shell's pty with nothing of ours in between:
    ``head`` printing ``x``s (from the target), and ``head`` reading them on a
    raw tty (to the target); read and written with the terminal's own calls."""
    terminal = stack.session.terminal
    assert terminal is not None
    terminal.take_buffered()
    terminal.write(f"head -c {size} /dev/zero | tr '\\0' x; echo RPL-'DOWN'-DONE\n".encode())
    started = time.perf_counter()
    got = _read_until(terminal, b"RPL-DOWN-DONE")
    down_s = time.perf_counter() - started
    assert got >= size, f"{got} bytes of {size}"
    _drain(terminal)
    terminal.write(f"s=$(stty -g); stty raw -echo; head -c {size} >/dev/null; stty \"$s\"; "
                   "echo RPL-'UP'-DONE\n".encode())  # fmt: skip
    time.sleep(0.5)  # stty has run
    terminal.take_buffered()
    block = b"x" * (1 << 16)
    started = time.perf_counter()
    sent = 0
    while sent < size:
        part = block[: min(len(block), size - sent)]
        terminal.write(part)
        sent += len(part)
    _read_until(terminal, b"RPL-UP-DONE")
    up_s = time.perf_counter() - started
    _drain(terminal)
    return {"down_mb_per_s": round(size / MB / down_s, 1),
            "up_mb_per_s": round(size / MB / up_s, 1)}  # fmt: skip


def ours_command_output(runner: RunnerTerminal, workdir: str, size: int) -> dict[str, Any]:
    path = os.path.join(workdir, "command-output.bin")
    started = time.perf_counter()
    result = runner.commands.run(f"head -c {size} /dev/zero", stdout=path, text=False)
    seconds = time.perf_counter() - started
    assert result.rc == 0 and os.path.getsize(path) == size
    os.unlink(path)
    return {"value": round(size / MB / seconds, 1), "size_mb": size / MB}


# ---- memory (child process) ----------------------------------------------------------------
def _status_kb(pid: Any, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def _reset_peak(pid: Any) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as refs:
        refs.write("5")


def memory_child(args: argparse.Namespace) -> int:
    """Put and get a ``--memory-mb`` file; peak RSS above idle of this
    process (the controller) and of the agent, each way."""
    size = int(args.memory_mb * MB)
    source = os.path.join(args.workdir, "memory-source.bin")
    block = os.urandom(MB)
    with open(source, "wb") as file:
        for _ in range(size // MB):
            file.write(block)
    stack = Stack(SshShell(args.host, args.user, args.password, port=args.port, timeout=20))
    runner = stack.runner
    out: dict[str, Any] = {"size_mb": size / MB}
    try:
        agent = runner.run_python("os.getpid()")
        remote = os.path.join(args.workdir, "memory-remote.bin")
        back = os.path.join(args.workdir, "memory-back.bin")
        runner.files.put(os.path.join(args.workdir, "warm-up.bin"), remote)  # warm up
        for direction, move in (("put", lambda: runner.files.put(source, remote)),
                                ("get", lambda: runner.files.get(remote, back))):  # fmt: skip
            idle = {"controller": _status_kb("self", "VmRSS"), "agent": _status_kb(agent, "VmRSS")}
            _reset_peak("self")
            _reset_peak(agent)
            started = time.perf_counter()
            result = move()
            seconds = time.perf_counter() - started
            for side, pid in (("controller", "self"), ("agent", agent)):
                peak = _status_kb(pid, "VmHWM")
                out[f"{direction}_{side}_peak_above_idle_mb"] = round((peak - idle[side]) / 1000, 1)
            out[f"{direction}_mb_per_s"] = round(size / MB / seconds, 1)
            assert result.size == size
        for path in (source, remote, back):
            with contextlib.suppress(OSError):
                os.unlink(path)
    finally:
        stack.close()
    print(json.dumps(out), flush=True)
    return 0


def ours_memory(args: argparse.Namespace, target: dict[str, Any], workdir: str) -> dict[str, Any]:
    with open(os.path.join(workdir, "warm-up.bin"), "wb") as file:
        file.write(os.urandom(MB))
    cmd = [sys.executable, os.path.abspath(__file__), "--memory-child",
           "--memory-mb", str(args.memory_mb), "--workdir", workdir,
           "--host", target["host"], "--port", str(target["port"]),
           "--user", target["user"], "--password", target["password"]]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"memory child rc={proc.returncode}: {proc.stderr.strip()[-800:]}")
    return json.loads(lines[-1])


# ---- the other side --------------------------------------------------------------------------
def sshlibrary_side(target: dict[str, Any], source: str, tree: str, workdir: str,
                    reps: int) -> dict[str, dict]:  # fmt: skip
    if not os.path.exists(BENCH_PYTHON):
        return {"*": {"error": f"{BENCH_PYTHON} not found (see bench/README.md)"}}
    cmd = [BENCH_PYTHON, SIDE, "--host", target["host"], "--port", str(target["port"]),
           "--user", target["user"], "--password", target["password"], "--file", source,
           "--tree", tree, "--workdir", workdir, "--reps", str(reps)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    figures: dict[str, dict] = {}
    for line in proc.stdout.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            figures[record.pop("figure")] = record
    if proc.returncode or not figures:
        figures["*"] = {"error": f"side rc={proc.returncode}: {proc.stderr.strip()[-800:]}"}
    return figures


def other(figures: dict[str, dict], name: str) -> Optional[float]:
    record = figures.get(name) or figures.get("*") or {}
    return record.get("value")


def line(figure: str, ours: dict[str, Any], references: dict[str, Optional[float]],
         target: str = "", against: str = "", at_least: float = 1.0,
         **extra: Any) -> None:  # fmt: skip
    record: dict[str, Any] = {"figure": figure, "ours": ours.get("value")}
    if "error" in ours:
        record["ours_error"] = ours["error"]
    record.update(references)
    theirs = references.get(against)
    if against and record["ours"] and theirs:
        record["ratio"] = round(record["ours"] / theirs, 3)
        record["ratio_is"] = f"ours/{against}"
    if target:
        record["target"] = target
        if "ratio" in record:
            record["meets_target"] = record["ratio"] >= at_least
    record.update({f"ours_{k}": v for k, v in ours.items() if k not in ("value", "error")})
    record.update(extra)
    emit(record)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=50, help="file size of put/get")
    parser.add_argument("--reps", type=int, default=3, help="transfers per figure (median)")
    parser.add_argument("--files", type=int, default=1000, help="small files of the tree")
    parser.add_argument("--file-kb", type=float, default=1, help="size of each small file")
    parser.add_argument("--memory-mb", type=float, default=1000, help="0 skips the figure")
    parser.add_argument("--output-mb", type=float, default=100, help="command output to a file")
    parser.add_argument("--no-sshlibrary", action="store_true", help="skip the other side")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--host", "--user", "--password", "--workdir"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(args)

    import sshtarget

    sshtarget.ensure_packages()
    ok, reason = sshtarget.available()
    if not ok:
        log(f"cannot start the SSH target: {reason}")
        return 2
    workdir = tempfile.mkdtemp(prefix="rpl-bench-")
    os.chmod(workdir, 0o777)  # the test users write here
    try:
        with sshtarget.SshTarget() as t:
            return run(args, t, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, t: Any, workdir: str) -> int:
    user, key_user = t.users["password"], t.users["key"]
    target = {"host": t.host, "port": t.port, "user": user.name, "password": user.password}
    size = int(args.size_mb * MB)
    source = os.path.join(workdir, "source.bin")
    with open(source, "wb") as file:
        file.write(os.urandom(size))
    tree = os.path.join(workdir, "tree")
    os.mkdir(tree)
    for n in range(args.files):
        with open(os.path.join(tree, f"f{n:04d}"), "wb") as file:
            file.write(os.urandom(int(args.file_kb * 1000)))
    for path in (source, tree, *[os.path.join(tree, n) for n in os.listdir(tree)]):
        os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
    login = SshShell(t.host, user.name, user.password, port=t.port, timeout=20)

    log(f"ours: {args.size_mb:g} MB put/get through one SSH hop, 1000 files, command output")
    ours: dict[str, dict] = {}
    stack = Stack(login)
    try:
        ours["one_hop"] = guard(lambda: ours_put_get(stack.runner, source, workdir, args.reps))
        ours["files"] = guard(lambda: ours_small_files(stack.runner, tree, workdir))
        ours["output"] = guard(lambda: ours_command_output(stack.runner, workdir,
                                                           int(args.output_mb * MB)))  # fmt: skip
        stack.runner.close()
        ours["raw_pty_one_hop"] = guard(lambda: raw_pty(stack, size))
    finally:
        stack.close()
    log("ours: through ssh -> sudo")
    sudo_stack = Stack(SshShell(t.host, user.name, user.password, port=t.port, timeout=20),
                       SudoShell(password=user.password, timeout=20))  # fmt: skip
    try:
        ours["sudo"] = guard(lambda: ours_put_get(sudo_stack.runner, source, workdir, args.reps))
    finally:
        sudo_stack.close()
    log("ours and the raw pty through a typed ssh hop")
    typed = Stack(SshShell(t.host, key_user.name, port=t.port, key_file=key_user.key_file,
                           timeout=20),
                  SshShell(t.host, user.name, user.password, port=t.port, timeout=20))  # fmt: skip
    try:
        ours["typed"] = guard(lambda: ours_put_get(typed.runner, source, workdir, args.reps))
        typed.runner.close()
        ours["raw_pty"] = guard(lambda: raw_pty(typed, size))
    finally:
        typed.close()
    memory: dict[str, Any] = {"error": "skipped (--memory-mb 0)"}
    if args.memory_mb > 0:
        log(f"ours: memory putting and getting {args.memory_mb:g} MB (child process)")
        memory = guard(lambda: ours_memory(args, target, workdir))

    theirs: dict[str, dict] = {"*": {"error": "skipped (--no-sshlibrary)"}}
    if not args.no_sshlibrary:
        log("SSHLibrary and paramiko SFTP (their own venv)")
        theirs = sshlibrary_side(target, source, tree, workdir, args.reps)

    for direction in ("put", "get"):
        references = {
            "sshlibrary_scp": other(theirs, f"sshlibrary_scp_{direction}_mb_per_s"),
            "sshlibrary_sftp": other(theirs, f"sshlibrary_sftp_{direction}_mb_per_s"),
            "paramiko_sftp": other(theirs, f"paramiko_sftp_{direction}_mb_per_s"),
        }
        for stack_name, what in (("one_hop", "one SSH hop"), ("sudo", "ssh -> sudo -> root")):
            figure = ours[stack_name].get(direction, ours[stack_name])
            pty = ours["raw_pty_one_hop"].get(f"{'up' if direction == 'put' else 'down'}_mb_per_s")
            line(f"{direction}_{stack_name}_mb_per_s", figure, references,
                 target="ours >= sshlibrary_scp", against="sshlibrary_scp",
                 size_mb=args.size_mb, through=what, raw_pty_one_hop=pty)  # fmt: skip
        raw = ours["raw_pty"].get(f"{'up' if direction == 'put' else 'down'}_mb_per_s")
        typed_figure = ours["typed"].get(direction, ours["typed"])
        record = {"raw_pty": raw}
        line(f"{direction}_typed_ssh_hop_mb_per_s", typed_figure, record,
             target="ours >= 0.8 x raw_pty", against="raw_pty", at_least=0.8,
             size_mb=args.size_mb,
             raw_pty_error=ours["raw_pty"].get("error"))  # fmt: skip
    files = ours["files"]
    emit({"figure": "put_directory_1000_files_s", "ours": files.get("directory_s"),
          "ours_each_file_s": files.get("each_file_s"),
          "ratio": (round(files["each_file_s"] / files["directory_s"], 2)
                    if "directory_s" in files else None),
          "ratio_is": "ours one Put File per file / ours Put Directory",
          "target": "ratio >= 3",
          "meets_target": (files["each_file_s"] / files["directory_s"] >= 3
                           if "directory_s" in files else None),
          "sshlibrary_scp": other(theirs, "sshlibrary_scp_put_directory_s"),
          "sshlibrary_sftp": other(theirs, "sshlibrary_sftp_put_directory_s"),
          "paramiko_sftp_each_file": other(theirs, "paramiko_sftp_put_each_file_s"),
          "files": args.files, "file_kb": args.file_kb, "error": files.get("error")})  # fmt: skip
    emit({"figure": "command_output_to_file_mb_per_s", **ours["output"]})
    limit = 64
    emit({"figure": "memory_1gb_peak_above_idle_mb", **memory, "target": f"each < {limit} MB",
          "meets_target": (all(v < limit for k, v in memory.items() if k.endswith("idle_mb"))
                           if "error" not in memory else None)})  # fmt: skip
    if "*" in theirs:
        emit({"figure": "sshlibrary_side", **theirs["*"]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
