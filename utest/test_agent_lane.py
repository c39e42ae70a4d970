"""The agent's lane (``agent/lane.py``) in this process: the reading thread
runs what it read; the watcher takes the reading from a request that runs
long, hands the rest of the batch to the pool and writes held replies; it
sleeps when quiet and ends on close."""

from __future__ import annotations

import threading
import time

from RemoteProxyLibrary.agent import lane as lanes


class Pool:
    """Runs each job on a thread of its own (enough for the lane)."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def submit(self, function, *args) -> None:
        thread = threading.Thread(target=function, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()


class Link:
    def __init__(self, name: str = "test-watch") -> None:
        self.pool = Pool()
        self.sent: list[tuple[int, bool, str]] = []  # (request id, hold, thread name)
        self.flushes = 0
        self.resumed: list[int] = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.lane = lanes.Lane(self.pool, self.execute, self.resume, self.flush, name)

    def execute(self, request_id: int, payload: bytes, hold: bool) -> None:
        if payload == b"slow":
            assert self.release.wait(10)
        with self.lock:
            self.sent.append((request_id, hold, threading.current_thread().name))

    def resume(self, turn: int) -> None:
        self.resumed.append(turn)

    def flush(self) -> None:
        with self.lock:
            self.flushes += 1


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.001)
    return condition()


def test_the_reading_thread_runs_a_batch_itself_and_flushes_once_at_its_end():
    link = Link()
    try:
        me = threading.current_thread().name
        assert link.lane.run(0, [(1, b"a"), (2, b"b"), (3, b"c")]) is True
        assert [entry[0] for entry in link.sent] == [1, 2, 3]
        assert all(name == me for _, _, name in link.sent)
        assert link.flushes == 1 and not link.resumed
    finally:
        link.lane.close()


def test_a_slow_request_has_the_reading_and_the_rest_of_its_batch_taken_away():
    link = Link()
    try:
        result: list[bool] = []
        reader = threading.Thread(
            target=lambda: result.append(link.lane.run(0, [(1, b"slow"), (2, b"x"), (3, b"y")]))
        )
        reader.start()
        # the watcher hands the reading on (turn 1) and runs 2 and 3 aside
        assert wait_for(lambda: link.resumed == [1] and len(link.sent) == 2)
        assert sorted(entry[0] for entry in link.sent) == [2, 3]
        assert all(hold is False for _, hold, _ in link.sent)
        assert link.flushes >= 1  # what the slow one's reader held back
        assert reader.is_alive()
        link.release.set()
        reader.join(5)
        assert result == [False]  # it is no longer the reader
        # the new reader runs what it reads itself
        assert link.lane.run(1, [(4, b"z")]) is True
        assert link.sent[-1][0] == 4
    finally:
        link.release.set()
        link.lane.close()


def test_the_watcher_sleeps_when_quiet_wakes_for_the_next_request_and_ends_on_close(
    monkeypatch,
):
    monkeypatch.setattr(lanes, "WATCH_IDLE", 0.05)
    link = Link("test-watch-quiet")
    watcher = next(t for t in threading.enumerate() if t.name == "test-watch-quiet")
    assert wait_for(lambda: link.lane.asleep)
    result: list[bool] = []
    reader = threading.Thread(target=lambda: result.append(link.lane.run(0, [(1, b"slow")])))
    reader.start()
    assert wait_for(lambda: link.resumed == [1])  # woken, it took the reading away
    link.release.set()
    reader.join(5)
    assert result == [False]
    assert wait_for(lambda: link.lane.asleep)
    link.lane.close()
    watcher.join(2)
    assert not watcher.is_alive()
