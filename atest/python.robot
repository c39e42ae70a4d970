*** Settings ***
Documentation       Running Python on a local terminal: code, expressions,
...                 calls, imports, remote exceptions, logging, async calls.
Resource            common.resource
Suite Setup         Open Local Terminal    alias=py
Suite Teardown      Close All Terminals


*** Test Cases ***
Run Python Returns Plain Data
    ${value} =    Run Python    {'a': [1, 2.5, None, True], 'b': (b'x', 'ü')}
    Should Be Equal    ${value}    ${{{'a': [1, 2.5, None, True], 'b': (b'x', 'ü')}}}

Dates, Paths And Named Tuples Come Back As Values
    Import Remote Module    os    datetime    pathlib
    ${uname} =    Call Remote Function    os.uname
    Should Be Equal    ${uname.sysname}    ${{os.uname().sysname}}
    Should Be Equal    ${uname}[0]    ${uname.sysname}
    ${stat} =    Run Python    os.stat('/')
    Should Be Equal    ${stat.st_mtime_ns}    ${{os.stat('/').st_mtime_ns}}
    ${day} =    Run Python    datetime.date(2024, 2, 29)
    Should Be Equal    ${day}    ${{datetime.date(2024, 2, 29)}}
    ${path} =    Run Python    pathlib.Path('/tmp') / 'a.txt'
    Should Be Equal    ${path}    ${{pathlib.PurePosixPath('/tmp/a.txt')}}

Statements Return None And Names Stay
    ${value} =    Run Python    counter = 41
    Should Be Equal    ${value}    ${None}
    ${value} =    Run Python    counter + 1
    Should Be Equal    ${value}    ${42}

Several Arguments Are Lines
    Run Python    total = 0
    ...    for i in range(5): total += i
    ${total} =    Run Python    total
    Should Be Equal    ${total}    ${10}

Run Python Refuses Values That Are Not Plain Data
    [Documentation]    FAIL GLOB: UnableToSerialize: The code ran on the target, but its value cannot come back by value (return value cannot travel by value: *). Use Evaluate Python to get it as a proxy, *
    Run Python    object()

Evaluate Python Returns Proxies For Other Values
    ${value} =    Evaluate Python    [1, 2]
    Should Be Equal    ${value}    ${{[1, 2]}}
    ${proxy} =    Evaluate Python    type('Thing', (), {'size': 3})()    name=thing
    ${size} =    Get Proxy Attribute    thing    size
    Should Be Equal    ${size}    ${3}
    ${info} =    Get Terminal
    Should Contain    ${info.proxies}    thing

Import Remote Module And Call Remote Function
    Import Remote Module    os.path    json    from threading import Event
    ${path} =    Call Remote Function    os.path.join    /tmp    a.txt
    Should Be Equal    ${path}    /tmp/a.txt
    ${text} =    Call Remote Function    json.dumps    ${{{'k': [1, 2]}}}    sort_keys=${True}
    Should Be Equal    ${text}    {"k": [1, 2]}
    ${event} =    Call Remote Function    Event
    Should Be Equal    ${{ type($event).__name__ }}    _RemoteProxy

Built-in Remote Exception Keeps Its Type And Message
    [Documentation]    FAIL ZeroDivisionError: division by zero
    ...    LOG 1.1 INFO GLOB: Remote traceback (terminal * (alias 'py')):*ZeroDivisionError: division by zero*
    Run Python    1 / 0

Other Remote Exception Is A RemoteError
    [Documentation]    FAIL RemoteError: json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)
    Import Remote Module    json
    Call Remote Function    json.loads    not json

Remote Prints Go To The Log Of The Keyword
    [Documentation]    LOG 1.1 INFO GLOB: Remote stdout (terminal * (alias 'py')):\nhello from the target
    ...    LOG 2.1 INFO GLOB: Remote stderr (terminal * (alias 'py')):\nto stderr
    Run Python    print('hello from the target')
    Run Python    import sys; print('to stderr', file=sys.stderr)

Background Prints Go To The Log Of The Next Keyword
    [Documentation]    LOG 3.* INFO GLOB: Remote stdout (terminal * (alias 'py'), background): later*
    Run Python    import threading, time
    ...    threading.Thread(target=lambda: (time.sleep(0.2), print('later', flush=True))).start()
    Sleep    0.6 s
    Run Python    None

Start Remote Function Call And Get Call Response
    Import Remote Module    time
    ${call} =    Start Remote Function Call    time.sleep    ${0.5}
    ${value} =    Run Python    'the terminal is usable meanwhile'
    Should Be Equal    ${value}    the terminal is usable meanwhile
    ${result} =    Get Call Response    ${call}
    Should Be Equal    ${result}    ${None}
    ${again} =    Get Call Response    ${call}
    Should Be Equal    ${again}    ${None}

Get Call Response Times Out And Can Wait Again
    Import Remote Module    time
    ${call} =    Start Remote Function Call    time.sleep    ${1}
    Run Keyword And Expect Error    GLOB: RemoteTimeout: Call time.sleep() did not finish within 0.1 s*
    ...    Get Call Response    ${call}    timeout=100 ms
    Get Call Response    ${call}    timeout=10 s

Remote Exception Of A Background Call
    [Documentation]    FAIL KeyError: 'missing'
    Import Remote Module    operator
    ${call} =    Start Remote Function Call    operator.getitem    ${{{}}}    missing
    Get Call Response    ${call}

Get Call Response Takes Only Calls
    [Documentation]    FAIL ValueError: Argument 'call' got value 'not a call' that cannot be converted to RemoteCall: expected what 'Start Remote Function Call' or 'Start Proxy Method Call' returned
    Get Call Response    not a call

Run Python Timeout
    [Documentation]    FAIL GLOB: RemoteTimeout: run_python("__import__('time').sleep(1)") did not finish within 0.2 s; it goes on on the target (response id *)
    Run Python    __import__('time').sleep(1)    timeout=200 ms
