*** Settings ***
Documentation       The older library's API as its users have it: the porting
...                 modules' classes imported as Robot libraries (a RunnerTerminal
...                 over an interactive session or over an AutoRecoveringTerminal,
...                 an AutoRunnerTerminal that opens its shells on demand),
...                 background commands through a Popen proxy in asynchronous
...                 mode, and files copied both ways through remote file objects
...                 (ReferenceHelpers.py, written with the reference API only).
...
...                 Tests tagged ``issue-11`` check a behaviour of the reference
...                 that ours does not have yet (see issue 11 and the porting
...                 guide); ``ssh`` tests use the throwaway sshd of
...                 resources/sshtarget.py, started by the first of them.
Library             RemoteProxyLibrary.runnerterminal.RunnerTerminal    WITH NAME    runner
Library             RemoteProxyLibrary.runnerterminal.RunnerTerminal    WITH NAME    other runner
Library             RemoteProxyLibrary.autorunnerterminal.AutoRunnerTerminal    WITH NAME    auto runner
Library             RemoteProxyLibrary.autorecoveringterminal.AutoRecoveringTerminal
...                     WITH NAME    recovering
Library             RemoteProxyLibrary.InteractiveSession.BashShell    WITH NAME    bash
Library             ReferenceHelpers.py
Resource            common.resource
Test Teardown       Close Everything
Test Timeout        1 minute
Suite Teardown      Finish


*** Variables ***
${SSH_STARTED}      ${False}


*** Test Cases ***
# ---- runners used as Robot libraries -----------------------------------------
Runner Over An Object With Get Session
    ${holder} =    New Session Holder
    runner.Initialize    session=${holder}
    runner.Run Python    answer = 42
    Handle Should Hold    runner    answer    ${42}

Runner Over An AutoRecoveringTerminal
    ${shell} =    Get Library Instance    bash
    recovering.Initialize    shells=${shell}
    recovering.Initialize Terminal
    ${session} =    Get Library Instance    recovering
    runner.Initialize    session=${session}
    runner.Run Python    answer = 42
    Handle Should Hold    runner    answer    ${42}

Runner Setup Session As Prepare Of An AutoRecoveringTerminal
    [Tags]    issue-11
    ${plain} =    Get Library Instance    runner
    ${shell} =    Get Library Instance    bash
    recovering.Initialize    shells=${shell}    prepare=${plain.setup_session}    finalize=${plain.close}
    recovering.Initialize Terminal
    ${session} =    Get Library Instance    recovering
    runner.Initialize    session=${session}
    runner.Run Python    answer = 42
    Handle Should Hold    runner    answer    ${42}

Auto Runner Opens Its Shells When Asked
    ${shell} =    Get Library Instance    bash
    auto runner.Initialize With Shells    shells=${shell}
    auto runner.Initialize If Needed
    auto runner.Run Python    answer = 42
    Handle Should Hold    auto runner    answer    ${42}

Auto Runner Opens Its Shells At First Use
    ${shell} =    Get Library Instance    bash
    auto runner.Initialize With Shells    shells=${shell}
    ${sum} =    auto runner.Run Python Call    sum    ${{[1, 2, 3]}}
    Should Be Equal    ${sum}    ${6}

Auto Close Closes The Recovering Terminal On A Broken Session
    [Tags]    issue-11
    ${finalize} =    New Call Counter
    ${shell} =    Get Library Instance    bash
    recovering.Initialize    shells=${shell}    finalize=${finalize}
    recovering.Initialize Terminal
    ${session} =    Get Library Instance    recovering
    Break Inside Auto Close    ${session}
    Should Be Equal    ${finalize.calls}    ${1}

Interactive Session Dumps What It Receives And Sends
    [Tags]    issue-11
    ${received} =    Set Variable    ${OUTPUT_DIR}${/}reference-dump-received.txt
    ${sent} =    Set Variable    ${OUTPUT_DIR}${/}reference-dump-sent.txt
    Remove Files    ${received}    ${sent}
    ${holder} =    New Session Holder    dump_received=${received}    dump_outgoing=${sent}
    runner.Initialize    session=${holder}
    ${value} =    runner.Run Python    6 * 7
    Should Be Equal    ${value}    ${42}
    ${received size} =    Get File Size    ${received}
    ${sent size} =    Get File Size    ${sent}
    Should Be True    ${received size} > 0 and ${sent size} > 0

