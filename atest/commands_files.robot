*** Settings ***
Documentation       Commands and file transfers on a local terminal: Execute Command
...                 as SSHLibrary's, background commands, timeouts that kill the
...                 whole process group, Put/Get File and Directory. (OperatingSystem
...                 has a Get File too: this suite names the library's in full.)
Resource            common.resource
Suite Setup         Set Up
Suite Teardown      Tear Down


*** Test Cases ***
Execute Command Returns Stdout By Default
    ${out} =    Execute Command    echo hello; echo not returned >&2
    Should Be Equal    ${out}    hello

Execute Command Returns What Is Asked For
    ${out}    ${err}    ${rc} =    Execute Command    echo out; echo err >&2; exit 3
    ...    return_stderr=True    return_rc=True
    Should Be Equal    ${out}    out
    Should Be Equal    ${err}    err
    Should Be Equal    ${rc}    ${3}
    ${rc} =    Execute Command    exit 4    return_stdout=False    return_rc=True
    Should Be Equal    ${rc}    ${4}

Execute Command With Working Directory, Environment And Input
    ${out} =    Execute Command    pwd; echo $GREETING; cat    cwd=${DIR}
    ...    env=${{{'GREETING': 'hi'}}}    stdin=from stdin
    Should Be Equal    ${out}    ${DIR}\nhi\nfrom stdin

Execute Command Logs The Command And Its Status
    [Documentation]    LOG 1:1 INFO Executing command 'exit 2'.
    ...    LOG 1:2 INFO Command exited with return code 2.
    Execute Command    exit 2

Execute Command Past Its Timeout Fails With The Output So Far
    [Documentation]    FAIL CommandTimeout: Command 'echo partial; sleep 60' ran past its timeout of 0.5 s and was killed with its process group on the target.
    ...    Output so far:
    ...    stdout: partial
    Execute Command    echo partial; sleep 60    timeout=0.5 s

Execute Command Logs A List Quoted As A Shell Would Need It
    [Documentation]    LOG 1:1 INFO Executing command 'printf %s '/my dir''.
    ${out} =    Execute Command    ${{['printf', '%s', '/my dir']}}
    Should Be Equal    ${out}    /my dir

A Background Process Holding The Output Past The Timeout Is Named
    [Documentation]    FAIL CommandTimeout: Command 'sleep 60 & echo hi; exit 5' exited with rc 5, but a process it started still held its output open when its timeout of 1 s passed; its process group was killed on the target. A background process keeps the command's output open until it ends: redirect it ('daemon > /dev/null 2>&1 &') or use Start Command for it.
    ...    Output so far:
    ...    stdout: hi
    ${pid} =    Execute Command    sleep 60 > /dev/null 2>&1 & echo $!    timeout=5 s
    Execute Command    kill ${pid}
    Execute Command    sleep 60 & echo hi; exit 5    timeout=1 s

Wait For Command Fails When The Command's Own Timeout Ended It
    [Documentation]    FAIL GLOB: CommandTimeout: Command 'echo started; sleep 60' ran past its timeout of 0.5 s and was killed with its process group on the target.*stdout: started*
    ${handle} =    Start Command    echo started; sleep 60    timeout=0.5 s
    Sleep    1 s
    ${result} =    Terminate Command    ${handle}
    Should Be Equal    ${result.rc}    ${-9}
    Should Be True    ${result.timed_out}
    Start Command    echo started; sleep 60    timeout=0.5 s
    Wait For Command    timeout=10 s

Start Command And Read Command Output As In SSHLibrary
    Start Command    echo first
    Start Command    echo second
    ${out} =    Read Command Output
    Should Be Equal    ${out}    second
    ${out}    ${rc} =    Read Command Output    return_rc=True
    Should Be Equal    ${out}    first
    Should Be Equal    ${rc}    ${0}

Read Output So Far And Wait For The Result
    ${handle} =    Start Command    echo one; sleep 0.5; echo two >&2
    ${out} =    Read Command Output    ${handle}    wait=False    timeout=5 s
    Should Be Equal    ${out}    one
    ${result} =    Wait For Command    ${handle}
    Should Be Equal    ${result.rc}    ${0}
    Should Be Equal    ${result.stdout}    one
    Should Be Equal    ${result.stderr}    two

Wait For Command Past Its Timeout Kills The Command
    [Documentation]    FAIL GLOB: CommandTimeout: Command 'echo started; sleep 60' ran past its timeout of 0.3 s and was killed with its process group on the target.*stdout: started*
    Start Command    echo started; sleep 60
    Wait For Command    timeout=0.3 s

Terminate Command And Send A Signal
    ${handle} =    Start Command    sleep 60
    ${result} =    Terminate Command    ${handle}
    Should Be Equal    ${result.rc}    ${-15}
    ${handle} =    Start Command    trap 'exit 3' INT; echo ready; while :; do sleep 0.1; done
    ${ready} =    Read Command Output    ${handle}    wait=False    timeout=5 s
    Should Be Equal    ${ready}    ready
    Send Signal To Command    INT    ${handle}    group=False
    ${result} =    Wait For Command    ${handle}    timeout=5 s
    Should Be Equal    ${result.rc}    ${3}

Put File And Get File Log Size, Time And Rate
    [Documentation]    LOG 2:1 INFO GLOB: Put File */a.txt -> */remote.txt: 11 B in * s (*/s)
    ...    LOG 3:1 INFO GLOB: Get File */remote.txt -> */back/remote.txt: 11 B in * s (*/s)
    Create File    ${DIR}/a.txt    hello world
    Put File    ${DIR}/a.txt    ${DIR}/remote.txt    mode=0600
    RemoteProxyLibrary.Get File    ${DIR}/remote.txt    ${DIR}/back/    create_dirs=True
    ${text} =    OperatingSystem.Get File    ${DIR}/back/remote.txt
    Should Be Equal    ${text}    hello world
    ${mode} =    Evaluate    oct(os.stat($DIR + '/back/remote.txt').st_mode & 0o777)
    Should Be Equal    ${mode}    0o600

Put File Into A Missing Directory Fails Clearly
    [Documentation]    FAIL GLOB: FileNotFoundError: [[]Errno 2] destination directory does not exist on the target (create_dirs=True creates it): '*/missing'
    Create File    ${DIR}/b.txt    b
    Put File    ${DIR}/b.txt    ${DIR}/missing/b.txt

Get File Of A Missing File Fails Clearly
    [Documentation]    FAIL GLOB: FileNotFoundError: [[]Errno 2] cannot read on the target: No such file or directory: '*/nothing'
    RemoteProxyLibrary.Get File    ${DIR}/nothing    ${DIR}/

Get File Of A Symbolic Link Copies Its Content
    [Documentation]    /etc/os-release is a link on most systems, and the example of the docs.
    ${result} =    RemoteProxyLibrary.Get File    /etc/os-release    ${DIR}/
    Should Be Equal    ${result.destination}    ${DIR}${/}os-release
    ${got} =    OperatingSystem.Get File    ${DIR}/os-release
    ${expected} =    OperatingSystem.Get File    /etc/os-release
    Should Be Equal    ${got}    ${expected}
    ${is_link} =    Evaluate    os.path.islink($DIR + '/os-release')
    Should Not Be True    ${is_link}

Put Directory And Get Directory With Filters
    Create File    ${DIR}/tree/keep.log    log
    Create File    ${DIR}/tree/sub/also.log    log
    Create File    ${DIR}/tree/sub/skip.txt    txt
    ${up} =    Put Directory    ${DIR}/tree    ${DIR}/up    include=*.log
    Should Be Equal    ${up.files}    ${2}
    File Should Exist    ${DIR}/up/sub/also.log
    File Should Not Exist    ${DIR}/up/sub/skip.txt
    Create Directory    ${DIR}/down
    ${down} =    Get Directory    ${DIR}/tree    ${DIR}/down    exclude=sub
    Should Be Equal    ${down.destination}    ${DIR}${/}down${/}tree
    File Should Exist    ${DIR}/down/tree/keep.log
    Directory Should Not Exist    ${DIR}/down/tree/sub


*** Keywords ***
Set Up
    Open Local Terminal    alias=commands
    ${dir} =    Evaluate    tempfile.mkdtemp(prefix='rpl-atest-')    modules=tempfile
    Set Suite Variable    ${DIR}    ${dir}

Tear Down
    Close All Terminals
    Remove Directory    ${DIR}    recursive=True
