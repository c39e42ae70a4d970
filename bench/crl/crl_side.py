"""The crl.interactivesessions 1.3.1 side of the benchmark.

Run with the crl venv (bench_runner.py does this for you)::

    .venv-crl/bin/python bench/crl_side.py --host H --port P --user U --password PW

Prints one JSON line per figure: ``{"side": "crl", "figure": ..., "value": ...}``
plus extra keys, or ``{"side": "crl", "figure": ..., "error": "..."}`` when crl
fails on it (the other figures are still measured).

How crl is driven (the way its own docs do, minus the auto-recovery layer):

- ``InteractiveSession().spawn(SshShell(host, user, password, port=port))``:
  pexpect runs the ``ssh`` client, the password is typed at ``word:``.
- ``RunnerTerminal().initialize(holder)`` where ``holder.get_session()`` returns
  that InteractiveSession: it pushes a ``MsgPythonShell`` (``python -u`` with a
  message server) and execs its ``RunnerHandler`` there. The test users have no
  ``python``, only ``python3``, so the runner here pushes the same
  ``MsgPythonShell`` with ``python3 -u`` as its start command.
- Plain ``RunnerTerminal``, not ``AutoRunnerTerminal``: the auto-recovering one
  verifies the session with an extra call before every proxy operation, which
  would only make crl look worse.
- Round trips are counted as calls of ``MsgPythonShell.exec_command``: each
  is one command sent and one reply read over the terminal.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import time
from typing import Any, Callable

# common.py lives in bench/, one folder up
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import (
    BLOB_NAME,
    emit,
    error_text,
    latencies,
    log,
    mb_per_s,
    median_ms,
    ms_stats,
    timed,
)

SIDE = "crl"

try:
    from crl.interactivesessions import RunnerHandler
    from crl.interactivesessions.InteractiveSession import InteractiveSession, SshShell
    from crl.interactivesessions.runnerterminal import RunnerTerminal
    from crl.interactivesessions.shells.modules import MainModule
    from crl.interactivesessions.shells.msgpythonshell import MsgPythonShell
    from crl.interactivesessions.shells.remotemodules import servers

    IMPORT_ERROR = None
except Exception as _error:  # pragma: no cover - reported as JSON
    IMPORT_ERROR = _error


class _Count:
    exec_commands = 0


def _install_counter() -> None:
    """Count every command crl sends to its remote Python server."""
    original = MsgPythonShell.exec_command

    def exec_command(self: Any, cmd: str, timeout: float = -1) -> Any:
        _Count.exec_commands += 1
        return original(self, cmd, timeout)

    MsgPythonShell.exec_command = exec_command


class _SessionHolder:
    """What crl's RunnerTerminal.initialize expects: ``get_session()``."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def get_session(self) -> Any:
        return self._session


def _runner_class(python: str) -> type:
    class Python3RunnerTerminal(RunnerTerminal):
        """crl's RunnerTerminal, starting ``<python> -u`` instead of ``python -u``."""

        def _prepare_terminal_session(self) -> None:
            shell = MsgPythonShell()
            shell._start_cmd = f"{python} -u"
            self.get_session().push(shell)

    return Python3RunnerTerminal


class CrlSession:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.session: Any = None
        self.runner: Any = None
        self.login_s = 0.0
        self.agent_s = 0.0

    def open(self) -> CrlSession:
        a = self.args
        start = time.perf_counter()
        self.session = InteractiveSession()
        self.session.spawn(SshShell(a.host, a.user, a.password, port=a.port))
        middle = time.perf_counter()
        self.runner = _runner_class(a.python)()
        self.runner.initialize(_SessionHolder(self.session))
        end = time.perf_counter()
        self.login_s, self.agent_s = middle - start, end - middle
        return self

    def close(self) -> None:
        try:
            if self.runner is not None:
                self.runner.close()
            elif self.session is not None:
                self.session.close_terminal()
        except Exception as error:
            log(f"crl close failed: {error_text(error)}")


def _figure(name: str, fn: Callable[[], dict[str, Any]]) -> None:
    try:
        record = fn()
    except Exception as error:
        log(f"crl {name} failed: {error_text(error)}")
        emit({"side": SIDE, "figure": name, "error": error_text(error)})
        return
    emit({"side": SIDE, "figure": name, **record})


# ---- figures -------------------------------------------------------------------------


def bootstrap_size() -> dict[str, Any]:
    """Bytes crl types into the target's python to set itself up (approximate:
    the message-server module commands plus the pickled RunnerHandler source)."""
    typed = sum(len(cmd) + 1 for cmd in MainModule(servers).cmds_gen())
    with open(RunnerHandler.get_python_file_path()) as f:
        handler = f.read()
    handler_typed = len(repr(pickle.dumps(handler, protocol=0)))
    return {"value": typed + handler_typed, "server_cmds": typed, "handler": handler_typed}


def session_start(args: argparse.Namespace) -> dict[str, Any]:
    totals, logins, agents = [], [], []
    for _ in range(args.starts):
        s = CrlSession(args)
        try:
            s.open()
            s.runner.run_python("1")
        finally:
            s.close()
        totals.append(s.login_s + s.agent_s)
        logins.append(s.login_s)
        agents.append(s.agent_s)
    return {
        "value": median_ms(totals),
        "login_ms": median_ms(logins),
        "agent_ms": median_ms(agents),
        "n": len(totals),
    }


def latency(runner: Any, args: argparse.Namespace) -> dict[str, Any]:
    assert runner.run_python("1+1") == 2
    stats = ms_stats(latencies(lambda: runner.run_python("1+1"), args.calls, args.warmup))
    return {"value": stats["median_ms"], **stats}


