"""A hostile target must not be able to run code on the controller."""

from __future__ import annotations

import os
import pickle
import struct

import pytest

from RemoteProxyLibrary import RunnerTerminalUnableToDeserialize
from RemoteProxyLibrary.runner import replies
from RemoteProxyLibrary.runner.connection import AgentConnection
from RemoteProxyLibrary.terminal.base import Terminal
from RemoteProxyLibrary.wire import codec, framing, messages


class PipeTerminal(Terminal):
    """An in-memory terminal: bytes written by the 'target' side are read here."""

    description = "pipe"

    def __init__(self) -> None:
        super().__init__()
        self.incoming_r, self.incoming_w = os.pipe()
        self.sent = bytearray()

    @property
    def spawn(self):  # not used by the protocol layer
        raise NotImplementedError

    def _write_all(self, data: bytes) -> None:
        self.sent += data

    def _read(self, size: int, timeout: float | None) -> bytes:
        import select

        ready, _, _ = select.select([self.incoming_r], [], [], timeout)
        return os.read(self.incoming_r, size) if ready else b""

    def is_alive(self) -> bool:
        return True

    def close(self) -> None:
        os.close(self.incoming_w)


class Evil:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_malicious_pickle_in_a_reply_is_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps(Evil(str(marker)))
    terminal = PipeTerminal()
    connection = AgentConnection(terminal)
    connection.start()
    pending = connection.request(messages.KIND_REQUEST, b"anything")
    forged = evil  # the whole reply payload is a pickle
    os.write(
        terminal.incoming_w,
        framing.FrameProtocol().frame(pending.request_id, messages.KIND_REQUEST, forged),
    )
    assert pending.wait(5)
    with pytest.raises(RunnerTerminalUnableToDeserialize):
        replies.outcome(replies.decode_reply(pending.payload()))
    # the pickle hidden as the encoded value of a well-formed reply
    meta = codec.encode((0, "", "", {}))
    pending = connection.request(messages.KIND_REQUEST, b"anything")
    payload = struct.pack(">I", len(meta)) + meta + evil
    os.write(
        terminal.incoming_w,
        framing.FrameProtocol().frame(pending.request_id, messages.KIND_REQUEST, payload),
    )
    assert pending.wait(5)
    with pytest.raises(RunnerTerminalUnableToDeserialize):
        replies.outcome(replies.decode_reply(pending.payload()))
    assert not marker.exists()
    connection.stop()
    terminal.close()


def test_codec_bytes_that_look_like_pickle_stay_bytes():
    evil = pickle.dumps(Evil("/tmp/never"))
    assert codec.decode(codec.encode(evil)) == evil


@pytest.mark.parametrize(
    "meta",
    [
        (0, b"not text", "", {}),
        (0, "", "", ["not", "a", "dict"]),
        (0, "", "", {"type": [1, 2]}),
        ("0", "", "", {}),
    ],
)
def test_a_reply_with_fields_of_the_wrong_type_is_a_clear_error(meta):
    encoded = codec.encode(meta)
    with pytest.raises(RunnerTerminalUnableToDeserialize, match="malformed reply"):
        replies.decode_reply(struct.pack(">I", len(encoded)) + encoded + codec.encode(None))


def test_a_malformed_exception_description_is_a_clear_error():
    error = replies.remote_exception(("builtins", "ValueError", None, 3, None))
    assert isinstance(error, RunnerTerminalUnableToDeserialize)
