"""File transfers against a hostile target (``hostile_agent.py`` answering
chosen ops with crafted replies) and against an honest python3 target whose
files change between calls.

The promise (docs/PROTOCOL.md, the threat-model table): whatever the target
says, a Get File or Get Directory writes nothing outside its destination,
never writes or sets modes through a symbolic link inside it, leaves no
partial or temporary file, and ends within its timeout + 0.5 s; the session
goes on.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Iterator

import pytest
from hostile import Silent, by_op

from RemoteProxyLibrary import BashShell, InteractiveSession
from RemoteProxyLibrary.agent import filerules
from RemoteProxyLibrary.errors import ProtocolViolation
from RemoteProxyLibrary.runner import transfers
from RemoteProxyLibrary.runnerterminal import RunnerTerminal
from RemoteProxyLibrary.wire import messages

BIG = transfers.SMALL + 1  # fetched with get_open/get_chunk, not in a batch
SLACK = 0.5


@pytest.fixture(scope="module")
def real_runner() -> Iterator[RunnerTerminal]:
    session = InteractiveSession()
    session.spawn(BashShell(timeout=10))
    runner = RunnerTerminal(timeout=30, prompt_timeout=10)
    runner.initialize(session)
    yield runner
    runner.close()
    session.close_terminal()


def leftovers(directory) -> list[str]:
    found = []
    for base, _, names in os.walk(directory):
        found += [os.path.join(base, n) for n in names if ".rpl-" in n]
    return found


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_entry(relative: str, size: int) -> tuple:
    return (relative, "file", size, 0o644, 0.0, 0.0, None)


def listing(*entries: tuple):
    return lambda *args: ("/remote/src", (0o755, 0.0, 0.0), list(entries))


def serving(payload: bytes, links: dict[str, str]):
    """Answers of get_open, get_chunk and get_close serving ``payload`` for
    every file, and a link for the names in ``links``."""

    def get_open(source: str, follow: bool) -> tuple:
        name = source.rpartition("/src/")[2]
        if name in links:
            return (0, "link", 0, 0o777, 0.0, 0.0, links[name])
        return (7, "file", len(payload), 0o644, 0.0, 0.0, None)

    return dict(
        get_open=get_open,
        get_chunk=lambda tid, offset, length: payload[offset : offset + length],
        get_close=lambda tid: (len(payload), sha(payload)),
    )


# ---- nothing outside the destination, nothing through a link -------------------------------
@pytest.mark.parametrize(
    "entries, links",
    [
        # F1: a large file opened as a link, then a file below it
        ([file_entry("x", BIG), file_entry("x/y", BIG)], {"x": "OUTSIDE"}),
        # a link, and a link below it
        ([("x", "link", 0, 0o777, 0.0, 0.0, "OUTSIDE"),
          ("x/y", "link", 0, 0o777, 0.0, 0.0, "anything")], {}),
        # a link, and a small file below it
        ([("x", "link", 0, 0o777, 0.0, 0.0, "OUTSIDE"), file_entry("x/y", 10)], {}),
        # a directory and a link of the same name
        ([("x", "dir", 0, 0o755, 0.0, 0.0, None),
          ("x", "link", 0, 0o777, 0.0, 0.0, "OUTSIDE"), file_entry("x/y", 10)], {}),
    ],
    ids=["large-file-opened-as-link", "link-below-link", "file-below-link", "dir-and-link"],
)  # fmt: skip
def test_get_directory_never_writes_outside_its_destination(target, tmp_path, entries, links):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    payload = b"written outside the destination\n"

    def fix(value):
        return str(outside) if value == "OUTSIDE" else value

    entries = [(*entry[:6], fix(entry[6])) for entry in entries]
    links = {name: fix(value) for name, value in links.items()}
    target.handler = by_op(
        tree_list=listing(*entries),
        get_batch=lambda root, names: [(n, payload, sha(payload)) for n in names],
        **serving(payload, links),
    )
    runner = target.runner(timeout=20)
    with pytest.raises((OSError, ProtocolViolation)):
        runner.files.get_directory("/remote/src", str(dest))
    assert os.listdir(outside) == [], "the target made the controller write outside the destination"
    assert not leftovers(dest)
    assert runner.run_python("1+1") == 2  # the session goes on


def test_get_directory_refuses_a_large_file_opened_as_another_kind(target, tmp_path):
    """The kind comes from the listing: a file the target then opens as a
    link (or a directory) fails the call and nothing is made for it."""
    payload = b"x" * BIG
    target.handler = by_op(
        tree_list=listing(file_entry("f", BIG)),
        **serving(payload, {"f": "/etc"}),
    )
    runner = target.runner(timeout=20)
    with pytest.raises(OSError, match="listed it as a file, then opened it as a link") as info:
        runner.files.get_directory("/remote/src", str(tmp_path / "copy"))
    assert info.value.errno == errno.EIO
    assert not os.path.lexists(tmp_path / "copy" / "f")


def test_get_file_refuses_a_link_when_it_asked_to_follow(target, tmp_path):
    target.handler = by_op(get_open=lambda source, follow: (0, "link", 0, 0o777, 0.0, 0.0, "/"))
    runner = target.runner(timeout=20)
    with pytest.raises(ProtocolViolation, match="get_open made no sense"):
        runner.files.get("/remote/f", str(tmp_path / "f"))
    assert os.listdir(tmp_path) == []


# ---- a second transfer to the same destination (honest target) ---------------------------
def test_a_second_get_directory_does_not_follow_a_link_the_first_made(real_runner, tmp_path):
    """The target's ``src/d`` is first a link (copied as a link to a path of
    this machine), then a directory with a file and mode 0777: the second Get
    Directory to the same destination refuses the link, writes nothing
    through it and changes no mode through it."""
    remote, dest, outside = tmp_path / "remote", tmp_path / "dest", tmp_path / "outside"
    (remote / "src").mkdir(parents=True)
    dest.mkdir()
    outside.mkdir(mode=0o700)
    os.symlink(outside, remote / "src" / "d")
    real_runner.files.get_directory(str(remote / "src"), str(dest))
    assert os.readlink(dest / "src" / "d") == str(outside)
    os.unlink(remote / "src" / "d")
    (remote / "src" / "d").mkdir()
    (remote / "src" / "d" / "planted").write_text("x")
    os.chmod(remote / "src" / "d", 0o777)
    with pytest.raises(OSError, match="destination is a symbolic link locally") as info:
        real_runner.files.get_directory(str(remote / "src"), str(dest))
    assert info.value.errno == errno.ELOOP
    assert info.value.filename == str(dest / "src" / "d")
    assert os.listdir(outside) == [], "the second Get Directory wrote through the link"
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o700, "it chmod'ed through the link"


def test_get_directory_refuses_a_root_that_is_a_link(real_runner, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f").write_text("f")
    (tmp_path / "dest").mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "dest" / "src")
    with pytest.raises(OSError, match="symbolic link locally"):
        real_runner.files.get_directory(str(tmp_path / "src"), str(tmp_path / "dest"))
    assert os.listdir(tmp_path / "outside") == []


def test_a_second_get_file_does_not_follow_a_link_the_first_made(real_runner, tmp_path):
    """A Get File of a link (``follow_symlinks=False``) makes a link at the
    destination; a Get File to that destination again refuses it (a link to
    a directory is a directory only when the path ends with ``/``)."""
    remote, dest, outside = tmp_path / "remote", tmp_path / "dest", tmp_path / "outside"
    remote.mkdir()
    dest.mkdir()
    outside.mkdir()
    os.symlink(outside, remote / "report.txt")
    real_runner.files.get(str(remote / "report.txt"), str(dest / "report.txt"),
                          follow_symlinks=False)  # fmt: skip
    assert os.path.islink(dest / "report.txt")
    os.unlink(remote / "report.txt")
    (remote / "report.txt").write_text("data")
    with pytest.raises(OSError, match="is a symbolic link locally; end the path") as info:
        real_runner.files.get(str(remote / "report.txt"), str(dest / "report.txt"))
    assert info.value.errno == errno.ELOOP
    assert os.listdir(outside) == [], "the second Get File wrote into the directory of the link"
    # with a trailing slash the user says: into the directory it points to
    real_runner.files.get(str(remote / "report.txt"), str(dest / "report.txt") + "/")
    assert os.listdir(outside) == ["report.txt"]


def test_a_link_where_a_file_goes_is_replaced_not_followed(real_runner, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f").write_text("new")
    (tmp_path / "victim").write_text("keep")
    (tmp_path / "dest" / "src").mkdir(parents=True)
    os.symlink(tmp_path / "victim", tmp_path / "dest" / "src" / "f")
    real_runner.files.get_directory(str(tmp_path / "src"), str(tmp_path / "dest"))
    assert (tmp_path / "victim").read_text() == "keep"
    assert not os.path.islink(tmp_path / "dest" / "src" / "f")
    assert (tmp_path / "dest" / "src" / "f").read_text() == "new"


# ---- sizes and metadata -------------------------------------------------------------------
def test_a_chunk_longer_than_asked_is_refused_and_nothing_is_left(target, tmp_path):
    """get_open declares 1 byte, get_chunk sends 8 MB, get_close vouches for
    them: refused as the chunk arrives, nothing under the destination's name."""
    blob = os.urandom(8 << 20)
    target.handler = by_op(
        get_open=lambda source, follow: (7, "file", 1, 0o644, 0.0, 0.0, None),
        get_chunk=lambda tid, offset, length: blob,
        get_close=lambda tid: (len(blob), sha(blob)),
    )
    runner = target.runner(timeout=30)
    with pytest.raises(ProtocolViolation, match="a chunk of 1 bytes at offset 0 was 8388608"):
        runner.files.get("/remote/f", str(tmp_path / "f"))
    assert os.listdir(tmp_path) == []
    assert runner.run_python("1+1") == 2


