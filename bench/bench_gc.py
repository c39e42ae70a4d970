"""Live remote handles across 100,000 proxies created and dropped.

Run on demand: ``.venv/bin/python bench/bench_gc.py [--count N]``. Prints one
JSON line per figure. Uses a local terminal (the figure is about handles, not
the link): each iteration makes one proxy from a call and one recursive call
returning plain data (which the older library leaked a handle for), drops the
proxy, and every 10,000 iterations counts the handles alive on the target.
"""

from __future__ import annotations

import argparse
import gc
import json
import time

from RemoteProxyLibrary import BashShell, InteractiveSession
from RemoteProxyLibrary.runnerterminal import RunnerTerminal

COUNT_HANDLES = "sum(1 for k in globals() if k.startswith('_rpl_h'))"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    session = InteractiveSession()
    session.spawn(BashShell())
    runner = RunnerTerminal()
    runner.initialize(session)
    os_proxy = runner.get_recursive_proxy("os")
    base = runner.run_python(COUNT_HANDLES)
    peak = 0
    start = time.perf_counter()
    for i in range(args.count):
        proxy = runner.get_proxy_object_from_call("object")
        os_proxy.path.join("a", str(i))
        del proxy
        if i % 10_000 == 0:
            peak = max(peak, runner.run_python(COUNT_HANDLES) - base)
    gc.collect()
    final = runner.run_python(COUNT_HANDLES) - base
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "figure": "live_remote_handles_peak",
        "ours": peak,
        "target": f"<= MAX_GARBAGE ({runner.MAX_GARBAGE}) + live proxies",
        "proxies_created": args.count,
        "recursive_calls_returning_plain_data": args.count,
        "live_after_all_dropped": final,
        "seconds": round(elapsed, 1),
    }))  # fmt: skip
    runner.close()
    session.close_terminal()


if __name__ == "__main__":
    main()
