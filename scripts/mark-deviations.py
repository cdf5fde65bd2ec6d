"""Marks the corpus cases where the writer's Paddle deviates from what the FAQ documents
(spec/deviations.md) — run after corpus/generate.py:

    <paddle 2.6.2 venv python> scripts/mark-deviations.py

For each such case, `expected.<set>.json` becomes the documented result and Paddle's
observed view moves to `paddle.<set>.json`. The documented result is Paddle 2.6.2's own
`paddle.load` of the same files when it can read them (legacy programs), else pdsave's
reference (PIR programs, which 2.6.2 cannot read) — whose every parameter
tests/corpus_deviations.rs checks against values.json, Paddle's own reading of the model.
"""

import json
import os
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(repo, "adapters", "paddle"))

# case id prefix → deviation id (spec/deviations.md)
DEVIATIONS = {
    "y_p3_legacy_jit_save_prefix": "D-6",
    "y_p3_legacy_save_inference_model_prefix": "D-6",
    "y_p3_legacy_save_inference_model_legacy_format_prefix": "D-6",
    "y_p3_legacy_inference_model_dir": "D-8",
    "y_p3_pir_jit_save_prefix": "D-7",
    "y_p3_pir_save_inference_model_prefix": "D-7",
    "y_p3_pir_inference_model_dir": "D-7",
}
SETS = {"default": {}, "return_numpy": {"return_numpy": True}, "keep_name_table": {"keep_name_table": True}}


def main():
    import paddle
    from view import dumps, load_view
    paddle.disable_static()
    pdsave = os.path.join(repo, "target", "release", "pdsave")
    for cid, dev in DEVIATIONS.items():
        d = os.path.join(repo, "corpus", "cases", cid)
        meta_path = os.path.join(d, "case.json")
        if not os.path.exists(meta_path):
            print("missing", cid)
            continue
        meta = json.load(open(meta_path))
        entry = d if meta["entry"] == "." else os.path.join(d, meta["entry"])
        for name, kw in SETS.items():
            exp = os.path.join(d, f"expected.{name}.json")
            obs = os.path.join(d, f"paddle.{name}.json")
            if not os.path.exists(obs):
                os.replace(exp, obs)
            v = load_view(entry, **kw)
            source = f"paddle {paddle.__version__}"
            if "error" in v:
                args = [pdsave, "view", entry] + (["--return-numpy"] if kw.get("return_numpy") else []) \
                    + (["--keep-name-table"] if kw.get("keep_name_table") else [])
                v = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
                source = "pdsave (documented behaviour; parameters checked against values.json)"
            with open(exp, "w") as f:
                f.write(dumps(v) + "\n")
        meta["deviation"] = {"id": dev, "observed": "paddle.<set>.json", "expected_source": source}
        meta["kind"] = "y"
        with open(meta_path, "w") as f:
            json.dump(meta, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(cid, dev, source)
    # Prefix and directory loads: the dict order is implementation-defined (D-13, spec/validate.md).
    cases = os.path.join(repo, "corpus", "cases")
    for cid in sorted(os.listdir(cases)):
        mp = os.path.join(cases, cid, "case.json")
        if not os.path.exists(mp):
            continue
        meta = json.load(open(mp))
        if meta.get("format") in ("directory", "program+params") and meta.get("dict_order") != "implementation-defined":
            meta["dict_order"] = "implementation-defined"
            with open(mp, "w") as f:
                json.dump(meta, f, indent=1, ensure_ascii=False)
                f.write("\n")


if __name__ == "__main__":
    main()