def test_a_size_at_close_other_than_declared_leaves_nothing(target, tmp_path):
    data = b"0123456789"
    target.handler = by_op(
        get_open=lambda source, follow: (7, "file", 10, 0o644, 0.0, 0.0, None),
        get_chunk=lambda tid, offset, length: data[offset : offset + length],
        get_close=lambda tid: (11, sha(data)),
    )
    runner = target.runner(timeout=30)
    with pytest.raises(OSError, match="source file changed during the transfer"):
        runner.files.get("/remote/f", str(tmp_path / "f"))
    assert os.listdir(tmp_path) == []


ODD_ENTRIES = {
    "mode-as-text": ("f", "file", 10, "0644", 0.0, 0.0, None),
    "mode-as-bool": ("f", "file", 10, True, 0.0, 0.0, None),
    "mode-too-big": ("f", "file", 10, 1 << 40, 0.0, 0.0, None),
    "time-1e300": ("f", "file", 10, 0o644, 1e300, 1e300, None),
    "time-nan": ("f", "file", 10, 0o644, float("nan"), 0.0, None),
    "time-as-text": ("f", "file", 10, 0o644, "now", 0.0, None),
    "negative-size": ("f", "file", -1, 0o644, 0.0, 0.0, None),
    "giant-size": ("f", "file", 10**5000, 0o644, 0.0, 0.0, None),
    "unknown-kind": ("f", "fifo", 10, 0o644, 0.0, 0.0, None),
    "link-without-target": ("f", "link", 0, 0o777, 0.0, 0.0, None),
    "name-leaving-root": ("../f", "file", 10, 0o644, 0.0, 0.0, None),
    "name-as-bytes": (b"f", "file", 10, 0o644, 0.0, 0.0, None),
    "short-entry": ("f", "file", 10),
}


