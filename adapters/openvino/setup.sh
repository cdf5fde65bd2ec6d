#!/usr/bin/env bash
# Create the pinned venv of the OpenVINO adapter (idempotent, quiet).
#
#   bash adapters/openvino/setup.sh        -> last stdout line: the venv's python
#
# Venv: ${PDSAVE_VENV_DIR:-<repo>/.venv}/openvino (adapters/venv.sh: pinned, stamped, checked).
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../venv.sh" openvino "openvino==2026.4.1 openvino-telemetry==2025.2.0 numpy==2.4.6" openvino
