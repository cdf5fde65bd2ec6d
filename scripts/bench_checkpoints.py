"""Checkpoint benchmark (spec/checkpoint.md): pdsave inspect / check / convert of a ~4 GiB
2-rank distributed checkpoint and a ~4 GiB 4-shard .pdparams index, against real Paddle
3.3.1 (load_merged_state_dict / paddle.load of each shard, then
safetensors.numpy.save_file) in the same run; and a 512 MiB .pdparams converted to
safetensors against cp of the same file.

usage: scripts/bench-checkpoints [--gib 4] [--runs 3] [--dir target/bench-checkpoints]
         [--markdown FILE] [--no-python]

Inputs are written by real Paddle (scripts/make_checkpoints.py, scripts/make_large.py)
on first use and reused. Each command runs --runs times after a warm-up read (page cache
hot), its output removed before every run (so every writer creates a new file); the best
wall time is kept, and the largest peak RSS (GNU time's %M: mapped file pages a process
touches count in it).
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_large import PDSAVE, ROOT, cpu_model, fmt_t, run  # noqa: E402

PY_CONVERT = r"""
import json, os, sys, time, warnings, logging
warnings.filterwarnings('ignore')
logging.disable(logging.CRITICAL)
import numpy as np
import paddle
from safetensors.numpy import save_file
kind, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
if kind == 'dcp':
    from paddle.distributed.flex_checkpoint.dcp.load_state_dict import load_merged_state_dict
    sd = load_merged_state_dict(src)
else:
    index = json.load(open(src))
    d, loaded, sd = os.path.dirname(src), {}, {}
    for k, f in index['weight_map'].items():
        if f not in loaded:
            loaded[f] = paddle.load(os.path.join(d, f))
        sd[k] = loaded[f][k]
save_file({k: v.numpy() for k, v in sd.items()}, out)
print(time.perf_counter() - t)
"""


def du(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


def warm(path):
    files = [path] if os.path.isfile(path) else [os.path.join(path, f) for f in os.listdir(path)]
    for f in files:
        subprocess.run(["cat", f], stdout=subprocess.DEVNULL, check=True)


def timed(cmd, runs, out=None, ok=(0,)):
    """Best wall time and largest peak RSS over runs; `out` removed before each run."""
    res = []
    for _ in range(runs):
        if out and os.path.exists(out):
            os.remove(out)
        t = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", os.path.join(ROOT, "target", "bench-rss.txt")]
                           + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        dt = time.perf_counter() - t
        if p.returncode not in ok:
            sys.exit(f"bench: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
        with open(os.path.join(ROOT, "target", "bench-rss.txt")) as f:
            res.append((dt, int(f.read().split()[-1])))
    return min(r[0] for r in res), max(r[1] for r in res)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", default="4")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=os.path.join(ROOT, "target", "bench-checkpoints"))
    ap.add_argument("--python", required=True, help="python of the Paddle 3.3.1 venv")
    ap.add_argument("--markdown")
    ap.add_argument("--no-python", action="store_true", help="skip real Paddle's convert")
    a = ap.parse_args()
    subprocess.run([a.python, os.path.join(ROOT, "scripts", "make_checkpoints.py"), a.dir, a.gib],
                   check=True, stdout=subprocess.DEVNULL)
    large = os.path.join(ROOT, "target", "bench-large")
    subprocess.run([a.python, os.path.join(ROOT, "scripts", "make_large.py"), large, "512M"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = os.path.join(a.dir, "out.safetensors")
    ref = os.path.join(a.dir, "paddle.safetensors")
    rows = []
    for name, kind, path in [("2-rank distributed checkpoint", "dcp", os.path.join(a.dir, "dcp2")),
                             ("4-shard .pdparams index", "index",
                              os.path.join(a.dir, "index4", "model_state.pdparams.index.json"))]:
        warm(os.path.dirname(path) if kind == "index" else path)
        r = {"name": name, "bytes": du(os.path.dirname(path) if kind == "index" else path)}
        r["inspect"] = timed([PDSAVE, "inspect", path], a.runs)
        r["check"] = timed([PDSAVE, "check", path], a.runs)
        r["convert"] = timed([PDSAVE, "convert", path, out], a.runs, out)
        if not a.no_python:
            r["paddle"] = timed([a.python, "-c", PY_CONVERT, kind, path, ref], a.runs, ref)
            # The same tensors, byte for byte: pdsave's view of each file hashes them.
            v1 = subprocess.run([PDSAVE, "view", "--safetensors", "--return-numpy", out], capture_output=True).stdout
            v2 = subprocess.run([PDSAVE, "view", "--safetensors", "--return-numpy", ref], capture_output=True).stdout
            r["same"] = v1 == v2 and len(v1) > 0
            os.remove(ref)
        os.remove(out)
        rows.append(r)
        print(r, file=sys.stderr)
    f512 = os.path.join(large, "state_512M.pdparams")
    warm(f512)
    cp_out = os.path.join(a.dir, "cp.out")
    cp = timed(["cp", f512, cp_out], a.runs, cp_out)
    conv = timed([PDSAVE, "convert", f512, out], a.runs, out)
    for p in (cp_out, out):
        if os.path.exists(p):
            os.remove(p)

    lines = []
    P = lines.append
    P(f"Machine: {os.cpu_count()} cores, {cpu_model()}; page cache hot; best of {a.runs}; "
      "every output a new file.")
    P("")
    P("| input | size | inspect | check | convert → .safetensors | Paddle load + safetensors.numpy.save_file | × faster | same tensors |")
    P("|---|---:|---:|---:|---:|---:|---:|:-:|")
    for r in rows:
        pd = r.get("paddle")
        P("| {} | {:.2f} GiB | {} | {} | {} | {} | {} | {} |".format(
            r["name"], r["bytes"] / 2**30, fmt_t(r["inspect"][0]), fmt_t(r["check"][0]),
            fmt_t(r["convert"][0]), fmt_t(pd[0]) if pd else "–",
            f"{pd[0] / r['convert'][0]:.1f}×" if pd else "–",
            {True: "yes", False: "NO", None: "–"}[r.get("same")]))
    P("")
    P("Peak RSS (MiB):")
    P("")
    P("| input | inspect | check | convert | Paddle load + save_file | convert ÷ Paddle |")
    P("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        pd = r.get("paddle")
        P("| {} | {:.0f} | {:.0f} | {:.0f} | {} | {} |".format(
            r["name"], r["inspect"][1] / 1024, r["check"][1] / 1024, r["convert"][1] / 1024,
            f"{pd[1] / 1024:.0f}" if pd else "–", f"{r['convert'][1] / pd[1]:.2f}" if pd else "–"))
    P("")
    P("512 MiB .pdparams → .safetensors: convert {} ({:.0f} MiB peak RSS), cp {} ({:.0f} MiB): "
      "convert ÷ cp = {:.2f}".format(fmt_t(conv[0]), conv[1] / 1024, fmt_t(cp[0]), cp[1] / 1024,
                                      conv[0] / cp[0]))
    text = "\n".join(lines)
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
