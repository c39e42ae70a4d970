"""RemoteProxyLibrary vs crl.interactivesessions 1.3.1, side by side, in one run.

Run on demand (as root: it starts a throw-away sshd with test users)::

    .venv/bin/python bench/bench_runner.py

Prints one JSON line per figure to stdout (progress goes to stderr), e.g.::

    {"figure": "run_python_1plus1_median_ms", "ours": 0.4, "crl": 1.0, "ratio": 0.4,
     "target": "ratio <= 0.2", "meets_target": false, ...}

The crl figures come from ``bench/crl/crl_side.py`` run with ``.venv-crl/bin/python``
(crl and ours cannot share a venv). See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import zlib
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (HERE, ROOT, os.path.join(ROOT, "resources")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from common import (  # noqa: E402
    BLOB_NAME,
    error_text,
    latencies,
    log,
    mb_per_s,
    median_ms,
    ms_stats,
    timed,
)

from RemoteProxyLibrary import InteractiveSession, SshShell  # noqa: E402
from RemoteProxyLibrary.runnerterminal import RunnerTerminal  # noqa: E402

CRL_PYTHON = os.path.join(ROOT, ".venv-crl", "bin", "python")
CRL_SIDE = os.path.join(HERE, "crl", "crl_side.py")
MB = 1_000_000


# ---- our side ------------------------------------------------------------------------


class OurSession:
    """An SSH login (password) with the agent running in the user's python3."""

    def __init__(self, host: str, port: int, user: str, password: str) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.session: Optional[InteractiveSession] = None
        self.runner: Optional[RunnerTerminal] = None
        self.login_s = 0.0
        self.agent_s = 0.0

    def open(self) -> OurSession:
        start = time.perf_counter()
        self.session = InteractiveSession()
        self.session.spawn(SshShell(self.host, self.user, self.password, port=self.port))
        middle = time.perf_counter()
        self.runner = RunnerTerminal()
        self.runner.initialize(self.session)
        end = time.perf_counter()
        self.login_s, self.agent_s = middle - start, end - middle
        return self

    def close(self) -> None:
        try:
            if self.runner is not None:
                self.runner.close()
        finally:
            if self.session is not None:
                self.session.close_terminal()

    def __enter__(self) -> OurSession:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def ours_session_start(target: dict[str, Any], starts: int) -> dict[str, Any]:
    totals, logins, agents = [], [], []
    for _ in range(starts):
        with OurSession(**target) as s:
            assert s.runner is not None
            s.runner.run_python("1")
        totals.append(s.login_s + s.agent_s)
        logins.append(s.login_s)
        agents.append(s.agent_s)
    return {
        "value": median_ms(totals),
        "login_ms": median_ms(logins),
        "agent_ms": median_ms(agents),
        "n": len(totals),
    }


def ours_latency(runner: RunnerTerminal, calls: int, warmup: int) -> dict[str, Any]:
    assert runner.run_python("1+1") == 2
    stats = ms_stats(latencies(lambda: runner.run_python("1+1"), calls, warmup))
    return {"value": stats["median_ms"], **stats}


#: A python3 that echoes what it reads, in a thread, on a raw pty: what the
#: agent is at the least (a pty, a python process, a thread reading it).
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


