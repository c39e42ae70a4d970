"""Terminals over a real local pty (pexpect) and a real SSH channel (paramiko)."""

from __future__ import annotations

import os
import threading
import time

import pexpect
import pytest

from RemoteProxyLibrary.errors import TerminalClosed
from RemoteProxyLibrary.terminal import LocalTerminal, SshLogin, SshTerminal, Terminal


def read_until(terminal: Terminal, needle: bytes, timeout: float = 5) -> bytes:
    """Read raw bytes until ``needle`` showed (or fail after ``timeout``)."""
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data:
        left = deadline - time.monotonic()
        assert left > 0, f"{needle!r} not seen; got {data!r}"
        data += terminal.read(65536, min(left, 0.5))
    return data


def read_to_eof(terminal: Terminal, timeout: float = 5) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    with pytest.raises(TerminalClosed):
        while time.monotonic() < deadline:
            data += terminal.read(65536, 0.5)
    return data


@pytest.fixture
def cat_terminal():
    """A raw, non-echoing ``cat`` in a local pty: bytes come back unchanged."""
    terminal = LocalTerminal(["/bin/sh", "-c", "stty raw -echo; echo READY; exec cat"])
    read_until(terminal, b"READY")
    yield terminal
    terminal.close()


@pytest.fixture
def ssh_terminal_factory(ssh_target):
    made = []

    def make(command: str) -> SshTerminal:
        user = ssh_target.users["key"]
        login = SshLogin(
            ssh_target.host,
            user.name,
            port=ssh_target.port,
            key_files=(user.key_file,),
            timeout=10,
        )
        terminal = SshTerminal(login, command=command)
        made.append(terminal)
        return terminal

    yield make
    for terminal in made:
        terminal.close()


# ---- local pty ---------------------------------------------------------------------


def test_local_read_returns_empty_bytes_on_timeout():
    terminal = LocalTerminal(["sleep", "10"])
    try:
        start = time.monotonic()
        assert terminal.read(100, 0.3) == b""
        assert 0.25 < time.monotonic() - start < 2
        assert terminal.is_alive()
    finally:
        terminal.close()


def test_local_write_read_round_trip_is_byte_exact(cat_terminal):
    payload = bytes(range(32, 127)) * 20
    cat_terminal.write(payload)
    assert read_until(cat_terminal, payload[-50:]) == payload


def test_local_eof_raises_terminal_closed_every_time():
    terminal = LocalTerminal(["/bin/sh", "-c", "echo bye"])
    try:
        assert b"bye" in read_to_eof(terminal)
        with pytest.raises(TerminalClosed, match="local pty"):
            terminal.read(10, 0.1)
    finally:
        terminal.close()


def test_local_pty_is_wide_and_dumb():
    terminal = LocalTerminal(["/bin/sh", "-c", "stty size; echo TERM=$TERM"])
    try:
        output = read_to_eof(terminal)
    finally:
        terminal.close()
    assert b"50 4000" in output
    assert b"TERM=dumb" in output


def test_take_buffered_returns_what_expect_did_not_consume(cat_terminal):
    cat_terminal.write(b"first|second|third")
    cat_terminal.spawn.expect_exact("first|", timeout=5)
    cat_terminal.spawn.expect_exact("third", timeout=5)
    cat_terminal.write(b"AAA-rest-of-it")
    cat_terminal.spawn.expect_exact("AAA", timeout=5)
    time.sleep(0.2)
    rest = cat_terminal.take_buffered() + cat_terminal.read(100, 0.5)
    assert rest == b"-rest-of-it"
    assert cat_terminal.take_buffered() == b""


def test_spawn_is_pexpect_in_str_mode(cat_terminal):
    spawn = cat_terminal.spawn
    spawn.send("héllo\n")
    spawn.expect_exact("héllo", timeout=5)
    assert isinstance(spawn.before, str)


def test_concurrent_writes_never_interleave(cat_terminal):
    lines = {bytes([c]) * 3000 + b"\n" for c in b"abcdefgh"}
    received = bytearray()
    writers = [
        threading.Thread(target=lambda line=line: [cat_terminal.write(line) for _ in range(10)])
        for line in lines
    ]
    for thread in writers:
        thread.start()
    deadline = time.monotonic() + 10
    while received.count(b"\n") < 80 and time.monotonic() < deadline:
        received += cat_terminal.read(65536, 0.2)
    for thread in writers:
        thread.join(5)
    got = bytes(received).replace(b"\r\n", b"\n").split(b"\n")[:-1]
    assert len(got) == 80
    assert all(line + b"\n" in lines for line in got)


def test_local_close_is_idempotent_and_ends_the_child():
    terminal = LocalTerminal(["sleep", "30"])
    pid = terminal.pid
    terminal.close()
    terminal.close()
    assert not terminal.is_alive()
    with pytest.raises(OSError):
        os.kill(pid, 0)
    with pytest.raises(TerminalClosed):
        terminal.read(10, 0.1)


def test_repr_names_the_terminal():
    terminal = LocalTerminal(["sleep", "5"])
    try:
        assert repr(terminal) == "<LocalTerminal local pty (sleep)>"
    finally:
        terminal.close()


# ---- SSH channel ---------------------------------------------------------------------


def test_ssh_channel_has_a_wide_dumb_pty(ssh_terminal_factory, ssh_target):
    terminal = ssh_terminal_factory("stty size; echo TERM=$TERM; whoami")
    output = read_to_eof(terminal)
    assert b"50 4000" in output
    assert b"TERM=dumb" in output
    assert ssh_target.users["key"].name.encode() in output
    assert not terminal.is_alive()


def test_ssh_round_trip_timeout_and_eof(ssh_terminal_factory):
    terminal = ssh_terminal_factory("stty raw -echo; echo READY; exec head -c 2000")
    read_until(terminal, b"READY")
    assert terminal.read(100, 0.2) == b""
    payload = bytes(range(32, 127)) * 20 + b"x" * 100
    terminal.write(payload[:2000])
    assert read_until(terminal, payload[1950:2000]).endswith(payload[:2000])
    read_to_eof(terminal)
    with pytest.raises(TerminalClosed, match="ssh "):
        terminal.read(10, 0.1)
    with pytest.raises(TerminalClosed):
        terminal.write(b"more\n")


def test_ssh_spawn_expects_like_pexpect(ssh_terminal_factory):
    terminal = ssh_terminal_factory("echo one; sleep 0.2; echo two")
    spawn = terminal.spawn
    assert spawn.expect(["two", "one"], timeout=5) == 1
    spawn.expect_exact("two", timeout=5)
    spawn.expect(pexpect.EOF, timeout=5)
    terminal.close()
    terminal.close()
    assert not terminal.is_alive()


def test_ssh_expect_times_out(ssh_terminal_factory):
    terminal = ssh_terminal_factory("sleep 10")
    start = time.monotonic()
    with pytest.raises(pexpect.TIMEOUT):
        terminal.spawn.expect_exact("never", timeout=0.3)
    assert time.monotonic() - start < 2
