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
other decoding findings (A-, L-) are not flags. A scanner's results are cached in
target/scanner-matrix/NAME.json, each under the digest of the bytes it was given (a
changed file is scanned again; --fresh ignores the cache); pdsave always runs
(target/release/pdsave: build it first).

The table goes to stdout; --readme writes it into README.md between the
`<!-- scanner-matrix -->` and `<!-- /scanner-matrix -->` lines (or in place of a line
SCANNER_MATRIX). Which files each scanner misses or flags goes to stderr.

    cargo build --release
    PDSAVE_VENV_DIR=/work/main/.venv python3 scripts/scanner-matrix.py [-j 2] [--readme] [NAME...]
"""

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCANNERS = ["picklescan", "fickling", "modelscan", "modelscan-pkl", "modelaudit"]
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
    # NAME-pkl: the scanner given a copy of each file named .pkl (modelscan chooses its
    # scanner by extension and skips .pdparams, .pdmodel, .bin, …).
    adapter, env = name, dict(os.environ)
    if name.endswith("-pkl"):
        adapter, env["PDSAVE_SCAN_AS_PKL"] = name[: -len("-pkl")], "1"
    cmd = [os.path.join(ROOT, "adapters", adapter, "check.sh"), path]
    try:
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
                           env=env)
    except subprocess.TimeoutExpired:
        return True  # a scanner that hangs does not accept the file
    return r.returncode != 0


def digest(path):
    """SHA-256 of what a scanner is given for PATH: the file, every file under the
    directory, or the files of the model prefix (names and bytes)."""
    if os.path.isdir(path):
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs)
    elif os.path.exists(path):
        files = [path]
    else:
        files = [path + e for e in (".pdmodel", ".json", ".pdiparams", ".pdiparams.info")
                 if os.path.exists(path + e)]
    h = hashlib.sha256()
    for f in files:
        h.update(os.path.relpath(f, os.path.dirname(path)).encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def run(name, items, jobs, fresh):
    """{case id: flagged} for every item; a scanner's verdicts are cached by digest."""
    cache_dir = os.path.join(ROOT, "target", "scanner-matrix")
    os.makedirs(cache_dir, exist_ok=True)
    cache_file = os.path.join(cache_dir, name + ".json")
    cache = {}
    if name != "pdsave" and not fresh and os.path.exists(cache_file):
        cache = {k: v for k, v in json.load(open(cache_file)).items() if isinstance(v, dict)}
    keys = {cid: digest(p) for cid, _, p in items}
    todo = [(cid, p) for cid, _, p in items
            if cache.get(cid, {}).get("digest") != keys[cid]]
    with cf.ThreadPoolExecutor(jobs) as ex:
        for (cid, _), f in zip(todo, ex.map(lambda t: flagged(name, t[1]), todo)):
            cache[cid] = {"digest": keys[cid], "flagged": f}
    if name != "pdsave":
        json.dump(cache, open(cache_file, "w"), indent=0, sort_keys=True)
    return {cid: cache[cid]["flagged"] for cid, _, _ in items}


def table(results, cols, hostile, own):
    rows = ["| class (hostile files) | " + " | ".join(cols) + " |",
            "|---|" + "---:|" * len(cols)]
    for cls in CLASSES:
        items = [cid for cid, c, _ in hostile if c == cls]
        if not items:
            continue
        cells = [f"{sum(not results[n][c] for c in items)} missed" for n in cols]
        rows.append(f"| {cls} ({len(items)}) | " + " | ".join(cells) + " |")
    total = [cid for cid, _, _ in hostile]
    rows.append(f"| **all hostile ({len(total)})** | "
                + " | ".join(f"**{sum(not results[n][c] for c in total)} missed**"
                             for n in cols) + " |")
    owned = [cid for cid, _, _ in own]
    rows.append(f"| Paddle's own files ({len(owned)}) | "
                + " | ".join(f"{sum(results[n][c] for c in owned)} flagged" for n in cols)
                + " |")
    return "\n".join(rows)


def write_readme(text):
    """Puts TEXT between README.md's scanner-matrix markers (or for its placeholder)."""
    path = os.path.join(ROOT, "README.md")
    lines = open(path).read().split("\n")
    block = ["<!-- scanner-matrix -->", text, "<!-- /scanner-matrix -->"]
    if "<!-- scanner-matrix -->" in lines and "<!-- /scanner-matrix -->" in lines:
        a, b = lines.index("<!-- scanner-matrix -->"), lines.index("<!-- /scanner-matrix -->")
        lines[a:b + 1] = block
    elif "SCANNER_MATRIX" in lines:
        a = lines.index("SCANNER_MATRIX")
        lines[a:a + 1] = block
    else:
        sys.exit("README.md has no scanner-matrix markers and no SCANNER_MATRIX line")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("-j", type=int, default=1, help="files scanned at once (default 1)")
    ap.add_argument("--readme", action="store_true", help="write the table into README.md")
    ap.add_argument("--fresh", action="store_true", help="ignore the scanners' cached verdicts")
    ap.add_argument("names", nargs="*", default=["pdsave"] + SCANNERS,
                    help=f"columns (default: pdsave {' '.join(SCANNERS)})")
    a = ap.parse_args()
    if "pdsave" in a.names and not os.access(PDSAVE, os.X_OK):
        sys.exit(f"{PDSAVE}: not built (cargo build --release)")
    hostile, own = inputs()
    results = {n: run(n, hostile + own, a.j, a.fresh) for n in a.names}
    text = table(results, a.names, hostile, own)
    print(text)
    if a.readme:
        write_readme(text)
    total = [cid for cid, _, _ in hostile]
    owned = [cid for cid, _, _ in own]
    for n in a.names:
        missed = [c for c in total if not results[n][c]]
        fp = [c for c in owned if results[n][c]]
        print(f"\n{n}: missed {missed[:40]}{' …' if len(missed) > 40 else ''}; "
              f"flags Paddle's {fp[:20]}{' …' if len(fp) > 20 else ''}", file=sys.stderr)


if __name__ == "__main__":
    main()
