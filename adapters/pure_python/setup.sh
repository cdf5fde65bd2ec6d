#!/usr/bin/env bash
# Builds the pure-Python recipe's venv (numpy only) and prints its python.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${PDSAVE_VENV_DIR:-$repo/.venv}/pure_python"
if [[ ! -x "$dir/bin/python" ]] || ! "$dir/bin/python" -c 'import numpy' 2>/dev/null; then
  python3 -m venv "$dir" >&2
  "$dir/bin/python" -m pip install -q --disable-pip-version-check numpy==2.4.6 >&2
fi
echo "$dir/bin/python"
