"""Every example of the keyword documentation (libdoc) and of the README runs.

Examples are extracted, not copied: each table of a keyword's documentation is
run as a Robot test (pipe-separated rows), each ``*****`` block as a suite,
each ``Library`` block as the settings of a suite, and the README's Robot and
Python blocks as they are. The names the documentation uses for targets point
at the test sshd: ``10.0.0.2`` and ``192.168.1.2`` through an ssh_config in a
``HOME`` of the test's own (and in the target users' homes, for typed hops),
``admin`` is the target's user with sudo rights, ``app`` its ``su`` user,
``dut1`` a host of ``${CURDIR}/lab_ssh_config``. Without an sshd (not root)
the examples that need one are left out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SSH_NAMES = re.compile(r"10\.0\.0\.2|192\.168\.1\.2|\bdut1\b|SshShell|SudoShell|SuShell|\$\{HOST\}")


def library_doc_blocks() -> list[tuple[str, list[str]]]:
    """(where, rows) of every table in the library's documentation."""
    from robot.libdocpkg import LibraryDocumentation

    doc = LibraryDocumentation("RemoteProxyLibrary")
    sources = [("intro", doc.doc)] + [("importing", init.doc) for init in doc.inits]
    sources += [(keyword.name, keyword.doc) for keyword in doc.keywords]
    blocks = []
    for where, text in sources:
        rows: list[str] = []
        for line in [*text.splitlines(), ""]:
            if line.strip().startswith("|"):
                rows.append(line.strip())
            elif rows:
                blocks.append((where, rows))
                rows = []
    return blocks


def readme_blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def is_table_of_words(rows: list[str]) -> bool:
    """A documentation table (its header cells read ``=Name=``), not code."""
    return rows[0].replace(" ", "").startswith("|=")


def kind_of(rows: list[str]) -> str:
    if is_table_of_words(rows):
        return "table"
    if any("*****" in row for row in rows):
        return "suite"
    if rows[0].startswith("| Library "):
        return "settings"
    return "steps"


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def suite_text(rows: list[str]) -> str:
    """A ``| *****`` block as a space-separated suite."""
    lines = [row[2:] if row.startswith("| ") else row[1:] for row in rows]
    return "\n".join(lines).replace("*****", "***") + "\n"


@pytest.fixture(scope="module")
def target_names(ssh_target, tmp_path_factory):
    """The documentation's names, pointing at the test sshd; see module doc."""
    home = tmp_path_factory.mktemp("home")
    ssh = home / ".ssh"
    ssh.mkdir(mode=0o700)
    key = ssh / "id_ed25519"
    shutil.copy(ssh_target.client_key_file, key)
    os.chmod(key, 0o600)
    admin, key_user, app = (ssh_target.users[r] for r in ("password", "key", "su"))
    config = textwrap.dedent(f"""\
        Host 10.0.0.2 10.0.0.9 192.168.1.2 dut1 bastion.lab
            HostName {ssh_target.host}
            Port {ssh_target.port}
            User {key_user.name}
            IdentityFile {key}
        """)
    (ssh / "config").write_text(config)
    known = Path(ssh_target.known_hosts_file).read_text().split(None, 1)[1]
    (ssh / "known_hosts").write_text(f"[{ssh_target.host}]:{ssh_target.port} {known}")
    for user in (admin, key_user, app):  # typed hops read the target user's config
        user_config = Path(user.home) / ".ssh" / "config"
        user_config.write_text(config.replace(str(key), user.hop_key_file))
        shutil.chown(user_config, user.name)
        os.chmod(user_config, 0o600)
    lab_key = ssh / "lab_key"
    shutil.copy(ssh_target.client_key_file, lab_key)
    os.chmod(lab_key, 0o600)
    subprocess.run(["ssh-keygen", "-q", "-p", "-P", "", "-N", "lab key phrase", "-f",
                    str(lab_key)], check=True, capture_output=True)  # fmt: skip
    return {
        "home": home,
        "config": config,
        "names": {"admin": admin.name, "app": app.name, "me": key_user.name},
        "host": "10.0.0.2",
        "variables": {
            "PASSWORD": admin.password,
            "PW": app.password,
            "APP_PASSWORD": app.password,
        },
        "client_key": ssh_target.client_key_file,
    }


def substitute(text: str, names: dict[str, str]) -> str:
    for word, real in names.items():
        text = re.sub(rf"(?<![\w$@{{/.-]){re.escape(word)}(?![\w}}])", real, text)
    return text


def run_robot(suite_dir: Path, env_home: Path | None, variables: dict[str, str],
              host: str = "") -> str:  # fmt: skip
    args = [sys.executable, "-m", "robot", "--output", "output.xml", "--log", "NONE",
            "--report", "NONE", "--outputdir", str(suite_dir / "out"),
            "--consolewidth", "100"]  # fmt: skip
    for name, value in variables.items():
        args += ["--variable", f"{name}: Secret:{value}"]
    if host:
        args += ["--variable", f"HOST:{host}"]
    env = dict(os.environ)
    if env_home is not None:
        env["HOME"] = str(env_home)
    env["DUT_PASSWORD"] = variables.get("PASSWORD", "unused")
    run = subprocess.run([*args, str(suite_dir)], capture_output=True, text=True, cwd=suite_dir,
                         env=env, timeout=600)  # fmt: skip
    return run.stdout + run.stderr if run.returncode else ""


