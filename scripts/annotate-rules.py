"""Fills `rules` in corpus case.json files (run after corpus/generate.py; stdlib only):
the A- findings `pdsave check --json` reports for the case's pickle, plus rules named by
the generator's tags. Cases that already list rules keep them.

    python3 scripts/annotate-rules.py      # needs target/release/pdsave
"""

import json
import os
import subprocess

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pdsave = os.path.join(repo, "target", "release", "pdsave")
TAGS = {
    "stop_gradient_lost": "A-GRAD", "name_table": "L-TABLE", "tensor_name": "L-NAME",
    "uint16_as_bf16": "A-BF16", "uint32_load_fails": "A-UINT", "uint64_load_fails": "A-UINT",
    "eval_reduce": "S-STATIC", "tensor_tuple": "L-TUPLE", "faq_case_1": "A-FAQ1",
    "faq_case_2": "A-FAQ2", "faq_case_3": "A-FAQ3",
}

for cid in sorted(os.listdir(os.path.join(repo, "corpus", "cases"))):
    d = os.path.join(repo, "corpus", "cases", cid)
    mp = os.path.join(d, "case.json")
    if not os.path.exists(mp):
        continue
    meta = json.load(open(mp))
    if meta.get("rules"):
        continue
    rules = {TAGS[t] for t in meta.get("tags", []) if t in TAGS}
    if meta.get("format") == "pickle" and meta.get("entry"):
        out = subprocess.run([pdsave, "check", "--json", os.path.join(d, meta["entry"])], capture_output=True, text=True)
        if out.stdout.strip():
            rules |= {f["rule"] for f in json.loads(out.stdout)["findings"]}
    if rules:
        meta["rules"] = sorted(rules)
        with open(mp, "w") as f:
            json.dump(meta, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(cid, meta["rules"])
