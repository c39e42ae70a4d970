*** Settings ***
Documentation       Many local terminals at once: Open Terminals, Run Python On
...                 Terminals, Call Remote Function On Terminals (through SSH
...                 hosts: lab.robot).
Resource            common.resource
Suite Setup         Open Three Terminals
Suite Teardown      Close All Terminals


*** Test Cases ***
One Alias Or Index Names One Terminal
    ${pids} =    Run Python On Terminals    os.getpid()
    ${one} =    Run Python On Terminals    os.getpid()    terminals=d1
    Should Be Equal    ${one}    ${{{'d1': $pids['d1']}}}
    ${one} =    Call Remote Function On Terminals    os.getpid    terminals=2
    Should Be Equal    ${one}    ${{{'d2': $pids['d2']}}}
    ${two} =    Run Python On Terminals    os.getpid()    terminals=['d1', 3]
    Should Be Equal    ${{list($two)}}    ${{['d1', 'd3']}}

A Failure On Some Terminals Fails With Each Named
    [Documentation]    FAIL Run Python On Terminals: 2 of 3 failed:\n${SPACE * 2}d1: NameError: name 'only_here' is not defined\n${SPACE * 2}d3: NameError: name 'only_here' is not defined
    Run Python    only_here = 7    terminal=d2
    Run Python On Terminals    only_here

On Failure Continue Gives The Others' Results And The Errors As Text
    Run Python    only_here = 7    terminal=d2
    ${values} =    Run Python On Terminals    only_here    on_failure=continue
    Should Be Equal    ${values}[d2]    ${7}
    Should Be Equal    ${values}[d1]    NameError: name 'only_here' is not defined
    Should Be Equal    ${values}[d3]    NameError: name 'only_here' is not defined
    ${opened} =    Open Terminals    ${{{'shells': [{'shellname': 'BashShell'}], 'alias': 'd4'}}}
    ...    ${{{'shells': [{'shellname': 'BashShell', 'shell': 'no-such-shell -i'}], 'alias': 'bad'}}}
    ...    on_failure=continue
    Should Be Equal    ${opened}[d4]    ${4}
    Should Start With    ${opened}[bad]    ShellError:
    [Teardown]    Close Terminal    d4

A Function Whose Module Was Not Imported Says To Import It
    [Documentation]    FAIL Call Remote Function On Terminals (socket.gethostname): 1 of 1 failed:\n${SPACE * 2}d1: NameError: name 'socket' is not defined (import modules first with 'Import Remote Module'; only os and sys are there without an import)
    Call Remote Function On Terminals    socket.gethostname    terminals=d1

Functions Are Found Once Imported
    Run Python On Terminals    import socket
    ${names} =    Call Remote Function On Terminals    socket.gethostname
    ${here} =    Evaluate    socket.gethostname()    modules=socket
    Should Be Equal    ${names}    ${{dict.fromkeys(['d1', 'd2', 'd3'], $here)}}


*** Keywords ***
Open Three Terminals
    ${targets} =    Evaluate    [{'shells': [{'shellname': 'BashShell'}], 'alias': f'd{n}'} for n in (1, 2, 3)]
    Open Terminals    @{targets}
