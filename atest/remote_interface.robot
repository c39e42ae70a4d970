*** Settings ***
Documentation       The library served over Robot Framework's remote library
...                 interface (robotremoteserver, on a free loopback port of
...                 this process's own server: see RemoteServer.py). Proxies
...                 cannot cross XML-RPC: names of the proxy registry do, as do
...                 names of calls and commands; results cross as dictionaries.
Variables           RemoteServer.py
Library             Remote    http://127.0.0.1:${PORT}    AS    RPL
Library             Collections
Library             OperatingSystem
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

Commands Cross As Names And Their Results As Dictionaries
    RPL.Open Local Terminal
    ${handle} =    RPL.Start Command    echo out; echo err >&2; exit 3
    Should Match Regexp    ${handle}    ^command \\d+$
    ${result} =    RPL.Wait For Command    ${handle}    timeout=10 s
    Should Be Equal    ${result.rc}    ${3}
    Should Be Equal    ${result.stdout}    out
    Should Be Equal    ${result.stderr}    err
    Should Be Equal    ${result.timed_out}    ${False}
    ${sleeper} =    RPL.Start Command    sleep 30
    RPL.Send Signal To Command    SIGTERM    ${sleeper}
    ${ended} =    RPL.Terminate Command    ${sleeper}
    Should Be Equal    ${ended.rc}    ${-15}
    RPL.Start Command    echo last
    ${result} =    RPL.Wait For Command
    Should Be Equal    ${result.stdout}    last
    ${handle} =    RPL.Start Command    echo read
    ${out} =    RPL.Read Command Output    ${handle}
    Should Be Equal    ${out}    read
    [Teardown]    RPL.Close All Terminals

A Command Not Started Is Named In The Error
    [Documentation]    FAIL STARTS: ValueError: Argument 'handle' got value 'command 999' that cannot be converted to RemoteCommand or None. No command named 'command 999': give what 'Start Command' returned (commands started so far:
    RPL.Open Local Terminal
    TRY
        RPL.Wait For Command    command 999
    FINALLY
        RPL.Close All Terminals
    END

File Results Cross As Dictionaries
    RPL.Open Local Terminal
    ${directory} =    Evaluate    tempfile.mkdtemp(prefix='rpl-remote-files-')    modules=tempfile
    Create File    ${directory}/a.txt    hello
    ${put} =    RPL.Put File    ${directory}/a.txt    ${directory}/b.txt
    Should Be Equal    ${put.size}    ${5}
    Should Be Equal    ${put.destination}    ${directory}/b.txt
    Should Be True    ${put.rate} > 0
    ${got} =    RPL.Get File    ${directory}/b.txt    ${directory}/c.txt
    Should Be Equal    ${got.direction}    get
    ${all} =    RPL.Put File    ${directory}/*.txt    ${directory}/into/    create_dirs=${True}
    Should Be Equal    ${all}[2][destination]    ${directory}/into/c.txt
    ${tree} =    RPL.Get Directory    ${directory}/into    ${directory}/back
    Should Be Equal    ${tree.files}    ${3}
    [Teardown]    Run Keywords    RPL.Close All Terminals
    ...    AND    Remove Directory    ${directory}    recursive=${True}

Many Terminals: One Alias, And Results Despite Failures
    ${shells} =    Evaluate    [{'shellname': 'BashShell'}]
    ${first} =    Create Dictionary    shells=${shells}    alias=d1
    ${second} =    Create Dictionary    shells=${shells}    alias=d2
    ${opened} =    RPL.Open Terminals    ${first}    ${second}
    Should Be Equal    ${opened.d2}    ${2}
    ${pids} =    RPL.Run Python On Terminals    os.getpid()    terminals=d1
    Should Be Equal    ${{list($pids)}}    ${{['d1']}}
    RPL.Run Python    only_here = 7    terminal=d2
    ${values} =    RPL.Run Python On Terminals    only_here    on_failure=continue
    Should Be Equal    ${values.d2}    ${7}
    Should Be Equal    ${values.d1}    NameError: name 'only_here' is not defined
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
