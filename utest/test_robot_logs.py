"""No text from the target reaches a Robot log as HTML or with raw control
characters: Robot runs a small suite against a real python3 target, and the
generated output.xml (what log.html and report.html are made of) is read.

A target need not be hostile for this: remote code raising
``ValueError('*HTML*<img ...>')`` is enough.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SUITE = r"""
*** Settings ***
Library         RemoteProxyLibrary    timeout=1 min    prompt_timeout=15 s
Suite Setup     Open Local Terminal
Suite Teardown  Close All Terminals

*** Test Cases ***
HTML In An Exception Message
    Run Python    raise ValueError('*HTML*<img src=x onerror=alert("msg")>')

HTML In A Generic Exception Message
    Run Python    raise RuntimeError('*HTML*<img src=x onerror=alert("generic")>')

HTML In A Remote Module Name
    Run Python    class E(Exception): pass
    ...    E.__module__ = '*HTML*<b>module</b>'
    ...    raise E('x')

Control Characters In A Type Name
    ${proxy} =    Evaluate Python    type('Evil\\x1b[31m\\nINFO forged', (), {})()
    Log    ${proxy}

Control Characters In An Exception Type
    Run Python    class E(Exception): pass
    ...    E.__qualname__ = 'E\\x1b[2J\\nFAIL forged'
    ...    raise E('*HTML*<i>q</i>')

Printed Text
    Run Python    print('*HTML*<u>printed</u>\\x1b]0;title\\x07 \\u202e')
    Run Python    import sys; sys.stderr.write('*HTML*<u>err</u>\\x1b[0m\\n')
"""


def test_remote_text_is_never_html_nor_raw_control_characters_in_robot_output(tmp_path):
    suite = tmp_path / "remote_text.robot"
    suite.write_text(textwrap.dedent(SUITE), encoding="utf-8")
    output = tmp_path / "output.xml"
    run = subprocess.run(
        [sys.executable, "-m", "robot", "--output", str(output), "--log", "NONE",
         "--report", "NONE", "--loglevel", "DEBUG", "--console", "none", str(suite)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert output.exists(), run.stdout + run.stderr
    text = output.read_text(encoding="utf-8")
    root = ET.parse(output).getroot()
    statuses = {test.get("name"): test.find("status") for test in root.iter("test")}
    assert statuses["Control Characters In A Type Name"].get("status") == "PASS"
    assert statuses["Printed Text"].get("status") == "PASS"
    for name, status in statuses.items():
        message = status.text or ""
        assert not message.startswith("*HTML*"), (name, message)
    for message in root.iter("msg"):
        assert message.get("html") != "true", message.text
    # the remote text is there, shown as text
    for expected in ("<img src=x onerror=", "<b>module</b>", "<u>printed</u>", "<u>err</u>"):
        assert expected in ET.tostring(root, encoding="unicode").replace("&lt;", "<").replace(
            "&gt;", ">"
        ), expected
    assert "\\*HTML*" in text
    # control characters arrive escaped, never raw (nor dropped for XML)
    for raw in ("\x1b", "\x07", "\u202e", "\ufffd"):
        assert raw not in text
    assert "\\x1b[31m\\nINFO forged" in text
    assert "\\x1b[2J\\nFAIL forged" in text


TARGET_NAMES_SUITE = r"""
*** Settings ***
Library         RemoteProxyLibrary    timeout=1 min    prompt_timeout=15 s
Suite Setup     Open Local Terminal
Suite Teardown  Close All Terminals

*** Variables ***
${BASE}       %(base)s
${FORGED}     printf '\\033[2J\\033]0;owned\\007\\n\\342\\200\\256FAIL forged\\n'; sleep 5

*** Test Cases ***
Command Output In A Timeout Message
    Execute Command    ${FORGED}    timeout=1 s

Remote Root With Control Characters In The Get Directory Summary
    Run Python    import os
    ...    d = os.path.join('${BASE}', 'evil\\x1b[31m\\nINFO forged\\u202e')
    ...    os.makedirs(d); os.chdir(d)
    Get Directory    .    ${BASE}/local1    create_dirs=True

Non UTF-8 Remote Root In The Get Directory Summary
    Run Python    import os
    ...    d = os.path.join(b'${BASE}', b'latin1-\\xe9')
    ...    os.makedirs(d); os.chdir(d); open(b'f\\xe9', 'w').close()
    Get Directory    .    ${BASE}/local2    create_dirs=True

Non UTF-8 Name In A Failure
    Get File    missing-\udce9    ${BASE}/local3/    create_dirs=True

Non UTF-8 Working Directory In A Failure
    Execute Command    true    cwd=${BASE}/gone-\udce9

Later Test
    Log    the rest of the run
"""


def test_target_names_in_keyword_logs_are_escaped_and_output_xml_reads_back(tmp_path):
    """Text from the target in the lines and errors of the command and file
    keywords (a remote root or working directory, output so far): never raw
    control characters, and a name that is not UTF-8 (a lone surrogate)
    escaped, else Robot writes an output.xml it cannot read back and the
    whole run loses its log."""
    from robot.api import ExecutionResult

    suite = tmp_path / "target_names.robot"
    suite.write_text(TARGET_NAMES_SUITE % {"base": str(tmp_path)}, encoding="utf-8")
    output = tmp_path / "output.xml"
    log = tmp_path / "log.html"
    run = subprocess.run(
        [sys.executable, "-m", "robot", "--output", str(output), "--log", str(log),
         "--report", "NONE", "--loglevel", "DEBUG", "--console", "verbose", str(suite)],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert "Reading XML source" not in run.stdout + run.stderr, run.stdout + run.stderr
    assert log.exists(), "no log.html: output.xml is unreadable"
    result = ExecutionResult(str(output))  # Robot reads it back
    statuses = {test.name: (test.status, test.message) for test in result.suite.all_tests}
    assert statuses["Command Output In A Timeout Message"][0] == "FAIL"
    assert "\\x1b[2J" in statuses["Command Output In A Timeout Message"][1]
    for name in ("Remote Root With Control Characters In The Get Directory Summary",
                 "Non UTF-8 Remote Root In The Get Directory Summary", "Later Test"):  # fmt: skip
        assert statuses[name][0] == "PASS", (name, statuses[name])
    for name in ("Non UTF-8 Name In A Failure", "Non UTF-8 Working Directory In A Failure"):
        assert statuses[name][0] == "FAIL" and "\\udce9" in statuses[name][1], statuses[name]
    text = output.read_text(encoding="utf-8")
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in text, f"raw {raw!r} in output.xml"
        assert raw not in run.stdout, f"raw {raw!r} on the console"
    assert "latin1-\\udce9" in text and "evil\\x1b[31m\\nINFO forged\\u202e" in text