@pytest.mark.parametrize("entry", list(ODD_ENTRIES.values()), ids=list(ODD_ENTRIES))
def test_odd_metadata_is_refused_up_front(target, tmp_path, entry):
    data = b"small file"
    target.handler = by_op(
        tree_list=listing(entry),
        get_batch=lambda root, names: [(n, data, sha(data)) for n in names],
    )
    runner = target.runner(timeout=20)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(ProtocolViolation, match="tree_list made no sense"):
        runner.files.get_directory("/remote/src", str(dest), preserve_times=True)
    assert os.listdir(dest) == [], "refused before anything was made"
    assert runner.run_python("1+1") == 2


def test_an_odd_value_at_commit_leaves_no_temporary_file(tmp_path):
    """Whatever fails in commit (here a mode of the wrong type), the
    temporary file is closed and removed."""
    target = filerules.AtomicFile(str(tmp_path / "f"), filerules.LOCAL)
    target.write(b"data")
    with pytest.raises(TypeError):
        target.commit(sha(b"data"), 4, "0644")
    assert target.fd == -1 and os.listdir(tmp_path) == []
    target = filerules.AtomicFile(str(tmp_path / "f"), filerules.LOCAL)
    target.write(b"data")
    with pytest.raises(OverflowError):
        target.commit(sha(b"data"), 4, None, (1e300, 1e300))
    assert target.fd == -1 and os.listdir(tmp_path) == []


