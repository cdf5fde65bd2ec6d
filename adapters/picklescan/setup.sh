#!/usr/bin/env bash
# Create the pinned venv of the picklescan adapter (idempotent, quiet).
#
#   bash adapters/picklescan/setup.sh        -> last stdout line: the venv's python
#
# Venv: ${PDSAVE_VENV_DIR:-<repo>/.venv}/picklescan (adapters/venv.sh: pinned, stamped, checked).
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../venv.sh" picklescan "picklescan==1.0.5" picklescan.scanner
