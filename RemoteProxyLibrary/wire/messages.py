"""The message layer spoken over frames: what each message kind carries.

Sans-IO and standard library only, like the rest of ``wire``: the agent bundle
ships this module to the target, and the controller imports the same file, so
every constant and layout below is written exactly once. (Kept free of
annotations and f-strings: simple old syntax travels furthest.)

Kinds (one ASCII letter, see :mod:`.framing`):

====  =====================  ==================================================
kind  direction              payload
====  =====================  ==================================================
H     agent -> controller    hello, id 0: ``{"pid": int, "python": [3, 11, 7]}``
R     both                   a request, and its reply under the same id
P     both                   liveness ping, echoed by the agent's reader thread
B     both                   binary probe, echoed as a raw frame
E     controller -> agent    the probe came back intact: large replies go raw
Z     both                   close: the agent answers, restores the tty, exits
O     agent -> controller    output nobody captured (id 0): ``(stream, text)``
X     agent -> controller    the request of this id arrived corrupted: reason
D     both                   the direct channel: its offer and the agent's answer
====  =====================  ==================================================

A request (kind ``R``) is the encoded tuple ``(release, op, args, mode,
assign_to)``: ``release`` lists handles to drop first (garbage riding along),
``op`` names an operation of the agent, ``args`` its arguments, ``mode`` one of
the ``MODE_*`` values, ``assign_to`` a name to bind the result to, or None.

A reply (kind ``R``) is a 4-byte big-endian length, the encoded tuple
``(status, stdout, stderr, described)``, then the encoded value. ``described``
maps type keys to the callable attribute names of types seen for the first
time. The value comes apart from the rest, so a 100 MB result is encoded once.
With ``STATUS_EXCEPTION`` the value is an exception description
``(module, qualname, args, message, traceback, attributes)``: ``args`` is None
when they cannot travel, ``attributes`` a dict of the exception's attributes
that are plain data (``errno``, ``filename``, ``returncode``, ...); with
``STATUS_CANNOT_TRAVEL`` a text saying why the result could not travel by value.

Decoding checks the layout and raises :class:`codec.DecodeError` (a
``ValueError``) for anything else: every byte from the other end is input.
"""

import struct

from . import codec
from .compat import TEXT, binary

KIND_HELLO = "H"
KIND_REQUEST = "R"
KIND_PING = "P"
KIND_PROBE = "B"
KIND_RAW_REPLIES = "E"
KIND_CLOSE = "Z"
KIND_OUTPUT = "O"
KIND_CORRUPT = "X"
KIND_DIRECT = "D"

#: Id of messages that answer no request (hello, output, notifications).
NO_REQUEST = 0

MODE_VALUE = 0  # the result must travel by value
MODE_AUTO = 1  # by value when it is of a handled type, else kept behind a new handle
MODE_REF = 2  # always kept behind a new handle
MODE_NONE = 3  # nothing returned
MODE_PLAIN = 4  # by value when it is plain data (the codec carries it), else kept
MODES = (MODE_VALUE, MODE_AUTO, MODE_REF, MODE_NONE, MODE_PLAIN)

#: The types MODE_AUTO returns by value unless the controller configures
#: others (the older library's default: None, int, float, str, bytes; bool is
#: an int). Each is named ``module.qualname``.
DEFAULT_HANDLED_TYPES = (
    "builtins.NoneType",
    "builtins.int",
    "builtins.float",
    "builtins.str",
    "builtins.bytes",
)

STATUS_OK = 0
STATUS_EXCEPTION = 1
STATUS_CANNOT_TRAVEL = 2
STATUSES = (STATUS_OK, STATUS_EXCEPTION, STATUS_CANNOT_TRAVEL)

#: The line the agent's heartbeat helper writes while a call holds the GIL:
#: "busy, not dead". Outside frames, so the controller sees it as noise. While
#: requests run, a small forked helper process writes it every
#: HEARTBEAT_INTERVAL seconds as long as the agent process is not stopped: a
#: call that holds the GIL for long (a C extension, a regex, big integers)
#: starves the agent's reader thread, so pings go unanswered, but the
#: controller still hears the target and does not take the session for dead.
HEARTBEAT_LINE = "~rpl-busy~"
HEARTBEAT = b"\n" + HEARTBEAT_LINE.encode("ascii") + b"\n"
HEARTBEAT_INTERVAL = 1.0

