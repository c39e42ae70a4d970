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
