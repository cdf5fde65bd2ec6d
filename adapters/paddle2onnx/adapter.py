"""`pdsave validate` adapter for paddle2onnx (spec/validate.md).

For inference-model entries it converts the model to ONNX in memory with
`paddle2onnx.export(model_file, params_file)` (what the `paddle2onnx` command does, minus
the optional constant folding of the written file) and answers with the weights the ONNX
graph holds, as the dict `paddle.load(prefix_or_dir)` would return: `{name: ndarray}`,
names sorted (the order of a combined `.pdiparams`). Everything else is skipped.

    PY=$(bash adapters/paddle2onnx/setup.sh)
    target/release/pdsave validate --impl "paddle2onnx=$PY adapters/paddle2onnx/adapter.py"

Entries handled (the request's `path`):
  * a prefix `P` with `P.pdmodel` (legacy ProgramDesc) or `P.json` (Paddle 3 PIR) and
    `P.pdiparams`: `export(P.pdmodel|P.json, P.pdiparams)`;
  * a directory holding `__model__` or `__model__.json` (1.x layout, one file per
    parameter): `export(dir/__model__, "")`, as `paddle2onnx --model_dir dir
    --model_filename __model__` does without `--params_filename`. paddle2onnx 2.x reads
    combined params files only, so such a model comes out without weights; the adapter
    then answers `{"rejected": ...}`, as it does when the export fails.

Weights: paddle2onnx 2.1 writes every value as a `Constant` node (no `graph.initializer`
unless the written file is post-processed). The view takes `graph.initializer` plus the
`value` tensor of every `Constant` node (what onnxoptimizer's
`extract_constant_to_initializer` pass would turn into initializers), converted with
`onnx.numpy_helper.to_array`, under the node's output name, which paddle2onnx sets to the
Paddle variable name. Constants paddle2onnx makes itself are named `p2o.<op>.<n>.<m>` or
`helper.constant.<n>` and are left out.
"""

import json
import os
import sys
import warnings

import importlib.util

warnings.filterwarnings("ignore")
_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "pdsave_view", os.path.join(_HERE, "..", "paddle", "view.py"))
view = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(view)

# Answers go to the real stdout; paddle2onnx's C++ side prints progress on fd 1.
_out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr

import numpy  # noqa: E402,F401
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import paddle  # noqa: E402
import paddle2onnx  # noqa: E402

_HELPER_PREFIXES = ("p2o.", "helper.")


def model_source(path):
    """(model_file, params_file) for an inference model entry, or (None, why skipped)."""
    if os.path.isdir(path):
        for f in ("__model__", "__model__.json"):
            if os.path.isfile(os.path.join(path, f)):
                return os.path.join(path, f), ""
        return None, "directory without __model__: parameters only, not a model"
    if os.path.isfile(path):
        return None, "a single file (pickle, tensor or program file), not an inference model prefix"
    for ext in (".pdmodel", ".json"):
        if os.path.isfile(path + ext) and os.path.isfile(path + ".pdiparams"):
            return path + ext, path + ".pdiparams"
    return None, "neither a file nor an inference model prefix"


def convert(model_file, params_file):
    # A fresh scope per model: the .pdmodel route loads the parameters into the current
    # scope, and names such as conv2d_0.w_0 repeat from one model to the next.
    with paddle.static.scope_guard(paddle.static.Scope()):
        try:
            data = paddle2onnx.export(model_file, params_file)
        except UnboundLocalError:
            # export() logs the real error and then returns an unset variable
            raise RuntimeError("paddle2onnx.export failed (see its log on stderr)") from None
    if not data:
        raise RuntimeError("paddle2onnx.export returned no model")
    return onnx.load_model_from_string(data)


def weights(model):
    found = {}

    def add(name, tensor):
        if name.startswith(_HELPER_PREFIXES):
            return
        if name in found:
            raise ValueError(f"two ONNX values named {name!r}")
        found[name] = numpy_helper.to_array(tensor)

    for init in model.graph.initializer:
        add(init.name, init)
    for node in model.graph.node:
        if node.op_type != "Constant":
            continue
        for attr in node.attribute:
            if attr.name == "value":
                add(node.output[0], attr.t)
    return found


def answer(req):
    model_file, params_file = model_source(req["path"])
    if model_file is None:
        return {"skipped": params_file}
    try:
        model = convert(model_file, params_file)
        found = weights(model)
    except Exception as e:  # noqa: BLE001 - paddle2onnx refuses the model
        msg = " ".join(str(e).split())
        return {"rejected": f"paddle2onnx: {type(e).__name__}: {msg}"[:400]}
    if not params_file and not found:
        return {"rejected": "paddle2onnx: the exported model has no weights "
                            "(2.x reads a combined params file only, not a directory of "
                            "per-parameter files)"}
    try:
        items = [[{"t": "str", "v": k}, view._ndarray_node(found[k])] for k in sorted(found)]
    except Exception as e:  # noqa: BLE001 - a value the view cannot show
        return {"skipped": f"no view: {type(e).__name__}: {e}"[:400]}
    return {"view": view.VIEW_VERSION, "result": {"t": "dict", "items": items}}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        ans = answer(json.loads(line))
        _out.write(json.dumps(ans, allow_nan=False) + "\n")
        _out.flush()


if __name__ == "__main__":
    main()
