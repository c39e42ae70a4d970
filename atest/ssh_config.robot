*** Settings ***
Documentation       SSH as users configure it, against a real throwaway sshd:
...                 host-key policies (per terminal and library-wide), an
...                 ~/.ssh/config-style alias, an encrypted key. Needs root.
Resource            common.resource
Library             RemoteProxyLibrary    prompt_timeout=15 s    host_key_policy=reject
...                 AS    Strict
Suite Setup         Setup
Suite Teardown      Finish
Test Teardown       Close Terminals Of Both
Test Tags           ssh


*** Test Cases ***
Config Alias Gives Host, Port, User And Key
    ${config} =    Set Variable    ${OUTPUT_DIR}${/}ssh_config_alias
    Create File    ${config}
    ...    Host lab-target\nHostName ${SSH_HOST}\nPort ${SSH_PORT}\nUser ${KEY_USER}\nIdentityFile ${KEY_FILE}\n
    Open SSH Terminal    lab-target    ssh_config=${config}
    User Should Be    ${KEY_USER}
    ${info} =    Get Terminal
    Should Be Equal    ${info.shells}[0]    SshShell(${KEY_USER}@lab-target -> ${SSH_HOST}:${SSH_PORT})

Accept-new Records An Unknown Host, Then Reject Trusts It
    ${known} =    Set Variable    ${OUTPUT_DIR}${/}known_hosts_accept_new
    Remove File    ${known}
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}    port=${SSH_PORT}
    ...    host_key_policy=accept-new    known_hosts=${known}
    File Should Exist    ${known}
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}    port=${SSH_PORT}
    ...    host_key_policy=reject    known_hosts=${known}    alias=strict
    User Should Be    ${KEY_USER}    terminal=strict

Changed Host Key Fails Naming The Host And The Fix
    [Documentation]    FAIL REGEXP: HostKeyChanged: SshShell\\(.*\\): the host key of \\[127\\.0\\.0\\.1\\]:\\d+ has changed: .* remove the old key with: ssh-keygen -R '\\[127\\.0\\.0\\.1\\]:\\d+' -f \\S+known_hosts_changed \\(or use host_key_policy=accept\\)
    ${known} =    Set Variable    ${OUTPUT_DIR}${/}known_hosts_changed
    Create File    ${known}    [${SSH_HOST}]:${SSH_PORT} ${OTHER_KEY}\n
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}    port=${SSH_PORT}
    ...    host_key_policy=accept-new    known_hosts=${known}

Changed Host Key Is Accepted Under Accept
    ${known} =    Set Variable    ${OUTPUT_DIR}${/}known_hosts_changed_accept
    Create File    ${known}    [${SSH_HOST}]:${SSH_PORT} ${OTHER_KEY}\n
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}    port=${SSH_PORT}
    ...    host_key_policy=accept    known_hosts=${known}
    User Should Be    ${KEY_USER}

Library-wide Reject Refuses An Unknown Host
    [Documentation]    FAIL GLOB: HostKeyRejected: SshShell(*): the host key of * is in no known_hosts file (*known_hosts_empty, /etc/ssh/ssh_known_hosts) and host_key_policy is reject; use host_key_policy=accept-new to add it
    ${known} =    Set Variable    ${OUTPUT_DIR}${/}known_hosts_empty
    Create File    ${known}
    Strict.Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}
    ...    port=${SSH_PORT}    known_hosts=${known}

Library-wide Reject Accepts A Known Host And Yields To A Terminal's Policy
    Strict.Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}
    ...    port=${SSH_PORT}    known_hosts=${KNOWN_HOSTS_FILE}
    ${user} =    Strict.Run Python    __import__('getpass').getuser()
    Should Be Equal    ${user}    ${KEY_USER}
    Strict.Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${KEY_FILE}
    ...    port=${SSH_PORT}    known_hosts=${OUTPUT_DIR}${/}none    host_key_policy=accept
    ${user} =    Strict.Run Python    __import__('getpass').getuser()
    Should Be Equal    ${user}    ${KEY_USER}

Encrypted Key With A Passphrase
    ${key} =    Set Variable    ${OUTPUT_DIR}${/}encrypted_key
    ${passphrase} =    Create Encrypted Key    ${key}
    Set Suite Variable    ${PASSPHRASE}    ${passphrase}
    Open SSH Terminal    ${SSH_HOST}    ${KEY_USER}    key_file=${key}    port=${SSH_PORT}
    ...    passphrase=${passphrase}
    User Should Be    ${KEY_USER}


*** Keywords ***
Setup
    Set Library Search Order    RemoteProxyLibrary
    Start SSH Target Quietly
    ${other} =    Evaluate    ' '.join(open($KEY_FILE + '.pub').read().split()[:2])
    Set Suite Variable    ${OTHER_KEY}    ${other}
    Set Suite Variable    ${PASSPHRASE}    ${None}

Close Terminals Of Both
    RemoteProxyLibrary.Close All Terminals
    Strict.Close All Terminals

User Should Be
    [Arguments]    ${expected}    ${terminal}=${None}
    ${user} =    Run Python    __import__('getpass').getuser()    terminal=${terminal}
    Should Be Equal    ${user}    ${expected}

Finish
    Close Terminals Of Both
    IF    $PASSPHRASE is not None
        Record Secrets    ${PW_PASSWORD}    ${SU_PASSWORD}    ${PASSPHRASE.value}
    ELSE
        Record Secrets    ${PW_PASSWORD}    ${SU_PASSWORD}
    END
    Stop SSH Target