def test_a_digest_with_control_characters_is_refused_and_never_shown_raw(target, tmp_path):
    data = b"0123456789"
    target.handler = by_op(
        get_open=lambda source, follow: (7, "file", 10, 0o644, 0.0, 0.0, None),
        get_chunk=lambda tid, offset, length: data[offset : offset + length],
        get_close=lambda tid: (10, "\x1b[2J\nFAIL forged\u202e"),
    )
    runner = target.runner(timeout=30)
    with pytest.raises(ProtocolViolation) as info:
        runner.files.get("/remote/f", str(tmp_path / "f"))
    message = str(info.value)
    assert "\x1b" not in message and "\n" not in message and "\u202e" not in message
    assert "\\x1b[2J\\nFAIL forged" in message
    assert os.listdir(tmp_path) == []


# ---- where the copy goes, and what a batch brings ------------------------------------------
def test_the_target_does_not_choose_where_under_the_destination_the_copy_goes(target, tmp_path):
    """Get Directory /remote/config -> ~ goes to ~/config (the source's name, as
    cp -r), whatever root the target's tree_list reports (here /remote/.ssh: it
    used to merge into ~/.ssh and replace authorized_keys)."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    keys = home / ".ssh" / "authorized_keys"
    keys.write_text("ssh-ed25519 AAAA... user@laptop\n")
    planted = b"ssh-ed25519 AAAA...attacker\n"
    target.handler = by_op(
        tree_list=lambda *a: ("/remote/.ssh", (0o700, 0.0, 0.0),
                              [("authorized_keys", "file", len(planted), 0o600, 0.0, 0.0, None)]),
        get_batch=lambda root, names: [(n, planted, sha(planted)) for n in names],
    )  # fmt: skip
    runner = target.runner(timeout=20)
    result = runner.files.get_directory("/remote/config", str(home))
    assert keys.read_text() == "ssh-ed25519 AAAA... user@laptop\n"
    assert result.destination == str(home / "config")
    assert (home / "config" / "authorized_keys").read_bytes() == planted


@pytest.mark.parametrize("source", [".", "..", "/", "~", "~/", "~root", "a/.."])
def test_a_source_that_names_no_directory_is_not_named_by_the_target(target, tmp_path, source):
    """``.``, ``..``, ``/``, ``~``: the copy's name would be the target's word;
    into an existing directory such a copy is refused, and a destination that
    does not exist yet becomes the copy itself."""
    data = b"small file"
    target.handler = by_op(
        tree_list=lambda *a: ("/remote/.ssh", (0o755, 0.0, 0.0), [file_entry("f", len(data))]),
        get_batch=lambda root, names: [(n, data, sha(data)) for n in names],
    )
    runner = target.runner(timeout=20)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(OSError, match="the source names no directory") as info:
        runner.files.get_directory(source, str(dest))
    assert info.value.errno == errno.EEXIST
    assert os.listdir(dest) == []
    result = runner.files.get_directory(source, str(tmp_path / "new"))
    assert result.destination == str(tmp_path / "new")
    assert (tmp_path / "new" / "f").read_bytes() == data


@pytest.mark.parametrize(
    "source, name",
    [("/var/log", "log"), ("/var/log/", "log"), ("/srv/app/../log", "log"), ("log", "log"),
     ("~/log", "log"), ("/x/~y", "~y"), ("./~", "~"), (".", None), ("a/..", None),
     ("../..", None), ("/", None), ("//", None), ("", None), ("~", None), ("~user/", None)],
)  # fmt: skip
def test_the_copy_is_named_after_the_source_as_given(source, name):
    assert transfers._tree_name(source) == name


def test_a_batched_file_larger_than_listed_is_refused_before_it_is_written(target, tmp_path):
    """tree_list lists 'f' as 10 bytes (so it comes in a get_batch); the batch
    brings 8 MB with a matching digest: refused, nothing written."""
    blob = os.urandom(8 << 20)
    target.handler = by_op(
        tree_list=listing(file_entry("f", 10)),
        get_batch=lambda root, names: [("f", blob, sha(blob))],
    )
    runner = target.runner(timeout=30)
    dest = tmp_path / "dest"
    with pytest.raises(ProtocolViolation, match="'f' was listed with 10 bytes and came with 838"):
        runner.files.get_directory("/remote/src", str(dest))
    assert not os.path.lexists(dest / "f") and not leftovers(tmp_path)
    assert runner.run_python("1+1") == 2


def test_a_batched_file_smaller_than_listed_is_refused(target, tmp_path):
    target.handler = by_op(
        tree_list=listing(file_entry("f", 10)),
        get_batch=lambda root, names: [("f", b"short", sha(b"short"))],
    )
    runner = target.runner(timeout=20)
    with pytest.raises(ProtocolViolation, match="listed with 10 bytes and came with 5"):
        runner.files.get_directory("/remote/src", str(tmp_path / "dest"))
    assert not os.path.lexists(tmp_path / "dest" / "f") and not leftovers(tmp_path)


BAD_BATCHES = {
    "empty": lambda names: [],
    "one-left-out": lambda names: [(n, b"x" * 10, sha(b"x" * 10)) for n in names[1:]],
    "one-twice": lambda names: [(n, b"x" * 10, sha(b"x" * 10)) for n in names + names[:1]],
    "not-asked": lambda names: [("zzz", b"x" * 10, sha(b"x" * 10))],
}


@pytest.mark.parametrize("answer", list(BAD_BATCHES.values()), ids=list(BAD_BATCHES))
def test_a_batch_that_is_not_the_files_asked_for_fails_the_copy(target, tmp_path, answer):
    """Every file asked for, exactly once: a file left out is no success
    (it used to be skipped silently), and nothing of the batch is written."""
    target.handler = by_op(
        tree_list=listing(file_entry("a", 10), file_entry("b", 10)),
        get_batch=lambda root, names: answer(list(names)),
    )
    runner = target.runner(timeout=20)
    dest = tmp_path / "dest"
    with pytest.raises(ProtocolViolation, match="get_batch made no sense"):
        runner.files.get_directory("/remote/src", str(dest))
    assert os.listdir(dest) == [] and not leftovers(tmp_path)
    assert runner.run_python("1+1") == 2


def test_a_file_removed_on_the_target_after_the_listing_is_reported(target, tmp_path):
    """An honest agent that cannot read a listed file fails the get_batch:
    the copy fails naming it (as a missing file is reported elsewhere)."""
    remote = tmp_path / "remote" / "src"
    remote.mkdir(parents=True)
    (remote / "keep").write_text("keep")
    (remote / "gone").write_text("gone")

    def handler(agent, request_id, payload):
        if messages.decode_request(payload).op == "get_batch":
            os.unlink(remote / "gone")
        agent.honest(request_id, payload)

    target.handler = handler
    runner = target.runner(timeout=20)
    with pytest.raises(FileNotFoundError, match="cannot read on the target") as info:
        runner.files.get_directory(str(remote), str(tmp_path / "dest"))
    assert info.value.filename == str(remote / "gone")
    assert not leftovers(tmp_path)
    assert runner.run_python("1+1") == 2


# ---- time ---------------------------------------------------------------------------------
def test_a_transfer_ends_at_its_timeout_when_the_target_goes_silent(target, tmp_path):
    """get_open answered, get_chunk and get_abort never (pings still
    answered): TransferTimeout within the timeout + 0.5 s."""
    target.handler = by_op(
        get_open=lambda source, follow: (7, "file", 10, 0o644, 0.0, 0.0, None),
        get_chunk=lambda *args: Silent(),
        get_abort=lambda *args: Silent(),
    )
    runner = target.runner(timeout=20)
    started = time.monotonic()
    with pytest.raises(transfers.TransferTimeout):
        runner.files.get("/remote/f", str(tmp_path / "f"), timeout=2)
    elapsed = time.monotonic() - started
    assert elapsed < 2 + SLACK, f"TransferTimeout after {elapsed:.2f} s for timeout=2"
    assert os.listdir(tmp_path) == []
