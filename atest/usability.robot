*** Settings ***
Documentation       The library as a Robot user meets it: proxies evaluated once,
...                 terminals asked about, errors that say what to do, strings as
...                 arguments, multi-line code, log lines that name the terminal.
Resource            common.resource
Suite Setup         Open Local Terminal    alias=main
Suite Teardown      Close All Terminals


*** Variables ***
${CODE}             total = 0
...                 for i in range(4):
...                 ${SPACE * 4}total += i
...                 separator=\n


*** Test Cases ***
Get Proxy Of An Expression Evaluates It Once
    Get Proxy    []    name=items
    Call Proxy Method    items    append    ${1}
    Call Proxy Method    items    append    ${2}
    ${copy} =    Get Local Value    items
    Should Be Equal    ${copy}    ${{[1, 2]}}

Get Proxy Of A File Opened For Writing Keeps The File
    ${path} =    Set Variable    ${OUTPUT_DIR}${/}written-by-proxy.txt
    Get Proxy    open(r'${path}', 'w')    name=out
    Call Proxy Method    out    write    text
    Call Proxy Method    out    close
    ${content} =    OperatingSystem.Get File    ${path}
    Should Be Equal    ${content}    text

A Struct Sequence Comes Back With Its Fields
    Import Remote Module    os
    ${uname} =    Call Remote Function    os.uname
    ${local} =    Evaluate    os.uname().release    modules=os
    Should Be Equal    ${uname.release}    ${local}

Get Terminal Tells About A Closed Terminal
    ${index} =    Open Local Terminal    alias=short lived
    Close Terminal    short lived
    ${info} =    Get Terminal    short lived
    Should Be True    ${info.closed}
    Should Be Equal    ${info.index}    ${index}
    Switch Terminal    main

Get Terminals Lists The Open Ones
    ${terminals} =    Get Terminals
    ${aliases} =    Evaluate    [t.alias for t in $terminals]
    Should Contain    ${aliases}    main
    Should Not Contain    ${aliases}    short lived

A Duplicate Alias Of An Open Terminal Fails
    [Documentation]    FAIL GLOB: ValueError: Alias 'main' is already used by terminal * (alias 'main'), which is open: close it first or choose another alias.
    Open Local Terminal    alias=main

A Value That Cannot Travel Says The Code Ran And What To Do
    [Documentation]    FAIL GLOB: UnableToSerialize: The code ran on the target, but its value cannot come back by value (*cannot encode value of type _thread.lock). Use Evaluate Python to get it as a proxy, or assign it to a name in the code (item = ...) and use Get Proxy with that name.
    Run Python    __import__('threading').Lock()    terminal=main

A Wrong Python Fails At Once Naming What Was Found
    [Documentation]    FAIL GLOB: NoUsablePython: BashShell: no usable Python: no-such-python3 not found: the agent needs Python 2.7, or 3.6 or newer (PATH=*)
    [Timeout]    5 s
    Open Local Terminal    alias=wrong python    python=no-such-python3
    TRY
        Run Python    1    terminal=wrong python
    FINALLY
        Close Terminal    wrong python
        Switch Terminal    main
    END

A Broken Plain Terminal Says What To Do
    [Documentation]    FAIL GLOB: RunnerTerminalSessionBroken: BashShell: the session broke (*) and this terminal does not reopen it (no auto recovery): close it and open a new one, or open it with auto recovery.
    Open Local Terminal    alias=to break    auto_recovery=${False}
    ${pid} =    Remote Pid    to break
    Kill Local Process    ${pid}
    Run Keyword And Expect Error    RunnerTerminalSessionBroken: *    Run Python    1    terminal=to break
    TRY
        Run Python    1    terminal=to break
    FINALLY
        Close Terminal    to break
        Switch Terminal    main
    END

A Proxy Of A Recovered Terminal Is Dropped From The Registry
    [Documentation]    FAIL GLOB: InvalidProxySession: Proxy 'os' of terminal * (alias 'recovers') was made by a Python that has ended (the terminal recovered, or a shell was pushed or popped): get it again.
    Open Local Terminal    alias=recovers    auto_recovery=${True}
    Import Remote Module    os    terminal=recovers
    Get Proxy    os    terminal=recovers
    ${pid} =    Remote Pid    recovers
    Kill Local Process    ${pid}
    Remote Pid    recovers
    TRY
        Call Proxy Method    os    getpid    terminal=recovers
    FINALLY
        ${info} =    Get Terminal    recovers
        Should Be Empty    ${info.proxies}
        Close Terminal    recovers
        Switch Terminal    main
    END

A Proxy Of Another Terminal Is Refused
    [Documentation]    FAIL GLOB: InvalidProxySession: <_RemoteProxy * of list> belongs to terminal * (alias 'other'), not to terminal * (alias 'main'): a proxy is used only with the runner (terminal) that made it
    Open Local Terminal    alias=other
    ${theirs} =    Get Proxy From Call    list    terminal=other
    Switch Terminal    main
    TRY
        Call Remote Function    len    ${theirs}    terminal=main
    FINALLY
        Close Terminal    other
        Switch Terminal    main
    END

Strings From Robot Get A Hint When The Target Wants Another Type
    [Documentation]    FAIL TypeError: bad operand type for abs(): 'str' (arguments from Robot are strings: see 'Arguments' in the library documentation for passing numbers, lists and other values)
    Call Remote Function    abs    -5

Numbers And Lists Travel As Documented
    ${five} =    Call Remote Function    abs    ${-5}
    Should Be Equal    ${five}    ${5}
    ${joined} =    Call Remote Function    ','.join    ${{['a', 'b']}}
    Should Be Equal    ${joined}    a,b
    ${text} =    Call Remote Function    str    a\=b
    Should Be Equal    ${text}    a=b

Multi-line Code With Indentation
    Run Python    def double(x):
    ...    ${SPACE * 4}return 2 * x
    ${value} =    Run Python    double(21)
    Should Be Equal    ${value}    ${42}
    Run Python    ${CODE}
    ${total} =    Run Python    total
    Should Be Equal    ${total}    ${6}

Log Lines Name The Terminal
    [Documentation]    LOG 1:1 INFO Remote stdout (terminal 1 (alias 'main')):\nhello
    Run Python    print('hello')    terminal=main

Remote Timeouts Name The Call And The Timeout Set
    [Documentation]    FAIL GLOB: RemoteTimeout: run_python('__import__("time").sleep(2)') did not finish within 0.3 s; it goes on on the target (response id *)
    Run Python    __import__("time").sleep(2)    timeout=300 ms
