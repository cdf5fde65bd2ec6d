#!/usr/bin/env bash
# Create the pinned venv of the paddle2onnx adapter (idempotent, quiet).
#
#   bash adapters/paddle2onnx/setup.sh        -> last stdout line: the venv's python
#
# Venv: ${PDSAVE_VENV_DIR:-<repo>/.venv}/paddle2onnx (adapters/venv.sh: pinned, stamped, checked).
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../venv.sh" paddle2onnx "paddle2onnx==2.1.0 paddlepaddle==3.3.1 onnx==1.17.0 onnxoptimizer==0.3.13 polygraphy==0.53.6 protobuf==7.36.2 packaging==26.4 numpy==2.4.6" paddle2onnx
