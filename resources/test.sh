#!/usr/bin/env bash
# The whole test suite from a fresh clone: own virtual environment, lint, types,
# Python 2.7 and 3.6 check of what runs on targets, unit tests against a real sshd
# (the runner and recovery suites three times: direct channel auto, on, off).
# As root it installs openssh-server, sudo, busybox and dash when missing (the
# SSH tests and the lab need them); as another user those tests are skipped
# with a one-line reason.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RPL_TEST_VENV:-.venv-test}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
if [ "$(id -u)" = 0 ]; then
    "$venv/bin/python" -c 'import sys; sys.path.insert(0, "resources"); import sshlab; sshlab.ensure_lab_packages()'
fi
echo "== ruff";  "$venv/bin/ruff" check .
echo "== mypy";  "$venv/bin/mypy"
echo "== vermin (target side: Python 2.7 and 3.6+; '# novm' marks lines run on Python 3 only)"
"$venv/bin/vermin" -t=2.7 -t=3.6- --no-tips --violations --eval-annotations RemoteProxyLibrary/wire RemoteProxyLibrary/agent
echo "== vermin (controller: Python 3.9+)"
"$venv/bin/vermin" -t=3.9- --no-tips --violations --eval-annotations RemoteProxyLibrary
echo "== pytest"
"$venv/bin/python" -m pytest "$@"
# The runner and recovery suites once more with the direct channel forced on
# and forced off (the run above is RPL_DIRECT unset: auto), so each path
# passes them (see utest/paths.py).
if [ $# -eq 0 ]; then
    for mode in on off; do
        echo "== pytest: runner and recovery suites with RPL_DIRECT=$mode"
        RPL_DIRECT=$mode "$venv/bin/python" -m pytest -q -p no:cacheprovider \
            utest/test_runner_local.py utest/test_runner_ssh.py utest/test_recovery.py \
            utest/test_proxies_local.py utest/test_commands_local.py utest/test_files_local.py \
            utest/test_commands_files_ssh.py
    done
fi
echo "== atest (Robot Framework suites under pabot, libdoc)"
PYTHON="$venv/bin/python" bash atest/run.sh
