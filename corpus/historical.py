#!/usr/bin/env python3
"""Assemble the historical pickle forms of spec/pickle.md (P-HIST) as corpus cases.

Paddle files written with a numpy, a CPython or a Paddle older than anything installable
here, built from the rules the spec states (each from numpy's / CPython's / Paddle's
source, named in the case's notes), then checked against today's real numpy + Paddle:
``pickle.load`` must read each file, and its ``expected.*.json`` views are what real
``paddle.load`` returns for it (the oracle).

    <paddle2 python> corpus/historical.py --assemble   # numpy 1.26: writes the files
    <paddle3 python> corpus/historical.py --views      # Paddle 3.3.1: expected views
    <paddle2 python> corpus/historical.py --views --check   # 2.6.2 must agree

The assembly runs under numpy 1.x (the numpy.core spelling of numpy <= 1.26). Objects
come from real corpus files (``pickle.load``), re-pickled with an old writer's rules:

* numpy <= 1.18: ``dtype(descr, 0, 1)``, int flags (numpy PR 15500 made them bools in
  1.19); a reducer_override on the real C pickler.
* numpy 1.16.0: ``_reconstruct``/``scalar`` spelled ``numpy.core._multiarray_umath``
  (numpy PR 12842 restored ``numpy.core.multiarray`` in 1.16.1).
* CPython 3.6: protocol-4 payloads of 64 KiB or more stay inside their frame (bpo-31993
  moved them out in 3.7): the pure-Python pickler with 3.6's ``write_large_bytes``.
* Python 2.7's ``pickle.py`` (Paddle 1.x's ``import pickle`` under Python 2): the emulator
  ``Py2Pickler`` below, a port of its save functions for the types Paddle 1.x wrote.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")
VIEW_DIR = os.path.join(os.path.dirname(HERE), "adapters", "paddle")


# ------------------------------------------------------------------------ old numpy (py3)

def old_numpy_pickler(int_flags=False, module=None):
    import numpy as np

    class P(pickle.Pickler):
        def reducer_override(self, obj):
            if int_flags and isinstance(obj, np.dtype):
                func, args, state = obj.__reduce__()
                return func, (args[0], 0, 1), state
            return NotImplemented

    return P


class renamed_multiarray:
    """numpy 1.16.0's spelling: _reconstruct and scalar in numpy.core._multiarray_umath."""

    def __enter__(self):
        import numpy.core.multiarray as ma

        self.saved = (ma._reconstruct.__module__, ma.scalar.__module__)
        ma._reconstruct.__module__ = "numpy.core._multiarray_umath"
        ma.scalar.__module__ = "numpy.core._multiarray_umath"

    def __exit__(self, *a):
        import numpy.core.multiarray as ma

        ma._reconstruct.__module__, ma.scalar.__module__ = self.saved


def dumps_c(obj, protocol, **kw):
    f = io.BytesIO()
    old_numpy_pickler(**kw)(f, protocol=protocol).dump(obj)
    return f.getvalue()


def dumps_py36(obj):
    """CPython 3.6's protocol 4: like 3.7+ but large payloads are written into the frame."""
    f = io.BytesIO()
    p = pickle._Pickler(f, protocol=4)

    def write_large_bytes(header, payload):
        p.framer.write(header)
        p.framer.write(payload)

    p._write_large_bytes = write_large_bytes
    p.dump(obj)
    return f.getvalue()


def dumps_pure(obj, protocol):
    f = io.BytesIO()
    pickle._Pickler(f, protocol=protocol).dump(obj)
    return f.getvalue()


# ------------------------------------------------------------------------ Python 2.7

class Long(int):
    """A Python 2 ``long`` (pickled with LONG1 whatever its value)."""


class Unicode(str):
    """A Python 2 ``unicode`` (BINUNICODE); plain ``bytes`` stand for Python 2 ``str``."""


