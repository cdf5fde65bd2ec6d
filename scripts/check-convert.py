#!/usr/bin/env python3
"""Load `pdsave convert` outputs with their own ecosystems' readers (spec/convert.md).

    python scripts/check-convert.py [--pdsave BIN] [--corpus corpus] [--out DIR]

For every pickle case of the corpus that Paddle wrote (y_/i_ with a view from real Paddle):
  - converts it to .npz and reads it with numpy's np.load (allow_pickle=False);
  - converts it to .safetensors and reads it with the `safetensors` package (skipped when
    the package is not installed);
and compares every array against the view real Paddle gave for the file (dtype, shape,
sha256 of the C-order little-endian bytes). Then, when `paddle` is importable, converts every
model prefix / directory case to .safetensors and on to .pdparams (the plain state-dict path)
and checks that paddle.load reads those .pdparams as Paddle's own values.json says.
Prints one summary line `N passed, N failed`; exits 1 on any failure.
"""
import argparse
import atexit
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--pdsave", default=None)
ap.add_argument("--corpus", default="corpus")
ap.add_argument("--out", default=None)
args = ap.parse_args()

pdsave = args.pdsave
if pdsave is None:
    for c in ("target/release/pdsave", "target/debug/pdsave"):
        if os.path.exists(c):
            pdsave = c
            break
if pdsave is None:
    sys.exit("check-convert: no pdsave binary (build it or pass --pdsave)")
if args.out:
    out = args.out
    os.makedirs(out, exist_ok=True)
else:
    # Removed when the script ends, however it ends (atexit runs on sys.exit and on an
    # uncaught exception); --out DIR keeps the outputs.
    scratch = tempfile.TemporaryDirectory(prefix="pdsave-convert-")
    atexit.register(scratch.cleanup)
    out = scratch.name

try:
    import safetensors
    import safetensors.numpy  # noqa: F401
except ImportError:
    safetensors = None
    print("check-convert: the safetensors package is not installed: safetensors checks skipped")

passed = 0
failed = []

ST_NUMPY = {"BOOL": "bool", "I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64",
            "U8": "uint8", "U16": "uint16", "U32": "uint32", "U64": "uint64",
            "F16": "float16", "F32": "float32", "F64": "float64", "C64": "complex64",
            "BF16": "bfloat16"}


def convert(src, dst):
    r = subprocess.run([pdsave, "convert", src, dst], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"pdsave convert {src} {dst}: exit {r.returncode}: {r.stderr.strip()}")


def leaves(node, path, acc):
    """Arrays of a load view, by pdsave's names (dotted paths; the root array is 'tensor')."""
    t = node.get("t")
    if t in ("tensor", "ndarray"):
        acc[path or "tensor"] = node
    elif t in ("dict", "odict"):
        for i, (k, v) in enumerate(node["items"]):
            kt = k.get("t")
            c = k["v"] if kt in ("str", "int") else ("True" if k.get("v") else "False") if kt == "bool" else str(i)
            leaves(v, f"{path}.{c}" if path else c, acc)
    elif t in ("list", "tuple", "set"):
        for i, v in enumerate(node["items"]):
            leaves(v, f"{path}.{i}" if path else str(i), acc)
    return acc


def sha(a):
    a = np.ascontiguousarray(a)
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    return hashlib.sha256(a.tobytes()).hexdigest()


def same_dtype(view, got):
    want = view["dtype"]
    return got == want or (want == "bfloat16" and got == "uint16")


def check(case, what, got):
    """got: name -> (dtype name, shape, sha256)."""
    global passed
    view = json.load(open(os.path.join(args.corpus, "cases", case, "expected.default.json")))
    if "result" not in view:
        return
    for name, leaf in leaves(view["result"], "", {}).items():
        g = got.get(name)
        if g is None:
            failed.append(f"{case} {what}: no array {name!r} (have {sorted(got)[:5]})")
        elif not same_dtype(leaf, g[0]) or list(leaf["shape"]) != list(g[1]) or leaf["sha256"] != g[2]:
            failed.append(f"{case} {what}: {name!r} is {g[0]} {g[1]}, Paddle read {leaf['dtype']} {leaf['shape']} (or bytes differ)")
        else:
            passed += 1