Runner Keyword Timeouts Take Robot Time Strings
    [Tags]    issue-11
    ${holder} =    New Session Holder
    runner.Initialize    session=${holder}
    ${value} =    runner.Run Python    6 * 7    timeout=2 s
    Should Be Equal    ${value}    ${42}

BuiltIn Evaluate Is Not Shadowed By A Runner Library
    [Documentation]    The reference runners have no ``evaluate``: ``Evaluate``
    ...    stays BuiltIn's in a suite that imports them as libraries.
    [Tags]    issue-11
    ${value} =    Evaluate    6 * 7
    Should Be Equal    ${value}    ${42}

# ---- values and proxies -------------------------------------------------------
Container Behind A Recursive Proxy Stays Remote
    [Tags]    issue-11
    Open Runner
    ${sys} =    runner.Get Recursive Proxy    sys
    Call Method    ${sys.path}    append    /added/through/a/proxy
    ${added} =    runner.Run Python    '/added/through/a/proxy' in sys.path
    Should Be True    ${added}

Struct Sequence Behind A Recursive Proxy Keeps Its Fields
    [Tags]    issue-11
    Open Runner
    ${os} =    runner.Get Recursive Proxy    os
    ${stat} =    Call Method    ${os}    stat    /tmp
    ${expected} =    runner.Run Python    os.stat('/tmp').st_mode
    Should Be Equal    ${stat.st_mode}    ${expected}

Get Proxy Or Basic From Call Copies Only Scalars
    [Tags]    issue-11
    Open Runner
    ${number} =    runner.Get Proxy Or Basic From Call    int    12
    Should Be Equal    ${number}    ${12}
    ${text} =    runner.Get Proxy Or Basic From Call    str    ${12}
    Should Be Equal    ${text}    12
    ${mapping} =    runner.Get Proxy Or Basic From Call    dict    a=${1}
    ${is proxy} =    runner.Isproxy    ${mapping}
    Should Be True    ${is proxy}
    Call Method    ${mapping}    update    b=${2}
    Should Be Equal    ${mapping.as_local_value()}    ${{{'a': 1, 'b': 2}}}

As Local Value Copies Everyday Value Types
    [Tags]    issue-11
    Open Runner
    runner.Import Libraries    datetime    decimal
    ${day} =    runner.Get Proxy Object From Call    datetime.date    ${2024}    ${2}    ${29}
    Should Be Equal    ${day.as_local_value()}    ${{datetime.date(2024, 2, 29)}}
    ${amount} =    runner.Get Proxy Object From Call    decimal.Decimal    1.25
    Should Be Equal    ${amount.as_local_value()}    ${{decimal.Decimal('1.25')}}

Proxy Used With Another Runner Is Refused
    [Documentation]    FAIL GLOB: InvalidProxySession: *
    [Tags]    issue-11
    Open Runner
    ${holder} =    New Session Holder
    other runner.Initialize    session=${holder}
    runner.Import Libraries    collections
    other runner.Import Libraries    collections
    ${here} =    runner.Get Proxy Object From Call    collections.deque    ${{[1, 2, 3]}}
    ${there} =    other runner.Get Proxy Object From Call    collections.deque    ${{[]}}
    other runner.Run Python Call    len    ${here}

Remote OSError Keeps Its Attributes
    [Tags]    issue-11
    Open Runner
    ${error} =    Remote Exception Of    ${RUNNER}    open('/no/such/dir/file')
    Should Be Equal    ${{type($error).__name__}}    FileNotFoundError
    Should Be Equal    ${error.errno}    ${2}
    Should Be Equal    ${error.strerror}    No such file or directory
    Should Be Equal    ${error.filename}    /no/such/dir/file

