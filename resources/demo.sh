#!/usr/bin/env bash
# A real demo on a local terminal (no SSH needed): own virtual environment,
# then python3 is started in a local pty, the agent is bootstrapped through it
# and remote objects are used through proxies.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RPL_DEMO_VENV:-.venv-demo}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e .
"$venv/bin/python" resources/demo.py
