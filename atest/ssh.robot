*** Settings ***
Documentation       SSH terminals against a real throwaway sshd: logins with a
...                 key, a password and a Secret, hops through su, sudo and ssh,
...                 clear failures, auto recovery. Needs root (skips otherwise).
Resource            common.resource
Suite Setup         Start SSH Target Quietly
Suite Teardown      Finish
Test Teardown       Close All Terminals
Test Tags           ssh


*** Test Cases ***
Login With A Key
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}    port=${SSH_PORT}
    User Should Be    ${KEY_USER}

Login With A Password
    Open SSH Terminal    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    ${SSH_PORT}    alias=pw
    User Should Be    ${PW_USER}    terminal=pw

Login With A Secret
    ${secret} =    Evaluate    robot.api.types.Secret($PW_PASSWORD)
    Open SSH Terminal    ${SSH_HOST}    ${PW_USER}    ${secret}    ${SSH_PORT}
    User Should Be    ${PW_USER}

Wrong Password Fails Without Showing It
    [Documentation]    FAIL GLOB: ShellAuthenticationFailed: SshShell(*@127.0.0.1:*): authentication failed (the server offers publickey, password): password: refused
    Open SSH Terminal    ${SSH_HOST}    ${PW_USER}    not-${PW_PASSWORD}    ${SSH_PORT}

A Key-Only Login Without A Key Says What To Give
    [Documentation]    FAIL GLOB: ShellAuthenticationFailed: SshShell(*@127.0.0.1:*): authentication failed (the server offers publickey, password): no key to offer; no password given. Give a password, or a key_file (or a key in an SSH agent)
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    port=${SSH_PORT}

A Refused Port Says So In Words
    [Documentation]    FAIL GLOB: ShellConnectionFailed: SshShell(*@127.0.0.1:1): connection refused: nothing listens on 127.0.0.1 port 1
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}    port=1

Push Shell SudoShell Reuses The Login Password
    Open SSH Terminal    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    ${SSH_PORT}
    Push Shell    SudoShell
    User Should Be    root

Sudo Hop Answers The Password
    Open SSH Terminal    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    ${SSH_PORT}    sudo=${True}
    User Should Be    root
    ${info} =    Get Terminal
    Should Be Equal    ${info.shells}[1]    SudoShell(to root)

Su Hop
    Open SSH Terminal    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    ${SSH_PORT}
    ...    su_user=${SU_USER}    su_password=${SU_PASSWORD}
    User Should Be    ${SU_USER}

Sudo Without Rights Fails Clearly
    [Documentation]    FAIL GLOB: ShellPermissionDenied: SudoShell(to root)*: no sudo rights*
    ${secret} =    Evaluate    robot.api.types.Secret($SU_PASSWORD)
    Open SSH Terminal    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    ${SSH_PORT}
    ...    su_user=${SU_USER}    su_password=${secret}    sudo=${True}

Ssh Hop Given As A Shell Dictionary
    ${hop} =    Create Dictionary    shellname=SshShell    host=${SSH_HOST}    port=${SSH_PORT}
    ...    username=${PW_USER}    key_file=${KEY_USER_HOP_KEY}
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}    port=${SSH_PORT}
    ...    hops=${{[$hop]}}
    User Should Be    ${PW_USER}
    ${info} =    Get Terminal
    Length Should Be    ${info.shells}    2

Open Terminal From Shell Dictionaries
    ${secret} =    Evaluate    robot.api.types.Secret($PW_PASSWORD)
    ${ssh} =    Create Dictionary    shellname=SshShell    host=${SSH_HOST}    port=${SSH_PORT}
    ...    username=${PW_USER}    password=${secret}
    ${sudo} =    Create Dictionary    shellname=SudoShell    password=${secret}
    Open Terminal    ${ssh}    ${sudo}    alias=root via dicts
    User Should Be    root    terminal=root via dicts

Push And Pop Sudo
    Open SSH Terminal    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    ${SSH_PORT}
    User Should Be    ${PW_USER}
    Push Shell    SudoShell    password=${PW_PASSWORD}
    User Should Be    root
    Pop Shell
    User Should Be    ${PW_USER}

Proxies Over SSH
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}    port=${SSH_PORT}
    Import Remote Module    subprocess
    ${process} =    Get Proxy From Call    subprocess.Popen    ${{['id', '-un']}}
    ...    stdout=${-1}    universal_newlines=${True}
    ${out} =    Call Proxy Method    ${process}    communicate
    Should Be Equal    ${out}[0]    ${KEY_USER}\n

Auto Recovery After The SSH Session Is Killed
    Open SSH Terminal    ${SSH_HOST}    ${PW_USER}    ${PW_PASSWORD}    ${SSH_PORT}
    ...    sudo=${True}    auto_recovery=${True}
    Import Remote Module    os
    ${pid} =    Run Python    os.getpid()
    ${killed} =    Kill SSH Sessions    ${PW_USER}
    Should Be True    ${killed} > 0
    ${new pid} =    Run Python    os.getpid()
    Should Not Be Equal    ${pid}    ${new pid}
    User Should Be    root


*** Keywords ***
User Should Be
    [Arguments]    ${expected}    ${terminal}=${None}
    ${user} =    Run Python    __import__('getpass').getuser()    terminal=${terminal}
    Should Be Equal    ${user}    ${expected}

Finish
    Close All Terminals
    Record Secrets    ${PW_PASSWORD}    ${SU_PASSWORD}
    Stop SSH Target