cases = sorted(os.listdir(os.path.join(args.corpus, "cases")))
for case in cases:
    meta = json.load(open(os.path.join(args.corpus, "cases", case, "case.json")))
    if case[0] not in "yi" or meta.get("format") != "pickle" or not meta.get("entry") or "_oracle_" in case:
        continue
    if meta.get("same_files_as"):  # the same bytes as another case, checked there
        continue
    src = os.path.join(args.corpus, "cases", case, meta["entry"])
    npz = os.path.join(out, case + ".npz")
    try:
        convert(src, npz)
        with np.load(npz, allow_pickle=False) as z:
            got = {k: (z[k].dtype.name, z[k].shape, sha(z[k])) for k in z.files}
        check(case, "npz", got)
    except Exception as e:  # noqa: BLE001
        failed.append(f"{case} npz: {e}")
    if safetensors is None:
        continue
    st = os.path.join(out, case + ".safetensors")
    try:
        convert(src, st)
        raw = dict(safetensors.deserialize(open(st, "rb").read()))
        plain = safetensors.numpy.load_file(st) if all(v["dtype"] != "BF16" for v in raw.values()) else {}
        got = {}
        for k, v in raw.items():
            shape = list(v["shape"])
            dt = ST_NUMPY.get(v["dtype"], v["dtype"])
            got[k] = (dt, shape, hashlib.sha256(bytes(v["data"])).hexdigest())
            if k in plain:
                # numpy's own reading of the file agrees with its bytes.
                assert sha(plain[k]) == got[k][2], k
        # complex128 is stored as F64 [..., 2]: compare it as complex128.
        view = json.load(open(os.path.join(args.corpus, "cases", case, "expected.default.json")))
        if "result" in view:
            for name, leaf in leaves(view["result"], "", {}).items():
                g = got.get(name)
                if g and leaf["dtype"] == "complex128" and g[0] == "float64" and g[1][-1:] == [2]:
                    got[name] = ("complex128", g[1][:-1], g[2])
        check(case, "safetensors", got)
    except Exception as e:  # noqa: BLE001
        failed.append(f"{case} safetensors: {e}")

try:
    import paddle  # noqa: F401
except ImportError:
    paddle = None
    print("check-convert: paddle is not importable: paddle.load checks skipped")

if paddle is not None:
    for case in cases:
        meta = json.load(open(os.path.join(args.corpus, "cases", case, "case.json")))
        if meta.get("format") not in ("program+params", "directory") or not meta.get("values"):
            continue
        if meta.get("same_files_as"):  # the same bytes as another case, checked there
            continue
        view = json.load(open(os.path.join(args.corpus, "cases", case, "expected.default.json")))
        if "result" not in view:  # paddle.load raises there (pdsave convert refuses too)
            continue
        src = os.path.join(args.corpus, "cases", case, meta["entry"])
        st = os.path.join(out, case + ".model.safetensors")
        pd = os.path.join(out, case + ".model.pdparams")
        try:
            convert(src, st)
            convert(st, pd)
            sd = paddle.load(pd)
            values = json.load(open(os.path.join(args.corpus, "cases", case, meta["values"])))
            for v in values:
                key = v.get("structured_name") or v["name"]
                if key not in sd:
                    key = v["name"]
                t = sd.get(key)
                if t is None:
                    failed.append(f"{case} paddle.load: no {key!r} in {sorted(sd)[:5]}")
                    continue
                a = t.numpy()
                dt = str(t.dtype).replace("paddle.", "")
                if dt != v["dtype"] or list(a.shape) != list(v["shape"]) or sha(a) != v["sha256"]:
                    failed.append(f"{case} paddle.load: {key!r} is {dt} {list(a.shape)}, values.json says {v['dtype']} {v['shape']} (or bytes differ)")
                else:
                    passed += 1
        except Exception as e:  # noqa: BLE001
            failed.append(f"{case} paddle.load: {e}")

for f in failed:
    print("FAIL", f)
print(f"check-convert: {passed} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
