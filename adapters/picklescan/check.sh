#!/usr/bin/env bash
# Plain-mode check for picklescan (spec/validate.md, `--plain`):
#
#   adapters/picklescan/check.sh PATH
#
# Exit 0 when picklescan calls PATH safe, 1 when it finds dangerous globals, 2 when it
# cannot scan (not a pickle, missing file); its report goes to stderr. PATH is what
# paddle.load is given: a file or a directory (handed to `picklescan --path` as is; for a
# directory picklescan scans only files with the extensions it knows), or a prefix P of
# an inference model, in which case each existing P.pdmodel, P.json, P.pdiparams and
# P.pdiparams.info is scanned and the worst exit status is returned.
# The venv comes from setup.sh (created on first use).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${PDSAVE_VENV_DIR:-$repo/.venv}/picklescan/bin/picklescan"
if [[ ! -x "$bin" ]]; then
  bash "$here/setup.sh" >/dev/null || { echo "check.sh: setup.sh failed" >&2; exit 3; }
fi
if [[ $# -ne 1 ]]; then echo "usage: $0 PATH" >&2; exit 3; fi
path="$1"

targets=()
if [[ -e "$path" ]]; then
  targets=("$path")
else
  for ext in .pdmodel .json .pdiparams .pdiparams.info; do
    [[ -e "$path$ext" ]] && targets+=("$path$ext")
  done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "check.sh: $path: no such file, directory or model prefix" >&2
  exit 2
fi

worst=0
for t in "${targets[@]}"; do
  echo "== picklescan --path $t" >&2
  "$bin" --path "$t" >&2 2>&1
  rc=$?
  (( rc > worst )) && worst=$rc
done
exit "$worst"
