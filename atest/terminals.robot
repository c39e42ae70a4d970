*** Settings ***
Documentation       Terminal registry on local terminals: indices, aliases,
...                 switching, closing, hops and clear errors.
Resource            common.resource
Test Teardown       Close All Terminals


*** Test Cases ***
Open Returns Index And Makes Terminal Current
    ${first} =    Open Local Terminal
    ${second} =    Open Local Terminal    alias=second
    Should Be Equal    ${first}    ${1}
    Should Be Equal    ${second}    ${2}
    ${info} =    Get Terminal
    Should Be Equal    ${info.index}    ${2}
    Should Be Equal    ${info.alias}    second
    Should Be Equal    ${info.python_running}    ${False}

Switch Terminal Returns The Previous Index
    Open Local Terminal    alias=a
    Open Local Terminal    alias=b
    ${previous} =    Switch Terminal    a
    Should Be Equal    ${previous}    ${2}
    ${info} =    Get Terminal
    Should Be Equal    ${info.alias}    a
    ${previous} =    Switch Terminal    ${previous}
    Should Be Equal    ${previous}    ${1}
    ${info} =    Get Terminal
    Should Be Equal    ${info.alias}    b

Aliases Are Case And Space Insensitive
    Open Local Terminal    alias=My Target
    ${info} =    Get Terminal    mytarget
    Should Be Equal    ${info.index}    ${1}

Terminal Argument Works Without Switching
    Open Local Terminal    alias=a
    Open Local Terminal    alias=b
    ${pid a} =    Remote Pid    a
    ${pid b} =    Remote Pid    b
    Should Not Be Equal    ${pid a}    ${pid b}
    ${again} =    Remote Pid    terminal=1
    Should Be Equal    ${again}    ${pid a}
    ${info} =    Get Terminal
    Should Be Equal    ${info.alias}    b

Python Starts At The First Python Keyword
    Open Local Terminal
    ${info} =    Get Terminal
    Should Not Be True    ${info.python_running}
    Run Python    1
    ${info} =    Get Terminal
    Should Be True    ${info.python_running}

Unknown Alias Fails Naming It
    [Documentation]    FAIL No terminal with index or alias 'nosuch'. Terminals: 1 (alias 'known').
    Open Local Terminal    alias=known
    Run Python    1    terminal=nosuch

Unknown Index Fails Naming It
    [Documentation]    FAIL No terminal with index or alias '3'. Terminals: 1, 2.
    Open Local Terminal
    Open Local Terminal
    Switch Terminal    3

No Open Terminal Fails Clearly
    [Documentation]    FAIL No open terminal: open one with 'Open Local Terminal', 'Open SSH Terminal' or 'Open Terminal', or switch to an open one with 'Switch Terminal'.
    Run Python    1

Close Terminal Closes Current And Keeps Others
    Open Local Terminal    alias=a
    ${pid a} =    Remote Pid
    Open Local Terminal    alias=b
    ${pid b} =    Remote Pid
    Close Terminal
    Process Should Be Gone    ${pid b}
    Process Should Be Alive    ${pid a}
    Run Keyword And Expect Error    No open terminal: *    Run Python    1
    ${pid} =    Remote Pid    a
    Should Be Equal    ${pid}    ${pid a}

Closed Terminal Fails Clearly And Closes Again Quietly
    [Documentation]    FAIL Terminal 1 (alias 'gone') is closed.
    Open Local Terminal    alias=gone
    Close Terminal    gone
    Close Terminal    gone
    Run Python    1    terminal=gone

Close All Terminals Restarts Indices
    Open Local Terminal
    ${pid} =    Remote Pid
    Open Local Terminal
    Close All Terminals
    Process Should Be Gone    ${pid}
    ${index} =    Open Local Terminal
    Should Be Equal    ${index}    ${1}

Open Terminal From Shell Dictionaries
    ${python} =    Create Dictionary    shellname=PythonShell
    Open Terminal    {'shellname': 'BashShell'}    ${python}    alias=stack
    ${info} =    Get Terminal
    Should Be Equal    ${info.shells}    ${{('BashShell', 'PythonShell(python3)')}}
    ${value} =    Run Python    6 * 7
    Should Be Equal    ${value}    ${42}

Unknown Shell Name Fails Listing Known Ones
    [Documentation]    FAIL UnknownShell: unknown shellname 'NoSuchShell'; known: BashShell, KeyAuthenticatedSshShell, NamespaceShell, PythonShell, SshShell, SuShell, SudoShell
    Open Terminal    {'shellname': 'NoSuchShell'}

Push And Pop Shell
    Open Local Terminal
    ${outer} =    Remote Pid
    Push Shell    BashShell
    ${inner} =    Remote Pid
    Should Not Be Equal    ${outer}    ${inner}
    ${info} =    Get Terminal
    Should Be Equal    ${info.shells}    ${{('BashShell', 'BashShell')}}
    ${left} =    Pop Shell
    Should Be Equal    ${left}    BashShell
    ${again} =    Remote Pid
    Should Not Be Equal    ${again}    ${inner}

Push Shell Takes A Dictionary And Options
    Open Local Terminal    alias=t
    Push Shell    {'shellname': 'PythonShell'}    terminal=t
    ${info} =    Get Terminal    t
    Should Be Equal    ${info.shells}    ${{('BashShell', 'PythonShell(python3)')}}
    Pop Shell    terminal=t
    Push Shell    BashShell    shell=sh -i    terminal=t
    ${value} =    Run Python    'ok'    terminal=t
    Should Be Equal    ${value}    ok

Pushing A Shell Invalidates Proxies
    [Documentation]    FAIL InvalidProxySession: Proxy 'os' of terminal 1 was made by a Python that has ended (the terminal recovered, or a shell was pushed or popped): get it again.
    Open Local Terminal
    Import Remote Module    os
    Get Proxy    os
    Push Shell    BashShell
    Call Proxy Method    os    getpid

The First Shell Cannot Be Popped
    [Documentation]    FAIL ShellStackEmpty: Terminal 1 has only its first shell (BashShell) left: use Close Terminal to close it.
    Open Local Terminal
    Pop Shell


*** Keywords ***
Process Should Be Gone
    [Arguments]    ${pid}
    Wait Until Keyword Succeeds    5 s    50 ms
    ...    Should Not Be True    os.path.exists('/proc/${pid}')    modules=os

Process Should Be Alive
    [Arguments]    ${pid}
    Should Exist    /proc/${pid}
