"""Differential oracle: real ``paddle.save`` / ``paddle.load`` behind a JSON-lines pipe.

One persistent process (Paddle's import takes seconds). Each request is one line:

    {"id": 7, "obj": <save-side object, spec/object.md>, "protocol": 4}

and each answer is one line:

    {"id": 7, "bytes": "<base64 of the file paddle.save wrote>",
     "views": {"default": VIEW, "return_numpy": VIEW, "keep_name_table": VIEW}}
or  {"id": 7, "save_error": "<exception class>", "message": "..."}
or  {"id": 7, "adapter_error": "..."}        (the object could not be built)

The first line the process prints is {"ready": true, "paddle": ..., "numpy": ...}.
"""

import base64
import collections
import json
import os
import sys
import tempfile
import traceback
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "paddle"))
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import paddle  # noqa: E402
from view import load_view  # noqa: E402

PADDLE_TO_NUMPY = {
    "bool": "bool", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
    "uint8": "uint8", "float16": "float16", "bfloat16": "uint16", "float32": "float32",
    "float64": "float64", "complex64": "complex64", "complex128": "complex128",
}


def _float(v):
    if v == "nan":
        return float("nan")
    if v == "inf":
        return float("inf")
    if v == "-inf":
        return float("-inf")
    return float(v)


class Builder:
    def __init__(self):
        self.ids = {}
        # A static DenseTensor borrows the memory of the Tensor it came from: keep those
        # alive for the whole request, or the DenseTensor reads freed memory.
        self.keep = []

    def array(self, j):
        dt = np.dtype(j["dtype"])
        if j.get("byteorder") == ">":
            dt = dt.newbyteorder(">")
        flat = np.frombuffer(bytes.fromhex(j["hex"]), dtype=dt)
        shape = tuple(j["shape"])
        if j.get("order") == "F":
            return np.asfortranarray(flat.reshape(shape, order="F"))
        return flat.reshape(shape).copy()

    def tensor(self, j):
        np_dtype = PADDLE_TO_NUMPY[j["dtype"]]
        arr = np.frombuffer(bytes.fromhex(j["hex"]), dtype=np_dtype).reshape(tuple(j["shape"])).copy()
        kind = j.get("kind", "dynamic")
        if kind == "parameter":
            from paddle.base.framework import EagerParamBase
            p = EagerParamBase(shape=list(arr.shape), dtype=j["dtype"], name=j.get("name"))
            p.set_value(arr if j["dtype"] != "bfloat16" else paddle.to_tensor(arr))
            p.stop_gradient = bool(j.get("stop_gradient", False))
            return p
        t = paddle.to_tensor(arr)
        if j["dtype"] == "bfloat16" and str(t.dtype) != "paddle.bfloat16":
            raise ValueError("could not build a bfloat16 tensor")
        if kind == "static":
            self.keep.append(t)
            return t.value().get_tensor()
        if j.get("name") is not None:
            t.name = j["name"]
        t.stop_gradient = bool(j.get("stop_gradient", True))
        return t

    def build(self, j):
        t = j["t"]
        if t == "ref":
            return self.ids[j["id"]]
        if t == "none":
            o = None
        elif t == "bool":
            o = bool(j["v"])
        elif t == "int":
            o = int(j["v"])
        elif t == "float":
            o = _float(j["v"])
        elif t == "complex":
            o = complex(_float(j["re"]), _float(j["im"]))
        elif t == "str":
            o = j["v"]
        elif t == "bytes":
            o = bytes.fromhex(j["hex"])
        elif t == "bytearray":
            o = bytearray.fromhex(j["hex"])
        elif t == "list":
            o = [self.build(x) for x in j["items"]]
        elif t == "tuple":
            o = tuple(self.build(x) for x in j["items"])
        elif t == "set":
            o = set(self.build(x) for x in j["items"])
        elif t == "frozenset":
            o = frozenset(self.build(x) for x in j["items"])
        elif t in ("dict", "odict"):
            items = [(self.build(k), self.build(v)) for k, v in j["items"]]
            o = dict(items) if t == "dict" else collections.OrderedDict(items)
        elif t == "ndarray":
            o = self.array(j)
        elif t == "npscalar":
            o = np.frombuffer(bytes.fromhex(j["hex"]), dtype=j["dtype"])[0]
        elif t == "tensor":
            o = self.tensor(j)
        elif t == "layer":
            o = paddle.nn.Linear(2, 2)
        else:
            raise ValueError(f"unknown type {t}")
        if "id" in j:
            self.ids[j["id"]] = o
        return o


def handle(req, tmpdir):
    rid = req.get("id")
    builder = Builder()
    try:
        obj = builder.build(req["obj"])
    except Exception as e:  # noqa: BLE001
        return {"id": rid, "adapter_error": f"{type(e).__name__}: {e}"}
    path = os.path.join(tmpdir, "obj.pd")
    if os.path.exists(path):
        os.remove(path)
    try:
        paddle.save(obj, path, protocol=req.get("protocol", 4))
    except Exception as e:  # noqa: BLE001 - the class is the observable
        return {"id": rid, "save_error": type(e).__name__, "message": str(e)[:300]}
    with open(path, "rb") as f:
        data = f.read()
    views = {}
    for name, kw in (("default", {}), ("return_numpy", {"return_numpy": True}),
                     ("keep_name_table", {"keep_name_table": True})):
        try:
            views[name] = load_view(path, **kw)
        except Exception as e:  # noqa: BLE001 - value not covered by the view
            views[name] = {"unviewable": f"{type(e).__name__}: {e}"}
    return {"id": rid, "bytes": base64.b64encode(data).decode(), "views": views}


def main():
    paddle.disable_static()
    out = sys.stdout
    out.write(json.dumps({"ready": True, "paddle": paddle.__version__, "numpy": np.__version__}) + "\n")
    out.flush()
    with tempfile.TemporaryDirectory() as tmpdir:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                resp = handle(json.loads(line), tmpdir)
            except Exception:  # noqa: BLE001
                resp = {"adapter_error": traceback.format_exc()[-500:]}
            out.write(json.dumps(resp, allow_nan=False) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