def raw_ssh_floor(
    target: dict[str, Any], calls: int, warmup: int, python_pty: bool = False
) -> dict[str, Any]:
    """One line echoed over a paramiko channel to the same sshd, read back in
    the calling thread: by ``cat`` without a pty, or (``python_pty``) by a
    python3 on a raw pty, the path every call of ours takes, minus the protocol."""
    import shlex

    import paramiko

    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        target["host"],
        port=target["port"],
        username=target["user"],
        password=target["password"],
        look_for_keys=False,
        allow_agent=False,
    )
    try:
        transport = client.get_transport()
        assert transport is not None
        channel = transport.open_session()
        if python_pty:
            channel.get_pty()
            channel.exec_command("stty raw -echo && exec python3 -c " + shlex.quote(PYTHON_ECHO))
        else:
            channel.exec_command("cat")
        line = b"1+1\n"
        if python_pty:  # typed-ahead input would be echoed by the tty before stty
            ready = b""
            while not ready.endswith(b"ready\n"):
                chunk = channel.recv(4096)
                if not chunk:
                    raise EOFError(f"python3 echo did not start: {ready!r}")
                ready += chunk

        def echo() -> None:
            channel.sendall(line)
            got = b""
            while not got.endswith(b"\n"):
                chunk = channel.recv(4096)
                if not chunk:
                    raise EOFError("the echo program closed the channel")
                got += chunk
            if got != line:
                raise AssertionError(f"echoed {got!r}")

        stats = ms_stats(latencies(echo, calls, warmup))
        channel.close()
    finally:
        client.close()
    return {"value": stats["median_ms"], **stats}


def _transfer(runner: RunnerTerminal, nbytes: int, verify: bool) -> tuple[float, float]:
    runner.run_python(f"{BLOB_NAME} = os.urandom({nbytes})")
    fetch_s, blob = timed(lambda: runner.run_python(BLOB_NAME))
    if not isinstance(blob, bytes) or len(blob) != nbytes:
        raise AssertionError(f"fetched {type(blob).__name__} of {len(blob)} bytes")
    if verify:
        remote = runner.run_python(f"__import__('hashlib').sha256({BLOB_NAME}).hexdigest()")
        if remote != hashlib.sha256(blob).hexdigest():
            raise AssertionError("fetched bytes differ from the remote ones")
    upload_s, size = timed(lambda: runner.run_python_call("len", blob))
    if size != nbytes:
        raise AssertionError(f"uploaded {size} bytes of {nbytes}")
    if verify:
        digest = runner.run_python_call(
            "lambda b: __import__('hashlib').sha256(b).hexdigest()", blob
        )
        if digest != hashlib.sha256(blob).hexdigest():
            raise AssertionError("uploaded bytes arrived changed")
    runner.run_python(f"del {BLOB_NAME}")
    return fetch_s, upload_s


def ours_payload(runner: RunnerTerminal, payload_mb: float, reps: int) -> dict[str, dict[str, Any]]:
    nbytes = int(payload_mb * MB)
    _transfer(runner, MB, verify=True)  # warm-up, as crl_side does its 1 MB first
    runs = [_transfer(runner, nbytes, verify=True) for _ in range(reps)]
    return {
        name: {
            "value": mb_per_s(nbytes, statistics.median(seconds)),
            "payload_mb": payload_mb,
            "runs_mb_per_s": [mb_per_s(nbytes, x) for x in seconds],
        }
        for name, seconds in (
            ("fetch_mb_per_s", [fetch for fetch, _ in runs]),
            ("upload_mb_per_s", [upload for _, upload in runs]),
        )
    }


def ours_round_trips(runner: RunnerTerminal) -> dict[str, dict[str, Any]]:
    runner.import_libraries("io")
    proxy = runner.get_proxy_object_from_call("io.BytesIO", b"abc")
    before = runner.round_trips
    assert proxy.getvalue() == b"abc"
    method = runner.round_trips - before

    before = runner.round_trips
    os_proxy = runner.get_recursive_proxy("os")
    middle = runner.round_trips
    joined = os_proxy.path.join("a", "b")
    assert joined == "a/b", joined
    join = runner.round_trips - middle
    return {
        "round_trips_first_method_call": {
            "value": method,
            "call": "io.BytesIO(b'abc').getvalue()",
        },
        "round_trips_recursive_os_path_join": {
            "value": join,
            "get_recursive_proxy": middle - before,
            "call": "get_recursive_proxy('os') then .path.join('a', 'b') (the join part)",
        },
    }


