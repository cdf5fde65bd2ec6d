#!/usr/bin/env bash
# Create the pinned venv of the modelscan adapter (idempotent, quiet).
#
#   bash adapters/modelscan/setup.sh        -> last stdout line: the venv's python
#
# Venv: ${PDSAVE_VENV_DIR:-<repo>/.venv}/modelscan (adapters/venv.sh: pinned, stamped, checked).
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../venv.sh" modelscan "modelscan==0.8.8" modelscan.modelscan
