"""Recovery time per fault kind: RemoteProxyLibrary vs crl.interactivesessions 1.3.1.

Run on demand (as root: it starts a throw-away sshd with test users)::

    .venv/bin/python bench/bench_recovery.py            # ~7.5 min; JSON lines on stdout
    .venv/bin/python bench/bench_recovery.py --no-crl   # our side only

Prints one JSON line per fault::

    {"figure": "recovery_s_kill_sshd", "ours": 0.4, "crl": 7.1, "crl_error": null,
     "ratio": 0.06, "detection_budget_s": 5.0, ...}

Recovery time = from injecting the fault to the first call that returns the right
value. The call is made right after the injection; retries the library does
inside the call count, and when the call raises it is made again (0.1 s later)
until it succeeds or a cap passes (``null`` + the error then). Each measurement
runs in a child process of its own (``--child`` here for ours,
``crl/crl_recovery_side.py`` in ``.venv-crl`` for crl; both use the same measuring
loop, ``common.serve``), which is killed at the cap so a call that
hangs cannot block the bench. See bench/README.md for the faults.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (HERE, ROOT, os.path.join(ROOT, "resources")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from common import emit, error_text, log, serve  # noqa: E402

CRL_PYTHON = os.path.join(ROOT, ".venv-crl", "bin", "python")
CRL_SIDE = os.path.join(HERE, "crl", "crl_recovery_side.py")
#: Seconds the parent waits beyond a child's cap before killing it (a call
#: that hangs past the cap never returns to the child's loop).
KILL_GRACE = 3.0


# ---- our side (child process) ---------------------------------------------------------


def ours_child(args: argparse.Namespace) -> int:
    """Open our AutoRunnerTerminal, then the measuring protocol (see serve())."""
    from RemoteProxyLibrary import SshShell
    from RemoteProxyLibrary.recovery.autorunnerterminal import AutoRunnerTerminal

    runner = AutoRunnerTerminal(prompt_timeout=10)
    os_proxy = runner.create_empty_recursive_proxy()

    def prepare() -> None:
        if args.mode == "proxy":
            os_proxy.set_from_remote_proxy(runner.get_recursive_proxy("os"))

    def open_session() -> dict[str, Any]:
        shell = SshShell(args.host, args.user, args.password, port=args.port)
        runner.initialize_with_shells([shell], prepare=prepare, sleep_between_tries=0.5)
        assert runner.run_python("1+1") == 2
        pid = runner.run_python('__import__("os").getpid()')
        if args.mode == "proxy" and os_proxy.getpid() != pid:
            raise AssertionError("os proxy and run_python see different processes")
        budget = runner.liveness_interval + runner.liveness_timeout
        return {"python_pid": pid, "detection_budget_s": budget}

    if args.mode == "proxy":

        def call() -> Any:
            return os_proxy.getpid()

        def check(value: Any) -> bool:
            return isinstance(value, int) and value > 0
    else:

        def call() -> Any:
            return runner.run_python("1+1")

        def check(value: Any) -> bool:
            return value == 2

    return serve(open_session, call, check, args.cap, runner.close)


# ---- fault proxy that blackholes only the connections open at the time -----------------

_CONNECTION_NO: contextvars.ContextVar[int] = contextvars.ContextVar("connection_no", default=0)


def _existing_only_proxy_class() -> type:
    from faultproxy import FaultProxy

    class ExistingOnlyFaultProxy(FaultProxy):
        """FaultProxy whose :meth:`blackhole_existing` swallows the traffic of
        the connections open now and lets later ones through (a dead link
        while a reconnection would work). Leans on two internals of
        FaultProxy: ``_handle`` runs once per connection (its tasks inherit
        the context variable set here) and ``_blackholed`` is asked per chunk.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._numbered = 0
            self._holed_below = 0

        async def _handle(self, reader: Any, writer: Any) -> None:
            with self._lock:
                self._numbered += 1
                number = self._numbered
            _CONNECTION_NO.set(number)
            await super()._handle(reader, writer)

        def blackhole_existing(self, on: bool = True) -> None:
            with self._lock:
                self._holed_below = self._numbered + 1 if on else 0

        def _blackholed(self) -> bool:
            number = _CONNECTION_NO.get()
            with self._lock:
                return self._blackhole or 0 < number < self._holed_below

    return ExistingOnlyFaultProxy


