*** Settings ***
Documentation       RemoteProxyLibrary demo on a local terminal (no SSH needed):
...                 Python is started in a local pty, a small agent is sent
...                 through it, and remote objects are used through proxies.
...                 Run with: bash resources/demo.sh
Library             RemoteProxyLibrary    timeout=1 min
Suite Setup         Open Local Terminal    alias=target
Suite Teardown      Close All Terminals


*** Test Cases ***
Values Travel Back
    ${sum} =    Run Python    1 + 1
    Should Be Equal    ${sum}    ${2}
    Import Remote Module    os    platform
    ${pid} =    Call Remote Function    os.getpid
    Log    Python on the target runs as process ${pid}
    ${system} =    Call Remote Function    platform.system
    Should Be Equal    ${system}    Linux

Remote Objects Stay Remote
    Get Proxy    os.path    name=paths
    ${joined} =    Call Proxy Method    paths    join    a    b
    Should Be Equal    ${joined}    a/b
    Import Remote Module    subprocess
    ${process} =    Get Proxy From Call    subprocess.Popen    ${{['uname', '-a']}}
    ...    stdout=${-1}    universal_newlines=${True}
    ${out} =    Call Proxy Method    ${process}    communicate
    Log    uname -a on the target: ${out}[0]

Remote Prints And Tracebacks Are In The Log
    Run Python    print('hello from the target')
    Run Keyword And Expect Error    ZeroDivisionError: division by zero
    ...    Run Python    1 / 0

Calls In The Background
    Import Remote Module    time
    ${call} =    Start Remote Function Call    time.sleep    ${0.3}
    ${value} =    Run Python    'still answering while the call runs'
    Log    ${value}
    Get Call Response    ${call}
