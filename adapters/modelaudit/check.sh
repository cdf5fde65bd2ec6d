#!/usr/bin/env bash
# Plain-mode check for ModelAudit (spec/validate.md, `--plain`):
#
#   adapters/modelaudit/check.sh PATH
#
# Runs `modelaudit scan --no-cache --format json PATH` (telemetry off:
# PROMPTFOO_DISABLE_TELEMETRY=1) and exits 1 when it reports an issue of severity
# `critical`, 0 otherwise (warnings and infos are advisory: ModelAudit warns about every
# numpy global it cannot prove inert, so counting warnings would reject every Paddle file),
# 2 when it cannot scan the path. PATH is a file or directory, or a model prefix P (each
# existing P.pdmodel, P.json, P.pdiparams, P.pdiparams.info). Its report goes to stderr.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${PDSAVE_VENV_DIR:-$repo/.venv}/modelaudit"
if [[ ! -x "$venv/bin/modelaudit" ]]; then
  bash "$here/setup.sh" >/dev/null || { echo "check.sh: setup.sh failed" >&2; exit 3; }
fi
if [[ $# -ne 1 ]]; then echo "usage: $0 PATH" >&2; exit 3; fi
path="$1"
# shellcheck source=../targets.sh
source "$here/../targets.sh"
pdsave_targets "$path"
export PROMPTFOO_DISABLE_TELEMETRY=1
worst=0
for t in "${targets[@]}"; do
  echo "== modelaudit scan $t" >&2
  "$venv/bin/modelaudit" scan --no-cache --format json "$t" 2>/dev/null |
    "$venv/bin/python" -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception as e:
    print("no JSON report:", e, file=sys.stderr); sys.exit(2)
crit = [i for i in d.get("issues", []) if i.get("severity") == "critical"]
for i in d.get("issues", []):
    print(i.get("severity"), i.get("message"), file=sys.stderr)
sys.exit(1 if crit else (2 if d.get("has_errors") and not d.get("files_scanned") else 0))'
  rc=$?
  (( rc > worst )) && worst=$rc
done
exit "$worst"
