#!/usr/bin/env python3
"""Check `pdsave inspect --stats` against numpy on the corpus (spec/inspect.md).

    python scripts/check-stats.py [--pdsave BIN] [--corpus corpus]

For every pickle case Paddle wrote whose root is a dict of str -> ndarray (state dicts,
static.save files, optimizer states) the arrays are read with paddle.load(return_numpy=True)
(no pickle of ours involved), and each variable pdsave lists under the key path "key" is compared:
min and max exactly (numpy's nanmin/nanmax in float64), mean within 1e-6 relative
(nanmean in float64), NaN and infinity counts exactly. uint16 arrays are read as bfloat16,
as paddle.load does with default options. Prints `N arrays checked, N failed`; exit 1 on a
failure.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
ap = argparse.ArgumentParser()
ap.add_argument("--pdsave", default="target/release/pdsave")
ap.add_argument("--corpus", default="corpus")
a = ap.parse_args()

import paddle  # noqa: E402

paddle.set_device("cpu")


def num(x):
    if isinstance(x, str):
        return float(x)
    return float(x)


def expect(arr):
    if arr.dtype == np.uint16:
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.int64)
    f = arr.astype(np.float64)
    nan = int(np.isnan(f).sum())
    inf = int(np.isinf(f).sum())
    if nan == f.size:
        return None, None, None, nan, inf
    return float(np.nanmin(f)), float(np.nanmax(f)), float(np.nanmean(f)), nan, inf


checked = failed = 0
cases = os.path.join(a.corpus, "cases")
for cid in sorted(os.listdir(cases)):
    if cid[0] not in "yi":
        continue
    meta = json.load(open(os.path.join(cases, cid, "case.json")))
    if meta.get("format") != "pickle" or not meta.get("has_expected"):
        continue
    if meta.get("same_files_as"):  # the same bytes as another case, checked there
        continue
    path = os.path.join(cases, cid, meta["entry"])
    try:
        obj = paddle.load(path, return_numpy=True)
    except Exception:
        continue
    if not isinstance(obj, dict):
        continue
    out = subprocess.run([a.pdsave, "inspect", "--stats", "--json", path], capture_output=True, text=True)
    if out.returncode != 0:
        print(f"{cid}: pdsave inspect failed: {out.stderr.strip()}")
        failed += 1
        continue
    report = json.loads(out.stdout)
    by_path = {v["path"]: v for v in report["variables"]}
    for k, arr in obj.items():
        if not isinstance(k, str) or not isinstance(arr, np.ndarray) or arr.size == 0:
            continue
        if arr.dtype.kind == "c":
            continue
        v = by_path.get(k)  # a top-level key's key path is the key (spec/inspect.md)
        if v is None or "stats" not in v:
            continue
        checked += 1
        mn, mx, mean, nan, inf = expect(arr)
        s = v["stats"]
        got = (None if s["min"] is None else num(s["min"]), None if s["max"] is None else num(s["max"]),
               s["mean"], s["nan"], s["inf"])
        ok = got[0] == mn and got[1] == mx and got[3] == nan and got[4] == inf
        if mean is None:
            ok = ok and got[2] is None
        elif got[2] is None or not math.isclose(got[2], mean, rel_tol=1e-6, abs_tol=1e-9) and not (
            math.isinf(mean) and got[2] == mean
        ):
            ok = False
        if not ok:
            failed += 1
            print(f"{cid} {k}: pdsave {got} numpy {(mn, mx, mean, nan, inf)}")
print(f"check-stats: {checked} arrays checked, {failed} failed")
sys.exit(1 if failed or checked == 0 else 0)
