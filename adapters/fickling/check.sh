#!/usr/bin/env bash
# Plain-mode check for fickling (spec/validate.md, `--plain`):
#
#   adapters/fickling/check.sh PATH
#
# Runs `fickling --check-safety --print-results` and exits with its status: 0 when
# fickling calls the pickle safe (severity at most LIKELY_SAFE), 1 when it calls it
# unsafe, 2 when it cannot parse it (fickling's EXIT_ERROR); its report goes to stderr.
# PATH is what paddle.load is given: a file; a directory (fickling takes single files
# only, so every regular file in it is checked); or a prefix P of an inference model
# (each existing P.pdmodel, P.json, P.pdiparams, P.pdiparams.info is checked). With
# several files the worst exit status wins. fickling's JSON results go to a temporary
# file (by default it appends to ./safety_results.json). The venv comes from setup.sh
# (created on first use).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${PDSAVE_VENV_DIR:-$repo/.venv}/fickling/bin/fickling"
if [[ ! -x "$bin" ]]; then
  bash "$here/setup.sh" >/dev/null || { echo "check.sh: setup.sh failed" >&2; exit 3; }
fi
if [[ $# -ne 1 ]]; then echo "usage: $0 PATH" >&2; exit 3; fi
path="$1"

targets=()
if [[ -d "$path" ]]; then
  while IFS= read -r -d '' f; do targets+=("$f"); done \
    < <(find "$path" -type f -print0 | sort -z)
elif [[ -e "$path" ]]; then
  targets=("$path")
else
  for ext in .pdmodel .json .pdiparams .pdiparams.info; do
    [[ -e "$path$ext" ]] && targets+=("$path$ext")
  done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "check.sh: $path: no such file, directory or model prefix (or an empty directory)" >&2
  exit 2
fi

json="$(mktemp)"
trap 'rm -f "$json"' EXIT
worst=0
for t in "${targets[@]}"; do
  echo "== fickling --check-safety $t" >&2
  "$bin" --check-safety --print-results --json-output "$json" "$t" >&2 2>&1
  rc=$?
  (( rc > worst )) && worst=$rc
done
exit "$worst"
