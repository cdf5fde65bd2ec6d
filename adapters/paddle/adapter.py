"""`pdsave validate` adapter for real Paddle: answers each request with the load view of
`paddle.load(path, **options)` (spec/validate.md). Run with a venv that has paddlepaddle:

    pdsave validate --impl "paddle=$(bash scripts/venvs.sh paddle3) adapters/paddle/adapter.py"
"""

import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
warnings.filterwarnings("ignore")

import numpy  # noqa: E402,F401
import paddle  # noqa: E402
from view import load_view  # noqa: E402


def main():
    paddle.disable_static()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        opts = req.get("options", {})
        try:
            form = {"checkpoint": "checkpoint", "index": "index"}.get(req.get("format"))
            v = load_view(req["path"], return_numpy=opts.get("return_numpy", False),
                          keep_name_table=opts.get("keep_name_table", False),
                          safetensors=opts.get("safetensors", False), form=form)
        except Exception as e:  # noqa: BLE001 - a value the view cannot show
            v = {"skipped": f"no view for the loaded value: {type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(v, allow_nan=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
