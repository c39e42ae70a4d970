"""SSHLibrary's and paramiko SFTP's side of bench/bench_transfers.py.

Run with the bench's own virtual environment (never the project's)::

    python3 -m venv .venv-bench
    .venv-bench/bin/pip install robotframework-sshlibrary    # brings paramiko and scp
    .venv-bench/bin/python bench/sshlibrary/sshlibrary_side.py --host H --port P \\
        --user U --password PW --file F --tree D --workdir W

Prints one JSON line per figure (``{"figure": ..., "value": ...}``); progress
on stderr. Every transfer is checked by SHA-256 (trees: file count and sizes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import time
import traceback
from typing import Any, Callable

MB = 1_000_000


def emit(figure: str, **record: Any) -> None:
    sys.stdout.write(json.dumps({"figure": figure, **record}) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    sys.stderr.write(f"[sshlibrary side {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def rate(size: int, seconds: list[float]) -> dict[str, Any]:
    return {"value": round(size / MB / statistics.median(seconds), 1),
            "runs_mb_per_s": [round(size / MB / s, 1) for s in seconds]}  # fmt: skip


def guarded(figure: str, function: Callable[[], dict[str, Any]]) -> None:
    try:
        emit(figure, **function())
    except Exception as error:
        log(traceback.format_exc())
        emit(figure, error=f"{type(error).__name__}: {error}"[:500])


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("--host", "--user", "--password", "--file", "--tree", "--workdir"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()

    import paramiko
    from SSHLibrary import SSHLibrary

    size = os.path.getsize(args.file)
    expected = sha256(args.file)
    remote = os.path.join(args.workdir, "sshlib-remote.bin")
    back = os.path.join(args.workdir, "sshlib-back.bin")

    library = SSHLibrary(timeout="10 min")
    library.open_connection(args.host, port=args.port)
    library.login(args.user, args.password)

    def check(path: str) -> None:
        if sha256(path) != expected:
            raise AssertionError(f"{path} differs from the source")

    for mode, name in (("ALL", "scp"), ("OFF", "sftp")):
        log(f"SSHLibrary {name}: put and get {size / MB:g} MB x {args.reps}")

        def put(mode: str = mode) -> dict[str, Any]:
            runs = [timed(lambda: library.put_file(args.file, remote, scp=mode))
                    for _ in range(args.reps)]  # fmt: skip
            check(remote)
            return rate(size, runs)

        def get(mode: str = mode) -> dict[str, Any]:
            runs = [timed(lambda: library.get_file(remote, back, scp=mode))
                    for _ in range(args.reps)]  # fmt: skip
            check(back)
            return rate(size, runs)

        guarded(f"sshlibrary_{name}_put_mb_per_s", put)
        guarded(f"sshlibrary_{name}_get_mb_per_s", get)

    files = sorted(os.listdir(args.tree))
    for mode, name in (("ALL", "scp"), ("OFF", "sftp")):
        log(f"SSHLibrary {name}: Put Directory of {len(files)} files")

        def put_tree(mode: str = mode, name: str = name) -> dict[str, Any]:
            destination = os.path.join(args.workdir, f"sshlib-tree-{name}")
            seconds = timed(lambda: library.put_directory(args.tree, destination, scp=mode))
            copied = os.listdir(destination)
            if len(copied) != len(files):
                raise AssertionError(f"{len(copied)} files copied of {len(files)}")
            shutil.rmtree(destination, ignore_errors=True)
            return {"value": round(seconds, 3), "files": len(files)}

        guarded(f"sshlibrary_{name}_put_directory_s", put_tree)
    library.close_all_connections()

    log("paramiko SFTP")
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(args.host, port=args.port, username=args.user, password=args.password,
                   look_for_keys=False, allow_agent=False)  # fmt: skip
    sftp = client.open_sftp()

    def sftp_put() -> dict[str, Any]:
        runs = [timed(lambda: sftp.put(args.file, remote)) for _ in range(args.reps)]
        check(remote)
        return rate(size, runs)

    def sftp_get() -> dict[str, Any]:
        runs = [timed(lambda: sftp.get(remote, back)) for _ in range(args.reps)]
        check(back)
        return rate(size, runs)

    def sftp_files() -> dict[str, Any]:
        destination = os.path.join(args.workdir, "sftp-files")
        sftp.mkdir(destination)

        def each() -> None:
            for name in files:
                sftp.put(os.path.join(args.tree, name), f"{destination}/{name}")

        seconds = timed(each)
        shutil.rmtree(destination, ignore_errors=True)
        return {"value": round(seconds, 3), "files": len(files)}

    guarded("paramiko_sftp_put_mb_per_s", sftp_put)
    guarded("paramiko_sftp_get_mb_per_s", sftp_get)
    guarded("paramiko_sftp_put_each_file_s", sftp_files)
    client.close()
    for path in (remote, back):
        if os.path.exists(path):
            os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
