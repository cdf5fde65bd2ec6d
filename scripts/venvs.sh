#!/usr/bin/env bash
# Create the pinned Paddle virtualenvs used to generate/check the corpus.
#
#   bash scripts/venvs.sh [paddle3|paddle2|all]     (default: all)
#   bash scripts/venvs.sh paddle-3.0.0 [numpy]      any release pip offers (spec/versions.md),
#                                                   numpy 2.4.6 unless given (2.6.2: 1.26.4)
#
# Venvs live in ${PDSAVE_VENV_DIR:-<repo>/.venv}/{paddle3,paddle2}.  Idempotent: a stamp
# file inside each venv records the pinned package set; when it matches, nothing is done.
# The interpreter is ${PDSAVE_PYTHON:-python3.11} (falls back to python3); Paddle 2.6.2
# and 3.3.1 wheels both exist for CPython 3.11, which is what the corpus was written with.
# Prints the python path of each requested venv on stdout (one per line).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv_root="${PDSAVE_VENV_DIR:-$repo/.venv}"
target="${1:-all}"

pick_python() {
  if [[ -n "${PDSAVE_PYTHON:-}" ]]; then echo "$PDSAVE_PYTHON"; return; fi
  if command -v python3.11 >/dev/null 2>&1; then echo python3.11; return; fi
  echo python3
}

RELEASES="2.6.2 3.0.0 3.1.0 3.1.1 3.2.0 3.2.1 3.2.2 3.3.0 3.3.1"

pins_for() {
  case "$1" in
    paddle3) echo "paddlepaddle==3.3.1 numpy==2.4.6" ;;
    paddle2) echo "paddlepaddle==2.6.2 numpy==1.26.4" ;;
    paddle-*)
      local r="${1#paddle-}" np="${NUMPY:-}"
      if [[ " $RELEASES " != *" $r "* ]]; then echo "unknown release: $r ($RELEASES)" >&2; return 2; fi
      if [[ -z "$np" ]]; then if [[ "$r" == 2.* ]]; then np=1.26.4; else np=2.4.6; fi; fi
      echo "paddlepaddle==$r numpy==$np" ;;
    *) echo "unknown venv: $1" >&2; return 2 ;;
  esac
}

make_venv() {
  local name="$1"
  local dir="$venv_root/$name"
  local pins; pins="$(pins_for "$name")"
  local py; py="$(pick_python)"
  local stamp="$dir/.pdsave-stamp"
  local want="$pins python=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$dir/bin/python"
    return 0
  fi
  echo "creating $dir ($pins)" >&2
  mkdir -p "$venv_root"
  if [[ ! -x "$dir/bin/python" ]]; then
    "$py" -m venv "$dir" >&2
  fi
  "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
  # shellcheck disable=SC2086
  "$dir/bin/python" -m pip install -q --disable-pip-version-check $pins >&2
  # sanity check: the pinned versions really are the ones importable
  "$dir/bin/python" - "$pins" >&2 <<'EOF'
import sys
from importlib import metadata
for pin in sys.argv[1].split():
    name, ver = pin.split("==")
    got = metadata.version(name)
    if got != ver:
        sys.exit(f"{name}: wanted {ver}, got {got}")
EOF
  echo "$want" > "$stamp"
  echo "$dir/bin/python"
}

case "$target" in
  paddle-*) NUMPY="${2:-}" make_venv "$target" ;;
  paddle3|paddle2) make_venv "$target" ;;
  all) make_venv paddle3; make_venv paddle2 ;;
  *) echo "usage: $0 [paddle3|paddle2|all]" >&2; exit 2 ;;
esac