def ours_fault(runner: RunnerTerminal, rtt_calls: int, join_reps: int) -> dict[str, Any]:
    rtt = latencies(lambda: runner.run_python("1"), rtt_calls, 3)
    joins, trips = [], []
    for _ in range(join_reps):
        os_proxy = runner.get_recursive_proxy("os")
        before = runner.round_trips
        seconds, joined = timed(lambda p=os_proxy: p.path.join("a", "b"))
        assert joined == "a/b", joined
        trips.append(runner.round_trips - before)
        joins.append(seconds)
    rtt_ms, join_ms = median_ms(rtt), median_ms(joins)
    return {
        "value": round(join_ms / rtt_ms, 3),
        "rtt_ms": rtt_ms,
        "join_ms": join_ms,
        "joins_ms": [round(j * 1000, 2) for j in joins],
        "join_round_trips": max(trips),
    }


def bootstrap_sizes() -> dict[str, dict[str, Any]]:
    from RemoteProxyLibrary.runner import bootstrap

    boot = bootstrap.build()
    bundle = zlib.decompress(base64.b64decode(boot.blob))
    return {
        "stage0_bytes": {"value": len(boot.stage0.encode())},
        "agent_blob_bytes": {"value": len(boot.blob), "what": "base64 of zlib(bundle), sent raw"},
        "agent_bundle_uncompressed_bytes": {"value": len(bundle)},
    }


# ---- peak memory (child process) -----------------------------------------------------


