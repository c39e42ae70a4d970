"""Output and noise the target sends between replies are kept bounded."""

from __future__ import annotations

import time

from hostile import frame

from RemoteProxyLibrary.runner import notices as notices_module
from RemoteProxyLibrary.runner.notices import Notices
from RemoteProxyLibrary.wire import messages


def test_a_long_notice_is_cut_and_says_so():
    notices = Notices(max_chars=1000, max_entry_chars=10)
    notices.append(("stdout", "x" * 25))
    (stream, text), (kind, summary) = notices.drain()
    assert stream == "stdout" and text.startswith("x" * 10) and "15 more characters" in text
    assert kind == "noise" and "15 characters" in summary
    assert notices.drain() == []


def test_the_oldest_go_past_the_bound_and_the_drain_counts_them():
    notices = Notices(max_chars=100, max_entry_chars=100)
    for number in range(10):
        notices.append(("stdout", f"{number}" * 30))
    assert notices.chars <= 100
    drained = notices.drain()
    assert [text[0] for _, text in drained[:-1]] == ["7", "8", "9"]
    assert "7 notices and 210 characters" in drained[-1][1]


def test_a_flood_of_background_output_between_calls_stays_bounded(target):
    """60 output messages of 2 MiB each between two calls: the controller keeps
    at most MAX_CHARS of them, and the next call logs what was dropped."""
    runner = target.runner(timeout=10)
    message = frame(
        0, messages.KIND_OUTPUT, messages.encode_output("stdout", "A" * (2 << 20)), raw=True
    )
    for _ in range(60):
        target.agent.write(message)
    connection = runner._connection
    bound = notices_module.MAX_CHARS + notices_module.MAX_ENTRY_CHARS
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and connection.notices._dropped_entries < 40:
        assert connection.notices.chars <= bound
        time.sleep(0.05)
    assert connection.notices._dropped_entries >= 40  # the flood came, and was not kept
    assert connection.notices.chars <= bound
    assert runner.run_python("1 + 1", timeout=30) == 2
    assert connection.notices.chars == 0
