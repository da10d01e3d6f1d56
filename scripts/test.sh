#!/usr/bin/env bash
# Install kinograph with its test extras into .venv and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
export QT_QPA_PLATFORM=offscreen
.venv/bin/python -m ruff check kinograph tests
# What a plugin author's type checker sees: the built-in packs and the example plugin ([tool.mypy]).
.venv/bin/python -m mypy
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
