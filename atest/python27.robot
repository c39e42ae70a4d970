*** Settings ***
Documentation       A target whose Python is 2.7: a local terminal started with
...                 python=<a python2.7 of this machine> (found by
...                 resources/targetpythons.py; without one the suite is skipped
...                 saying so, and atest/run.sh leaves it out). Values follow the
...                 2.7 mapping of docs/PROTOCOL.md: a native str and unicode come
...                 back as text, a bytearray as bytes, a long as an int.
Library             ${CURDIR}/../resources/targetpythons.py
Resource            common.resource
Suite Setup         Open Python 2.7 Terminal
Suite Teardown      Close All Terminals
Test Tags           python27


*** Test Cases ***
The Agent Runs In Python 2.7
    ${version} =    Run Python    __import__('sys').version_info[:2]
    Should Be Equal    ${version}    ${{(2, 7)}}

Native Strings Come Back As Text
    ${value} =    Run Python    'abc'
    Should Be Equal    ${value}    abc
    ${value} =    Run Python    '\\xc3\\xbc'
    Should Be Equal    ${value}    ü
    ${value} =    Run Python    u'\\u20ac'
    Should Be Equal    ${value}    €

Values Go Both Ways
    ${kinds} =    Call Remote Function    lambda *a: [type(x).__name__ for x in a]
    ...    ü    ${{b'\\xff'}}    ${{2**80}}
    Should Be Equal    ${kinds}    ${{['unicode', 'str', 'long']}}
    ${back} =    Call Remote Function    lambda *a: a    ü    ${{2**80}}    ${{bytearray(b'x')}}
    Should Be Equal    ${back}    ${{('ü', 2**80, bytearray(b'x'))}}

Proxies Work On Python 2.7
    Import Remote Module    os
    ${proxy} =    Get Proxy    os.path
    ${path} =    Call Proxy Method    ${proxy}    join    /tmp    ü.txt
    Should Be Equal    ${path}    /tmp/ü.txt

Background Calls Work On Python 2.7
    Import Remote Module    time
    ${call} =    Start Remote Function Call    time.sleep    ${0.3}
    ${value} =    Run Python    'usable meanwhile'
    Should Be Equal    ${value}    usable meanwhile
    ${result} =    Get Call Response    ${call}
    Should Be Equal    ${result}    ${None}

Remote Exceptions Keep Their Type
    [Documentation]    FAIL KeyError: 'missing'
    Run Python    {}['missing']

Commands And Files Work On Python 2.7
    ${out} =    Execute Command    printf 'ü'
    Should Be Equal    ${out}    ü
    ${dir} =    Evaluate    tempfile.mkdtemp()    modules=tempfile
    Create File    ${dir}/source.txt    hello from 2.7 ü
    RemoteProxyLibrary.Put File    ${dir}/source.txt    ${dir}/remote.txt
    RemoteProxyLibrary.Get File    ${dir}/remote.txt    ${dir}/back.txt
    ${text} =    OperatingSystem.Get File    ${dir}/back.txt
    Should Be Equal    ${text}    hello from 2.7 ü
    [Teardown]    Remove Directory    ${dir}    recursive=True


*** Keywords ***
Open Python 2.7 Terminal
    ${python} =    Find Python 2.7
    Open Local Terminal    alias=py27    python=${python}
