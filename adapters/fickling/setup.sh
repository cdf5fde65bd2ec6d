#!/usr/bin/env bash
# Create the pinned venv of the fickling adapter (idempotent, quiet).
#
#   bash adapters/fickling/setup.sh        -> last stdout line: the venv's python
#
# Venv: ${PDSAVE_VENV_DIR:-<repo>/.venv}/fickling. A stamp file records the pinned set;
# when it matches nothing is done. Interpreter: ${PDSAVE_PYTHON:-python3.11} (or python3).
set -euo pipefail

name=fickling
pins="fickling==0.1.12 typing_extensions==4.16.0"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
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
PYTHONWARNINGS=ignore "$dir/bin/python" - "$pins" >&2 <<'PY'
import sys
from importlib import metadata
for pin in sys.argv[1].split():
    n, v = pin.split("==")
    if metadata.version(n) != v:
        sys.exit(f"{n}: wanted {v}, got {metadata.version(n)}")
import fickling  # noqa: F401
PY
echo "$want" > "$stamp"
echo "$dir/bin/python"
