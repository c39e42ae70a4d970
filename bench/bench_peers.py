"""Ours (direct channel and pty path) against execnet, RPyC and mitogen and
against the floors of the link, on one throwaway sshd, in one run.

Run on demand, as root (it starts the sshd and its test users)::

    python3 -m venv .venv-bench && .venv-bench/bin/pip install execnet rpyc mitogen
    .venv-test/bin/python bench/bench_peers.py                 # ~4 min
    .venv-test/bin/python bench/bench_peers.py --rounds 1 --no-peers

Every side is measured ``--rounds`` times, in interleaved rounds (the order
turns each round), and each figure is the median of its rounds. Per figure
one JSON line on stdout: ours on each path, the best peer, the floor, the
ratios against both and whether the issue's target is met. The peers run in
their own environment (``bench/peers/peers_side.py`` with ``.venv-bench``),
log in with the system ``ssh`` and a key; ours logs in with paramiko and the
same key. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (HERE, ROOT, os.path.join(ROOT, "resources")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from common import BLOB_NAME, error_text, latencies, log, mb_per_s, ms_stats  # noqa: E402

from RemoteProxyLibrary import InteractiveSession, SshShell  # noqa: E402
from RemoteProxyLibrary.runnerterminal import RunnerTerminal  # noqa: E402

BENCH_PYTHON = os.path.join(ROOT, ".venv-bench", "bin", "python")
SIDE = os.path.join(HERE, "peers", "peers_side.py")
PEERS = ("execnet", "rpyc", "mitogen")
MB = 1_000_000

#: A python3 that echoes what it reads on a raw pty, in a thread.
PYTHON_ECHO = """import os, threading
os.write(1, b"ready\\n")
def echo():
    while True:
        data = os.read(0, 65536)
        if not data:
            break
        os.write(1, data)
thread = threading.Thread(target=echo)
thread.start()
thread.join()
"""


# ---- ours ----------------------------------------------------------------------------
def ours(target: dict[str, Any], direct: str, args: argparse.Namespace) -> dict[str, Any]:
    """Our figures on one path (``direct`` on or off), one SSH login."""
    started = time.perf_counter()
    session = InteractiveSession()
    session.spawn(SshShell(target["host"], target["user"], port=target["port"],
                           key_file=target["key_file"]))  # fmt: skip
    runner = RunnerTerminal(direct=direct)
    try:
        runner.initialize(session)
        out: dict[str, Any] = {"path": runner.path}
        out["session_start_ms"] = round((time.perf_counter() - started) * 1000, 1)
        assert runner.run_python("1+1") == 2
        stats = ms_stats(latencies(lambda: runner.run_python("1+1"), args.calls, args.warmup))
        out["call_median_ms"] = stats["median_ms"]
        nbytes = int(args.payload_mb * MB)
        runner.run_python(f"globals().__setitem__({BLOB_NAME!r}, os.urandom({nbytes}))")
        fetches, uploads = [], []
        for _ in range(args.transfers + 1):  # the first one warms up
            begin = time.perf_counter()
            blob = runner.run_python(BLOB_NAME)
            fetches.append(time.perf_counter() - begin)
            assert isinstance(blob, bytes) and len(blob) == nbytes
            begin = time.perf_counter()
            assert runner.run_python_call("len", blob) == nbytes
            uploads.append(time.perf_counter() - begin)
        out["fetch_mb_per_s"] = statistics.median(mb_per_s(nbytes, x) for x in fetches[1:])
        out["upload_mb_per_s"] = statistics.median(mb_per_s(nbytes, x) for x in uploads[1:])
        out["threads_calls_per_s"] = threaded(
            [lambda: runner.run_python("1+1")] * args.threads, args.thread_calls
        )
        return out
    finally:
        runner.close()
        session.close_terminal()


def threaded(callers: list[Callable[[], Any]], calls: int) -> int:
    """Calls per second of ``calls`` calls in each of ``callers``' threads."""

    def work(caller: Callable[[], Any]) -> None:
        for _ in range(calls):
            caller()

    threads = [threading.Thread(target=work, args=(c,)) for c in callers]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return round(len(callers) * calls / (time.perf_counter() - begin))


# ---- floors --------------------------------------------------------------------------
def _client(target: dict[str, Any]) -> Any:
    import paramiko

    from RemoteProxyLibrary.terminal.sshconnect import MAX_PACKET_SIZE, WINDOW_SIZE

    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(target["host"], port=target["port"], username=target["user"],
                   key_filename=target["key_file"], look_for_keys=False,
                   allow_agent=False)  # fmt: skip
    transport = client.get_transport()

    def channel() -> Any:
        return transport.open_session(window_size=WINDOW_SIZE, max_packet_size=MAX_PACKET_SIZE)

    return client, channel


