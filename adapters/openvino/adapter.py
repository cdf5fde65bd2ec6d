"""`pdsave validate` adapter for OpenVINO's Paddle frontend (spec/validate.md).

For inference-model entries it reads the model with OpenVINO and answers with the
parameters OpenVINO holds as Constant nodes, as the dict `paddle.load(prefix_or_dir)`
would return: `{name: ndarray}`, names sorted (the order of a combined `.pdiparams`, which
Paddle writes sorted by variable name). Everything else is skipped. Paddle is not imported.

    PY=$(bash adapters/openvino/setup.sh)
    target/release/pdsave validate --impl "openvino=$PY adapters/openvino/adapter.py"

Entries handled (the request's `path`):
  * a prefix `P` with `P.pdmodel` (legacy ProgramDesc): `Core().read_model(P + ".pdmodel")`,
    which finds `P.pdiparams` itself;
  * a prefix `P` with `P.json` (Paddle 3 PIR): handed to OpenVINO the same way;
  * a directory holding `__model__` (1.x layout, one file per parameter) or
    `__model__.json`: read through the Paddle frontend directly
    (`FrontEndManager().load_by_framework("paddle")`), because `Core.read_model` on a
    directory tries the TensorFlow SavedModel reader.
When OpenVINO fails to read one of those, the answer is `{"rejected": ...}`.

Which Constants are parameters: the frontend names a Constant made from a persistable
variable after the variable (`conv2d_0.w_0`); Constants it creates itself (reshape
targets, scales) keep OpenVINO's automatic `Constant_<N>` name. There is no other mark.
"""

import importlib.util
import json
import os
import re
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "pdsave_view", os.path.join(_HERE, "..", "paddle", "view.py"))
view = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(view)

# Answers go to the real stdout; anything a native library prints goes to stderr.
_out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr

import numpy  # noqa: E402,F401
import openvino as ov  # noqa: E402
from openvino.frontend import FrontEndManager  # noqa: E402

_AUTO_NAME = re.compile(r"Constant_\d+\Z")
_core = ov.Core()
_fe = None


def _paddle_frontend():
    global _fe
    if _fe is None:
        _fe = FrontEndManager().load_by_framework("paddle")
    return _fe


def model_source(path):
    """(kind, what to read) for an inference model entry, or (None, why skipped)."""
    if os.path.isdir(path):
        for f in ("__model__", "__model__.json"):
            if os.path.isfile(os.path.join(path, f)):
                return "dir", path
        return None, "directory without __model__: parameters only, not a model OpenVINO reads"
    if os.path.isfile(path):
        return None, "a single file (pickle, tensor or program file), not an inference model prefix"
    for ext in (".pdmodel", ".json"):
        if os.path.isfile(path + ext) and os.path.isfile(path + ".pdiparams"):
            return "file", path + ext
    return None, "neither a file nor an inference model prefix"


def read_model(kind, src):
    if kind == "dir":
        fe = _paddle_frontend()
        return fe.convert(fe.load(src))
    return _core.read_model(src)


def constants_view(model):
    found = {}
    for op in model.get_ordered_ops():
        if op.get_type_name() != "Constant":
            continue
        name = op.get_friendly_name()
        if _AUTO_NAME.match(name):
            continue
        if name in found:
            raise ValueError(f"two Constants named {name!r}")
        found[name] = view._ndarray_node(op.get_data())
    items = [[{"t": "str", "v": k}, found[k]] for k in sorted(found)]
    return {"view": view.VIEW_VERSION, "result": {"t": "dict", "items": items}}


def answer(req):
    kind, src = model_source(req["path"])
    if kind is None:
        return {"skipped": src}
    try:
        model = read_model(kind, src)
    except Exception as e:  # noqa: BLE001 - OpenVINO refuses the model
        msg = " ".join(str(e).split())
        return {"rejected": f"OpenVINO: {type(e).__name__}: {msg}"[:400]}
    try:
        return constants_view(model)
    except Exception as e:  # noqa: BLE001 - a constant the view cannot show
        return {"skipped": f"no view: {type(e).__name__}: {e}"[:400]}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        ans = answer(json.loads(line))
        _out.write(json.dumps(ans, allow_nan=False) + "\n")
        _out.flush()


if __name__ == "__main__":
    main()
