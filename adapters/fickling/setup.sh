#!/usr/bin/env bash
# Create the pinned venv of the fickling adapter (idempotent, quiet).
#
#   bash adapters/fickling/setup.sh        -> last stdout line: the venv's python
#
# Venv: ${PDSAVE_VENV_DIR:-<repo>/.venv}/fickling (adapters/venv.sh: pinned, stamped, checked).
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../venv.sh" fickling "fickling==0.1.12 typing_extensions==4.16.0" fickling
