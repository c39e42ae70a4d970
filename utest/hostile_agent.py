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

The direct channel (config ``direct``): ``refuse`` (the default) answers the
offer with port 0, so the session stays on the terminal at once; ``none``
never answers; ``serve`` listens as the real agent does, and once the
controller presented its token, reports what comes on that connection too and
answers its pings and honest requests there; ``wrong_token`` answers the
controller with a token that is not the one it was told.

Control messages are length-prefixed (4 bytes, big endian) values of the
project's own codec: to the test ``("started", pid)``, ``("message", id,
kind, payload)``, ``("corrupt", id, reason, fatal)``; from the test
``("config", {...})``, ``("write", bytes)``, ``("write_direct", bytes)``
(on the direct channel), ``("close_direct",)``, ``("honest", id, payload)``,
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
from RemoteProxyLibrary.agent import direct as real_direct  # noqa: E402
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
    "direct": "refuse",  # "refuse", "none", "serve", "wrong_token" (see module doc)
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


class Direct:
    """The direct channel as the harness plays it (see module doc)."""

    def __init__(self):
        self.listener = None
        self.token = b""
        self.ours = b""
        self.sock = None
        self.receiver = framing.FrameProtocol(accept_raw=True)
        self.requests = set()  # ids of requests that came this way

    def offer(self, request_id, payload, config, sender):
        how = config["direct"]
        if how == "none":
            return
        port = 0
        if how in ("serve", "wrong_token") and self.listener is None:
            self.token = messages.decode_direct_offer(payload)
            self.listener = real_direct.listen()
            port = self.listener.getsockname()[1]
            self.ours = os.urandom(messages.DIRECT_TOKEN_SIZE)
        answer = messages.encode_direct_answer(port, self.ours if port else b"")
        write(sender.frame(request_id, messages.KIND_DIRECT, answer))

    def accept(self, config):
        sock = self.listener.accept()[0]
        self.listener.close()
        self.listener = None
        sock.settimeout(5)
        got = b""
        while len(got) < len(self.token):
            chunk = sock.recv(len(self.token) - len(got))
            if not chunk:
                break
            got += chunk
        sock.settimeout(None)
        if got != self.token:
            sock.close()
            return
        if config["direct"] == "wrong_token":
            sock.sendall(os.urandom(len(self.ours)))
        else:
            sock.sendall(self.ours)
        self.sock = sock

    def write(self, data):
        if self.sock is not None:
            self.sock.sendall(data)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def serve(channel, config, sender, receiver, agent, worker):
    """Until the tty or the control socket closes, or close is answered."""
    direct = Direct()
    while True:
        watched = [0, channel.sock]
        watched += [s for s in (direct.listener, direct.sock) if s is not None]
        ready, _, _ = select.select(watched, [], [])
        if channel.sock in ready:
            values = channel.feed()
            if values is None:
                return
            for value in values:
                if command(value, config, sender, agent, worker, direct) == "exit":
                    return
        if direct.listener is not None and direct.listener in ready:
            direct.accept(config)
        if direct.sock is not None and direct.sock in ready:
            try:
                data = direct.sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                direct.close()
            for event in direct.receiver.receive(data):
                if isinstance(event, framing.Message):
                    direct.requests.add(event.request_id)
                react(event, channel, config, sender, agent, direct, direct.write)
        if 0 in ready:
            try:
                data = os.read(0, 1 << 16)
            except OSError:
                return
            if not data:
                return
            for event in receiver.receive(data):
                if react(event, channel, config, sender, agent, direct, write) == "exit":
                    return


def command(value, config, sender, agent, worker, direct):
    """Carry out one command of the test."""
    what = value[0]
    if what == "config":
        config.update(value[1])
    elif what == "write":
        write(value[1])
    elif what == "write_direct":
        direct.write(value[1])
    elif what == "close_direct":
        direct.close()
    elif what == "honest":
        reply = worker.reply(value[2])
        if value[1] in direct.requests:
            direct.write(sender.frame(value[1], messages.KIND_REQUEST, reply, raw=True))
            return None
        raw = agent.raw_replies and len(reply) > real_agent.RAW_THRESHOLD
        write(sender.frame(value[1], messages.KIND_REQUEST, reply, raw=raw))
    elif what == "exit":
        return "exit"
    return None


def react(event, channel, config, sender, agent, direct, send):
    """Report one event to the test; answer what is answered by itself
    (``send`` writes on the link the event came on)."""
    if isinstance(event, framing.CorruptFrame):
        channel.send(("corrupt", event.request_id, event.reason, event.fatal))
        return None
    if not isinstance(event, framing.Message):
        return None
    request_id, kind, payload = event.request_id, event.kind, bytes(event.payload)
    channel.send(("message", request_id, kind, payload))
    if kind == messages.KIND_PING and config["ping"]:
        send(sender.frame(request_id, kind, payload, raw=send is not write))
    elif kind == messages.KIND_DIRECT:
        direct.offer(request_id, payload, config, sender)
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