# ---- faults --------------------------------------------------------------------------


@dataclass
class Context:
    target: Any  # SshTarget
    proxy: Any  # ExistingOnlyFaultProxy
    user: Any  # SshUser
    python_pid: int = 0


def _kill(pids: list[int], sig: int = signal.SIGKILL) -> list[int]:
    done = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
            done.append(pid)
    return done


def _kill_session_sshd(ctx: Context) -> dict[str, Any]:
    pids = ctx.target.session_pids(ctx.user.name)
    if not pids:
        raise RuntimeError("no sshd process serves the session")
    return {"killed_pids": _kill(pids)}


def _kill_python(ctx: Context) -> dict[str, Any]:
    return {"killed_pids": _kill([ctx.python_pid])}


def _stop_python(ctx: Context) -> dict[str, Any]:
    return {"stopped_pids": _kill([ctx.python_pid], signal.SIGSTOP)}


def _parent_pid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _stop_python_and_shell(ctx: Context) -> dict[str, Any]:
    shell = _parent_pid(ctx.python_pid)
    # The shell first: stopped, it cannot notice its child stop and print a prompt.
    return {"stopped_pids": _kill([shell, ctx.python_pid], signal.SIGSTOP)}


def _tcp_reset(ctx: Context) -> dict[str, Any]:
    ctx.proxy.reset()
    return {}


def _blackhole(ctx: Context) -> dict[str, Any]:
    ctx.proxy.blackhole_existing(True)
    return {}


def _sshd_restart(ctx: Context) -> dict[str, Any]:
    start = time.monotonic()
    ctx.target.restart()
    restart_s = round(time.monotonic() - start, 3)
    killed_at = time.monotonic()
    return {"restart_s": restart_s, "_injected": killed_at, **_kill_session_sshd(ctx)}


@dataclass
class Fault:
    name: str
    what: str
    inject: Callable[[Context], dict[str, Any]]
    via_proxy: bool = False
    note: str = ""


FAULTS = [
    Fault(
        "kill_sshd",
        "kill -9 of the sshd processes serving the session (SshTarget.session_pids)",
        _kill_session_sshd,
    ),
    Fault("kill_python", "kill -9 of the remote python", _kill_python),
    Fault(
        "hang_python",
        "SIGSTOP of the remote python (kill -9 afterwards)",
        _stop_python,
        note="the user's interactive bash sees its foreground job stop and prints its "
        "prompt again: a client can see the break at once (hang_target is the silent hang)",
    ),
    Fault(
        "hang_target",
        "SIGSTOP of the remote python and of the shell it runs in (nothing on the "
        "target answers; kill -9 afterwards)",
        _stop_python_and_shell,
    ),
    Fault("tcp_reset", "TCP RST on both sides (FaultProxy.reset)", _tcp_reset, via_proxy=True),
    Fault(
        "tcp_blackhole",
        "the TCP connection stops passing anything either way, never closes",
        _blackhole,
        via_proxy=True,
        note="only connections open at the injection are blackholed (until the cleanup); "
        "new connections pass at once, so no off-switch time is part of the figure",
    ),
    Fault(
        "sshd_restart",
        "restart of the listening sshd (SshTarget.restart), then kill -9 of the "
        "session's sshd processes",
        _sshd_restart,
        note="time counted from the kill; restart_s is the restart before it",
    ),
]


def cleanup(ctx: Context) -> None:
    """Undo every fault and kill whatever of the test user is left."""
    with contextlib.suppress(Exception):
        ctx.proxy.blackhole_existing(False)
        ctx.proxy.blackhole(False)
        ctx.proxy.reset()
    deadline = time.monotonic() + 10
    name = ctx.user.name
    while True:
        pids = sorted(set(ctx.target.user_pids(name)) | set(ctx.target.session_pids(name)))
        if not pids:
            return
        if time.monotonic() > deadline:
            log(f"processes of {name} survive: {pids}")
            return
        _kill(pids)
        time.sleep(0.05)


