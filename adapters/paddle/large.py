"""What real Paddle gives for the checkpoints of large models (spec/checkpoint.md), as
plain Python values for ``view.to_view``. Importing it has no side effects.

    checkpoint_state_dict(path)          the state dict of full-shape tensors that
                                         ``paddle.distributed.load_state_dict`` fills in one
                                         process from a ``save_state_dict`` directory
    index_state_dict(index_path, **opts) ``{key: paddle.load(dir/shard, **opts)[key]}`` in
                                         ``weight_map`` order (a sharded state dict)
"""

from __future__ import annotations

import json
import os


def _metadata_file(path):
    files = sorted(f for f in os.listdir(path) if f.endswith(".metadata"))
    if len(files) != 1:
        raise ValueError(f"expected one .metadata file in {path}, found {files}")
    return os.path.join(path, files[0])


def checkpoint_state_dict(path):
    """Paddle 3.x: ``load_merged_state_dict`` (zeros of each key's global shape, in the
    metadata's order, filled by ``load_state_dict``). Paddle 2.6 has no such helper: the same
    dict is built by hand and filled by its ``load_state_dict``, whose ``.cuda()`` of CPU
    tensors is made the identity (this machine has no GPU; nothing else changes)."""
    import paddle

    safetensors = any(f.endswith(".safetensors") for f in os.listdir(path))
    try:
        from paddle.distributed.flex_checkpoint.dcp.load_state_dict import (
            load_merged_state_dict,
        )
    except ImportError:
        load_merged_state_dict = None
    if load_merged_state_dict is not None:
        return load_merged_state_dict(path, safetensors=safetensors)

    import paddle.distributed as dist

    meta = paddle.load(_metadata_file(path))
    first = {}
    for index, file in meta.storage_metadata.items():
        first.setdefault(index.tensor_key, file)
    sd = {}
    for key, metas in meta.state_dict_metadata.items():
        shape = [max(m.global_offset[d] + m.local_shape[d] for m in metas)
                 for d in range(len(metas[0].local_shape))]
        dtype = paddle.load(os.path.join(path, first[key]))[key].dtype
        sd[key] = paddle.zeros(shape, dtype=dtype)
    cuda = paddle.Tensor.cuda
    paddle.Tensor.cuda = lambda self, *a, **k: self
    try:
        dist.load_state_dict(sd, path)
    finally:
        paddle.Tensor.cuda = cuda
    return sd


def index_state_dict(index_path, **opts):
    """A sharded state dict: each key's value is what ``paddle.load`` of its shard gives
    for it; ``*.safetensors.index.json`` shards are loaded with ``safetensors=True`` (how
    PaddleNLP / PaddleFormers read them)."""
    import paddle

    if os.path.isdir(index_path):
        names = [f for f in os.listdir(index_path) if f.endswith(".index.json")]
        if len(names) != 1:
            raise ValueError(f"expected one index in {index_path}, found {names}")
        index_path = os.path.join(index_path, names[0])
    with open(index_path, encoding="utf-8") as f:
        index = json.load(f)
    if index_path.endswith(".safetensors.index.json"):
        opts = dict(opts, safetensors=True)
    d = os.path.dirname(index_path)
    loaded, out = {}, {}
    for key, shard in index["weight_map"].items():
        if shard not in loaded:
            loaded[shard] = paddle.load(os.path.join(d, shard), **opts)
        out[key] = loaded[shard][key]
    return out
