*** Settings ***
Documentation       Proxies and the proxy registry on local terminals.
Resource            common.resource
Suite Setup         Open Terminals
Suite Teardown      Close All Terminals


*** Test Cases ***
Get Proxy Registers Under The Remote Name
    ${os} =    Get Proxy    os
    ${by name} =    Call Proxy Method    os    getcwd
    ${by object} =    Call Proxy Method    ${os}    getcwd
    Should Be Equal    ${by name}    ${by object}

Get Proxy Registers Under A Given Name
    Get Proxy    os.path    name=paths
    ${joined} =    Call Proxy Method    paths    join    a    b
    Should Be Equal    ${joined}    a/b

Names Are Looked Up In The Given Terminal
    Get Proxy    os    terminal=two
    ${here} =    Call Proxy Method    os    getpid
    ${there} =    Call Proxy Method    os    getpid    terminal=two
    Should Not Be Equal    ${here}    ${there}

Unknown Proxy Name Fails Listing Registered Ones
    [Documentation]    FAIL No proxy named 'nosuch' in terminal 2 (alias 'one'). Registered: 'os', 'paths'.
    Call Proxy Method    nosuch    anything

A Proxy Argument Must Be A Proxy Or A Name
    [Documentation]    FAIL ValueError: Argument 'proxy' got value '42' (integer) that cannot be converted to Proxy: expected a proxy or the name of a registered proxy
    Get Local Value    ${42}

Get Proxy From Call And Register Proxy
    ${process} =    Get Proxy From Call    subprocess.Popen    ${{['sleep', '0.2']}}
    Register Proxy    ${process}    sleeper
    ${status} =    Call Proxy Method    sleeper    wait
    Should Be Equal    ${status}    ${0}
    ${code} =    Get Proxy Attribute    ${process}    returncode
    Should Be Equal    ${code}    ${0}

Proxy Attributes
    ${thing} =    Evaluate Python    types.SimpleNamespace(size=1)
    Set Proxy Attribute    ${thing}    size    ${5}
    ${size} =    Get Proxy Attribute    ${thing}    size
    Should Be Equal    ${size}    ${5}
    Set Proxy Attribute    ${thing}    itself    ${thing}
    ${same} =    Run Python    True
    ${inner} =    Get Proxy Attribute    ${thing}    itself
    ${size} =    Get Proxy Attribute    ${inner}    size
    Should Be Equal    ${size}    ${5}

Proxies As Arguments Stand For Remote Objects
    ${items} =    Evaluate Python    collections.deque([3, 1, 2])
    ${sorted} =    Call Remote Function    sorted    ${items}
    Should Be Equal    ${sorted}    ${{[1, 2, 3]}}

Get Local Value
    Run Python    counter = collections.Counter('abca')
    Get Proxy    counter
    ${copy} =    Get Local Value    counter
    Should Be Equal    ${copy}    ${{{'a': 2, 'b': 1, 'c': 1}}}

Get Local Value Of An Object That Cannot Travel
    [Documentation]    FAIL GLOB: UnableToSerialize: *
    ${lock} =    Evaluate Python    threading.Lock()
    Get Local Value    ${lock}

Set Proxy Timeout
    [Documentation]    FAIL GLOB: RemoteTimeout: remote call * did not answer within 0.2 s
    Open Local Terminal    alias=quick    prompt_timeout=1 s
    Import Remote Module    subprocess
    ${process} =    Get Proxy From Call    subprocess.Popen    ${{['sleep', '30']}}
    Register Proxy    ${process}    long sleeper
    Set Proxy Timeout    long sleeper    200 ms
    TRY
        Call Proxy Method    long sleeper    wait
    FINALLY
        Call Proxy Method    ${process}    kill
        Close Terminal
        Switch Terminal    one
    END

Start Proxy Method Call
    ${process} =    Get Proxy From Call    subprocess.Popen    ${{['sleep', '30']}}
    ${call} =    Start Proxy Method Call    ${process}    wait
    Run Keyword And Expect Error    GLOB: RemoteTimeout: *
    ...    Get Call Response    ${call}    timeout=0.2
    Call Proxy Method    ${process}    terminate
    ${status} =    Get Call Response    ${call}
    Should Be Equal    ${status}    ${-15}

Start Proxy Method Call Of A Callable Attribute
    ${thing} =    Evaluate Python    types.SimpleNamespace(double=lambda x: 2 * x)
    ${call} =    Start Proxy Method Call    ${thing}    double    ${21}
    ${value} =    Get Call Response    ${call}
    Should Be Equal    ${value}    ${42}

Release Proxy
    [Documentation]    FAIL GLOB: InvalidProxySession: proxy _rpl_h* of object was released (release_proxy, or the Release Proxy keyword) and cannot be used any more
    ${before} =    Handles On Target
    ${released} =    Evaluate Python    object()    name=released
    ${during} =    Handles On Target
    Should Be Equal    ${during}    ${before + 1}
    Release Proxy    released
    ${after} =    Handles On Target
    Should Be Equal    ${after}    ${before}
    ${info} =    Get Terminal
    Should Not Contain    ${info.proxies}    released
    Get Local Value    ${released}

Each Proxy Keyword Is One Round Trip
    ${os} =    Round Trips Of    Get Proxy    os
    Round Trips Of    Call Proxy Method    ${os}    getpid
    Round Trips Of    Call Proxy Method    os    getpid
    ${environ} =    Round Trips Of    Get Proxy Attribute    os    environ
    Round Trips Of    Call Proxy Method    ${environ}    get    HOME
    Round Trips Of    Set Proxy Attribute    ${environ}    unused    ${1}
    ${thing} =    Round Trips Of    Evaluate Python    types.SimpleNamespace(a=[1])
    ${value} =    Round Trips Of    Get Proxy Attribute    ${thing}    a
    Should Be Equal    ${value}    ${{[1]}}
    ${path} =    Round Trips Of    Get Proxy    os.sep
    ${sep} =    Round Trips Of    Get Local Value    ${path}
    Should Be Equal    ${sep}    /


*** Keywords ***
Open Terminals
    Open Local Terminal    alias=two
    Open Local Terminal    alias=one
    Import Remote Module    os    subprocess    types    collections    threading
    Import Remote Module    os    terminal=two

Round Trips Of
    [Documentation]    Runs a keyword and returns its result; fails unless it
    ...    made exactly one round trip to the target.
    [Arguments]    ${name}    @{args}
    ${before} =    Get Terminal
    ${result} =    Run Keyword    ${name}    @{args}
    ${after} =    Get Terminal
    ${made} =    Evaluate    $after.round_trips - $before.round_trips
    Should Be Equal    ${made}    ${1}    ${name} made ${made} round trips    values=False
    RETURN    ${result}

Handles On Target
    [Documentation]    Handles alive on the target. Proxies dropped by earlier
    ...    tests are collected here first (some only by the cyclic GC, whose
    ...    timing depends on allocations anywhere) and released by this request.
    Evaluate    gc.collect()    modules=gc
    ${count} =    Run Python    sum(1 for name in globals() if name.startswith('_rpl_h'))
    RETURN    ${count}
