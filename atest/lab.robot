*** Settings ***
Documentation       The lab (resources/sshlab.py): dut1 and dut2 are reached only
...                 through the bastion, by ``ssh`` typed in the bastion's shell,
...                 then ``sudo``. dut2 is a BusyBox board without bash whose only
...                 Python is an old one. Needs root (skips otherwise).
Resource            common.resource
Resource            ../resources/sshlab.resource
Library             Collections
Suite Setup         Start SSH Lab Quietly
Suite Teardown      Finish
Test Teardown       Close All Terminals
Test Tags           ssh    lab


*** Test Cases ***
Dut1 Through The Bastion With Sudo
    ${shells} =    Get Lab Shells    bash    sudo=${True}
    Open Terminal    @{shells}    alias=dut1
    Host And User Should Be    dut1    root
    ${info} =    Get Terminal    dut1
    Length Should Be    ${info.shells}    3
    Should Be Equal    ${info.shells}[2]    SudoShell(to root)

Dut1 With A Key Through The Bastion With Sudo And Proxies
    ${shells} =    Get Lab Shells    dash    sudo=${True}    auth=key
    Open Terminal    @{shells}
    Host And User Should Be    dut1    root
    Import Remote Module    subprocess
    ${process} =    Get Proxy From Call    subprocess.Popen    ${{['hostname']}}
    ...    stdout=${-1}    universal_newlines=${True}
    ${out} =    Call Proxy Method    ${process}    communicate
    Should Be Equal    ${out}[0]    dut1\n

Auto Recovery After Dut1's Session Is Killed
    ${shells} =    Get Lab Shells    bash    sudo=${True}
    Open Terminal    @{shells}    auto_recovery=${True}
    Import Remote Module    os
    ${pid} =    Run Python    os.getpid()
    ${killed} =    Kill Lab Sessions    bash
    Should Be True    ${killed} > 0
    ${new pid} =    Run Python    os.getpid()
    Should Not Be Equal    ${pid}    ${new pid}
    Host And User Should Be    dut1    root

The BusyBox Board Without Bash With Sudo
    [Documentation]    No python3 there: python=auto finds its python3.X.
    ${shells} =    Get Lab Shells    board    sudo=${True}
    Open Terminal    @{shells}    alias=board
    Host And User Should Be    dut2    root
    ${info} =    Get Terminal    board
    Should Be Equal    ${info.python}    ${DUT2_PYTHON}
    ${shell} =    Run Python    __import__('os').readlink('/proc/%d/exe' % __import__('os').getppid())
    Should Be Equal    ${shell}    /usr/bin/busybox

Many Terminals At Once Through The Bastion
    [Documentation]    Opened in parallel; one call on each, results by alias.
    ${targets} =    Create List
    FOR    ${role}    IN    bash    dash    board
        ${shells} =    Get Lab Shells    ${role}
        ${target} =    Create Dictionary    shells=${shells}    alias=${role}
        Append To List    ${targets}    ${target}
    END
    ${indices} =    Open Terminals    @{targets}
    Should Be Equal    ${indices}    ${{{'bash': 1, 'dash': 2, 'board': 3}}}
    Import Remote Module    socket    terminal=bash
    ${hosts} =    Call Remote Function On Terminals    socket.gethostname    terminals=${{['bash']}}
    Should Be Equal    ${hosts}    ${{{'bash': 'dut1'}}}
    ${hosts} =    Run Python On Terminals    __import__('socket').gethostname()
    Should Be Equal    ${hosts}    ${{{'bash': 'dut1', 'dash': 'dut1', 'board': 'dut2'}}}
    ${info} =    Get Terminal    board
    Should Be Equal    ${info.python}    ${DUT2_PYTHON}

A Failure On One Of Many Terminals Names It
    [Documentation]    FAIL GLOB: Run Python On Terminals: 1 of 2 failed:\n*board: KeyError: 'dut2'
    ${targets} =    Create List
    FOR    ${role}    IN    busybox    board
        ${shells} =    Get Lab Shells    ${role}
        ${target} =    Create Dictionary    shells=${shells}    alias=${role}
        Append To List    ${targets}    ${target}
    END
    Open Terminals    @{targets}
    Run Python On Terminals    {'dut1': 1}[__import__('socket').gethostname()]

A Wrong Password On Dut1 Fails Clearly
    [Documentation]    FAIL GLOB: ShellAuthenticationFailed: SshShell(*@${DUT1_HOST}:22) via SshShell(*@${BASTION_HOST}:22): permission denied*
    ${shells} =    Get Lab Shells    bash
    ${wrong} =    Evaluate    robot.api.types.Secret('Wr0ng-Pa55')
    Set To Dictionary    ${shells}[1]    password=${wrong}
    Open Terminal    @{shells}


*** Keywords ***
Start SSH Lab Quietly
    [Documentation]    The lab's library sets its passwords as global
    ...    variables, which Robot would log.
    ${level} =    Set Log Level    NONE
    TRY
        Start SSH Lab
    FINALLY
        Set Log Level    ${level}
    END

Host And User Should Be
    [Arguments]    ${host}    ${user}
    ${found} =    Run Python    (__import__('socket').gethostname(), __import__('getpass').getuser())
    Should Be Equal    ${found}    ${{($host, $user)}}

Finish
    Close All Terminals
    Record Secrets    ${JUMP_PASSWORD}    ${BASH_PASSWORD}    ${DASH_PASSWORD}
    ...    ${BUSYBOX_PASSWORD}    ${BOARD_PASSWORD}
    ${removed} =    Stop SSH Lab
    Should Be Equal    ${removed}[namespaces]    ${3}