def _echo(channel: Any, line: bytes = b"1+1\n") -> Callable[[], None]:
    def echo() -> None:
        channel.sendall(line)
        got = b""
        while not got.endswith(b"\n"):
            chunk = channel.recv(4096)
            if not chunk:
                raise EOFError("the echo program closed the channel")
            got += chunk

    return echo


def _read_exactly(channel: Any, size: int) -> None:
    got = 0
    while got < size:
        chunk = channel.recv(1 << 20)
        if not chunk:
            raise EOFError(f"{got} bytes of {size}")
        got += len(chunk)


def floors(target: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The link without any agent, over paramiko (our transport): an exec
    channel running ``cat`` (no pty) and a python3 echoing on a raw pty;
    ``head`` through an exec channel and through a raw pty for bulk."""
    client, channel = _client(target)
    out: dict[str, Any] = {}
    try:
        cat = channel()
        cat.exec_command("cat")
        out["exec_echo_ms"] = ms_stats(latencies(_echo(cat), args.calls, args.warmup))["median_ms"]
        cats = []
        for _ in range(args.threads):
            other = channel()
            other.exec_command("cat")
            cats.append(_echo(other))
        out["exec_8_calls_per_s"] = threaded(cats, args.thread_calls)
        pty = channel()
        pty.get_pty()
        pty.exec_command("stty raw -echo && exec python3 -c " + shlex.quote(PYTHON_ECHO))
        ready = b""
        while not ready.endswith(b"ready\n"):
            ready += pty.recv(4096)
        out["pty_echo_ms"] = ms_stats(latencies(_echo(pty), args.calls, args.warmup))["median_ms"]
        nbytes = int(args.payload_mb * MB)
        for name, command, direction, use_pty in (
            ("exec_fetch_mb_per_s", f"head -c {nbytes} /dev/zero", "down", False),
            ("exec_upload_mb_per_s", f"head -c {nbytes} >/dev/null; echo done", "up", False),
            ("pty_fetch_mb_per_s", f"stty raw -echo; head -c {nbytes} /dev/zero", "down", True),
            ("pty_upload_mb_per_s",
             f"stty raw -echo; head -c {nbytes} >/dev/null; echo done", "up", True),
        ):  # fmt: skip
            rates = []
            for _ in range(args.transfers):
                bulk = channel()
                if use_pty:
                    bulk.get_pty()
                begin = time.perf_counter()
                bulk.exec_command(command)
                if use_pty and direction == "up":
                    time.sleep(0.2)  # stty has run
                    begin = time.perf_counter()
                if direction == "down":
                    _read_exactly(bulk, nbytes)
                else:
                    block = b"x" * (1 << 16)
                    for start in range(0, nbytes, len(block)):
                        bulk.sendall(block[: nbytes - start])
                    while b"done" not in bulk.recv(4096):
                        pass
                rates.append(mb_per_s(nbytes, time.perf_counter() - begin))
                bulk.close()
            out[name] = statistics.median(rates)
        return out
    finally:
        client.close()


# ---- peers ---------------------------------------------------------------------------
def peer(name: str, ssh_config: str, args: argparse.Namespace) -> dict[str, Any]:
    """A peer's figures, measured by peers_side.py in the bench's environment."""
    command = [BENCH_PYTHON, SIDE, "--peer", name, "--host", "target",
               "--ssh-config", ssh_config, f"--calls={args.calls}", f"--warmup={args.warmup}",
               f"--payload-mb={args.payload_mb}", f"--transfers={args.transfers}",
               f"--threads={args.threads}", f"--thread-calls={args.thread_calls}"]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    out: dict[str, Any] = {}
    for line in proc.stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record["figure"] == "error":
            out["error"] = record["error"]
        else:
            out[record["figure"]] = record["value"]
    if proc.returncode and "error" not in out:
        out["error"] = f"rc={proc.returncode}: {proc.stderr.strip()[-500:]}"
    return out


# ---- report --------------------------------------------------------------------------
FIGURES = (
    # figure, better, floor on the direct path, floor on the pty path
    ("call_median_ms", "lower", "exec_echo_ms", "pty_echo_ms"),
    ("fetch_mb_per_s", "higher", "exec_fetch_mb_per_s", "pty_fetch_mb_per_s"),
    ("upload_mb_per_s", "higher", "exec_upload_mb_per_s", "pty_upload_mb_per_s"),
    ("threads_calls_per_s", "higher", "exec_8_calls_per_s", "exec_8_calls_per_s"),
    ("session_start_ms", "lower", None, None),
)


def _median(rounds: list[dict[str, Any]], key: str) -> Optional[float]:
    values = [r[key] for r in rounds if isinstance(r.get(key), (int, float))]
    return round(statistics.median(values), 4) if values else None


def target_met(figure: str, path: str, ours: float, peer: Optional[float],
               floor: Optional[float]) -> Optional[bool]:  # fmt: skip
    """The issue's targets, per figure and path."""
    if figure == "call_median_ms":
        if path == "direct":
            return None if peer is None or floor is None else ours <= peer and ours <= 1.3 * floor
        return None if floor is None else ours <= 1.3 * floor
    if figure in ("fetch_mb_per_s", "upload_mb_per_s"):
        if path == "direct":
            return None if peer is None else ours >= peer
        return None if floor is None else ours >= 0.8 * floor
    if figure == "threads_calls_per_s":
        return None if peer is None else ours >= peer
    return None


TARGETS = {
    "call_median_ms": "direct: <= best peer and <= 1.3 x exec_echo; pty: <= 1.3 x pty_echo",
    "fetch_mb_per_s": "direct: >= execnet (best peer); pty: >= 0.8 x raw pty",
    "upload_mb_per_s": "direct: >= execnet (best peer); pty: >= 0.8 x raw pty",
    "threads_calls_per_s": ">= execnet (best peer)",
    "session_start_ms": "",
}


def report(results: dict[str, list[dict[str, Any]]]) -> None:
    floor_rounds = results.get("floors", [])
    for figure, better, direct_floor, pty_floor in FIGURES:
        peers = {name: _median(results.get(name, []), figure) for name in PEERS}
        peers = {k: v for k, v in peers.items() if v is not None}
        best = None
        if peers:
            pick = min if better == "lower" else max
            best = pick(peers, key=lambda k: peers[k])
        for path, floor_key in (("direct", direct_floor), ("pty", pty_floor)):
            rounds = results.get(f"ours_{path}", [])
            value = _median(rounds, figure)
            paths = sorted({r.get("path") for r in rounds if r.get("path")})
            floor = _median(floor_rounds, floor_key) if floor_key else None
            peer_value = peers.get(best) if best else None
            line: dict[str, Any] = {
                "figure": figure, "path": path, "path_used": paths, "ours": value,
                "best_peer": best, "best_peer_value": peer_value, "floor": floor_key,
                "floor_value": floor, "peers": peers, "better": better,
            }  # fmt: skip
            if value is not None and peer_value:
                line["ours_over_peer"] = round(value / peer_value, 3)
            if value is not None and floor:
                line["ours_over_floor"] = round(value / floor, 3)
            if value is not None:
                line["target"] = TARGETS[figure]
                line["meets_target"] = target_met(figure, path, value, peer_value, floor)
            line["rounds"] = [r.get(figure) for r in rounds]
            print(json.dumps(line), flush=True)
    errors = {side: [r["error"] for r in rounds if "error" in r]
              for side, rounds in results.items()}  # fmt: skip
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        print(json.dumps({"figure": "errors", "errors": errors}), flush=True)


def guarded(function: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return function()
    except Exception as error:
        log(f"failed: {error_text(error)}")
        return {"error": error_text(error)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--payload-mb", type=float, default=10)
    parser.add_argument("--transfers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--thread-calls", type=int, default=1000)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--peers", default=",".join(PEERS))
    args = parser.parse_args()

    import sshtarget

    ok, reason = sshtarget.available()
    if not ok:
        sshtarget.ensure_packages()
        ok, reason = sshtarget.available()
    if not ok:
        log(f"cannot start the SSH target: {reason}")
        return 2
    peers = [] if args.no_peers else [p for p in args.peers.split(",") if p]
    if peers and not os.path.exists(BENCH_PYTHON):
        log(f"{BENCH_PYTHON} not found: peers skipped (see the module doc)")
        peers = []
    started = time.perf_counter()
    with sshtarget.SshTarget() as t, tempfile.TemporaryDirectory() as workdir:
        user = t.users["password"]
        target = {"host": t.host, "port": t.port, "user": user.name, "key_file": user.key_file}
        ssh_config = os.path.join(workdir, "ssh_config")
        with open(ssh_config, "w") as config:
            config.write(
                f"Host target\n  HostName {t.host}\n  Port {t.port}\n  User {user.name}\n"
                f"  IdentityFile {user.key_file}\n  IdentitiesOnly yes\n"
                "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
            )
        sides: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("ours_direct", lambda: ours(target, "on", args)),
            ("ours_pty", lambda: ours(target, "off", args)),
            ("floors", lambda: floors(target, args)),
        ]
        for name in peers:
            sides.append((name, lambda name=name: peer(name, ssh_config, args)))
        results: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sides}
        for number in range(args.rounds):
            turn = number % len(sides)
            for name, measure in sides[turn:] + sides[:turn]:
                log(f"round {number + 1}: {name}")
                results[name].append(guarded(measure))
    report(results)
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
