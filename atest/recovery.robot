*** Settings ***
Documentation       Robot timeouts and auto recovery on local terminals.
Resource            common.resource
Suite Teardown      Close All Terminals


*** Test Cases ***
Open Terminals
    Open Local Terminal    alias=plain
    Open Local Terminal    alias=auto    auto_recovery=True
    ${info} =    Get Terminal    auto
    Should Be True    ${info.auto_recovery}
    Should Not Be True    ${info.python_running}
    Import Remote Module    time    terminal=plain
    Import Remote Module    time    terminal=auto

Robot Timeout Interrupts A Remote Call On A Plain Terminal
    [Documentation]    FAIL Test timeout 500 milliseconds exceeded.
    [Timeout]    0.5 s
    Run Python    time.sleep(20)    terminal=plain

The Next Test Works On The Plain Terminal
    ${value} =    Run Python    1 + 1    terminal=plain
    Should Be Equal    ${value}    ${2}

Robot Timeout Interrupts A Remote Call On An Auto Terminal
    [Documentation]    FAIL Test timeout 500 milliseconds exceeded.
    [Timeout]    0.5 s
    Call Remote Function    time.sleep    ${20}    terminal=auto

The Next Test Works On The Auto Terminal
    ${value} =    Run Python    1 + 1    terminal=auto
    Should Be Equal    ${value}    ${2}

Keyword Timeout Interrupts Starting Python On A Plain Terminal
    [Documentation]    FAIL Keyword timeout 50 milliseconds exceeded.
    Open Local Terminal    alias=plain start    python=sleep 2; python3
    Start Python With Timeout    plain start

A Terminal Interrupted While Starting Python Refuses Further Use
    [Documentation]    FAIL Terminal 3 (alias 'plain start') was interrupted while starting Python (a Robot timeout?) and its state is unknown: close it and open a new one, or open it with auto_recovery=True.
    Run Python    1    terminal=plain start

Auto Terminal Recovers When Its Python Is Killed
    ${pid} =    Remote Pid    auto
    Kill Local Process    ${pid}
    ${new pid} =    Remote Pid    auto
    Should Not Be Equal    ${pid}    ${new pid}

Imported Modules Are Imported Again After A Recovery
    ${pid} =    Remote Pid    auto
    Kill Local Process    ${pid}
    ${now} =    Run Python    time.time()    terminal=auto
    Should Be True    ${now} > 0

Proxies Made Before A Recovery Are Invalid
    [Documentation]    FAIL GLOB: InvalidProxySession: *
    ${proxy} =    Get Proxy    time    terminal=auto
    ${pid} =    Remote Pid    auto
    Kill Local Process    ${pid}
    Remote Pid    auto
    Call Proxy Method    ${proxy}    time

Plain Terminal Stays Broken When Its Python Is Killed
    [Documentation]    FAIL GLOB: RunnerTerminalSessionBroken: *
    ${pid} =    Remote Pid    plain
    Kill Local Process    ${pid}
    Sleep    0.2 s
    Remote Pid    plain

Configure Auto Recovery Applies To Terminals Opened Later
    Configure Auto Recovery    max_tries=2    sleep_between_tries=100 ms
    Open Local Terminal    alias=later
    ${info} =    Get Terminal    later
    Should Be True    ${info.auto_recovery}
    ${pid} =    Remote Pid    later
    Kill Local Process    ${pid}
    ${new pid} =    Remote Pid    later
    Should Not Be Equal    ${pid}    ${new pid}
    Configure Auto Recovery    enabled=False
    Open Local Terminal    alias=not auto
    ${info} =    Get Terminal    not auto
    Should Not Be True    ${info.auto_recovery}

Auto Terminal Recovers After Push Shell
    Open Local Terminal    alias=pushed    auto_recovery=True
    ${outer} =    Remote Pid    pushed
    Push Shell    PythonShell    terminal=pushed
    ${info} =    Get Terminal    pushed
    Should Be Equal    ${info.shells}    ${{('BashShell', 'PythonShell(python3)')}}
    ${inner} =    Remote Pid    pushed
    Kill Local Process    ${inner}
    ${again} =    Remote Pid    pushed
    Should Not Be Equal    ${inner}    ${again}
    ${info} =    Get Terminal    pushed
    Should Be Equal    ${info.shells}    ${{('BashShell', 'PythonShell(python3)')}}


*** Keywords ***
Start Python With Timeout
    [Arguments]    ${terminal}
    [Timeout]    50 ms
    Run Python    1    terminal=${terminal}
