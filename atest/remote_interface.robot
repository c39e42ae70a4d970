*** Settings ***
Documentation       The library served over Robot Framework's remote library
...                 interface (robotremoteserver, on a free loopback port of
...                 this process's own server: see RemoteServer.py). Proxies
...                 cannot cross XML-RPC: names of the proxy registry do.
Variables           RemoteServer.py
Library             Remote    http://127.0.0.1:${PORT}    AS    RPL
Library             Collections
Suite Teardown      Stop The Server


*** Test Cases ***
Open, Register A Proxy, Call It By Name And Close
    ${index} =    RPL.Open Local Terminal    alias=remote
    Should Be Equal    ${index}    ${1}
    RPL.Import Remote Module    collections
    ${name} =    RPL.Get Proxy    collections.OrderedDict()    name=items
    Should Be Equal    ${name}    items
    RPL.Call Proxy Method    items    __setitem__    a    ${1}
    RPL.Call Proxy Method    items    update    b=${2}
    ${value} =    RPL.Call Proxy Method    items    get    b
    Should Be Equal    ${value}    ${2}
    ${copy} =    RPL.Get Local Value    items
    Should Be Equal    ${copy}    ${{{'a': 1, 'b': 2}}}
    ${info} =    RPL.Get Terminal    remote
    Should Be Equal    ${info.proxies}    ${{['items']}}
    RPL.Close Terminal    remote
    ${info} =    RPL.Get Terminal    remote
    Should Be True    ${info.closed}

A Proxy Returned Without A Name Gets One
    RPL.Open Local Terminal    alias=named
    ${file} =    RPL.Evaluate Python    open('/proc/self/status')
    Should Match Regexp    ${file}    ^proxy \\d+$
    ${first} =    RPL.Call Proxy Method    ${file}    readline
    Should Start With    ${first}    Name:
    ${again} =    RPL.Evaluate Python    __import__('io').StringIO('x')    name=buffer
    Should Be Equal    ${again}    buffer
    RPL.Release Proxy    ${file}
    ${info} =    RPL.Get Terminal
    Should Be Equal    ${info.proxies}    ${{['buffer']}}
    [Teardown]    RPL.Close All Terminals

Times, Calls And Python Selection Cross As Text And Names
    RPL.Open Local Terminal    python=${{['no-such-python3', 'python3']}}
    RPL.Import Remote Module    time
    ${call} =    RPL.Start Remote Function Call    time.sleep    ${0.2}
    Should Match Regexp    ${call}    ^call \\d+$
    ${value} =    RPL.Get Call Response    ${call}    timeout=10 s
    Should Be Equal    ${value}    ${EMPTY}
    ${info} =    RPL.Get Terminal
    Should Be Equal    ${info.python}    python3
    ${terminals} =    RPL.Get Terminals
    Should Be Equal    ${terminals}[0][python]    python3
    [Teardown]    RPL.Close All Terminals

Remote Errors Cross As Messages
    [Documentation]    FAIL ZeroDivisionError: division by zero
    RPL.Open Local Terminal
    TRY
        RPL.Run Python    1 / 0
    FINALLY
        RPL.Close All Terminals
    END


*** Keywords ***
Stop The Server
    RPL.Close All Terminals
    RPL.Stop Remote Server
