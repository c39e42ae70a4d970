"""A hostile agent: what the tests start as the target's python, on a real pty.

The runner starts it as it starts any python, from the shell of a real pty::

    <python> utest/hostile_agent.py CONTROL_SOCKET -c '<stage-0>'

It does what stage-0 does (raw tty, ``RPL-READY``, reads the bundle, which
it never runs), says hello, and then speaks frames as the test on the other
end of ``CONTROL_SOCKET`` (``hostile.py``) chooses: it reports every message
and corrupt frame it receives, answers pings, the binary probe and close by
itself (each can be switched off), and writes whatever bytes the test sends.
For an honest answer to a request it runs the real agent's worker (the test
asks for it request by request), so a test can mix honest and crafted replies
in one session.

Control messages are length-prefixed (4 bytes, big endian) values of the
project's own codec: to the test ``("started", pid)``, ``("message", id,
kind, payload)``, ``("corrupt", id, reason, fatal)``; from the test
``("config", {...})``, ``("write", bytes)``, ``("honest", id, payload)``,
``("exit",)``. The first message from the test is the config.
"""

import os
import re
import select
import socket
import struct
import sys
import termios
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from RemoteProxyLibrary.agent import agent as real_agent  # noqa: E402
from RemoteProxyLibrary.wire import codec, framing, messages  # noqa: E402

LENGTH = struct.Struct(">I")

#: What the agent does unless the test says otherwise.
DEFAULTS = {
    "hello": "after",  # "after" the bundle, "with_ready" in one write with RPL-READY, "none"
    # "raw" (echo it, as the real agent), "refuse" (a damaged echo), "translate"
    # (echo it raw through a tty that turns LF into CRLF), "none"
    "probe": "raw",
    "ping": True,  # answer pings
    "close": True,  # answer Z, give the tty back and exit
}


class Channel:
    """Length-prefixed codec values over the control socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def send(self, value):
        data = codec.encode(value)
        self.sock.sendall(LENGTH.pack(len(data)) + data)

    def feed(self):
        """Read what is there; return the complete values (None at EOF)."""
        data = self.sock.recv(1 << 20)
        if not data:
            return None
        self.buffer += data
        values = []
        while len(self.buffer) >= LENGTH.size:
            (size,) = LENGTH.unpack_from(self.buffer)
            if len(self.buffer) < LENGTH.size + size:
                break
            values.append(codec.decode(self.buffer[LENGTH.size : LENGTH.size + size]))
            self.buffer = self.buffer[LENGTH.size + size :]
        return values

    def receive(self):
        while True:
            values = self.feed()
            if values is None:
                raise EOFError("control socket closed")
            if values:
                return values[0]


def write(data):
    view = memoryview(data)
    while view:
        view = view[os.write(1, view) :]


def main():
    control_path = sys.argv[1]
    stage0 = sys.argv[sys.argv.index("-c") + 1]
    size = int(re.search(r"while len\(_rpl_d\)<(\d+)", stage0).group(1))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(control_path)
    channel = Channel(sock)
    config = dict(DEFAULTS)
    config.update(channel.receive())
    attrs = termios.tcgetattr(0)
    tty.setraw(0)
    sender = framing.FrameProtocol()
    hello = sender.frame(
        messages.NO_REQUEST,
        messages.KIND_HELLO,
        messages.encode_hello(os.getpid(), sys.version_info),
    )
    write(b"RPL-READY\r\n" + (hello if config["hello"] == "with_ready" else b""))
    bundle = b""
    while len(bundle) < size:
        bundle += os.read(0, size - len(bundle))
    if config["hello"] == "after":
        write(hello)
    devnull = open(os.devnull, "w")  # noqa: SIM115 (for the process's life)
    sys.stdout = sys.stderr = devnull  # what honest remote code prints goes nowhere
    agent = real_agent.Agent(attrs)
    worker = real_agent.Worker(agent)
    receiver = framing.FrameProtocol()
    channel.send(("started", os.getpid()))
    try:
        serve(channel, config, sender, receiver, agent, worker)
    finally:
        termios.tcsetattr(0, termios.TCSADRAIN, attrs)


def serve(channel, config, sender, receiver, agent, worker):
    """Until the tty or the control socket closes, or close is answered."""
    while True:
        ready, _, _ = select.select([0, channel.sock], [], [])
        if channel.sock in ready:
            values = channel.feed()
            if values is None:
                return
            for value in values:
                if command(value, config, sender, agent, worker) == "exit":
                    return
        if 0 in ready:
            try:
                data = os.read(0, 1 << 16)
            except OSError:
                return
            if not data:
                return
            for event in receiver.receive(data):
                if react(event, channel, config, sender, agent) == "exit":
                    return


def command(value, config, sender, agent, worker):
    """Carry out one command of the test."""
    what = value[0]
    if what == "config":
        config.update(value[1])
    elif what == "write":
        write(value[1])
    elif what == "honest":
        reply = worker.reply(value[2])
        raw = agent.raw_replies and len(reply) > real_agent.RAW_THRESHOLD
        write(sender.frame(value[1], messages.KIND_REQUEST, reply, raw=raw))
    elif what == "exit":
        return "exit"
    return None


def react(event, channel, config, sender, agent):
    """Report one event to the test; answer what is answered by itself."""
    if isinstance(event, framing.CorruptFrame):
        channel.send(("corrupt", event.request_id, event.reason, event.fatal))
        return None
    if not isinstance(event, framing.Message):
        return None
    request_id, kind, payload = event.request_id, event.kind, bytes(event.payload)
    channel.send(("message", request_id, kind, payload))
    if kind == messages.KIND_PING and config["ping"]:
        write(sender.frame(request_id, kind, payload))
    elif kind == messages.KIND_PROBE and config["probe"] == "raw":
        write(sender.frame(request_id, kind, payload, raw=True))
    elif kind == messages.KIND_PROBE and config["probe"] == "refuse":
        write(sender.frame(request_id, kind, payload[:-1]))
    elif kind == messages.KIND_PROBE and config["probe"] == "translate":
        write(sender.frame(request_id, kind, payload, raw=True).replace(b"\n", b"\r\n"))
    elif kind == messages.KIND_RAW_REPLIES:
        agent.raw_replies = True
    elif kind == messages.KIND_CLOSE and config["close"]:
        write(sender.frame(request_id, kind, b""))
        return "exit"
    return None


if __name__ == "__main__":
    main()
