#!/usr/bin/env bash
# Plain-mode check for modelscan (spec/validate.md, `--plain`):
#
#   adapters/modelscan/check.sh PATH
#
# Runs `modelscan -p PATH` and exits 0 when modelscan reports no issue — also when it
# scans nothing (its exit 3, "no supported files": a .pdparams, .pdopt or .pdmodel is
# skipped, so a hub relying on it accepts the file) — 1 when it reports issues, 2 on a
# scan error. PATH is a file or a directory (given as is), or a model prefix P (each
# existing P.pdmodel, P.json, P.pdiparams, P.pdiparams.info; the worst status wins).
# Its report goes to stderr. The venv comes from setup.sh (created on first use).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${PDSAVE_VENV_DIR:-$repo/.venv}/modelscan/bin/modelscan"
if [[ ! -x "$bin" ]]; then
  bash "$here/setup.sh" >/dev/null || { echo "check.sh: setup.sh failed" >&2; exit 3; }
fi
if [[ $# -ne 1 ]]; then echo "usage: $0 PATH" >&2; exit 3; fi
path="$1"
# shellcheck source=../targets.sh
source "$here/../targets.sh"
pdsave_targets "$path"
worst=0
tmpdir=""
trap '[[ -n "$tmpdir" ]] && rm -rf "$tmpdir"' EXIT
for t in "${targets[@]}"; do
  # PDSAVE_SCAN_AS_PKL=1: scan a copy named .pkl (modelscan picks its scanner by extension).
  if [[ -n "${PDSAVE_SCAN_AS_PKL:-}" && -f "$t" ]]; then
    tmpdir=${tmpdir:-$(mktemp -d)}
    cp "$t" "$tmpdir/$(basename "$t").pkl"
    t="$tmpdir/$(basename "$t").pkl"
  fi
  echo "== modelscan -p $t" >&2
  "$bin" -p "$t" >&2 2>&1
  rc=$?
  case $rc in
    0 | 3) rc=0 ;;   # no issue / nothing it scans: accepted
    1) rc=1 ;;
    *) rc=2 ;;
  esac
  (( rc > worst )) && worst=$rc
done
exit "$worst"
