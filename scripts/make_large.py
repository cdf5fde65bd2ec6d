"""Writes the large files the benchmark (scripts/bench-large) measures, with real Paddle.

usage: python make_large.py OUTDIR [SIZE...]   SIZE: 16M 256M 1G single1G split
  state_<SIZE>.pdparams  paddle.save(state_dict) of a transformer-shaped model: token
                         embedding, 24 layers (attention q/k/v/o, two MLP matrices,
                         biases, two layer norms), float32 with a few bfloat16 and
                         float16 tensors, ~250 tensors of mixed sizes, protocol 4.
  single_1G.pdtensor     paddle.save of one 1 GiB float32 Tensor (protocol 4).
  split_p2.pdparams      protocol 2 state dict with one float32 parameter over 2**30
                         bytes: Paddle splits it (UnpackBigParamInfor@@).
Files are written once and reused (delete OUTDIR to regenerate).
"""
import math
import os
import sys

import numpy as np
import paddle

SIZES = {"16M": 16 << 20, "256M": 256 << 20, "512M": 512 << 20, "1G": 1 << 30}


def state_dict(total):
    # 24 layers of 12*H*H floats (+ small tensors) and a vocab x H embedding (vocab = 8*H).
    layers = 24
    h = int(math.sqrt(total / 4 / (layers * 12 + 8)))
    h -= h % 8
    rng = np.random.default_rng(7)
    sd = {}

    def put(name, shape, dtype="float32"):
        a = rng.standard_normal(shape, dtype=np.float32)
        t = paddle.to_tensor(a)
        if dtype != "float32":
            t = t.astype(dtype)
        sd[name] = t

    put("embed_tokens.weight", [8 * h, h])
    for i in range(layers):
        p = f"layers.{i}."
        for m in ("q_proj", "k_proj", "v_proj", "o_proj"):
            put(p + f"self_attn.{m}.weight", [h, h], "bfloat16" if i == 0 and m == "q_proj" else "float32")
            put(p + f"self_attn.{m}.bias", [h])
        put(p + "mlp.up_proj.weight", [h, 4 * h])
        put(p + "mlp.up_proj.bias", [4 * h], "float16" if i == 1 else "float32")
        put(p + "mlp.down_proj.weight", [4 * h, h])
        put(p + "mlp.down_proj.bias", [h])
        for ln in ("input_layernorm", "post_attention_layernorm"):
            put(p + f"{ln}.weight", [h])
            put(p + f"{ln}.bias", [h])
    put("norm.weight", [h])
    return sd


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    want = sys.argv[2:] or ["16M", "256M", "1G", "single1G", "split"]
    for w in want:
        if w in SIZES:
            path = os.path.join(out, f"state_{w}.pdparams")
            if not os.path.exists(path):
                paddle.save(state_dict(SIZES[w]), path + ".tmp")
                os.rename(path + ".tmp", path)
        elif w == "single1G":
            path = os.path.join(out, "single_1G.pdtensor")
            if not os.path.exists(path):
                a = np.random.default_rng(8).standard_normal((16384, 16384), dtype=np.float32)
                paddle.save(paddle.to_tensor(a), path + ".tmp")
                os.rename(path + ".tmp", path)
        elif w == "split":
            path = os.path.join(out, "split_p2.pdparams")
            if not os.path.exists(path):
                big = np.random.default_rng(9).standard_normal((1 << 28) + 1024, dtype=np.float32)
                sd = {"big.weight": paddle.to_tensor(big), "small.bias": paddle.to_tensor(np.arange(5, dtype=np.float32))}
                paddle.save(sd, path + ".tmp", protocol=2)
                os.rename(path + ".tmp", path)
        else:
            sys.exit(f"unknown size {w}")
        print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()