Run On A Closed Runner Says It Is Closed
    [Tags]    issue-11
    Run Keyword And Expect Error    RunnerTerminalSessionClosed: *    runner.Run    1 + 1
    Open Runner
    ${value} =    runner.Run    1 + 1
    Should Be Equal    ${value}    ${2}
    runner.Close
    Run Keyword And Expect Error    RunnerTerminalSessionClosed: *    runner.Run    1 + 1

Runner Exceptions Derive As In The Reference
    [Tags]    issue-11
    ${exceptions} =    BuiltIn.Evaluate    RemoteProxyLibrary.runnerexceptions
    ...    modules=RemoteProxyLibrary.runnerexceptions
    FOR    ${name}    IN    InvalidProxySession    RemoteTimeout    RunnerTerminalSessionBroken
    ...    RunnerTerminalSessionClosed    RunnerTerminalUnableToDeserialize    SessionInitializationFailed
        Should Be True    issubclass($exceptions.${name}, $exceptions.RunnerException)
        ...    ${name} is not a RunnerException
    END

# ---- background commands ------------------------------------------------------
Command That Ends By Itself
    Open Remote Commands
    ${started} =    ReferenceHelpers.Start Command    echo to stdout; echo to stderr >&2
    ${result} =    Stop Command    ${started}
    Should Be Equal    ${result.returncode}    ${0}
    Should Be Equal    ${result.stdout}    ${{b'to stdout\n'}}
    Should Be Equal    ${result.stderr}    ${{b'to stderr\n'}}

Command Stopped While It Runs
    Open Remote Commands
    ${started} =    ReferenceHelpers.Start Command    echo started; sleep 60
    Run Keyword And Expect Error    RemoteTimeout: *    ReferenceHelpers.Wait For Command    ${started}    timeout=${0.3}
    ${result} =    Stop Command    ${started}
    Should Be Equal    ${result.returncode}    ${-15}
    Should Be Equal    ${result.stdout}    ${{b'started\n'}}

Two Commands At Once
    Open Remote Commands
    ${first} =    ReferenceHelpers.Start Command    echo first; sleep 60
    ${second} =    ReferenceHelpers.Start Command    echo second; sleep 60
    ${result} =    Stop Command    ${second}
    Should Be Equal    ${result.stdout}    ${{b'second\n'}}
    Should Be Equal    ${result.returncode}    ${-15}
    ${result} =    Stop Command    ${first}
    Should Be Equal    ${result.stdout}    ${{b'first\n'}}
    Should Be Equal    ${result.returncode}    ${-15}

Proxies Filled In Prepare Work Again After A Recovery
    ${commands} =    Open Remote Commands
    ${pid} =    Remote Python Pid
    Kill Target Python    ${pid}
    ${started} =    ReferenceHelpers.Start Command    echo after recovery
    ${result} =    Stop Command    ${started}
    Should Be Equal    ${result.stdout}    ${{b'after recovery\n'}}
    ${new pid} =    Remote Python Pid
    Should Not Be Equal    ${pid}    ${new pid}
    Should Be Equal    ${commands.prepared}    ${2}

Finalize Runs Before A Recovery
    [Documentation]    The reference: "The session is not guaranteed to be
    ...    open when the finalize is called": a session that broke is
    ...    finalized too before it is opened again.
    [Tags]    issue-11
    ${commands} =    Open Remote Commands
    ${pid} =    Remote Python Pid
    Kill Target Python    ${pid}
    Remote Python Pid
    Should Be Equal    ${commands.prepared}    ${2}
    Should Be Equal    ${commands.finalized}    ${1}

Proxy Timeout Bounds The Remote Call
    [Documentation]    A 0.5 s proxy timeout on a 3 s remote call raises
    ...    RemoteTimeout in about 0.5 s; the response comes later.
    [Tags]    issue-11
    Open Runner
    runner.Import Libraries    subprocess
    ${process} =    runner.Get Proxy Object From Call    subprocess.Popen    ${{['sleep', '3']}}
    Call Method    ${process}    set_remote_proxy_timeout    ${0.5}
    ${timed out} =    Call Expecting Timeout    ${process.wait}
    Should Be True    ${timed out.seconds} < 1.5    took ${timed out.seconds} s
    ${status} =    Call Method    ${process}    get_remote_proxy_response    ${timed out.error}    timeout=${10}
    Should Be Equal    ${status}    ${0}

