#!/usr/bin/env bash
# The demo on a local terminal (no SSH needed): own virtual environment, then a
# Robot Framework suite (atest/demo/demo.robot) starts Python in a local pty
# through RemoteProxyLibrary, runs code there and uses remote objects through
# proxies. The same in plain Python: resources/demo.py.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RPL_DEMO_VENV:-.venv-demo}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e .
out=results/demo
"$venv/bin/python" -m robot --outputdir "$out" atest/demo/demo.robot
echo
echo "Demo log: $PWD/$out/log.html"