SETTINGS = """\
*** Settings ***
Library         RemoteProxyLibrary    timeout=1 min    prompt_timeout=15 s
Test Setup      Open Example Terminal
Test Teardown   Close All Terminals

*** Keywords ***
Open Example Terminal
    Open Local Terminal    alias=dut
    Import Remote Module    os    subprocess    json    time
"""


def write_support_files(directory: Path, names: dict) -> None:
    """What examples refer to by ``${CURDIR}``: an ssh_config, an encrypted key."""
    (directory / "lab_ssh_config").write_text(names["config"])
    keys = directory / "keys"
    keys.mkdir(exist_ok=True)
    shutil.copy(names["client_key"], keys / "id_ed25519")
    os.chmod(keys / "id_ed25519", 0o600)
    subprocess.run(["ssh-keygen", "-q", "-p", "-P", "", "-N", "phrase", "-f",
                    str(keys / "id_ed25519")], check=True, capture_output=True)  # fmt: skip
    names["variables"]["PHRASE"] = "phrase"


def test_the_documentation_has_examples():
    kinds = [kind_of(rows) for _, rows in library_doc_blocks()]
    assert kinds.count("steps") >= 25 and kinds.count("suite") >= 2 and "settings" in kinds
    assert readme_blocks("robotframework") and readme_blocks("python")


def test_every_keyword_example_runs(target_names, tmp_path):
    tests = []
    for number, (where, rows) in enumerate(library_doc_blocks(), start=1):
        if kind_of(rows) != "steps":
            continue
        body = "\n".join(f"| | {row[1:].strip()}" for row in rows)
        tests.append(f"| Example {number} Of {where} |\n{substitute(body, target_names['names'])}")
    suite = tmp_path / "examples"
    suite.mkdir()
    write_support_files(suite, target_names)
    text = SETTINGS + "\n| *** Test Cases *** |\n" + "\n".join(tests) + "\n"
    (suite / "keyword_examples.robot").write_text(text)
    failures = run_robot(suite, target_names["home"], target_names["variables"])
    assert not failures, failures[-6000:]


def test_every_suite_and_settings_example_runs(target_names, tmp_path):
    suites = []
    for number, (_, rows) in enumerate(library_doc_blocks(), start=1):
        kind = kind_of(rows)
        if kind == "suite" and any("Test Cases" in row for row in rows):
            text = suite_text(rows)
            if "*** Settings ***" not in text:
                text = "*** Settings ***\nLibrary    RemoteProxyLibrary\n" + text
            suites.append((f"suite_{number}", text))
        elif kind == "suite":  # a Variables section alone: runs with a test using it
            text = (
                suite_text(rows)
                + "\n*** Test Cases ***\nIts Variables Resolve\n    Log Many    &{EMPTY}\n"
            )
            suites.append(
                (f"suite_{number}", "*** Settings ***\nLibrary    RemoteProxyLibrary\n\n" + text)
            )
        elif kind == "settings":  # each Library row its own suite, the other rows its test
            steps = [
                "    " + "    ".join(cells(row)) for row in rows if not row.startswith("| Library ")
            ]
            for row_number, row in enumerate(rows, start=1):
                if row.startswith("| Library "):
                    text = "*** Settings ***\n" + "    ".join(cells(row)) + "\n\n"
                    text += "*** Test Cases ***\nSettings Work\n    Open Local Terminal\n"
                    text += "    Run Python    1 + 1\n" + "\n".join(steps) + "\n"
                    suites.append((f"settings_{number}_{row_number}", text))
    suites += [(f"readme_{n}", block) for n, block in enumerate(readme_blocks("robotframework"))]
    directory = tmp_path / "suites"
    directory.mkdir()
    write_support_files(directory, target_names)
    for name, text in suites:
        (directory / f"{name}.robot").write_text(substitute(text, target_names["names"]))
    failures = run_robot(directory, target_names["home"], target_names["variables"],
                         target_names["host"])  # fmt: skip
    assert not failures, failures[-6000:]


@pytest.mark.parametrize("number", range(4))
def test_the_readme_python_examples_run(target_names, monkeypatch, number):
    code = readme_blocks("python")[number]
    monkeypatch.setenv("HOME", str(target_names["home"]))
    code = substitute(code, target_names["names"])
    code = code.replace('"secret"', repr(target_names["variables"]["PASSWORD"]))
    namespace: dict = {}
    try:
        exec(compile(code, "README.md", "exec"), namespace)  # the README's own code
    finally:
        runner = namespace.get("runner")
        if runner is not None:
            runner.close()
    session = namespace.get("session")
    assert session is None or session.terminal is None  # it closed what it opened


def test_the_readme_has_four_python_examples():
    assert len(readme_blocks("python")) == 4
