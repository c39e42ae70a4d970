*** Settings ***
Documentation       Commands and file transfers through ssh -> su -> sudo against a
...                 real throwaway sshd: they run, read and write as root at the end
...                 of the hops; a non-root hop meets the target's refusals.
Resource            common.resource
Suite Setup         Set Up
Suite Teardown      Finish
Test Tags           ssh


*** Test Cases ***
Execute Command As Root Through Three Hops
    ${info} =    Get Terminal    root
    Length Should Be    ${info.shells}    3
    ${out}    ${rc} =    Execute Command    id -u    return_rc=True    terminal=root
    Should Be Equal    ${out}    0
    Should Be Equal    ${rc}    ${0}

A Command Past Its Timeout Leaves No Process Behind
    [Documentation]    FAIL GLOB: CommandTimeout: Command 'echo up; sleep 3142.5 & sleep 3142.5' ran past its timeout of 1 s and was killed with its process group on the target.*stdout: up*
    TRY
        Execute Command    echo up; sleep 3142.5 & sleep 3142.5    timeout=1 s    terminal=root
    FINALLY
        Wait Until Keyword Succeeds    5 s    0.1 s    No Process Runs    sleep 3142.5
    END

Files Travel As Root Through Three Hops
    Create File    ${DIR}/up.txt    only root may write /root
    Put File    ${DIR}/up.txt    /root/rpl-atest-up.txt    mode=0640    terminal=root
    ${owner} =    Execute Command    stat -c '%U %a' /root/rpl-atest-up.txt    terminal=root
    Should Be Equal    ${owner}    root 640
    RemoteProxyLibrary.Get File    /root/rpl-atest-up.txt    ${DIR}/down.txt    terminal=root
    ${text} =    OperatingSystem.Get File    ${DIR}/down.txt
    Should Be Equal    ${text}    only root may write /root
    Execute Command    rm /root/rpl-atest-up.txt    terminal=root

Directories Travel Through Three Hops
    Create File    ${DIR}/tree/a.txt    a
    Create File    ${DIR}/tree/sub/b.txt    b
    Put Directory    ${DIR}/tree    ${DIR}/copy    terminal=root
    Get Directory    ${DIR}/copy    ${DIR}/back    terminal=root
    ${b} =    OperatingSystem.Get File    ${DIR}/back/sub/b.txt
    Should Be Equal    ${b}    b

Permission Denied Is A Clear Error
    [Documentation]    FAIL PermissionError: [Errno 13] cannot read on the target: Permission denied: '/etc/shadow'
    RemoteProxyLibrary.Get File    /etc/shadow    ${DIR}/shadow    terminal=user


*** Keywords ***
Set Up
    Start SSH Target Quietly
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}    port=${SSH_PORT}
    ...    su_user=${PW_USER}    su_password=${PW_PASSWORD}    sudo=${True}    alias=root
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}    port=${SSH_PORT}
    ...    alias=user
    ${dir} =    Evaluate    tempfile.mkdtemp(prefix='rpl-atest-')    modules=tempfile
    Set Suite Variable    ${DIR}    ${dir}

No Process Runs
    [Documentation]    Counts the processes running exactly ``command line`` on the target.
    [Arguments]    ${command line}
    ${count} =    Execute Command    pgrep -c -x -f '${command line}'    terminal=root
    Should Be Equal    ${count}    0

Finish
    Close All Terminals
    Remove Directory    ${DIR}    recursive=True
    Record Secrets    ${PW_PASSWORD}    ${SU_PASSWORD}
    Stop SSH Target
