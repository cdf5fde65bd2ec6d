"""Writes the large checkpoints scripts/bench-checkpoints measures, with real Paddle 3.3.1.

usage: python make_checkpoints.py OUTDIR [GIB]      (GIB: total size, default 4)
  dcp2/       paddle.distributed.save_state_dict from 2 ranks (python -m
              paddle.distributed.launch, gloo on CPU): 32 layers x 4 float32 matrices,
              row- and column-sharded (each rank builds only its own half, with
              dtensor_from_local), replicated biases: 0.metadata + {0,1}_0.distcp.
  index4/     a 4-shard sharded state dict as PaddleNLP / PaddleFormers save_pretrained
              writes it: model_state-0000k-of-00004.pdparams (paddle.save of each shard's
              state dict) + model_state.pdparams.index.json (json.dumps(index, indent=2)).
Files are written once and reused (delete OUTDIR to regenerate).
"""
import json
import os
import subprocess
import sys

RANK = r"""
import sys
import numpy as np
import paddle
import paddle.distributed as dist
from paddle.distributed.auto_parallel.api import dtensor_from_local

layers, rows, cols, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
dist.init_parallel_env()
rank = dist.get_rank()
mesh = dist.ProcessMesh([0, 1], dim_names=['x'])
rng = np.random.default_rng(11 + rank)
sd = {}
for i in range(layers):
    for j, m in enumerate(('q_proj', 'k_proj', 'v_proj', 'o_proj')):
        dim = j % 2      # q, v: rows split; k, o: columns split
        shape = (rows // 2, cols) if dim == 0 else (rows, cols // 2)
        local = paddle.to_tensor(rng.standard_normal(shape, dtype=np.float32))
        sd[f'layers.{i}.{m}.weight'] = dtensor_from_local(local, mesh, [dist.Shard(dim)])
    bias = paddle.to_tensor(np.full((cols,), i, dtype=np.float32))
    sd[f'layers.{i}.bias'] = dtensor_from_local(bias, mesh, [dist.Replicate()])
dist.save_state_dict(sd, out)
"""


def main():
    out = sys.argv[1]
    gib = float(sys.argv[2]) if len(sys.argv) > 2 else 4.0
    os.makedirs(out, exist_ok=True)
    layers, cols = 32, 2048
    rows = int(gib * (1 << 30) / 4 / (layers * 4 * cols))
    rows -= rows % 2
    dcp = os.path.join(out, "dcp2")
    if not os.path.exists(os.path.join(dcp, "0.metadata")):
        script = os.path.join(out, "rank.py")
        with open(script, "w") as f:
            f.write(RANK)
        subprocess.run([sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
                        "--log_dir", os.path.join(out, "launch-log"), script, str(layers), str(rows),
                        str(cols), dcp], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    idx = os.path.join(out, "index4")
    name = os.path.join(idx, "model_state.pdparams.index.json")
    if not os.path.exists(name):
        import numpy as np
        import paddle
        os.makedirs(idx, exist_ok=True)
        rng = np.random.default_rng(12)
        weight_map, total, n = {}, 0, 4
        per = layers // n
        for s in range(n):
            shard = f"model_state-{s + 1:05d}-of-{n:05d}.pdparams"
            sd = {}
            for i in range(s * per, (s + 1) * per):
                for m in ('q_proj', 'k_proj', 'v_proj', 'o_proj'):
                    key = f"layers.{i}.{m}.weight"
                    sd[key] = paddle.to_tensor(rng.standard_normal((rows, cols), dtype=np.float32))
                    weight_map[key] = shard
                    total += rows * cols * 4
            paddle.save(sd, os.path.join(idx, shard))
            del sd
        with open(name, "w", encoding="utf-8") as f:
            f.write(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2) + "\n")
    for d in (dcp, idx):
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        print(d, size)


if __name__ == "__main__":
    main()
