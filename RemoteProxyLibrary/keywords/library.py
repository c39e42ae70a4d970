"""The Robot Framework library class: keyword components put together."""

from __future__ import annotations

from typing import Optional, Union

from .. import __version__
from ..managed import TerminalSettings
from ..runner.runnerterminal import direct_mode
from ..terminal.hostkeys import check_policy
from .commands import CommandKeywords
from .converters import CONVERTERS, DEFAULT_PROMPT_TIMEOUT, DEFAULT_TIMEOUT, Seconds
from .core import python_argument
from .files import FileKeywords
from .listener import LibraryListener
from .many import ManyTerminalKeywords
from .proxies import ProxyKeywords
from .python import PythonKeywords
from .terminals import HostKeyPolicy, SshDefaults, TerminalKeywords


class RemoteProxyLibrary(
    TerminalKeywords,
    ManyTerminalKeywords,
    PythonKeywords,
    ProxyKeywords,
    CommandKeywords,
    FileKeywords,
):
    """Runs Python on targets through interactive terminals and holds remote
    objects as local proxies.

    A target needs nothing installed but its own ``python3``: the library opens
    a terminal (a local pty, or SSH), goes through any hops (``ssh``, ``su``,
    ``sudo``, ...), starts Python there and talks to a small agent it sends
    through the terminal. Plain data travels by value; any other object stays
    on the target and is used here through a proxy.

    = Terminals =

    `Open Local Terminal`, `Open SSH Terminal` and `Open Terminal` open a
    terminal, make it the current one and return its index (1, 2, ...). An
    optional ``alias`` names it too. Every keyword working on a terminal takes
    an optional ``terminal`` argument (an index or an alias), so tests need
    not `Switch Terminal`; without it the current terminal is used.

    A terminal holds a stack of shells (hops): `Push Shell` starts another
    shell inside the current one (``su``, ``sudo``, ``ssh`` to the next host,
    ...), `Pop Shell` leaves it. Python keywords run in the top shell; Python
    is started there by the first of them.

    `Close Terminal` closes one terminal, `Close All Terminals` all of them.
    Terminals left open are closed when the execution ends.

    = SSH =

    The first SSH hop of a terminal logs in from this machine with paramiko,
    configured as ``ssh`` would be:

    - ``host`` may be an alias of ``~/.ssh/config`` (or of the file given as
      ``ssh_config``). Its ``HostName``, ``User``, ``Port``, ``IdentityFile``,
      ``ProxyJump``, ``ConnectTimeout``, ``StrictHostKeyChecking`` and
      ``UserKnownHostsFile`` apply; arguments given win over them.
    - Without a password, the keys of an SSH agent (``SSH_AUTH_SOCK``) and the
      usual ``~/.ssh/id_*`` files are offered, after ``key_file`` if given. An
      encrypted key is opened with ``passphrase``.
    - Keyboard-interactive logins (many network devices offer nothing else)
      get the password at the first password prompt; a shell dictionary's
      ``second_factor`` answers the prompts after it.
    - ``jump`` (or ``ProxyJump``) logs in through another host: a tunnel through
      the jump host's own SSH connection, as OpenSSH does.

    Host keys follow a host-key policy, set for all terminals with the library
    argument ``host_key_policy`` and for one terminal with the Open keywords':

    | =Policy=   | =Unknown host=                    | =Changed key=          |
    | accept     | accepted                          | accepted               |
    | accept-new | accepted, added to ``known_hosts`` | fails: HostKeyChanged  |
    | reject     | fails: HostKeyRejected            | fails: HostKeyChanged  |

    ``known_hosts`` is ``~/.ssh/known_hosts`` unless given (or set in the
    ssh_config); ``/etc/ssh/ssh_known_hosts`` is read too. ``HostKeyChanged``
    names the host, the file and the ``ssh-keygen -R`` command that removes the
    old key. With no policy given anywhere, the ssh_config's
    ``StrictHostKeyChecking`` decides, else ``accept``: lab targets are
    re-installed all the time, each time with a new host key, and a stricter
    default would fail the first login after every re-install. Where targets
    are not re-installed, ``accept-new`` or ``reject`` is one argument away:

    | Library | RemoteProxyLibrary | host_key_policy=accept-new |
    | Open SSH Terminal | 10.0.0.2 | admin | ${PASSWORD} | host_key_policy=reject |

    Hops typed into a shell (``ssh`` pushed with `Push Shell` or ``hops``) run
    that host's ``ssh``: they get the policy as its ``StrictHostKeyChecking``
    and ``UserKnownHostsFile`` options (paths there are on that host), and
    OpenSSH's "REMOTE HOST IDENTIFICATION HAS CHANGED" fails them with
    ``HostKeyChanged``.

    = Python on the target =

    The library starts the target's own Python (nothing is installed there).
    Which one is set by ``python``, an argument of the library and of the
    Open keywords:

    | =python=           | =Starts=                                                     |
    | ``auto`` (default) | the newest ``python3.X`` on ``PATH``, else ``python3``, ``python``, |
    |                    | ``python2.7``, ``python2`` (the first usable one)             |
    | a command          | that command: ``python3``, ``/opt/py/bin/python3.9``          |
    | a list of commands | the first usable one: ``${{['python3.12', 'python3']}}``       |

    A list may hold ``auto``.

    The agent needs Python 2.7, or 3.6 or newer: any other candidate (or one
    not found) is passed over for the next, in the same command line, so the
    choice costs no extra round trip. A target with none usable fails at once
    with ``NoUsablePython`` naming what it has, e.g.
    ``no usable Python: no python3.X, python3 is 3.4.10, python is 2.6.9:
    the agent needs Python 2.7, or 3.6 or newer (PATH=/usr/bin:/bin)``. On a
    2.7 target a native ``str`` comes back as text (see the porting guide,
    Targets with Python 2.7). `Get Terminal`
    tells which command started Python (``${info.python}``). In a
    ``PythonShell`` hop, Python runs in that shell's own Python.

    = Python and proxies =

    Plain data is what can travel by value: None, booleans, numbers, strings,
    bytes, dates and times (``datetime``), ``Decimal``, ``Fraction``, ``UUID``,
    paths (as pure paths), named tuples and struct sequences such as the
    results of ``os.stat`` and ``os.uname`` (their fields read as
    ``${st.st_size}``), and lists, tuples, dicts and sets of plain data.

    `Run Python` runs code and returns its value, which must be plain data.
    `Evaluate Python`, `Call Remote Function`, `Call Proxy Method`,
    `Get Proxy Attribute` and `Get Call Response` return plain data as values
    and anything else as proxies. `Get Proxy` and `Get Proxy From Call` always
    return proxies; `Get Local Value` copies a proxied object here.

    A proxy given as an argument stands for its remote object. Remote
    exceptions of Python's built-in types fail the keyword with the same type
    and message (``ZeroDivisionError: division by zero``); other types fail
    with ``RemoteError: module.Type: message``. The remote traceback is logged.

    `Start Remote Function Call` and `Start Proxy Method Call` start a call
    without waiting; `Get Call Response` waits for its value.

    Text that is not UTF-8 on the target (a Latin-1 file name, a Python 2.7
    ``str``) arrives with each such byte as a lone surrogate (U+DC80 to U+DCFF), as
    Python's ``surrogateescape`` makes it. Robot's ``output.xml`` cannot hold
    those, so a keyword returns such text with them written as escapes
    (``latin-\\udce9``), also in the items of a returned list or dict; on the
    target, ``name.encode('utf-8', 'surrogateescape')`` gives the exact bytes.

    Remote code has no terminal: its standard input is empty, and a program
    it starts that wants a terminal (``sudo`` asking for a password,
    ``getpass``) fails at once instead of waiting. Run such programs as hops
    (`Push Shell`) instead.

    = Arguments =

    Robot Framework gives keywords strings: ``Call Remote Function  abs  -5``
    passes the string ``-5``, and ``name=value`` is a named argument. So:

    | =To pass=            | =Write=                          | =The function gets= |
    | a number             | ``${5}``, ``${2.5}``             | ``5``, ``2.5``      |
    | True, False, None    | ``${True}``, ``${None}``         | ``True``, ``None``  |
    | a list or dict       | ``${{[1, 2]}}``, ``${{{'a': 1}}}`` | ``[1, 2]``, ``{'a': 1}`` |
    | bytes                | ``${{b'abc'}}``                  | ``b'abc'``          |
    | a text with ``=``    | ``a\\=b``                        | ``'a=b'``           |
    | a named argument     | ``timeout=${5}``                 | ``timeout=5``       |
    | a remote object      | a proxy (``${proxy}``)           | the object itself   |

    A registered name stands for its proxy only as the ``proxy`` argument of
    the proxy keywords; given as another argument it is just text. Names are
    the library's, not the target's: code run by `Run Python` does not see them.

    A remote ``TypeError`` raised by a call given string arguments says so
    and points here.

    = Multi-line code =

    `Run Python` joins its arguments as lines. Robot strips the spaces that
    start a cell, so indent with ``${SPACE}`` (``${SPACE * 4}``), or keep the
    code in a variable:

    | Run Python | def double(x): |
    | ... | ${SPACE * 4}return 2 * x |

    | ***** Variables *****
    | ${CODE}    for name in ('a', 'b'):
    | ...        ${SPACE * 4}print(name)
    | ...        separator=\\n
    |
    | ***** Test Cases *****
    | Run A Block
    |     Run Python    ${CODE}

    = Proxy registry =

    Each terminal has a registry of proxies by name. `Get Proxy` registers its
    proxy (under ``name``, by default the remote object's name),
    `Evaluate Python` does with ``name``, and `Register Proxy` registers any
    proxy.
    Every keyword taking a ``proxy`` accepts a proxy object or a registered
    name, looked up in the terminal given by ``terminal`` (default: the
    current one). Names are case-sensitive.

    | Import Remote Module | os |
    | Get Proxy | os |
    | ${cwd} = | Call Proxy Method | os | getcwd |

    Pushing or popping a shell stops Python and empties the registry: the
    proxies made before are no longer valid. `Release Proxy` releases one.

    = Commands and files =

    `Execute Command`, `Start Command` and the keywords using what it returns
    (`Read Command Output`, `Wait For Command`, `Send Signal To Command`,
    `Terminate Command`) run commands on the target; `Put File`, `Get File`,
    `Put Directory` and `Get Directory` copy files. Both act as the user of
    the terminal's top shell, whatever the hops: after ``sudo`` they run and
    write as root.

    They follow SSHLibrary where it has the same keyword: `Execute Command`
    returns stdout (and stderr and the rc when asked) with trailing newlines
    removed and does not fail on a non-zero rc; `Read Command Output` reads
    the last started command. `Wait For Command` and `Terminate Command`
    return a result object (``rc``, ``stdout``, ``stderr``) as the Process
    library's keywords do. Differences: a command's ``timeout`` kills it
    with its whole process group and fails the keyword with the output so
    far; `Put File` keeps the source's mode unless given one and does not
    create a missing destination directory unless ``create_dirs=True``;
    directories are copied with their subdirectories unless
    ``recursive=False``. The OperatingSystem library has a ``Get File`` too:
    with both imported, write ``RemoteProxyLibrary.Get File``.

    Every file is checked with SHA-256 and renamed into place only when
    complete, so a failed transfer leaves nothing under the destination's
    name. Each transfer logs one line with its size, time and rate.

    | ${out} = | Execute Command | uname -r |
    | Put File | ${CURDIR}/app.conf | /tmp/app/ | create_dirs=True |
    | Get Directory | /etc/ssh | ${OUTPUT DIR}/ssh | include=*.pub |

    = Direct channel =

    Once Python runs on the target, its requests and replies travel beside
    the terminal where the hops allow it: on a channel of the first SSH
    login's own connection to a port on the target's loopback (or a local
    socket for `Open Local Terminal`), with no pty in between, several times
    faster for large values and files. It applies when every hop after the
    first stays on that host: ``su``, ``sudo``, another shell, Python; not a
    typed ``ssh`` hop, not a network namespace. The terminal itself stays
    the control path: whether the target is alive, and that Python ended.
    The agent listens only on ``127.0.0.1``, only until Python's side has
    connected, and only takes the connection presenting a random one-time
    token given through the terminal: no other user of the target can attach.

    By default (``direct=auto``) a terminal whose hops do not allow it, or
    whose SSH server forbids forwarding (``AllowTcpForwarding no``), just keeps
    the terminal, saying so in the log at INFO level; ``direct=on`` makes that
    an error, ``direct=off`` never tries. Set it for all terminals when
    importing the library, or per terminal in the Open keywords.

    = Auto recovery =

    With auto recovery (library argument ``auto_recovery``,
    `Configure Auto Recovery` or the ``auto_recovery`` argument of the Open
    keywords), a terminal records its stack of shells instead of opening it at
    once: the first Python keyword opens it, and whenever it breaks (Python on
    the target killed, SSH session dropped, target rebooted) the next keyword
    opens it again, redoing every hop, restarting Python and importing again
    the modules of `Import Remote Module`. A call that broke is tried again,
    except one already started with `Start Remote Function Call` or
    `Start Proxy Method Call`: its `Get Call Response` fails.
    Proxies made before a recovery fail with ``InvalidProxySession``: get them
    again.

    Without auto recovery a terminal opens at once (so wrong credentials fail
    the Open keyword) and a broken terminal stays broken: close it.

    = Timeouts =

    Times are given as Robot Framework time strings (``10 s``, ``1 min 30 s``,
    ``1 hour``) or numbers of seconds. One rule for every call:

    - A call's timeout is how long the remote code may run: the ``timeout``
      argument of `Run Python`, `Evaluate Python` and `Get Call Response`,
      else `Set Proxy Timeout` of the proxy, else the terminal's ``timeout``
      (default one hour). (`Call Remote Function` and `Call Proxy Method` pass
      every named argument to the function called, ``timeout`` included.) When
      it passes, the keyword fails with ``RemoteTimeout`` naming the timeout;
      the call goes on on the target.
    - ``prompt_timeout`` (default 30 seconds) bounds each step of opening a
      terminal: a hop's prompt, Python's start, closing. Nothing else.
    - Whether the target is alive is checked apart from any timeout: a dead
      link or a hung target breaks the terminal within 5 seconds of silence
      while a call waits (with auto recovery it is then reopened).

    A Robot test or keyword timeout may stop a keyword while it waits for the
    target: the call goes on on the target and the terminal stays usable. If
    it stops a keyword while shells or Python start or stop, an
    auto-recovering terminal is reopened by the next keyword; any other
    terminal fails the next keyword with an explanation: close it.

    = Logging =

    What remote code prints, and remote tracebacks, go to the log of the
    keyword that ran it (at ``INFO`` level); output of remote background
    threads goes to the log of the next keyword. Log lines of a terminal's
    Python name the terminal (``Remote stdout (terminal 2 (alias 'dut'))``).
    Remote text is logged as text, never as HTML. Passwords never appear in
    the log: shells show them as ``******``. Robot itself logs keyword
    arguments at ``TRACE`` level and the values of variables it creates (a
    dictionary of a hop made with ``Create Dictionary``) at ``INFO``: give
    passwords as
    [https://robotframework.org/robotframework/latest/RobotFrameworkUserGuide.html#secret-type|Secret],
    which Robot never logs, e.g. from an environment variable:

    | ***** Variables *****
    | ${PASSWORD: Secret}    %{DUT_PASSWORD}

    The examples of this documentation take ``${PASSWORD}`` to be such a Secret.

    = Examples in this documentation =

    The examples of the keywords take a terminal with alias ``dut`` to be open
    (`Open Local Terminal  alias=dut` will do for most) with ``os``,
    ``subprocess``, ``json`` and ``time`` imported (`Import Remote Module`).
    ``10.0.0.2`` and ``192.168.1.2`` stand for targets, ``admin`` for a user
    there who may use ``sudo`` and whose password is ``${PASSWORD}``, ``app``
    for another user whose password is ``${PW}`` (or ``${APP_PASSWORD}``), and
    ``dut1`` for a host of an ssh_config file. Every example here and in the
    README runs as a test of the library (``utest/test_doc_examples.py``),
    with those names pointing at a test sshd.

    = A complete suite =

    | ***** Settings *****
    | Library           RemoteProxyLibrary    timeout=10 min
    | Suite Setup       Open SSH Terminal    ${HOST}    admin    ${PASSWORD}    sudo=${True}
    |
    | ***** Test Cases *****
    | Kernel Release
    |     Import Remote Module    os
    |     ${uname} =    Call Remote Function    os.uname
    |     Should Be Equal    ${uname.sysname}    Linux
    |
    | Process On Target
    |     Import Remote Module    subprocess
    |     ${process} =    Get Proxy From Call    subprocess.Popen    ${{['sleep', '1']}}
    |     ${call} =    Start Proxy Method Call    ${process}    wait
    |     ${status} =    Get Call Response    ${call}    timeout=10 s
    |     Should Be Equal    ${status}    ${0}
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = __version__
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"
    ROBOT_AUTO_KEYWORDS = False
    ROBOT_LIBRARY_CONVERTERS = CONVERTERS

    def __init__(
        self,
        timeout: Union[Seconds, str] = DEFAULT_TIMEOUT,
        prompt_timeout: Union[Seconds, str] = DEFAULT_PROMPT_TIMEOUT,
        python: Union[list[str], str] = "auto",
        auto_recovery: bool = False,
        host_key_policy: Optional[HostKeyPolicy] = None,
        known_hosts: Optional[str] = None,
        direct: Optional[str] = None,
    ) -> None:
        """Sets the defaults of the terminals; nothing is opened here.

        - ``timeout``: how long a remote call may take (default one hour).
        - ``prompt_timeout``: how long each step of starting a shell or Python
          may take (default 30 seconds).
        - ``python``: which Python to start on targets: ``auto`` (the
          default), a command, or a list of commands tried in order (see
          `Python on the target`).
        - ``auto_recovery``: whether terminals recover automatically (see
          `Auto recovery`; `Configure Auto Recovery` tunes it).
        - ``host_key_policy``: ``accept``, ``accept-new`` or ``reject``, for
          every SSH hop (see `SSH`); not given, a hop follows its ssh_config's
          ``StrictHostKeyChecking``, else ``accept``.
        - ``known_hosts``: the known_hosts file of the first SSH hops
          (default ``~/.ssh/known_hosts``).
        - ``direct``: how Python's requests and replies travel (see `Direct
          channel`): ``auto`` (a direct channel beside the terminal where the
          hops allow it, else the terminal), ``on`` (the direct channel, or
          opening Python fails) or ``off`` (always the terminal). Not given:
          the environment variable ``RPL_DIRECT``, else ``auto``.

        Each Open keyword can override these for its terminal.

        (Times are typed ``Seconds | str`` here because Robot Framework does not
        use a library's own converters for its import arguments.)

        | Library | RemoteProxyLibrary |
        | Library | RemoteProxyLibrary | timeout=5 min | prompt_timeout=10 s | auto_recovery=True |
        | Library | RemoteProxyLibrary | host_key_policy=accept-new | known_hosts=${CURDIR}/hosts |
        | Library | RemoteProxyLibrary | python=['python3.12', 'python3'] |
        """
        super().__init__(
            TerminalSettings(
                timeout=Seconds.from_value(timeout),
                prompt_timeout=Seconds.from_value(prompt_timeout),
                python=python_argument(python),
                auto_recovery=bool(auto_recovery),
                direct=direct_mode(direct) if direct else None,
            )
        )
        policy = check_policy(host_key_policy) if host_key_policy else None
        self._ssh_defaults = SshDefaults(policy, known_hosts or None)
        self.ROBOT_LIBRARY_LISTENER = LibraryListener(self._close_all)