def _proc_status_kb(field: str) -> Optional[int]:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_hwm() -> bool:
    """Reset VmHWM (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def memory_child(args: argparse.Namespace) -> int:
    """Fetch ``--memory-mb`` MB once untraced (RSS high-water mark) and once
    under tracemalloc (peak of Python allocations); print one JSON line."""
    target = {"host": args.host, "port": args.port, "user": args.user, "password": args.password}
    nbytes = int(args.memory_mb * MB)
    out: dict[str, Any] = {"payload_mb": args.memory_mb}
    with OurSession(**target) as s:
        runner = s.runner
        assert runner is not None
        runner.import_libraries("os")
        runner.run_python(f"{BLOB_NAME} = os.urandom({nbytes})")
        runner.run_python("_rpl_bench_small = os.urandom(1000000)")
        runner.run_python("_rpl_bench_small")  # warm-up
        gc.collect()

        rss_before = _proc_status_kb("VmRSS")
        hwm_reset = _reset_hwm()
        maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seconds, blob = timed(lambda: runner.run_python(BLOB_NAME))
        assert isinstance(blob, bytes) and len(blob) == nbytes
        hwm_after = _proc_status_kb("VmHWM")
        maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if rss_before is not None and hwm_after is not None:
            out["rss_peak_delta_mb"] = round((hwm_after - rss_before) * 1024 / MB, 1)
            out["rss_method"] = "VmHWM after - VmRSS before" + (
                " (HWM reset)" if hwm_reset else " (HWM not resettable: upper bound)"
            )
        out["maxrss_delta_mb"] = round((maxrss_after - maxrss_before) * 1024 / MB, 1)
        out["fetch_mb_per_s"] = mb_per_s(nbytes, seconds)
        del blob
        gc.collect()

        tracemalloc.start()
        try:
            blob = runner.run_python(BLOB_NAME)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert isinstance(blob, bytes) and len(blob) == nbytes
        out["tracemalloc_peak_mb"] = round(peak / MB, 1)
        del blob
        runner.run_python(f"del {BLOB_NAME}")
    print(json.dumps(out), flush=True)
    return 0


def ours_memory(target: dict[str, Any], memory_mb: float) -> dict[str, Any]:
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--memory-child",
        "--host",
        target["host"],
        "--port",
        str(target["port"]),
        "--user",
        target["user"],
        "--password",
        target["password"],
        "--memory-mb",
        str(memory_mb),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"memory child rc={proc.returncode}: {proc.stderr.strip()[-800:]}")
    return json.loads(lines[-1])


# ---- crl side (other venv) -----------------------------------------------------------


def run_crl_side(target: dict[str, Any], extra: list[str], timeout: float) -> dict[str, dict]:
    """Run crl_side.py in the crl venv; its figures by name (errors included)."""
    if not os.path.exists(CRL_PYTHON):
        return {"*": {"error": f"{CRL_PYTHON} not found"}}
    cmd = [
        CRL_PYTHON,
        CRL_SIDE,
        "--host",
        target["host"],
        "--port",
        str(target["port"]),
        "--user",
        target["user"],
        "--password",
        target["password"],
        *extra,
    ]
    figures: dict[str, dict] = {}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        stdout, stderr, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as error:
        stdout = error.stdout.decode() if isinstance(error.stdout, bytes) else error.stdout or ""
        stderr, rc = f"crl_side timed out after {timeout:g} s", -1
    for line in stdout.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            figures[record.pop("figure")] = record
    if rc != 0 or not figures:
        figures.setdefault("*", {"error": f"crl_side rc={rc}: {stderr.strip()[-800:]}"})
    return figures


# ---- report --------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def add(
        self,
        figure: str,
        ours: Any,
        crl: Any = None,
        *,
        target: str = "",
        check: Optional[Callable[[Any, Any], Optional[bool]]] = None,
        ratio: Optional[str] = "ours/crl",
        **extra: Any,
    ) -> None:
        """One figure; ``ours``/``crl`` are records with ``value`` or ``error``."""
        line: dict[str, Any] = {"figure": figure}
        ours_value = _value(ours, line, "ours")
        crl_value = _value(crl, line, "crl") if crl is not None else None
        if crl is None:
            line["crl"] = None
        if ratio and isinstance(ours_value, (int, float)) and isinstance(crl_value, (int, float)):
            line["ratio"] = round(ours_value / crl_value, 4) if crl_value else None
            line["ratio_is"] = ratio
        line["target"] = target
        if check is not None and ours_value is not None:
            try:
                met = check(ours_value, line.get("ratio"))
                line["meets_target"] = None if met is None else bool(met)
            except TypeError:
                line["meets_target"] = None
        for side, record in (("ours", ours), ("crl", crl)):
            for key, value in (record or {}).items():
                if key not in ("value", "error", "side", "median_ms"):
                    line[f"{side}_{key}"] = value
        line.update(
            (key, value)
            for key, value in extra.items()
            if value is not None or not key.endswith("_error")
        )
        self.lines.append(line)
        print(json.dumps(line), flush=True)


def _value(record: Optional[dict[str, Any]], line: dict[str, Any], side: str) -> Any:
    if record is None:
        line[side] = None
        return None
    if "error" in record:
        line[side] = None
        line[f"{side}_error"] = record["error"]
        return None
    line[side] = record.get("value")
    return line[side]


def _guard(fn: Callable[[], Any]) -> Any:
    """fn() or {"error": ...} (for single-figure records)."""
    try:
        return fn()
    except Exception as error:
        log(f"failed: {error_text(error)}")
        return {"error": error_text(error)}


def _crl(figures: dict[str, dict], name: str) -> dict[str, Any]:
    if name in figures:
        return figures[name]
    if "*" in figures:
        return figures["*"]
    return {"error": "crl_side did not report this figure"}


def _ratio(ours: dict[str, Any], crl: dict[str, dict], name: str) -> Optional[float]:
    """ours/crl of one figure's values, or None when either side is missing."""
    theirs = _crl(crl, name).get("value")
    mine = ours.get("value")
    if not mine or not theirs:
        return None
    return round(mine / theirs, 3)