# ---- running a child -----------------------------------------------------------------


class Child:
    """A measuring child process, spoken to line by line."""

    def __init__(self, cmd: list[str]) -> None:
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.events: queue.Queue = queue.Queue()
        self.errors: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                self.events.put({"event": "noise", "line": line.rstrip()[:300]})
        self.events.put({"event": "eof"})

    def wait_event(self, kinds: tuple[str, ...], deadline: float) -> Optional[dict[str, Any]]:
        """Next event of one of ``kinds`` (errors are kept), None at the deadline."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if event.get("event") == "error":
                self.errors.append(event)
            if event.get("event") in kinds or event.get("event") in ("eof", "setup_failed"):
                return event

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stderr_tail(self, chars: int = 400) -> str:
        self.stderr.seek(0)
        text = self.stderr.read().decode("utf-8", "replace")
        return " | ".join(text.strip().splitlines())[-chars:]

    def stop(self, wait: float = 5.0) -> None:
        """Let it close its session briefly, then kill its process group."""
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.stderr.close()


def child_command(side: str, mode: str, host: str, port: int, user: Any, cap: float) -> list[str]:
    common = ["--host", host, "--port", str(port), "--user", user.name]
    common += ["--password", user.password, "--mode", mode, "--cap", str(cap)]
    if side == "ours":
        return [sys.executable, os.path.abspath(__file__), "--child", *common]
    return [CRL_PYTHON, CRL_SIDE, *common]


def measure(side: str, mode: str, fault: Fault, ctx: Context, cap: float) -> dict[str, Any]:
    """One recovery measurement: {"value": s or None, "error": ..., extras}."""
    port = ctx.proxy.port if fault.via_proxy else ctx.target.port
    child = Child(child_command(side, mode, ctx.target.host, port, ctx.user, cap))
    out: dict[str, Any] = {"value": None}
    try:
        ready = child.wait_event(("ready",), time.monotonic() + 90)
        if ready is None or ready.get("event") != "ready":
            why = (ready or {}).get("error") or "no ready line within 90 s"
            raise RuntimeError(f"session setup failed: {why}; stderr: {child.stderr_tail()}")
        ctx.python_pid = int(ready["python_pid"])
        out["detection_budget_s"] = ready.get("detection_budget_s")
        try:
            injected = time.monotonic()
            out.update(fault.inject(ctx))
            injected = out.pop("_injected", injected)
        except BaseException:
            child.send("ABORT")
            raise
        child.send(f"GO {injected!r}")
        end = child.wait_event(("done", "gave_up"), injected + cap + KILL_GRACE)
        if end is not None and end.get("event") == "done":
            out["value"] = end["value"]
            out["tries"] = end["tries"]
        elif end is not None and end.get("event") == "gave_up":
            tries, last = end["tries"], end["error"]
            out["error"] = f"no recovery within {cap:g} s ({tries} tries); last: {last}"
        else:
            last = child.errors[-1]["error"] if child.errors else "none raised"
            state = "the call never returned" if end is None else "child ended"
            out["error"] = (
                f"no recovery within {cap:g} s ({state}; {len(child.errors)} calls raised"
                f"; last: {last})"
            )
        if child.errors:
            first = child.errors[0]
            out["first_error_s"] = first["t"]
            out["first_error"] = first["error"][:200]
            out["raised"] = len(child.errors)
    finally:
        child.stop(wait=2 if out["value"] is None else 5)
        cleanup(ctx)  # also kills the stopped processes of the hang faults
    return out


# ---- main ----------------------------------------------------------------------------


def _safe_measure(side: str, mode: str, fault: Fault, ctx: Context, cap: float) -> dict[str, Any]:
    started = time.monotonic()
    try:
        result = measure(side, mode, fault, ctx, cap)
    except Exception as error:
        result = {"value": None, "error": error_text(error)}
    shown = result["value"] if result["value"] is not None else result.get("error")
    log(f"  {side} {mode}: {shown} ({time.monotonic() - started:.0f} s)")
    return result


def _prefixed(prefix: str, result: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {f"{prefix}_{k}": v for k, v in result.items() if k not in skip and v is not None}


def run_fault(fault: Fault, ctx: Context, args: argparse.Namespace) -> dict[str, Any]:
    record: dict[str, Any] = {"figure": f"recovery_s_{fault.name}"}
    ours = _safe_measure("ours", "run_python", fault, ctx, args.ours_cap)
    results = {}
    if args.ours_proxy:
        results["ours_proxy"] = _safe_measure("ours", "proxy", fault, ctx, args.ours_cap)
    crl: dict[str, dict[str, Any]] = {}
    if not args.no_crl:
        if not os.path.exists(CRL_PYTHON):
            crl["run_python"] = crl["proxy"] = {"value": None, "error": f"{CRL_PYTHON} not found"}
        else:
            crl["run_python"] = _safe_measure(
                "crl", "run_python", fault, ctx, args.crl_run_python_cap
            )
            crl["proxy"] = _safe_measure("crl", "proxy", fault, ctx, args.crl_cap)
    recovered = {mode: r["value"] for mode, r in crl.items() if r["value"] is not None}
    crl_value = min(recovered.values()) if recovered else None
    crl_errors = [f"{mode}: {r['error']}" for mode, r in crl.items() if r.get("error")]
    record["ours"] = ours["value"]
    record["crl"] = crl_value
    record["crl_error"] = "; ".join(crl_errors) or None
    record["ratio"] = (
        round(ours["value"] / crl_value, 3) if ours["value"] is not None and crl_value else None
    )
    record["ratio_is"] = "ours/crl (crl: its faster call kind that recovered)"
    record["detection_budget_s"] = ours.get("detection_budget_s")
    if ours.get("error"):
        record["ours_error"] = ours["error"]
    record["fault"] = fault.what
    if fault.note:
        record["note"] = fault.note
    record["ours_call"] = "run_python('1+1')"
    record.update(_prefixed("ours", ours, skip=("value", "error", "detection_budget_s")))
    for name, result in results.items():
        record[name] = result["value"]
        record.update(_prefixed(name, result, skip=("value", "detection_budget_s")))
    if crl:
        record["crl_via"] = min(recovered, key=lambda m: recovered[m]) if recovered else None
        for mode, result in crl.items():
            record[f"crl_{mode}"] = result["value"]
            record.update(_prefixed(f"crl_{mode}", result, skip=("value",)))
        record["crl_calls"] = {"run_python": "run_python('1+1')", "proxy": "os_proxy.getpid()"}
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-crl", action="store_true", help="our side only")
    parser.add_argument(
        "--ours-proxy",
        action="store_true",
        help="also time our os_proxy.getpid() (a proxy refilled in prepare, as crl's)",
    )
    parser.add_argument("--faults", default=",".join(f.name for f in FAULTS))
    parser.add_argument("--ours-cap", type=float, default=30)
    parser.add_argument("--crl-cap", type=float, default=90, help="cap of the crl proxy call")
    parser.add_argument(
        "--crl-run-python-cap",
        type=float,
        default=15,
        help="cap of crl's run_python (once it raised, every later call raises at once)",
    )
    # --child: one measurement of our side (used by the parent).
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--host", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--user", help=argparse.SUPPRESS)
    parser.add_argument("--password", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="run_python", help=argparse.SUPPRESS)
    parser.add_argument("--cap", type=float, default=30, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return ours_child(args)

    from sshtarget import SshTarget, available

    ok, reason = available()
    if not ok:
        log(f"cannot run: {reason}")
        return 2
    wanted = args.faults.split(",")
    faults = [f for f in FAULTS if f.name in wanted]
    started = time.monotonic()
    with SshTarget() as target:
        proxy = _existing_only_proxy_class()(target.host, target.port).start()
        try:
            ctx = Context(target, proxy, target.users["password"])
            cleanup(ctx)
            for fault in faults:
                log(f"fault {fault.name}")
                try:
                    record = run_fault(fault, ctx, args)
                except Exception as error:
                    record = {
                        "figure": f"recovery_s_{fault.name}",
                        "ours": None,
                        "crl": None,
                        "crl_error": None,
                        "ratio": None,
                        "error": error_text(error),
                    }
                emit(record)
        finally:
            proxy.stop()
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
