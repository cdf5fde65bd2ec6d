"""Load view (see /work/shared/VIEW.md, version 1) of what ``paddle.load`` returns.

Importing this module has no side effects: numpy and paddle are imported lazily
inside the functions.

    to_view(obj)            -> NODE (dict) for a value returned by paddle.load
    load_view(path, ...)    -> {"view": 1, "result": NODE} or {"view": 1, "error": "<class>"}
    dumps(view)             -> compact JSON text (the form stored in the corpus)

Command line:

    python adapters/paddle/view.py PATH [--return-numpy] [--keep-name-table]

prints the view of ``paddle.load(PATH, ...)`` as compact JSON.

Notes on tensor names (checked with Paddle 2.6.2 and 3.3.1, identical in both):
  * ``paddle.to_tensor(...)`` and ``_create_tensor()`` (used by paddle.load for
    ndarrays and binary tensor files) name the tensor ``generated_tensor_<N>``;
  * tensors produced by eager ops (``paddle.zeros``, ``astype`` ...) are named
    ``eager_tmp_<N>``; parameters are named ``<layer>_<N>.w_<M>`` / ``.b_<M>``.
  Only names starting with ``generated_tensor`` map to null (VIEW.md, N).
"""

from __future__ import annotations

import collections
import hashlib
import json
import math
import sys

VIEW_VERSION = 1

NUMPY_DTYPES = (
    "float16", "float32", "float64",
    "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64",
    "bool", "complex64", "complex128",
)
PADDLE_DTYPES = (
    "float16", "bfloat16", "float32", "float64",
    "int8", "int16", "int32", "int64",
    "uint8", "bool", "complex64", "complex128",
)


