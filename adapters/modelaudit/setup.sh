#!/usr/bin/env bash
# Create the pinned venv of the ModelAudit adapter (idempotent, quiet).
#
#   bash adapters/modelaudit/setup.sh       -> last stdout line: the venv's python
#
# Venv: ${PDSAVE_VENV_DIR:-<repo>/.venv}/modelaudit (adapters/venv.sh: pinned, stamped, checked).
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../venv.sh" modelaudit "modelaudit==0.2.54" modelaudit