Method Attribute Keeps Its Own Timeout
    [Tags]    issue-11
    Open Runner
    runner.Import Libraries    subprocess
    ${process} =    runner.Get Proxy Object From Call    subprocess.Popen    ${{['sleep', '3']}}
    ${wait} =    Set Variable    ${process.wait}
    Call Method    ${wait}    set_remote_proxy_timeout    ${0.5}
    ${timed out} =    Call Expecting Timeout    ${wait}
    Should Be True    ${timed out.seconds} < 1.5    took ${timed out.seconds} s
    Call Method    ${process}    kill

# ---- files through remote file objects ----------------------------------------
File Goes To The Target And Back Unchanged
    Open Remote Commands
    ${local} =    Set Variable    ${OUTPUT_DIR}${/}reference-local.bin
    ${remote} =    Set Variable    ${OUTPUT_DIR}${/}reference-remote.bin
    ${back} =    Set Variable    ${OUTPUT_DIR}${/}reference-back.bin
    Write Random File    ${local}    ${100000}
    Send File    ${local}    ${remote}    chunk_size=${8192}
    Fetch File    ${remote}    ${back}    chunk_size=${8192}
    Files Should Be Identical    ${local}    ${remote}
    Files Should Be Identical    ${local}    ${back}
    [Teardown]    Remove Files And Close Everything    ${local}    ${remote}    ${back}

Empty File Goes Both Ways
    Open Remote Commands
    ${local} =    Set Variable    ${OUTPUT_DIR}${/}reference-empty.bin
    ${remote} =    Set Variable    ${OUTPUT_DIR}${/}reference-empty-remote.bin
    ${back} =    Set Variable    ${OUTPUT_DIR}${/}reference-empty-back.bin
    Create Binary File    ${local}    ${EMPTY}
    Send File    ${local}    ${remote}
    Fetch File    ${remote}    ${back}
    File Should Be Empty    ${back}
    [Teardown]    Remove Files And Close Everything    ${local}    ${remote}    ${back}

# ---- older shell signatures ---------------------------------------------------
Older BashShell Arguments
    [Tags]    issue-11
    ${shell} =    New Shell    BashShell    cmd=bash    workdir=/tmp
    ...    init_env=content: export FROM_INIT_ENV=yes
    auto runner.Initialize With Shells    shells=${shell}
    ${cwd} =    auto runner.Run Python    os.getcwd()
    Should Be Equal    ${cwd}    /tmp
    ${value} =    auto runner.Run Python    os.environ.get('FROM_INIT_ENV')
    Should Be Equal    ${value}    yes

# ---- over SSH -----------------------------------------------------------------
Background Command Over SSH
    [Tags]    ssh
    [Setup]    SSH Target Is Up
    ${shell} =    New Shell    SshShell    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    port=${SSH_PORT}
    Open Remote Commands    ${shell}
    ${started} =    ReferenceHelpers.Start Command    id -un; sleep 60
    Run Keyword And Expect Error    RemoteTimeout: *    ReferenceHelpers.Wait For Command    ${started}    timeout=${0.3}
    ${result} =    Stop Command    ${started}
    Should Be Equal    ${result.stdout}    ${{($PW_USER + '\n').encode()}}
    Should Be Equal    ${result.returncode}    ${-15}

File Copy Over SSH
    [Tags]    ssh
    [Setup]    SSH Target Is Up
    ${local} =    Set Variable    ${OUTPUT_DIR}${/}reference-ssh-local.bin
    ${back} =    Set Variable    ${OUTPUT_DIR}${/}reference-ssh-back.bin
    ${remote} =    Set Variable    /tmp/reference-api-${PW_USER}.bin
    ${shell} =    New Shell    SshShell    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    port=${SSH_PORT}
    Open Remote Commands    ${shell}
    Write Random File    ${local}    ${300000}
    Send File    ${local}    ${remote}
    Fetch File    ${remote}    ${back}
    Files Should Be Identical    ${local}    ${back}
    [Teardown]    Remove Files And Close Everything    ${local}    ${remote}    ${back}