class Py2Pickler:
    """Python 2.7 ``pickle.py`` at protocol 2 for what Paddle 1.x pickled: dict, list,
    tuple, str (bytes here), unicode, int, long, float, bool, None, and numpy's reduce
    values as numpy <= 1.16 under Python 2 made them (``ndarray.__reduce__``:
    ``(_reconstruct, (ndarray, (0,), 'b'), (1, shape, dtype, is_fortran, data))``;
    ``dtype.__reduce__``: ``(dtype, ('f4', 0, 1), (3, '<', None, None, None, -1, -1, 0))``
    with fresh ``str``s from ``PyString_FromFormat``; scalars ``(scalar, (dtype, data))``).
    The memo is keyed by object identity as in ``pickle.py``; CPython 2 caches the empty
    and one-character ``str`` (the same objects, so one memo entry), as Python 3 does for
    bytes."""

    def __init__(self, module="numpy.core.multiarray"):
        self.out = bytearray(b"\x80\x02")
        self.memo = {}
        self.keep = []
        self.module = module
        self.globals = {}
        self.chars = {}
        self.dtypes = {}

    def dumps(self, obj):
        self.save(obj)
        self.out += b"."
        return bytes(self.out)

    def memoize(self, obj):
        n = len(self.memo)
        self.memo[id(obj)] = n
        self.keep.append(obj)
        self.out += b"q" + bytes([n]) if n < 256 else b"r" + struct.pack("<I", n)

    def get(self, obj):
        n = self.memo.get(id(obj))
        if n is None:
            return False
        self.out += b"h" + bytes([n]) if n < 256 else b"j" + struct.pack("<I", n)
        return True

    def save_global(self, module, name):
        obj = self.globals.setdefault((module, name), object())
        if self.get(obj):
            return
        self.out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
        self.memoize(obj)

    def save_str(self, b):
        # Python 2 caches '' and one-character str objects.
        if len(b) <= 1:
            b = self.chars.setdefault(b, b)
        if self.get(b):
            return
        n = len(b)
        self.out += (b"U" + bytes([n]) if n < 256 else b"T" + struct.pack("<i", n)) + b
        self.memoize(b)

    def fresh_str(self, b):
        """A str PyString_FromFormat made: never one of the cached objects."""
        n = len(b)
        self.out += (b"U" + bytes([n]) if n < 256 else b"T" + struct.pack("<i", n)) + b
        self.memoize(bytearray(b))  # a new object: nothing else can GET it

    def save_int(self, v):
        if isinstance(v, Long):
            enc = b"" if v == 0 else v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
            self.out += (b"\x8a" + bytes([len(enc)]) if len(enc) < 256
                         else b"\x8b" + struct.pack("<i", len(enc))) + enc
        elif 0 <= v <= 0xFF:
            self.out += b"K" + bytes([v])
        elif 0 <= v <= 0xFFFF:
            self.out += b"M" + struct.pack("<H", v)
        elif -2 ** 31 <= v < 2 ** 31:
            self.out += b"J" + struct.pack("<i", v)
        else:
            self.out += b"I" + repr(int(v)).encode() + b"\n"

    def save_tuple(self, t, fresh=True):
        if not t:
            self.out += b")"
            return
        if self.get(t):
            return
        if len(t) <= 3:
            for x in t:
                self.save(x)
            self.out += b"\x85\x86\x87"[len(t) - 1:len(t)]
        else:
            self.out += b"("
            for x in t:
                self.save(x)
            self.out += b"t"
        self.memoize(t)

    def batch(self, items, one, many):
        items = list(items)
        for i in range(0, max(len(items), 1), 1000):
            chunk = items[i:i + 1000]
            if len(chunk) > 1:
                self.out += b"("
            for x in chunk:
                for y in (x if isinstance(x, tuple) and many == b"u" else (x,)):
                    self.save(y)
            if len(chunk) > 1:
                self.out += many
            elif chunk:
                self.out += one

    def save_dtype(self, dt):
        if self.get(dt):
            return
        self.save_global("numpy", "dtype")
        descr = ("%s%d" % (dt.kind, dt.itemsize)).encode()
        self.fresh_str(descr)
        self.save_int(0)
        self.save_int(1)
        self.out += b"\x87"
        self.memoize(object())  # the args tuple
        self.out += b"R"
        self.memoize(dt)
        order = {"=": "<", "|": "|", "<": "<", ">": ">"}[dt.byteorder]
        self.out += b"("
        self.save_int(3)
        self.fresh_str(order.encode())
        self.out += b"NNN"
        self.save_int(-1)
        self.save_int(-1)
        self.save_int(0)
        self.out += b"t"
        self.memoize(object())  # the state tuple
        self.out += b"b"

    def save_ndarray(self, a):
        import numpy as np

        if self.get(a):
            return
        self.save_global(self.module, "_reconstruct")
        self.save_global("numpy", "ndarray")
        self.save_int(0)
        self.out += b"\x85"
        self.memoize(object())  # (0,)
        self.save_str(b"b")
        self.out += b"\x87"
        self.memoize(object())  # the args tuple
        self.out += b"R"
        self.memoize(a)
        self.out += b"("
        self.save_int(1)
        shape = tuple(int(d) for d in a.shape)
        if len(shape) > 3:
            self.out += b"("
        for d in shape:
            self.save_int(d)
        self.out += [b")", b"\x85", b"\x86", b"\x87"][len(shape)] if len(shape) <= 3 else b"t"
        if shape:
            self.memoize(object())
        self.save_dtype(self.dtypes.setdefault(a.dtype.str, a.dtype))
        fortran = bool(a.flags.f_contiguous and not a.flags.c_contiguous)
        self.out += b"\x88" if fortran else b"\x89"
        data = a.tobytes(order="F" if fortran else "C")
        # PyArray_ToString: PyString_FromStringAndSize(data, n), cached when n <= 1.
        self.save_str(data) if len(data) <= 1 else self.fresh_str(data)
        self.out += b"t"
        self.memoize(object())  # the state tuple
        self.out += b"b"

    def save_scalar(self, s):
        import numpy as np

        if self.get(s):
            return
        self.save_global(self.module, "scalar")
        self.save_dtype(self.dtypes.setdefault(s.dtype.str, s.dtype))
        data = np.asarray(s).tobytes()
        self.save_str(data) if len(data) <= 1 else self.fresh_str(data)
        self.out += b"\x86"
        self.memoize(object())
        self.out += b"R"
        self.memoize(s)

    def save(self, obj):
        import numpy as np

        if obj is None:
            self.out += b"N"
        elif obj is True or obj is False:
            self.out += b"\x88" if obj else b"\x89"
        elif isinstance(obj, (int, Long)) and not isinstance(obj, bool):
            self.save_int(obj)
        elif isinstance(obj, float):
            self.out += b"G" + struct.pack(">d", obj)
        elif isinstance(obj, bytes):
            self.save_str(obj)
        elif isinstance(obj, str):
            if self.get(obj):
                return
            b = obj.encode("utf-8")
            self.out += b"X" + struct.pack("<I", len(b)) + b
            self.memoize(obj)
        elif isinstance(obj, tuple):
            self.save_tuple(obj)
        elif isinstance(obj, list):
            if self.get(obj):
                return
            self.out += b"]"
            self.memoize(obj)
            self.batch(obj, b"a", b"e")
        elif isinstance(obj, dict):
            if self.get(obj):
                return
            self.out += b"}"
            self.memoize(obj)
            self.batch(list(obj.items()), b"s", b"u")
        elif isinstance(obj, np.ndarray):
            self.save_ndarray(obj)
        elif isinstance(obj, np.generic):
            self.save_scalar(obj)
        else:
            raise TypeError(type(obj))