def _transfer(runner: Any, nbytes: int) -> tuple[float, float]:
    runner.run_python(f"{BLOB_NAME} = os.urandom({nbytes})")
    fetch_s, blob = timed(lambda: runner.run_python(BLOB_NAME))
    if not isinstance(blob, bytes) or len(blob) != nbytes:
        raise AssertionError(f"fetched {type(blob).__name__} of {len(blob)} bytes")
    upload_s, size = timed(lambda: runner.run_python_call("len", blob))
    if size != nbytes:
        raise AssertionError(f"uploaded {size} bytes of {nbytes}")
    runner.run_python(f"del {BLOB_NAME}")
    return fetch_s, upload_s


def payload(runner: Any, args: argparse.Namespace) -> None:
    """Fetch and upload; 1 MB first, the full size only if it fits the budget."""
    mb = 1_000_000
    full = int(args.payload_mb * mb)
    try:
        fetch_s, upload_s = _transfer(runner, mb)
        size = mb
        estimate = (fetch_s + upload_s) * full / mb * args.transfers
        if estimate <= args.payload_budget:
            size = full
        else:
            log(f"crl: {args.payload_mb} MB would take ~{estimate:.0f} s, using 1 MB")
        runs = [_transfer(runner, size) for _ in range(args.transfers)]
    except Exception as error:
        for name in ("fetch_mb_per_s", "upload_mb_per_s"):
            emit({"side": SIDE, "figure": name, "error": error_text(error)})
        return
    for name, seconds in (
        ("fetch_mb_per_s", [fetch for fetch, _ in runs]),
        ("upload_mb_per_s", [upload for _, upload in runs]),
    ):
        emit(
            {
                "side": SIDE,
                "figure": name,
                "value": mb_per_s(size, statistics.median(seconds)),
                "payload_mb": size / mb,
                "runs_mb_per_s": [mb_per_s(size, x) for x in seconds],
            }
        )


def round_trips(runner: Any) -> None:
    def first_method_call() -> dict[str, Any]:
        runner.run_python("import io")
        proxy = runner.get_proxy_object_from_call("io.BytesIO", b"abc")
        before = _Count.exec_commands
        value = proxy.getvalue()
        assert value == b"abc", value
        return {"value": _Count.exec_commands - before, "call": "io.BytesIO(b'abc').getvalue()"}

    def recursive_join() -> dict[str, Any]:
        before = _Count.exec_commands
        os_proxy = runner.get_recursive_proxy("os")
        middle = _Count.exec_commands
        joined = os_proxy.path.join("a", "b")
        assert joined == "a/b", joined
        return {
            "value": _Count.exec_commands - middle,
            "get_recursive_proxy": middle - before,
            "call": "get_recursive_proxy('os') then .path.join('a', 'b') (the join part)",
        }

    _figure("round_trips_first_method_call", first_method_call)
    _figure("round_trips_recursive_os_path_join", recursive_join)


def fault(runner: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Join time in RTTs through the delaying proxy (connected to it already)."""
    rtt = latencies(lambda: runner.run_python("1"), args.rtt_calls, 3)
    joins = []
    for _ in range(args.join_reps):
        os_proxy = runner.get_recursive_proxy("os")
        seconds, joined = timed(lambda p=os_proxy: p.path.join("a", "b"))
        assert joined == "a/b", joined
        joins.append(seconds)
    rtt_ms, join_ms = median_ms(rtt), median_ms(joins)
    return {
        "value": round(join_ms / rtt_ms, 3),
        "rtt_ms": rtt_ms,
        "join_ms": join_ms,
        "joins_ms": [round(j * 1000, 2) for j in joins],
    }


# ---- main ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--python", default="python3")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--payload-mb", type=float, default=10)
    parser.add_argument("--transfers", type=int, default=3)
    parser.add_argument(
        "--payload-budget",
        type=float,
        default=60,
        help="seconds all full-size fetches+uploads may take, else 1 MB is used",
    )
    parser.add_argument(
        "--fault",
        action="store_true",
        help="only the delayed-link figure (--port is then the fault proxy's)",
    )
    parser.add_argument("--rtt-calls", type=int, default=20)
    parser.add_argument("--join-reps", type=int, default=7)
    args = parser.parse_args()

    if IMPORT_ERROR is not None:
        emit({"side": SIDE, "figure": "import", "error": error_text(IMPORT_ERROR)})
        return 1
    _install_counter()

    if args.fault:
        session = CrlSession(args)
        try:
            session.open()
            _figure("faultproxy_join_rtts", lambda: fault(session.runner, args))
        except Exception as error:
            emit({"side": SIDE, "figure": "faultproxy_join_rtts", "error": error_text(error)})
        finally:
            session.close()
        return 0

    _figure("bootstrap_typed_bytes", bootstrap_size)
    log("crl: session start")
    _figure("session_start_median_ms", lambda: session_start(args))

    session = CrlSession(args)
    try:
        session.open()
    except Exception as error:
        for name in (
            "run_python_1plus1_median_ms",
            "fetch_mb_per_s",
            "upload_mb_per_s",
            "round_trips_first_method_call",
            "round_trips_recursive_os_path_join",
        ):
            emit({"side": SIDE, "figure": name, "error": error_text(error)})
        session.close()
        return 0
    try:
        runner = session.runner
        log("crl: latency")
        _figure("run_python_1plus1_median_ms", lambda: latency(runner, args))
        log("crl: payload")
        payload(runner, args)
        log("crl: round trips")
        round_trips(runner)
    finally:
        session.close()
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    rc = main()
    log(f"crl side done in {time.perf_counter() - started:.1f} s")
    sys.exit(rc)
