#!/usr/bin/env bash
# Acceptance tests of the Robot Framework library, and its documentation.
#
#   bash atest/run.sh                      # every suite under atest/
#   bash atest/run.sh atest/ssh.robot      # some suites (or other pabot/robot options)
#
# - libdoc: docs/RemoteProxyLibrary.html (kept in git) and the JSON spec in
#   results/atest/ (a CI artifact);
# - pabot runs the suites in 2 processes (suites share nothing: each SSH suite
#   starts its own throwaway sshd or lab of hosts; SSH tests are left out when
#   not root);
# - robotstatuschecker checks the expected statuses, messages and log messages
#   written in the tests' [Documentation] (``FAIL message``, ``LOG 1.1 INFO ...``);
# - no password of an SSH target may appear in any output.xml of the run.
#
# Results in results/atest/ (log.html, report.html, output.xml). Exits non-zero
# on any failure. PYTHON selects the interpreter (default: .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
out=results/atest
rm -rf "$out"
mkdir -p "$out"

echo "== libdoc"
# Reproducible HTML: sources relative to the repository, and the time of the
# last commit of the library (not of this run) as the generation time.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct -- RemoteProxyLibrary 2>/dev/null || date +%s) \
"$python" - docs/RemoteProxyLibrary.html "$out/RemoteProxyLibrary.json" <<'EOF'
import os
import sys

from robot.libdocpkg import LibraryDocumentation

library = LibraryDocumentation("RemoteProxyLibrary")
for item in [library, *library.inits, *library.keywords]:
    if item.source:
        item.source = os.path.relpath(item.source)
library.save(sys.argv[1], "HTML")
library.save(sys.argv[2], "JSON")
print(f"{len(library.keywords)} keywords: {sys.argv[1]}, {sys.argv[2]}")
EOF

echo "== pabot"
[ $# -gt 0 ] || set -- atest
whole=no
[ "$*" != atest ] || whole=yes
# The SSH suite needs root and sshd (resources/sshtarget.py); skipped tests
# would not match their expected statuses, so leave them out instead.
if ! why=$("$python" -c 'import sys; sys.path.insert(0, "resources"); import sshtarget
ok, why = sshtarget.available(); print(why); sys.exit(0 if ok else 1)'); then
    echo "SSH tests left out: $why"
    set -- --exclude ssh "$@"
fi
# The lab suite (resources/sshlab.py) needs network namespaces, busybox and dash too.
if ! why=$("$python" -c 'import sys; sys.path.insert(0, "resources"); import sshlab
sshlab.ensure_lab_packages(); ok, why = sshlab.available_lab(); print(why); sys.exit(0 if ok else 1)'); then
    echo "SSH lab tests left out: $why"
    set -- --exclude lab "$@"
fi
# The Python 2.7 suite needs a python2.7 (resources/targetpythons.py finds one).
if ! why=$("$python" -c 'import sys; sys.path.insert(0, "resources"); import targetpythons
ok = targetpythons.python27() is not None; print(targetpythons.NO_PYTHON27); sys.exit(0 if ok else 1)'); then
    echo "Python 2.7 tests left out: $why"
    set -- --exclude python27 "$@"
fi
# Expected failures make pabot exit non-zero: the status checker decides.
# Its console (raw statuses, expected failures included) goes to a file: the
# summary below is the one that counts.
"$python" -m pabot.pabot --processes 2 --no-pabotlib \
    --command "$python" -m robot --end-command \
    --outputdir "$out" --variable "SECRETS_DIR:$PWD/$out/secrets" "$@" \
    > "$out/pabot-console.txt" 2>&1 || true
[ -f "$out/output.xml" ] || { tail -40 "$out/pabot-console.txt" >&2; echo "pabot wrote no $out/output.xml" >&2; exit 2; }
# Every terminal goes the same way through the engine, whatever its recovery
# policy: the suites that use the library's default run again with auto
# recovery on (only when the whole atest/ ran), and the runner's suites with
# the direct channel forced on and off; every run is checked.
if [ "$whole" = yes ]; then
    echo "== the same local suites with auto_recovery=True"
    mv "$out/output.xml" "$out/output-default.xml"
    "$python" -m robot --name "Auto Recovery" --variable AUTO_RECOVERY:True \
        --outputdir "$out" --output output-auto.xml --log NONE --report NONE \
        atest/python.robot atest/proxies.robot atest/terminals.robot \
        > "$out/auto-console.txt" 2>&1 || true
    # The runner's suites once more with the direct channel forced on, then
    # off (the runs above leave RPL_DIRECT unset: auto).
    for mode in on off; do
        echo "== the runner's suites with RPL_DIRECT=$mode"
        RPL_DIRECT=$mode "$python" -m robot --name "Direct ${mode^}" \
            --outputdir "$out" --output "output-direct-$mode.xml" --log NONE --report NONE \
            atest/python.robot atest/proxies.robot atest/recovery.robot \
            > "$out/direct-$mode-console.txt" 2>&1 || true
    done
    "$python" -m robot.rebot --name Acceptance --outputdir "$out" --output output.xml \
        --log NONE --report NONE "$out/output-default.xml" "$out/output-auto.xml" \
        "$out/output-direct-on.xml" "$out/output-direct-off.xml" \
        > /dev/null 2>&1 || true
fi

echo "== robotstatuschecker"
rc=0
"$python" -m robotstatuschecker "$out/output.xml" > "$out/statuschecker.txt" 2>&1 || rc=$?
"$python" -m robot.rebot --outputdir "$out" --output NONE "$out/output.xml" >/dev/null || true
"$python" - "$out/output.xml" <<'EOF'
import sys
from robot.api import ExecutionResult

result = ExecutionResult(sys.argv[1])
stats = result.statistics.total
print(f"atest: {stats.passed} passed, {stats.failed} failed, {stats.skipped} skipped")
for test in result.suite.all_tests:
    if test.status != "PASS":
        print(f"  {test.status} {test.full_name}\n    {test.message.splitlines()[0] if test.message else ''}")
EOF

echo "== passwords in outputs"
"$python" - "$out" <<'EOF' || rc=1
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
secrets = {line for path in out.glob("secrets/*.txt") for line in path.read_text().splitlines() if line}
if not secrets:
    print("no SSH suite ran: nothing to check")
    sys.exit(0)
leaks = [
    str(path)
    for path in sorted(out.rglob("*.xml"))
    if any(secret in path.read_text(errors="replace") for secret in secrets)
]
if leaks:
    print("a password appears in: " + ", ".join(leaks))
    sys.exit(1)
print(f"{len(secrets)} passwords, found in no output.xml")
EOF

echo "Log:    $PWD/$out/log.html"
echo "Report: $PWD/$out/report.html"
exit "$rc"
