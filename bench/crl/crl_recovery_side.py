"""Recovery after a fault: the measuring child (crl.interactivesessions 1.3.1 side).

``bench_recovery.py`` starts this with ``.venv-crl/bin/python``, one process per
fault and per kind of call, so a call that never returns cannot block the bench
(the parent kills the whole process group at the cap)::

    .venv-crl/bin/python bench/crl_recovery_side.py --host H --port P \\
        --user U --password PW --mode run_python|proxy [--cap 90]

The same protocol, and the same measuring loop (``common.serve``, stdlib only), are
used for our side by ``bench_recovery.py --child``, so both libraries are timed
by identical code:

1. open the session, make one good call, print
   ``{"event": "ready", "python_pid": N, ...}`` (the remote Python's pid);
2. read ``GO <t>`` from stdin: the parent injected the fault at ``t``
   (``time.monotonic()``, the same clock in every process on Linux);
3. make the call at once, and again after each exception (0.1 s apart),
   until it returns the right value or ``cap`` seconds passed since ``t``;
   each exception is printed as ``{"event": "error", ...}``;
4. print ``{"event": "done", "value": seconds, ...}`` or
   ``{"event": "gave_up", ...}``.

crl is driven as its docs say: ``AutoRunnerTerminal.initialize_with_shells``
with crl's default recovery policy (3 tries, 3 s apart). Modes:

- ``run_python``: ``runner.run_python('1+1')``.
- ``proxy``: ``os_proxy.getpid()`` where ``os_proxy`` is made by
  ``create_empty_recursive_proxy()`` and refilled in ``prepare`` by
  ``set_from_remote_proxy(get_recursive_proxy('os'))`` (crl's documented way to
  keep proxies across recoveries; a proxy made after the session was opened
  raises InvalidProxySession after a recovery).

The test users have ``python3`` only: the runner pushes crl's own
``MsgPythonShell`` with ``python3 -u`` as start command (as crl_side.py does).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

# common.py lives in bench/, one folder up
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import emit, error_text, serve

# ---- crl ------------------------------------------------------------------------------


def crl_child(args: argparse.Namespace) -> int:
    from crl.interactivesessions.autorunnerterminal import AutoRunnerTerminal
    from crl.interactivesessions.InteractiveSession import SshShell
    from crl.interactivesessions.shells.msgpythonshell import MsgPythonShell

    python = args.python

    class Python3AutoRunnerTerminal(AutoRunnerTerminal):
        """crl's AutoRunnerTerminal, starting ``<python> -u`` instead of ``python -u``."""

        def _prepare_terminal_session(self) -> None:
            shell = MsgPythonShell()
            shell._start_cmd = f"{python} -u"
            self.get_session().push(shell)

    runner = Python3AutoRunnerTerminal()
    os_proxy = runner.create_empty_recursive_proxy()

    def prepare() -> None:
        if args.mode == "proxy":
            os_proxy.set_from_remote_proxy(runner.get_recursive_proxy("os"))

    def open_session() -> dict[str, Any]:
        shell = SshShell(args.host, args.user, args.password, port=args.port)
        runner.initialize_with_shells([shell], prepare=prepare)
        runner.initialize_if_needed()
        pid = runner.run_python('__import__("os").getpid()')
        if args.mode == "proxy" and os_proxy.getpid() != pid:
            raise AssertionError("os proxy and run_python see different processes")
        budget = (
            runner.default_verification_timeout + runner.prompt_timeout
            if args.mode == "proxy"
            else runner.default_timeout + runner.prompt_timeout
        )
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--mode", choices=("run_python", "proxy"), required=True)
    parser.add_argument("--cap", type=float, default=90)
    parser.add_argument("--python", default="python3")
    args = parser.parse_args()
    try:
        return crl_child(args)
    except Exception as error:  # e.g. crl not importable
        emit({"event": "setup_failed", "error": error_text(error)})
        return 1


if __name__ == "__main__":
    sys.exit(main())