_LENGTH = struct.Struct(">I")


class Request(object):
    """A decoded request (see the module doc for the fields)."""

    __slots__ = ("args", "assign_to", "mode", "op", "release")

    def __init__(self, release, op, args, mode, assign_to):
        self.release = release
        self.op = op
        self.args = args
        self.mode = mode
        self.assign_to = assign_to


def encode_request(release, op, args, mode=MODE_VALUE, assign_to=None, ref_encoder=None):
    """The payload of an ``R`` request; raises :class:`codec.EncodeError`
    when an argument cannot travel (``ref_encoder`` turns proxies into Refs)."""
    return codec.encode((list(release), op, tuple(args), mode, assign_to), ref_encoder)


def decode_request(payload, ref_decoder=None):
    """A :class:`Request` from an ``R`` payload (Refs resolved by ``ref_decoder``)."""
    fields = codec.decode(payload, ref_decoder)
    if not (isinstance(fields, tuple) and len(fields) == 5):
        raise codec.DecodeError("a request is a 5-tuple")
    release, op, args, mode, assign_to = fields
    if not (
        isinstance(release, list)
        and all(isinstance(name, TEXT) for name in release)
        and isinstance(op, TEXT)
        and isinstance(args, tuple)
        and mode in MODES
        and (assign_to is None or isinstance(assign_to, TEXT))
    ):
        raise codec.DecodeError("malformed request fields")
    return Request(release, op, args, mode, assign_to)


class Reply(object):
    """A decoded reply: ``status``, ``stdout``, ``stderr``, ``described`` and
    the still encoded ``value_bytes`` (decode them with :meth:`value`)."""

    __slots__ = ("described", "status", "stderr", "stdout", "value_bytes")

    def __init__(self, status, stdout, stderr, described, value_bytes):
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.described = described
        self.value_bytes = value_bytes

    def value(self, ref_decoder=None):
        """The value (or exception description); :class:`codec.DecodeError`
        when it is not a valid encoding."""
        return codec.decode(self.value_bytes, ref_decoder)


def _header(status, stdout, stderr, described):
    meta = codec.encode((status, stdout, stderr, described))
    return _LENGTH.pack(len(meta)) + meta


#: The header of the commonest reply (ok, nothing printed, no new type): its
#: bytes are made once, and a reply starting with them is read without
#: decoding them again (the same bytes :func:`encode_reply` makes).
_PLAIN_OK = _header(STATUS_OK, "", "", {})
_PLAIN_OK_SIZE = len(_PLAIN_OK)


def encode_reply(status, stdout, stderr, described, value_bytes):
    """The payload of an ``R`` reply; ``value_bytes`` is already encoded."""
    if status == STATUS_OK and not (stdout or stderr or described):
        return _PLAIN_OK + value_bytes
    return _header(status, stdout, stderr, described) + value_bytes


def decode_reply(payload):
    """A :class:`Reply` from an ``R`` payload (the value stays encoded)."""
    view = memoryview(payload)
    if view[:_PLAIN_OK_SIZE] == _PLAIN_OK:
        return Reply(STATUS_OK, "", "", {}, view[_PLAIN_OK_SIZE:])
    if len(view) < _LENGTH.size:
        raise codec.DecodeError("reply shorter than its length prefix")
    (size,) = _LENGTH.unpack_from(view)
    if size > len(view) - _LENGTH.size:
        raise codec.DecodeError("reply header length {} exceeds the reply".format(size))
    meta = codec.decode(view[_LENGTH.size : _LENGTH.size + size])
    if not (isinstance(meta, tuple) and len(meta) == 4):
        raise codec.DecodeError("reply header is not a 4-tuple")
    status, stdout, stderr, described = meta
    if not (
        type(status) is int
        and status in STATUSES
        and isinstance(stdout, TEXT)
        and isinstance(stderr, TEXT)
        and isinstance(described, dict)
        and all(
            isinstance(key, TEXT)
            and isinstance(names, (list, tuple))
            and all(isinstance(name, TEXT) for name in names)
            for key, names in described.items()
        )
    ):
        raise codec.DecodeError(
            "malformed reply header: expected (status, stdout str, stderr str, "
            "described dict), got ({})".format(", ".join(type(x).__name__ for x in meta))
        )
    return Reply(status, stdout, stderr, described, view[_LENGTH.size + size :])


