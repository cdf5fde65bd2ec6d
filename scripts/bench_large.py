"""Large-file benchmark (issue #8): pdsave against paddle.load, pickle.load, sha256sum,
cat and cp on the same files, in one run, with peak RSS of every process.

usage: scripts/bench-large [--sizes 16M,256M,1G,single1G] [--runs 3] [--split]
         [--dir target/bench-large] [--markdown FILE]

Files are written by real Paddle 3.3.1 (scripts/make_large.py) on first use and reused.
Every command runs --runs times after one warm-up read (page cache hot); the best wall
time is kept. Peak RSS is the child's ru_maxrss (file pages mapped by pdsave count in it:
the mmap'd input shows up in pdsave view's RSS although no copy is made).
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PDSAVE = os.path.join(ROOT, "target", "release", "pdsave")

PY_LOAD = r"""
import sys, time, resource
mode, path = sys.argv[1], sys.argv[2]
if mode == "paddle":
    import paddle
    load = lambda: paddle.load(path)
else:
    import pickle, numpy
    def load():
        with open(path, "rb") as f:
            return pickle.load(f)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
obj = load()
dt = time.perf_counter() - t
print(dt, base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


RSS_FILE = os.path.join(ROOT, "target", "bench-rss.txt")


def run(cmd, stdout=subprocess.DEVNULL):
    """Wall seconds and peak RSS (KiB) of one command. RSS comes from GNU time (a small
    process of its own: a child of this Python would count Python's pages before exec)."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", RSS_FILE] + cmd, stdout=stdout,
                       stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
    with open(RSS_FILE) as f:
        rss = int(f.read().split()[-1])
    return dt, rss


def best(cmd, runs, stdout=subprocess.DEVNULL):
    res = [run(cmd, stdout) for _ in range(runs)]
    return min(r[0] for r in res), max(r[1] for r in res)


def py_load(py, mode, path, runs):
    """Time of the load call alone (interpreter start and `import paddle` excluded) and the
    process's peak RSS, best of runs."""
    out = []
    for _ in range(runs):
        r = subprocess.run([py, "-c", PY_LOAD, mode, path], capture_output=True, text=True)
        if r.returncode != 0:
            return None
        dt, base, peak = r.stdout.split()
        out.append((float(dt), int(peak), int(base)))
    return min(o[0] for o in out), max(o[1] for o in out), min(o[2] for o in out)


def fmt_t(t):
    return f"{t * 1000:.0f} ms" if t < 10 else f"{t:.1f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="16M,256M,1G,single1G")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--split", action="store_true", help="also the protocol-2 split file (> 1 GiB parameter)")
    ap.add_argument("--dir", default=os.path.join(ROOT, "target", "bench-large"))
    ap.add_argument("--python", required=True, help="python of the Paddle 3.3.1 venv")
    ap.add_argument("--markdown")
    ap.add_argument("--no-python", action="store_true", help="skip paddle.load and pickle.load")
    a = ap.parse_args()
    sizes = a.sizes.split(",")
    names = {"16M": "state_16M.pdparams", "256M": "state_256M.pdparams", "1G": "state_1G.pdparams",
             "single1G": "single_1G.pdtensor"}
    subprocess.run([a.python, os.path.join(ROOT, "scripts", "make_large.py"), a.dir] + sizes
                   + (["split"] if a.split else []), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    tmp = os.path.join(a.dir, "out.tmp")
    rows = []
    for s in sizes:
        f = os.path.join(a.dir, names[s])
        size = os.path.getsize(f)
        run(["cat", f])  # warm the page cache
        r = {"file": names[s], "bytes": size}
        r["cat"] = best(["sh", "-c", f'cat "$0" > /dev/null', f], a.runs)
        r["cp"] = best(["cp", f, tmp], a.runs)
        r["sha256sum"] = best(["sha256sum", f], a.runs)
        # The hash floor: OpenSSL's SHA-256 (SHA-NI where the CPU has it) on the file.
        r["openssl"] = best(["openssl", "dgst", "-sha256", f], a.runs)
        r["view"] = best([PDSAVE, "view", f], a.runs)
        r["inspect"] = best([PDSAVE, "inspect", f], a.runs)
        r["reencode"] = best([PDSAVE, "reencode", f, "-o", tmp], a.runs)
        with open(f, "rb") as x, open(tmp, "rb") as y:
            same = True
            while True:
                bx, by = x.read(1 << 24), y.read(1 << 24)
                if bx != by:
                    same = False
                    break
                if not bx:
                    break
        r["reencode_identical"] = same
        if not a.no_python:
            r["paddle.load"] = py_load(a.python, "paddle", f, a.runs)
            r["pickle.load"] = py_load(a.python, "pickle", f, a.runs)
        rows.append(r)
        print(json.dumps({k: v for k, v in r.items() if v is not None}), file=sys.stderr)
    if os.path.exists(tmp):
        os.remove(tmp)

    lines = []
    P = lines.append
    P(f"Machine: {os.cpu_count()} cores, {cpu_model()}; page cache hot; best of {a.runs}.")
    P("")
    P("| file | size | pdsave view | paddle.load | pickle.load | sha256sum | cat | view: × faster than paddle.load | view ÷ sha256sum | openssl sha256 | pdsave inspect | reencode | cp | reencode ÷ cp | identical |")
    P("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|")
    for r in rows:
        v = r["view"][0]
        pl = r.get("paddle.load")
        pk = r.get("pickle.load")
        P("| {} | {:.0f} MiB | {} | {} | {} | {} | {} | {} | {:.2f} | {} | {} | {} | {} | {:.2f} | {} |".format(
            r["file"], r["bytes"] / 2**20, fmt_t(v),
            fmt_t(pl[0]) if pl else "–", fmt_t(pk[0]) if pk else "–",
            fmt_t(r["sha256sum"][0]), fmt_t(r["cat"][0]),
            f"{pl[0] / v:.1f}×" if pl else "–", v / r["sha256sum"][0], fmt_t(r["openssl"][0]),
            fmt_t(r["inspect"][0]), fmt_t(r["reencode"][0]), fmt_t(r["cp"][0]),
            r["reencode"][0] / r["cp"][0], "yes" if r["reencode_identical"] else "NO"))
    P("")
    P("Peak RSS (MiB; python rows: whole process, with the interpreter and imports in parentheses):")
    P("")
    P("| file | pdsave view | pdsave inspect | pdsave reencode | paddle.load | pickle.load | sha256sum | cp |")
    P("|---|---:|---:|---:|---:|---:|---:|---:|")
    mib = lambda kb: f"{kb / 1024:.0f}"
    for r in rows:
        pl = r.get("paddle.load")
        pk = r.get("pickle.load")
        P("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
            r["file"], mib(r["view"][1]), mib(r["inspect"][1]), mib(r["reencode"][1]),
            f"{mib(pl[1])} ({mib(pl[2])})" if pl else "–", f"{mib(pk[1])} ({mib(pk[2])})" if pk else "–",
            mib(r["sha256sum"][1]), mib(r["cp"][1])))
    P("")
    P("Growth (seconds per GiB; flat means linear):")
    P("")
    P("| file | view | inspect | reencode | paddle.load |")
    P("|---|---:|---:|---:|---:|")
    for r in rows:
        g = r["bytes"] / 2**30
        pl = r.get("paddle.load")
        P("| {} | {:.3f} | {:.4f} | {:.3f} | {} |".format(r["file"], r["view"][0] / g, r["inspect"][0] / g,
                                                  r["reencode"][0] / g, f"{pl[0] / g:.2f}" if pl else "–"))
    if a.split:
        lines.extend(split_check(a))
    text = "\n".join(lines)
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as fh:
            fh.write(text + "\n")


def split_check(a):
    """Protocol 2, one parameter over 2**30 bytes: Paddle splits it on save; pdsave must
    view it as Paddle does and re-encode it byte-identically."""
    f = os.path.join(a.dir, "split_p2.pdparams")
    tmp = os.path.join(a.dir, "split.tmp")
    out = ["", f"Split file ({os.path.getsize(f) / 2**20:.0f} MiB, protocol 2, `UnpackBigParamInfor@@`):"]
    t, rss = best([PDSAVE, "reencode", f, "-o", tmp], 1)
    same = subprocess.run(["cmp", "-s", f, tmp]).returncode == 0
    os.remove(tmp)
    mine = subprocess.run([PDSAVE, "view", f], capture_output=True, text=True, check=True).stdout
    theirs = subprocess.run([a.python, os.path.join(ROOT, "adapters", "paddle", "view.py"), f],
                            capture_output=True, text=True).stdout
    eq = json.loads(mine) == json.loads(theirs) if theirs.strip() else None
    out.append(f"re-encode {fmt_t(t)}, byte-identical: {'yes' if same else 'NO'}; "
               f"view equal to real paddle.load's view: {'yes' if eq else 'NO' if eq is False else 'not run'}")
    return out


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


if __name__ == "__main__":
    main()