# ---- main ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="run_python('1+1') calls")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--starts", type=int, default=5, help="session starts per side")
    parser.add_argument("--payload-mb", type=float, default=10)
    parser.add_argument("--transfers", type=int, default=3, help="payload transfers per side")
    parser.add_argument("--memory-mb", type=float, default=100)
    parser.add_argument("--delay-ms", type=float, default=10, help="fault proxy, each way")
    parser.add_argument("--no-crl", action="store_true", help="skip the crl side")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--host", "--user", "--password"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(args)

    import sshtarget
    from faultproxy import FaultProxy

    ok, reason = sshtarget.available()
    if not ok:
        sshtarget.ensure_packages()
        ok, reason = sshtarget.available()
    if not ok:
        log(f"cannot start the SSH target: {reason}")
        return 2

    started = time.perf_counter()
    report = Report()
    with sshtarget.SshTarget() as t:
        user = t.users["password"]
        assert user.password is not None
        target = {"host": t.host, "port": t.port, "user": user.name, "password": user.password}
        log(f"target {t.host}:{t.port} user {user.name}")

        sizes = bootstrap_sizes()

        log("ours: session start")
        ours_start = _guard(lambda: ours_session_start(target, args.starts))
        ours: dict[str, Any] = {}
        log("ours: latency, payload, round trips")
        try:
            with OurSession(**target) as s:
                runner = s.runner
                assert runner is not None
                runner.import_libraries("os")
                ours["latency"] = _guard(lambda: ours_latency(runner, args.calls, args.warmup))
                ours["payload"] = _guard(
                    lambda: ours_payload(runner, args.payload_mb, args.transfers)
                )
                ours["round_trips"] = _guard(lambda: ours_round_trips(runner))
        except Exception as error:
            log(f"ours: session failed: {error_text(error)}")
            for key in ("latency", "payload", "round_trips"):
                ours.setdefault(key, {"error": error_text(error)})
        log("raw paramiko floor")
        floor = _guard(lambda: raw_ssh_floor(target, args.calls, args.warmup))
        log("python3 echo on a pty floor")
        python_floor = _guard(
            lambda: raw_ssh_floor(target, args.calls, args.warmup, python_pty=True)
        )
        log(f"ours: peak memory fetching {args.memory_mb:g} MB (child process)")
        memory = _guard(lambda: ours_memory(target, args.memory_mb))

        crl: dict[str, dict] = {"*": {"error": "skipped (--no-crl)"}}
        if not args.no_crl:
            log("crl side (its own venv)")
            crl = run_crl_side(
                target,
                [
                    f"--calls={args.calls}",
                    f"--warmup={args.warmup}",
                    f"--starts={args.starts}",
                    f"--payload-mb={args.payload_mb}",
                    f"--transfers={args.transfers}",
                ],
                timeout=240,
            )

        log("ours: latency and floor again (drift check)")

        def latency_again() -> dict[str, Any]:
            with OurSession(**target) as s:
                assert s.runner is not None
                return ours_latency(s.runner, args.calls, args.warmup)

        again = _guard(latency_again)
        floor_again = _guard(lambda: raw_ssh_floor(target, args.calls, args.warmup))

        log(f"fault proxy: {args.delay_ms:g} ms each way")
        delay = args.delay_ms / 1000
        ours_fault_figure: dict[str, Any] = {"error": "fault proxy did not start"}
        crl_fault: dict[str, dict] = {"*": {"error": "skipped (--no-crl)"}}
        proxy = FaultProxy(t.host, t.port).start()
        try:
            proxy.set_delay(delay, delay)
            via_proxy = dict(target, port=proxy.port)

            def fault() -> dict[str, Any]:
                with OurSession(**via_proxy) as s:
                    assert s.runner is not None
                    s.runner.import_libraries("os")
                    return ours_fault(s.runner, rtt_calls=20, join_reps=7)

            ours_fault_figure = _guard(fault)
            if not args.no_crl:
                crl_fault = run_crl_side(via_proxy, ["--fault"], timeout=120)
        finally:
            proxy.stop()

    # ---- figures, side by side ----
    def part(record: dict[str, Any], key: str) -> dict[str, Any]:
        return record if "error" in record else record[key]

    report.add(
        "run_python_1plus1_median_ms",
        ours.get("latency"),
        _crl(crl, "run_python_1plus1_median_ms"),
        target="ratio <= 0.2",
        check=lambda v, r: None if r is None else r <= 0.2,
        floor_raw_ssh_echo_ms=floor.get("value"),
        floor_error=floor.get("error"),
        ours_again_ms=again.get("value"),
        floor_again_ms=floor_again.get("value"),
        floor_python_pty_echo_ms=python_floor.get("value"),
        floor_python_pty_error=python_floor.get("error"),
        floor_python_pty_over_crl=_ratio(python_floor, crl, "run_python_1plus1_median_ms"),
        ours_over_floor=(
            round(ours["latency"]["value"] / floor["value"], 2)
            if "value" in floor and "value" in ours.get("latency", {})
            else None
        ),
    )
    report.add(
        "fetch_mb_per_s",
        part(ours["payload"], "fetch_mb_per_s"),
        _crl(crl, "fetch_mb_per_s"),
        target="ours >= 60 MB/s",
        check=lambda v, r: v >= 60,
        ratio="ours/crl (higher is better)",
    )
    report.add(
        "upload_mb_per_s",
        part(ours["payload"], "upload_mb_per_s"),
        _crl(crl, "upload_mb_per_s"),
        target="ours >= 40 MB/s",
        check=lambda v, r: v >= 40,
        ratio="ours/crl (higher is better)",
    )
    report.add(
        "session_start_median_ms",
        ours_start,
        _crl(crl, "session_start_median_ms"),
        target="ratio <= 0.333",
        check=lambda v, r: None if r is None else r <= 1 / 3,
    )
    mem_ok = "error" not in memory
    payload_mb = args.memory_mb
    report.add(
        f"fetch_{payload_mb:g}mb_tracemalloc_peak_mb",
        {"value": memory["tracemalloc_peak_mb"]} if mem_ok else memory,
        None,
        target=f"<= {3 * payload_mb:g} MB (3x payload)",
        check=lambda v, r: v <= 3 * payload_mb,
        payload_mb=payload_mb,
        x_payload=round(memory["tracemalloc_peak_mb"] / payload_mb, 2) if mem_ok else None,
    )
    report.add(
        f"fetch_{payload_mb:g}mb_rss_peak_delta_mb",
        {"value": memory.get("rss_peak_delta_mb", memory.get("maxrss_delta_mb"))}
        if mem_ok
        else memory,
        None,
        target=f"<= {3 * payload_mb:g} MB (3x payload)",
        check=lambda v, r: v <= 3 * payload_mb,
        payload_mb=payload_mb,
        method=memory.get("rss_method", "ru_maxrss delta"),
        maxrss_delta_mb=memory.get("maxrss_delta_mb"),
        child_fetch_mb_per_s=memory.get("fetch_mb_per_s"),
    )
    report.add("stage0_bytes", sizes["stage0_bytes"], None)
    report.add(
        "agent_blob_bytes",
        sizes["agent_blob_bytes"],
        _crl(crl, "bootstrap_typed_bytes"),
        ratio="ours/crl (crl: bytes typed to set up its server and RunnerHandler)",
    )
    report.add("agent_bundle_uncompressed_bytes", sizes["agent_bundle_uncompressed_bytes"], None)
    report.add(
        "round_trips_first_method_call",
        part(ours["round_trips"], "round_trips_first_method_call"),
        _crl(crl, "round_trips_first_method_call"),
        target="ours 1",
        check=lambda v, r: v <= 1,
    )
    report.add(
        "round_trips_recursive_os_path_join",
        part(ours["round_trips"], "round_trips_recursive_os_path_join"),
        _crl(crl, "round_trips_recursive_os_path_join"),
        target="ours 2",
        check=lambda v, r: v <= 2,
    )
    report.add(
        "faultproxy_join_rtts",
        ours_fault_figure,
        _crl(crl_fault, "faultproxy_join_rtts"),
        target="ours <= 2 RTTs (meets_target allows +5% timing noise)",
        check=lambda v, r: v <= 2 * 1.05,
        delay_ms_each_way=args.delay_ms,
    )
    log(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
