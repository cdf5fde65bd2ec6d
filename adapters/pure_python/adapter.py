"""`pdsave validate` adapter for the common pure-Python recipe people use without Paddle:

    obj = pickle.load(open(path, 'rb'), encoding='latin1')
    obj.pop('StructuredToParameterName@@', None)

numpy only. It has no notion of tensors, so its answers are views of plain values: it is
expected to fail wherever paddle.load converts ndarrays to Tensors, and to *execute* the
globals of malicious pickles (the corpus' payloads are harmless).
Needs numpy: `python3 -m venv .venv/pure && .venv/pure/bin/pip install numpy`.
"""

import json
import os
import pickle
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "paddle"))
from view import to_view  # noqa: E402

import numpy  # noqa: E402,F401


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        path = req["path"]
        if not os.path.isfile(path):
            ans = {"skipped": "prefix and directory loading is not part of the recipe"}
        else:
            try:
                with open(path, "rb") as f:
                    obj = pickle.load(f, encoding="latin1")
                if isinstance(obj, dict) and not req.get("options", {}).get("keep_name_table"):
                    obj.pop("StructuredToParameterName@@", None)
                try:
                    ans = {"view": 1, "result": to_view(obj)}
                except Exception as e:  # noqa: BLE001
                    ans = {"skipped": f"no view: {e}"}
            except Exception as e:  # noqa: BLE001
                ans = {"rejected": f"{type(e).__name__}: {e}"[:300]}
        sys.stdout.write(json.dumps(ans, allow_nan=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
