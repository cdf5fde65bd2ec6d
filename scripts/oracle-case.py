"""Turns a save-side object (spec/object.md) into a corpus case written by real Paddle.

    <venv python> scripts/oracle-case.py CASE_ID PROTOCOL OBJECT.json [NOTES] [RULES]

Runs the oracle adapter's builder and paddle.save/paddle.load in-process and writes
corpus/cases/CASE_ID/ with obj.pdparams, expected.<set>.json and case.json (with the
object JSON, so pdsave's reference save can be checked against the bytes). Used for the
mismatches oracle-diff found, so each stays a regression case that needs no Python.
"""

import base64
import json
import os
import sys

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(repo, "adapters", "oracle"))
import oracle  # noqa: E402
import numpy as np  # noqa: E402
import paddle  # noqa: E402


def main():
    cid, proto, obj_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    notes = sys.argv[4] if len(sys.argv) > 4 else ""
    rules = sys.argv[5].split(",") if len(sys.argv) > 5 else []
    obj = json.load(open(obj_path))
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        ans = oracle.handle({"id": 0, "obj": obj, "protocol": proto}, tmp)
    d = os.path.join(repo, "corpus", "cases", cid)
    os.makedirs(d, exist_ok=True)
    meta = {
        "id": cid, "kind": cid[0], "entry": "obj.pdparams", "format": "pickle",
        "writer": {"paddle": paddle.__version__, "numpy": np.__version__, "api": "paddle.save", "protocol": proto},
        "object": obj, "rules": rules, "notes": notes, "tags": ["oracle-diff"],
    }
    if "save_error" in ans:
        meta["format"] = "save_error"
        meta["save_error"] = ans["save_error"]
        meta.pop("entry")
    else:
        with open(os.path.join(d, "obj.pdparams"), "wb") as f:
            f.write(base64.b64decode(ans["bytes"]))
        for name, v in ans["views"].items():
            with open(os.path.join(d, f"expected.{name}.json"), "w") as f:
                f.write(json.dumps(v, separators=(",", ":"), ensure_ascii=False) + "\n")
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(d)


if __name__ == "__main__":
    paddle.disable_static()
    main()