Older SshShell Positional Arguments
    [Documentation]    ``SshShell(ip, username, password, tty_echo, second_password, port)``.
    [Tags]    ssh    issue-11
    [Setup]    SSH Target Is Up
    ${shell} =    New Shell    SshShell    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    ${False}    ${None}
    ...    ${SSH_PORT}
    auto runner.Initialize With Shells    shells=${shell}
    ${user} =    auto runner.Run Python    __import__('getpass').getuser()
    Should Be Equal    ${user}    ${PW_USER}

Older SudoShell Arguments
    [Documentation]    ``SudoShell(cmd='sudo bash', password=...)`` pushed on an SSH shell.
    [Tags]    ssh    issue-11
    [Setup]    SSH Target Is Up
    ${ssh} =    New Shell    SshShell    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    port=${SSH_PORT}
    ${sudo} =    New Shell    SudoShell    cmd=sudo bash    password=${PW_PASSWORD}
    auto runner.Initialize With Shells    shells=${{[$ssh, $sudo]}}
    ${user} =    auto runner.Run Python    __import__('getpass').getuser()
    Should Be Equal    ${user}    root

Dump Of What Is Sent Hides Passwords
    [Tags]    ssh    issue-11
    [Setup]    SSH Target Is Up
    ${sent} =    Set Variable    ${OUTPUT_DIR}${/}reference-dump-ssh-sent.txt
    Remove File    ${sent}
    ${ssh} =    New Shell    SshShell    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    port=${SSH_PORT}
    ${sudo} =    New Shell    SudoShell    password=${PW_PASSWORD}
    ${holder} =    New Session Holder    ${ssh}    dump_outgoing=${sent}
    Call Method    ${holder.get_session()}    push    ${sudo}
    runner.Initialize    session=${holder}
    ${user} =    runner.Run Python    __import__('getpass').getuser()
    Should Be Equal    ${user}    root
    File Should Not Contain Secret    ${sent}    ${PW_PASSWORD}
    [Teardown]    Remove Files And Close Everything    ${sent}


*** Keywords ***
Handle Should Hold
    [Documentation]    The remote name ``handle`` seen through a proxy with a
    ...    local spec holds ``expected``.
    [Arguments]    ${library}    ${handle}    ${expected}
    ${terminal} =    Get Library Instance    ${library}
    Should Be Equal    ${{ $terminal.get_proxy_object($handle, int).as_local_value() }}    ${expected}

Open Runner
    [Documentation]    The ``runner`` library on a new local bash; ``${RUNNER}``
    ...    is its instance.
    ${holder} =    New Session Holder
    runner.Initialize    session=${holder}
    ${instance} =    Get Library Instance    runner
    Set Test Variable    ${RUNNER}    ${instance}

Close Everything
    runner.Close
    other runner.Close
    auto runner.Close
    recovering.Close
    Close Helper Sessions

Remove Files And Close Everything
    [Arguments]    @{paths}
    Remove Files    @{paths}
    Close Everything

SSH Target Is Up
    [Documentation]    Starts the sshd target once for the suite.
    Start SSH Target Quietly
    Set Suite Variable    ${SSH_STARTED}    ${True}

Kill Target Python
    [Documentation]    SIGKILL to a local process (BuiltIn's Evaluate named:
    ...    the runner libraries have an ``Evaluate`` of their own).
    [Arguments]    ${pid}
    BuiltIn.Evaluate    os.kill(${pid}, signal.SIGKILL)    modules=os,signal

Finish
    Close Helper Sessions
    # common.resource's keywords call Evaluate: BuiltIn's, not the runners'.
    Set Library Search Order    BuiltIn
    IF    ${SSH_STARTED}
        Record Secrets    ${PW_PASSWORD}    ${SU_PASSWORD}
        Stop SSH Target
    END
