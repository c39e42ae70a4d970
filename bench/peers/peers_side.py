"""The peers' side of bench_peers.py: execnet, RPyC and mitogen over SSH.

Run with the bench's own environment (never the project's)::

    python3 -m venv .venv-bench && .venv-bench/bin/pip install execnet rpyc mitogen
    .venv-bench/bin/python bench/peers/peers_side.py --peer execnet --ssh-config F --host target

Each peer logs in with the system ``ssh`` (the ``--ssh-config`` file names
the host, port, user and key), starts the target's ``python3`` its own way,
and is measured on the same figures as ours: call latency, 10 MB fetch and
upload, 8 threads x N calls. One JSON line per figure on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from common import error_text, latencies, log, mb_per_s, ms_stats  # noqa: E402

MB = 1_000_000


class Peer:
    """One peer's session: ``call()`` a tiny remote evaluation, ``fetch()``
    the 10 MB blob made beforehand, ``upload(blob)`` returning its length,
    and ``caller()`` a call usable from another thread."""

    name = ""

    def call(self) -> Any:
        raise NotImplementedError

    def make_blob(self, nbytes: int) -> None:
        raise NotImplementedError

    def fetch(self) -> bytes:
        raise NotImplementedError

    def upload(self, blob: bytes) -> int:
        raise NotImplementedError

    def caller(self) -> Callable[[], Any]:
        return self.call

    def close(self) -> None:
        pass


class Execnet(Peer):
    """execnet: a gateway over ``ssh``, a channel running a small loop that
    evaluates what it receives (as an agent would)."""

    name = "execnet"
    LOOP = (
        "import os\n"
        "ns = {'os': os}\n"
        "while 1:\n"
        "    item = channel.receive()\n"
        "    if item is None:\n"
        "        break\n"
        "    kind, value = item\n"
        "    if kind == 'eval':\n"
        "        channel.send(eval(value, ns))\n"
        "    elif kind == 'make':\n"
        "        ns['blob'] = os.urandom(value)\n"
        "        channel.send(None)\n"
        "    else:\n"
        "        channel.send(len(value))\n"
    )

    def __init__(self, host: str, ssh_config: str) -> None:
        import execnet

        self.gateway = execnet.makegateway(f"ssh={host}//ssh_config={ssh_config}//python=python3")
        self.channel = self.gateway.remote_exec(self.LOOP)
        self._local = threading.local()

    def _ask(self, channel: Any, item: Any) -> Any:
        channel.send(item)
        return channel.receive()

    def call(self) -> Any:
        return self._ask(self.channel, ("eval", "1+1"))

    def make_blob(self, nbytes: int) -> None:
        self._ask(self.channel, ("make", nbytes))

    def fetch(self) -> bytes:
        return self._ask(self.channel, ("eval", "blob"))

    def upload(self, blob: bytes) -> int:
        return self._ask(self.channel, ("len", blob))

    def caller(self) -> Callable[[], Any]:
        channel = self.gateway.remote_exec(self.LOOP)  # one channel per thread
        return lambda: self._ask(channel, ("eval", "1+1"))

    def close(self) -> None:
        self.gateway.exit()


class Rpyc(Peer):
    """RPyC classic mode, deployed by its zero-deploy over ``ssh`` (plumbum)."""

    name = "rpyc"

    def __init__(self, host: str, ssh_config: str) -> None:
        from plumbum import SshMachine
        from rpyc.utils.zerodeploy import DeployedServer

        self.machine = SshMachine(host, ssh_opts=["-F", ssh_config], scp_opts=["-F", ssh_config])
        self.server = DeployedServer(self.machine, python_executable="python3")
        self.conn = self.server.classic_connect()

    def call(self) -> Any:
        return self.conn.eval("1+1")

    def make_blob(self, nbytes: int) -> None:
        self.conn.execute(f"import os; blob = os.urandom({nbytes})")

    def fetch(self) -> bytes:
        return self.conn.eval("blob")

    def upload(self, blob: bytes) -> int:
        return self.conn.builtins.len(blob)

    def close(self) -> None:
        self.conn.close()
        self.server.close()
        self.machine.close()


class Mitogen(Peer):
    """mitogen: a context over ``ssh``; calls of importable functions."""

    name = "mitogen"

    def __init__(self, host: str, ssh_config: str) -> None:
        import mitogen.master

        self.broker = mitogen.master.Broker()
        self.router = mitogen.master.Router(self.broker)
        self.context = self.router.ssh(
            hostname=host,
            python_path="python3",
            ssh_args=["-F", ssh_config],
            check_host_keys="ignore",
        )

    def call(self) -> Any:
        return self.context.call(eval, "1+1")

    def make_blob(self, nbytes: int) -> None:
        self._nbytes = nbytes

    def fetch(self) -> bytes:
        return bytes(self.context.call(_blob, self._nbytes))

    def upload(self, blob: bytes) -> int:
        import mitogen.core

        return int(self.context.call(len, mitogen.core.Blob(blob)))

    def close(self) -> None:
        self.broker.shutdown()
        self.broker.join()


def _blob(nbytes: int) -> Any:
    """On the target (mitogen imports this module there): the same bytes each
    time, made once, wrapped so that mitogen sends them as they are."""
    import mitogen.core

    cached = globals().get("_BLOB")
    if cached is None or len(cached) != nbytes:
        cached = os.urandom(nbytes)
        globals()["_BLOB"] = cached
    return mitogen.core.Blob(cached)


PEERS = {"execnet": Execnet, "rpyc": Rpyc, "mitogen": Mitogen}


def measure(peer: Peer, args: argparse.Namespace) -> None:
    start = time.perf_counter()
    assert peer.call() == 2
    stats = ms_stats(latencies(peer.call, args.calls, args.warmup))
    emit("call_median_ms", stats["median_ms"], **stats)
    nbytes = int(args.payload_mb * MB)
    peer.make_blob(nbytes)
    fetches, uploads = [], []
    for _ in range(args.transfers + 1):  # the first one warms up
        begin = time.perf_counter()
        blob = peer.fetch()
        fetches.append(time.perf_counter() - begin)
        assert len(blob) == nbytes, len(blob)
        begin = time.perf_counter()
        size = peer.upload(blob)
        uploads.append(time.perf_counter() - begin)
        assert size == nbytes, size
    for name, runs in (("fetch_mb_per_s", fetches[1:]), ("upload_mb_per_s", uploads[1:])):
        rates = [mb_per_s(nbytes, x) for x in runs]
        emit(name, statistics.median(rates), runs_mb_per_s=rates)
    callers = [peer.caller() for _ in range(args.threads)]
    for caller in callers:
        caller()

    def work(caller: Callable[[], Any]) -> None:
        for _ in range(args.thread_calls):
            caller()

    threads = [threading.Thread(target=work, args=(c,)) for c in callers]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - begin
    emit("threads_calls_per_s", round(args.threads * args.thread_calls / took))
    log(f"{peer.name}: measured in {time.perf_counter() - start:.1f} s")


def emit(figure: str, value: Any, **extra: Any) -> None:
    print(json.dumps({"figure": figure, "value": value, **extra}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", choices=sorted(PEERS), required=True)
    parser.add_argument("--host", required=True, help="the host's name in --ssh-config")
    parser.add_argument("--ssh-config", required=True)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--payload-mb", type=float, default=10)
    parser.add_argument("--transfers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--thread-calls", type=int, default=1000)
    args = parser.parse_args()
    begin = time.perf_counter()
    try:
        peer = PEERS[args.peer](args.host, args.ssh_config)
    except Exception as error:
        emit("error", None, error=error_text(error))
        return 1
    emit("session_start_ms", round((time.perf_counter() - begin) * 1000, 1))
    try:
        measure(peer, args)
    except Exception as error:
        emit("error", None, error=error_text(error))
        return 1
    finally:
        peer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