# ------------------------------------------------------------------------ the cases

def load_corpus_pickle(case, name):
    with open(os.path.join(CASES, case, name), "rb") as f:
        return f.read()


def py2ify(obj, unicode_names=False):
    """A Python 3 object as Python 2 would hold it: str -> str (bytes) unless it is a
    name-table value and ``unicode_names``."""
    if isinstance(obj, str):
        return obj.encode("latin-1")
    if isinstance(obj, dict):
        return {py2ify(k): (Unicode(v) if unicode_names and isinstance(v, str) else py2ify(v, unicode_names))
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [py2ify(x, unicode_names) for x in obj]
    if isinstance(obj, tuple):
        return tuple(py2ify(x, unicode_names) for x in obj)
    return obj


def fluid_state(seed=2024, names=("fc_0.w_0", "fc_0.b_0", "conv2d_0.w_0")):
    import numpy as np

    rng = np.random.RandomState(seed)
    shapes = [(3, 4), (4,), (2, 1, 3, 3)]
    return {n.encode(): rng.standard_normal(s).astype("float32") for n, s in zip(names, shapes)}


def build_cases():
    import numpy as np

    assert np.__version__.startswith("1."), "assemble under numpy 1.x (the numpy.core spelling)"
    cases = []

    def add(cid, data, fname, api, python, protocol, notes, rules=(), tags=()):
        cases.append({"id": cid, "data": data, "file": fname, "api": api, "python": python,
                      "protocol": protocol, "notes": notes, "rules": list(rules),
                      "tags": ["historical"] + list(tags)})

    np118 = "numpy <= 1.18 (dtype flags as ints, numpy PR 15500 changed them in 1.19)"
    for src, fname in [("y_p2_proto2_linear_state_dict", "model.pdparams"),
                       ("y_p2_proto4_linear_state_dict", "model.pdparams"),
                       ("y_p2_proto2_ndarray_dtypes", "obj.pdparams"),
                       ("y_p2_proto4_np_scalars", "obj.pdparams"),
                       ("y_p2_proto2_adam_lr_state_dict", "adam.pdopt")]:
        raw = load_corpus_pickle(src, fname)
        obj = pickle.loads(raw, encoding="latin1")
        proto = raw[1]
        assert dumps_c(obj, proto) == raw, f"{src}: the C pickler does not reproduce the file"
        name = src.split("_", 2)[2]
        add(f"y_hist_np118_{name}", dumps_c(obj, proto, int_flags=True), fname,
            "paddle.save (Paddle 2.0-2.2 era)", "3.7", proto,
            f"{src}'s objects as {np118} and CPython 3.7-3.11 pickle them.",
            tags=["numpy_int_flags"])
    raw = load_corpus_pickle("y_p2_proto2_linear_state_dict", "model.pdparams")
    obj = pickle.loads(raw, encoding="latin1")
    with renamed_multiarray():
        data = dumps_c(obj, 2, int_flags=True)
    add("y_hist_np1160_proto2_linear_state_dict", data, "model.pdparams",
        "paddle.save", "3.7", 2,
        "numpy 1.16.0 alone spelled _reconstruct and scalar numpy.core._multiarray_umath "
        "(numpy PR 12842, fixed in 1.16.1); int dtype flags as every numpy <= 1.18.",
        tags=["numpy_1_16_0", "numpy_int_flags"])
    for src, fname in [("y_p2_proto4_ndarray_big_64k", "obj.pdparams"),
                       ("y_p2_proto4_ndarray_big_256k", "obj.pdparams")]:
        raw = load_corpus_pickle(src, fname)
        obj = pickle.loads(raw, encoding="latin1")
        assert dumps_pure(obj, 4) == raw, f"{src}: the pure-Python pickler differs from the C one"
        data = dumps_py36(obj)
        assert data != raw
        name = src.split("_", 2)[2]
        add(f"y_hist_py36_{name}", data, fname, "paddle.save (Python 3.6)", "3.6", 4,
            "CPython 3.6 wrote protocol-4 payloads of 64 KiB or more inside the current frame "
            "(bpo-31993 writes them outside frames from 3.7 on).", tags=["cpython36_frames"])
    # Python 2.7 + Paddle 1.x: fluid.save (param_dict / opt_dict), save_dygraph (name table).
    params = fluid_state()
    add("y_hist_py27_fluid_save_pdparams", Py2Pickler().dumps(params), "model.pdparams",
        "fluid.save (Paddle 1.x) on Python 2.7", "2.7", 2,
        "Paddle 1.8 fluid.io.save: pickle.dump({p.name: np.array(tensor)}, f, protocol=2) with "
        "Python 2's pure-Python pickle module: names as str (SHORT_BINSTRING), payloads as "
        "BINSTRING, dtype(descr, 0, 1).", tags=["python2", "fluid_save"])
    dy = {b"fc.weight": params[b"fc_0.w_0"], b"fc.bias": params[b"fc_0.b_0"]}
    dy[b"StructuredToParameterName@@"] = {b"fc.weight": b"fc_0.w_0", b"fc.bias": b"fc_0.b_0"}
    add("y_hist_py27_save_dygraph_pdparams", Py2Pickler().dumps(dy), "model.pdparams",
        "fluid.dygraph.save_dygraph (Paddle 1.x) on Python 2.7", "2.7", 2,
        "Paddle 1.8 save_dygraph: model_dict[k] = v.numpy(), name_table[k] = v.name, "
        "model_dict['StructuredToParameterName@@'] = name_table, pickle.dump(protocol=2).",
        rules=["L-TABLE"], tags=["python2", "save_dygraph", "name_table"])
    dyu = {b"fc.weight": params[b"fc_0.w_0"],
           b"StructuredToParameterName@@": {b"fc.weight": Unicode("fc_0.w_0")}}
    add("y_hist_py27_save_dygraph_unicode_names", Py2Pickler().dumps(dyu), "model.pdparams",
        "fluid.dygraph.save_dygraph (Paddle 1.x) on Python 2.7", "2.7", 2,
        "As y_hist_py27_save_dygraph_pdparams with the names as unicode (BINUNICODE), "
        "what a pybind11 std::string property gives under Python 2.",
        rules=["L-TABLE"], tags=["python2", "save_dygraph", "unicode"])
    values = {b"epoch": Long(5), b"zero": Long(0), b"neg": Long(-129), b"big_int": 2 ** 40,
              b"big_long": Long(2 ** 70), b"small": 7, b"lr": 0.25, b"flag": True,
              b"none": None, b"text": Unicode("\u00fc\u4e2d"), b"bytes": b"\x00\xff",
              b"list1001": list(range(1001)), b"dict1001": {i: i for i in range(1001)},
              b"tuple": (1, b"x", Unicode("y"), 2.5),
              b"scalars": [np.float32(1.5), np.int64(-3), np.bool_(True), np.int8(7)]}
    add("y_hist_py27_values", Py2Pickler().dumps(values), "obj.pdparams",
        "pickle.dump(protocol=2) on Python 2.7", "2.7", 2,
        "What CPython 2.7 pickles at protocol 2: str as SHORT_BINSTRING/BINSTRING, unicode "
        "as BINUNICODE, long as LONG1 (0L as LONG1 with no bytes), an int beyond 32 bits "
        "as INT text, every list and dict batched through an iterator (a last batch of one "
        "is APPEND/SETITEM, no empty batch), numpy scalars with int dtype flags.",
        tags=["python2", "long", "unicode", "batching", "npscalar"])
    with_116 = Py2Pickler(module="numpy.core._multiarray_umath").dumps(
        {b"w": params[b"fc_0.w_0"], b"s": np.float64(2.5)})
    add("y_hist_py27_np1160", with_116, "obj.pdparams", "pickle.dump(protocol=2) on Python 2.7",
        "2.7", 2, "Python 2.7 with numpy 1.16.0 (numpy.core._multiarray_umath spelling).",
        tags=["python2", "numpy_1_16_0"])
    return cases


def next_cases():
    """Paddle's development branch (V-NEXT): ``reduce_DenseTensor`` returns
    ``(paddle.framework.io_utils._reconstruct_dense_tensor_data, (np.array(tensor),))`` and
    ``paddle.load`` unpickles through ``RestrictedUnpickler``; assembled under numpy 2 from
    the objects of the 3.3.1 static-tensor cases. Kind ``i`` until a release ships it:
    their views are what the releases do (AttributeError: no release has the function)."""
    import types

    import paddle.framework.io_utils as io_utils

    def _reconstruct_dense_tensor_data(data):
        return data

    _reconstruct_dense_tensor_data.__module__ = "paddle.framework.io_utils"
    _reconstruct_dense_tensor_data.__qualname__ = "_reconstruct_dense_tensor_data"
    io_utils._reconstruct_dense_tensor_data = _reconstruct_dense_tensor_data

    class StaticTensor:
        def __init__(self, a):
            self.a = a

        def __reduce__(self):
            return (_reconstruct_dense_tensor_data, (self.a,))

    out = []
    for proto in (2, 4):
        src = f"y_p3_proto{proto}_static_tensor"
        arr = pickle.loads(load_corpus_pickle(src, "tensor.pdtensor"), encoding="latin1")
        out.append((f"i_next_proto{proto}_static_tensor", pickle.dumps(StaticTensor(arr), protocol=proto),
                    "tensor.pdtensor", proto, f"{src}'s tensor as the development branch writes it."))
        raw = load_corpus_pickle(f"i_p3_proto{proto}_faq2_static_tensor_with_ndarray", "obj.pdparams")
        objs = pickle.loads(raw, encoding="latin1")
        out.append((f"i_next_proto{proto}_static_tensor_with_ndarray",
                    pickle.dumps([StaticTensor(objs[0]), objs[1]], protocol=proto), "obj.pdparams", proto,
                    "i_p3_proto*_faq2_static_tensor_with_ndarray's objects in the new form."))
    del types
    for cid, data, fname, proto, notes in out:
        d = os.path.join(CASES, cid)
        os.makedirs(d, exist_ok=True)
        for fn in os.listdir(d):
            os.remove(os.path.join(d, fn))
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)
        meta = {"id": cid, "kind": "i", "entry": fname, "format": "pickle",
                "writer": {"paddle": None, "numpy": None, "python": "3.11",
                           "api": "assembled (corpus/historical.py --next): paddle.save of "
                                  "Paddle's development branch (static DenseTensor)",
                           "protocol": proto, "pir": None},
                "python": None, "notes": notes + " No release reads it: pickle.load raises "
                "AttributeError (no _reconstruct_dense_tensor_data in paddle.framework.io_utils).",
                "tags": ["next_paddle", "static_tensor"], "files": [fname], "has_expected": True,
                "rules": ["V-NEXT"]}
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump(meta, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(f"{cid}: {len(data)} bytes")


def assemble():
    import numpy as np

    for c in build_cases():
        d = os.path.join(CASES, c["id"])
        os.makedirs(d, exist_ok=True)
        for fn in os.listdir(d):
            os.remove(os.path.join(d, fn))
        with open(os.path.join(d, c["file"]), "wb") as f:
            f.write(c["data"])
        # the oracle's first half: today's pickle.load reads the file
        pickle.loads(c["data"], encoding="latin1")
        meta = {"id": c["id"], "kind": "y", "entry": c["file"], "format": "pickle",
                "writer": {"paddle": None, "numpy": None, "python": c["python"],
                           "api": "assembled (corpus/historical.py): " + c["api"],
                           "protocol": c["protocol"], "pir": None},
                "python": None, "notes": c["notes"], "tags": c["tags"], "files": [c["file"]],
                "has_expected": True, "rules": ["P-HIST"] + c["rules"]}
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump(meta, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(f"{c['id']}: {len(c['data'])} bytes (numpy {np.__version__} pickle.load ok)")


def views(check):
    import warnings

    import paddle

    sys.path.insert(0, VIEW_DIR)
    import view

    warnings.simplefilter("ignore")
    bad = 0
    for cid in sorted(os.listdir(CASES)):
        if not cid.startswith(("y_hist_", "i_next_")):
            continue
        d = os.path.join(CASES, cid)
        meta = json.load(open(os.path.join(d, "case.json")))
        path = os.path.join(d, meta["entry"])
        if cid.startswith("y_"):
            with open(path, "rb") as f:
                pickle.load(f, encoding="latin1")
        for name, opts in [("default", {}), ("return_numpy", {"return_numpy": True}),
                           ("keep_name_table", {"keep_name_table": True})]:
            text = view.dumps(view.load_view(path, **opts))
            out = os.path.join(d, f"expected.{name}.json")
            if check:
                if open(out).read().strip() != text:
                    print(f"{cid} {name}: Paddle {paddle.__version__} gives another view")
                    bad += 1
            else:
                with open(out, "w") as f:
                    f.write(text + "\n")
        print(f"{cid}: Paddle {paddle.__version__} views {'agree' if check else 'written'}")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assemble", action="store_true")
    ap.add_argument("--views", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--next", action="store_true", help="the development branch's form (numpy 2)")
    a = ap.parse_args()
    if a.assemble:
        assemble()
    if a.next:
        next_cases()
    if a.views:
        return views(a.check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
