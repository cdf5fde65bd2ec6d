#!/usr/bin/env bash
# Creates (idempotently, quietly) the pinned venv of one adapter and prints its python as
# the last stdout line. Used by each adapters/NAME/setup.sh.
#
#   bash adapters/venv.sh NAME "pkg==1.0 other==2.0" IMPORT
#
# Venv: ${PDSAVE_VENV_DIR:-<repo>/.venv}/NAME. A stamp file records the pinned set and the
# Python version; when it matches nothing is done. After installing, every pin is checked
# against the installed version and IMPORT is imported. Interpreter:
# ${PDSAVE_PYTHON:-python3.11} (or python3).
set -euo pipefail
name=$1 pins=$2 import=$3
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${PDSAVE_VENV_DIR:-$repo/.venv}/$name"
if [[ -n "${PDSAVE_PYTHON:-}" ]]; then py="$PDSAVE_PYTHON"
elif command -v python3.11 >/dev/null 2>&1; then py=python3.11
else py=python3; fi
want="$pins python=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
stamp="$dir/.pdsave-stamp"
if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "$dir/bin/python"; exit 0
fi
echo "creating $dir ($pins)" >&2
mkdir -p "$(dirname "$dir")"
[[ -x "$dir/bin/python" ]] || "$py" -m venv "$dir" >&2
# shellcheck disable=SC2086
"$dir/bin/python" -m pip install -q --disable-pip-version-check $pins >&2
PYTHONWARNINGS=ignore "$dir/bin/python" - "$pins" "$import" >&2 <<'PY'
import importlib
import sys
from importlib import metadata
for pin in sys.argv[1].split():
    n, v = pin.split("==")
    if metadata.version(n) != v:
        sys.exit(f"{n}: wanted {v}, got {metadata.version(n)}")
importlib.import_module(sys.argv[2])
PY
echo "$want" > "$stamp"
echo "$dir/bin/python"