def check_exception_description(description):
    """``(module, qualname, args, message, traceback, attributes)`` checked
    field by field."""
    if not (isinstance(description, tuple) and len(description) == 6):
        raise codec.DecodeError("an exception description is a 6-tuple")
    module, qualname, args, message, text, attributes = description
    if not all(isinstance(x, TEXT) for x in (module, qualname, message, text)):
        raise codec.DecodeError("exception description has non-text fields")
    if args is not None and not isinstance(args, tuple):
        raise codec.DecodeError("exception description args is not a tuple")
    if not (isinstance(attributes, dict) and all(isinstance(k, TEXT) for k in attributes)):
        raise codec.DecodeError("exception description attributes is not a dict by name")
    return description


def encode_output(stream, text):
    """The payload of an ``O`` message: text a background writer printed."""
    return codec.encode((stream, text))


def decode_output(payload):
    """``(stream, text)`` of an ``O`` message."""
    fields = codec.decode(payload)
    if not (
        isinstance(fields, tuple)
        and len(fields) == 2
        and isinstance(fields[0], TEXT)
        and isinstance(fields[1], TEXT)
    ):
        raise codec.DecodeError("an output message is (stream str, text str)")
    return fields


#: Bytes of each one-time token of the direct channel (see :func:`encode_direct_offer`).
DIRECT_TOKEN_SIZE = 32


def encode_direct_offer(token):
    """The payload of a ``D`` request (sent on the terminal): listen on the
    target's loopback for the controller, who will present ``token``
    (``DIRECT_TOKEN_SIZE`` random bytes). An empty ``token`` withdraws the
    offer: the agent stops listening."""
    return codec.encode((token,))


def decode_direct_offer(payload):
    """The token of a ``D`` request (``b""``: the offer is withdrawn)."""
    fields = codec.decode(payload)
    if not (
        isinstance(fields, tuple)
        and len(fields) == 1
        and isinstance(fields[0], bytes)
        and len(fields[0]) in (0, DIRECT_TOKEN_SIZE)
    ):
        raise codec.DecodeError("a direct offer is (token bytes,)")
    return fields[0]


def encode_direct_answer(port, token):
    """The payload of the agent's ``D`` reply: the loopback ``port`` it
    listens on (0: it cannot listen) and the token it will answer the
    controller's with once connected, proving it is the agent."""
    return codec.encode((port, binary(token)))


def decode_direct_answer(payload):
    """``(port, token)`` of the agent's ``D`` reply."""
    fields = codec.decode(payload)
    if not (
        isinstance(fields, tuple)
        and len(fields) == 2
        and type(fields[0]) is int
        and 0 <= fields[0] < 65536
        and isinstance(fields[1], bytes)
        # no port, no token; a port, a whole token (an empty one would prove
        # nothing about what answers on that port)
        and len(fields[1]) == (DIRECT_TOKEN_SIZE if fields[0] else 0)
    ):
        raise codec.DecodeError(
            "a direct answer is (0, b'') or (port, a token of %d bytes)" % DIRECT_TOKEN_SIZE
        )
    return fields


def encode_hello(pid, version_info):
    """The payload of the agent's ``H`` message."""
    return codec.encode({"pid": pid, "python": list(version_info[:3])})


def decode_hello(payload):
    """``{"pid": int, "python": [major, minor, micro]}`` from an ``H`` message."""
    hello = codec.decode(payload)
    if not (
        isinstance(hello, dict)
        and type(hello.get("pid")) is int
        and isinstance(hello.get("python"), list)
        and all(type(part) is int for part in hello["python"])
    ):
        raise codec.DecodeError("malformed hello")
    return hello
