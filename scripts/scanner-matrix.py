#!/usr/bin/env python3
"""The scanner matrix (README, "Scanner matrix"): how many hostile files of each class each
scanner misses, and how many of Paddle's own files it flags, next to `pdsave check`.

Hostile files: the corpus n_ cases with a class in corpus/scan/scan.json ("n_classes",
written by corpus/make_hostile.py with their published sources) and the corpus/scan/
files that paddle.load reads but a scanner must flag ("cases", expect "finding").
Paddle's own files: every corpus case whose writer is a real Paddle (writer.paddle), as
paddle.load is given it (a file, a prefix or a directory), and corpus/scan/ files with
expect "clean".

A scanner is an adapter's plain-mode check (adapters/NAME/check.sh PATH: exit 0 accepts);
pdsave flags a file when `pdsave check --json` has a safety finding (a P- rule,
C-ARCHIVE, or A-LARGE / A-DEEP: resource exhaustion) or exits 2 (it cannot read the file);
other decoding findings (A-, L-) are not flags. Results are cached in target/scanner-matrix/NAME.json (delete to rerun).

    PDSAVE_VENV_DIR=/work/main/.venv python3 scripts/scanner-matrix.py [-j 2] [NAME...]
"""

import argparse
import concurrent.futures as cf
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCANNERS = ["picklescan", "fickling", "modelscan", "modelaudit"]
CLASSES = ["gadgets", "names inside allowed modules", "BUILD/__setstate__", "opcode tricks",
           "numpy", "resource exhaustion", "archives"]
PDSAVE = os.path.join(ROOT, "target", "release", "pdsave")


def inputs():
    scan = json.load(open(os.path.join(ROOT, "corpus", "scan", "scan.json")))
    hostile, own = [], []
    for cid, cls in scan["n_classes"].items():
        meta = json.load(open(os.path.join(ROOT, "corpus", "cases", cid, "case.json")))
        hostile.append((cid, cls, os.path.join(ROOT, "corpus", "cases", cid, meta["entry"])))
    for c in scan["cases"]:
        p = os.path.join(ROOT, "corpus", "scan", c["file"])
        (own if c["expect"] == "clean" else hostile).append((c["id"], c["class"], p))
    for cid in sorted(os.listdir(os.path.join(ROOT, "corpus", "cases"))):
        d = os.path.join(ROOT, "corpus", "cases", cid)
        meta = json.load(open(os.path.join(d, "case.json")))
        if cid.startswith("n_") or not meta.get("writer", {}).get("paddle") or not meta.get("entry"):
            continue
        p = os.path.join(d, meta["entry"])
        if os.path.exists(p) or any(os.path.exists(p + e) for e in (".pdmodel", ".json")):
            own.append((cid, "paddle", p))
    return hostile, own


def flagged(name, path):
    """True when the scanner rejects or flags PATH."""
    if name == "pdsave":
        r = subprocess.run([PDSAVE, "check", "--json", path], capture_output=True, timeout=120)
        try:
            rep = json.loads(r.stdout)
        except ValueError:
            return True
        safety = [f for f in rep["findings"]
                  if f["rule"].startswith("P-") or f["rule"] in ("C-ARCHIVE", "A-LARGE", "A-DEEP")]
        return bool(safety) or rep["exit_code"] == 2
    cmd = [os.path.join(ROOT, "adapters", name, "check.sh"), path]
    try:
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    except subprocess.TimeoutExpired:
        return True  # a scanner that hangs does not accept the file
    return r.returncode != 0


def run(name, items, jobs):
    cache_dir = os.path.join(ROOT, "target", "scanner-matrix")
    os.makedirs(cache_dir, exist_ok=True)
    cache_file = os.path.join(cache_dir, name + ".json")
    cache = json.load(open(cache_file)) if os.path.exists(cache_file) else {}
    todo = [(cid, p) for cid, _, p in items if cid not in cache]
    with cf.ThreadPoolExecutor(jobs) as ex:
        for (cid, _), f in zip(todo, ex.map(lambda t: flagged(name, t[1]), todo)):
            cache[cid] = f
    json.dump(cache, open(cache_file, "w"), indent=0, sort_keys=True)
    return cache


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=1)
    ap.add_argument("names", nargs="*", default=["pdsave"] + SCANNERS)
    a = ap.parse_args()
    hostile, own = inputs()
    results = {n: run(n, hostile + own, a.j) for n in a.names}
    cols = a.names
    print("| class (hostile files) | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for cls in CLASSES:
        items = [cid for cid, c, _ in hostile if c == cls]
        if not items:
            continue
        cells = [f"{sum(not results[n][c] for c in items)} missed" for n in cols]
        print(f"| {cls} ({len(items)}) | " + " | ".join(cells) + " |")
    total = [cid for cid, _, _ in hostile]
    print(f"| **all hostile ({len(total)})** | "
          + " | ".join(f"**{sum(not results[n][c] for c in total)} missed**" for n in cols) + " |")
    owned = [cid for cid, _, _ in own]
    print(f"| Paddle's own files ({len(owned)}) | "
          + " | ".join(f"{sum(results[n][c] for c in owned)} flagged" for n in cols) + " |")
    for n in cols:
        missed = [c for c in total if not results[n][c]]
        fp = [c for c in owned if results[n][c]]
        print(f"\n{n}: missed {missed[:40]}{' …' if len(missed) > 40 else ''}; "
              f"flags Paddle's {fp[:20]}{' …' if len(fp) > 20 else ''}", file=sys.stderr)


if __name__ == "__main__":
    main()