def _float_v(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x  # json emits -0.0 as -0.0 and keeps repr round-trip precision


def _le_bytes(a):
    """C-order, little-endian element bytes of a numpy array."""
    import numpy as np

    a = np.ascontiguousarray(a)
    return a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()


def _sha256(b):
    return hashlib.sha256(b).hexdigest()


def _ndarray_node(a):
    name = a.dtype.name
    if name not in NUMPY_DTYPES:
        raise TypeError(f"ndarray dtype not covered by the view: {a.dtype!r}")
    return {
        "t": "ndarray",
        "dtype": name,
        "shape": [int(d) for d in a.shape],
        "sha256": _sha256(_le_bytes(a)),
    }


def _tensor_node(t):
    import numpy as np

    dtype = str(t.dtype)
    if dtype.startswith("paddle."):
        dtype = dtype[len("paddle."):]
    if dtype not in PADDLE_DTYPES:
        raise TypeError(f"tensor dtype not covered by the view: {t.dtype!r}")
    # Tensor.numpy() works in Paddle 2.6.2 and 3.3.1 for every dtype; for bfloat16
    # it returns the raw 2-byte patterns as a uint16 array (same as
    # t.view(paddle.uint16), which 2.6.2 lacks: paddle.uint16 does not exist there).
    arr = np.asarray(t.cpu().numpy() if hasattr(t, "cpu") else t.numpy())
    if dtype == "bfloat16":
        if arr.dtype.itemsize != 2:
            raise TypeError(f"unexpected numpy dtype for bfloat16 tensor: {arr.dtype}")
        arr = arr.view(np.uint16)
    elif dtype == "bool":
        arr = arr.astype(np.bool_, copy=False)
    name = t.name
    if name is None or str(name).startswith("generated_tensor"):
        name = None
    else:
        name = str(name)
    return {
        "t": "tensor",
        "dtype": dtype,
        "shape": [int(d) for d in t.shape],
        "name": name,
        "sha256": _sha256(_le_bytes(arr)),
    }


def _is_program(obj):
    try:
        import paddle
    except ImportError:  # pragma: no cover
        return False
    classes = []
    try:
        from paddle.base.framework import Program as _LegacyProgram

        classes.append(_LegacyProgram)
    except Exception:
        pass
    try:
        classes.append(paddle.static.Program)
    except Exception:
        pass
    pir = getattr(paddle, "pir", None)
    if pir is not None and hasattr(pir, "Program"):
        classes.append(pir.Program)
    return bool(classes) and isinstance(obj, tuple(classes))


def _sort_key(node):
    return json.dumps(node, sort_keys=True, separators=(",", ":"))


def to_view(obj):
    """Convert a value returned by paddle.load into a VIEW.md NODE."""
    np = None
    if "numpy" in sys.modules:
        import numpy as np  # noqa: F811

    if obj is None:
        return {"t": "none"}
    # numpy first: np.float64 subclasses float, np.complex128 subclasses complex.
    if np is not None:
        if isinstance(obj, np.ndarray):
            return _ndarray_node(obj)
        if isinstance(obj, np.generic):
            dt = obj.dtype
            if dt.name not in NUMPY_DTYPES:
                raise TypeError(f"numpy scalar dtype not covered by the view: {dt!r}")
            raw = np.asarray(obj).astype(dt.newbyteorder("<")).tobytes()
            return {"t": "npscalar", "dtype": dt.name, "hex": raw.hex()}
    if isinstance(obj, bool):  # before int
        return {"t": "bool", "v": obj}
    if isinstance(obj, int):
        return {"t": "int", "v": str(int(obj))}
    if isinstance(obj, float):
        return {"t": "float", "v": _float_v(obj)}
    if isinstance(obj, complex):
        return {"t": "complex", "re": _float_v(obj.real), "im": _float_v(obj.imag)}
    if isinstance(obj, str):
        return {"t": "str", "v": str(obj)}
    if isinstance(obj, bytes):
        return {"t": "bytes", "hex": bytes(obj).hex()}
    if isinstance(obj, bytearray):
        return {"t": "bytearray", "hex": bytes(obj).hex()}
    if type(obj) is list:
        return {"t": "list", "items": [to_view(x) for x in obj]}
    if type(obj) is tuple:
        return {"t": "tuple", "items": [to_view(x) for x in obj]}
    if isinstance(obj, collections.OrderedDict):  # before dict (subclass)
        if type(obj) is not collections.OrderedDict:
            raise TypeError(f"unsupported OrderedDict subclass {type(obj)!r}")
        return {"t": "odict", "items": [[to_view(k), to_view(v)] for k, v in obj.items()]}
    if type(obj) is dict:
        return {"t": "dict", "items": [[to_view(k), to_view(v)] for k, v in obj.items()]}
    if type(obj) in (set, frozenset):
        items = sorted((to_view(x) for x in obj), key=_sort_key)
        return {"t": "set" if type(obj) is set else "frozenset", "items": items}

    if "paddle" in sys.modules:
        import paddle

        if isinstance(obj, paddle.Tensor):
            return _tensor_node(obj)
        if _is_program(obj):
            return {"t": "program"}
    raise TypeError(f"type not covered by the load view: {type(obj)!r}")


def load_view(path, return_numpy=False, keep_name_table=False, safetensors=False,
              form=None):
    """View of ``paddle.load(path, ...)``; only the options that are set are passed.

    ``form``: ``"checkpoint"`` for a ``save_state_dict`` directory (the dict
    ``load_state_dict`` fills, large.checkpoint_state_dict; ``return_numpy``: its
    ``np.array``s), ``"index"`` for a sharded state dict's index (large.index_state_dict).
    """
    import numpy  # noqa: F401  (so to_view can recognise numpy values)
    import paddle

    kwargs = {}
    if return_numpy:
        kwargs["return_numpy"] = True
    if keep_name_table:
        kwargs["keep_name_table"] = True
    if safetensors:
        kwargs["safetensors"] = True
    try:
        if form == "checkpoint":
            import large

            obj = large.checkpoint_state_dict(path)
            if return_numpy:
                obj = {k: numpy.asarray(v.numpy()) for k, v in obj.items()}
        elif form == "index":
            import large

            obj = large.index_state_dict(path, **kwargs)
        else:
            obj = paddle.load(path, **kwargs)
    except Exception as e:  # noqa: BLE001 - the class name is the observable
        return {"view": VIEW_VERSION, "error": type(e).__name__}
    return {"view": VIEW_VERSION, "result": to_view(obj)}


def dumps(view):
    """Compact JSON, keys in insertion order, never NaN/Infinity literals."""
    return json.dumps(view, sort_keys=False, separators=(",", ":"), allow_nan=False,
                      ensure_ascii=False)


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description="Print the load view of paddle.load(PATH)")
    ap.add_argument("path")
    ap.add_argument("--return-numpy", action="store_true")
    ap.add_argument("--keep-name-table", action="store_true")
    ap.add_argument("--safetensors", action="store_true")
    ap.add_argument("--form", choices=["checkpoint", "index"])
    args = ap.parse_args(argv)
    view = load_view(args.path, return_numpy=args.return_numpy,
                     keep_name_table=args.keep_name_table, safetensors=args.safetensors,
                     form=args.form)
    out = getattr(sys.stdout, "buffer", None)
    if out is not None:  # always UTF-8, whatever the locale
        out.write((dumps(view) + "\n").encode("utf-8"))
        out.flush()
    else:
        sys.stdout.write(dumps(view) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
