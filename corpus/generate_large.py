#!/usr/bin/env python3
"""Generate the corpus cases of large-model checkpoints (spec/checkpoint.md), written by
real Paddle: distributed checkpoints (`paddle.distributed.save_state_dict`, 1, 2 and 4
ranks on CPU through `python -m paddle.distributed.launch`), `paddle.save(...,
safetensors=True)` files, PaddleFormers `save_pretrained` shards with their index, and
hand-broken copies for the error cases. Expected views come from real Paddle
(`adapters/paddle/large.py`: `load_merged_state_dict` / `load_state_dict`, `paddle.load`
of each shard), each in a fresh process.

    <paddle3 python> corpus/generate_large.py --out corpus/cases
    <paddle2 python> corpus/generate_large.py --out corpus/cases
    PDSAVE_PF_PYTHON=<python with paddleformers> (for the index cases, optional)

`--only SUBSTR` regenerates matching ids, `--list` prints them. Afterwards run
`corpus/generate.py --manifest-only` to rescan the manifest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VIEW_DIR = os.path.join(ROOT, "adapters", "paddle")
SNIPPETS = "/tmp/pdsave_snippets"

HEADER = """\
import numpy as np
import paddle
import paddle.distributed as dist

paddle.seed(2024)
np.random.seed(2024)
rng = np.random.RandomState(2024)


def f32(*shape):
    return paddle.to_tensor(rng.standard_normal(shape).astype('float32'))


def i64(*shape):
    return paddle.to_tensor(rng.randint(-1000, 1000, shape).astype('int64'))


def bf16(*shape):
    return f32(*shape).astype('bfloat16')
"""

# --------------------------------------------------------------------------------------
# distributed checkpoints
# --------------------------------------------------------------------------------------

DCP_1RANK = HEADER + """
sd = {
    'linear.weight': f32(4, 3),
    'linear.bias': f32(3),
    'embed': bf16(5, 2),
    'ids': i64(6),
    'opt': {'linear.weight.moment1': f32(4, 3), 'step': i64()},
}
dist.save_state_dict(sd, 'ckpt')
"""

DCP_2RANK = HEADER + """
dist.init_parallel_env()
mesh = dist.ProcessMesh([0, 1], dim_names=['x'])
full = {
    'row': f32(5, 4),          # rows split 3 + 2 (balanced_split)
    'col': f32(4, 6),
    'rep': i64(7),
    'emb': f32(4, 2),
    'scalar': f32(),
}
sd = {
    'row': dist.shard_tensor(full['row'], mesh, [dist.Shard(0)]),
    'col': dist.shard_tensor(full['col'], mesh, [dist.Shard(1)]),
    'rep': dist.shard_tensor(full['rep'], mesh, [dist.Replicate()]),
    # bfloat16 cannot be sliced on CPU: shard the float32 tensor, then cast it
    'emb': dist.shard_tensor(full['emb'], mesh, [dist.Shard(0)]).astype('bfloat16'),
    'scalar': dist.shard_tensor(full['scalar'], mesh, [dist.Replicate()]),
    'opt': {
        'row.moment1': dist.shard_tensor(f32(5, 4), mesh, [dist.Shard(0)]),
        'row.moment2': dist.shard_tensor(f32(5, 4), mesh, [dist.Shard(0)]),
        'beta1_pow': dist.shard_tensor(f32(1), mesh, [dist.Replicate()]),
    },
}
dist.save_state_dict(sd, 'ckpt'{extra})
"""

DCP_4RANK = HEADER + """
dist.init_parallel_env()
mesh = dist.ProcessMesh([[0, 1], [2, 3]], dim_names=['dp', 'mp'])
sd = {
    'grid': dist.shard_tensor(f32(4, 6), mesh, [dist.Shard(0), dist.Shard(1)]),
    'rows': dist.shard_tensor(f32(8, 2), mesh, [dist.Shard(0), dist.Replicate()]),
    'cols': dist.shard_tensor(i64(3, 8), mesh, [dist.Replicate(), dist.Shard(1)]),
    'emb': dist.shard_tensor(f32(8, 3), mesh, [dist.Shard(0), dist.Replicate()]).astype('bfloat16'),
    'rep': dist.shard_tensor(f32(3), mesh, [dist.Replicate(), dist.Replicate()]),
    'opt': {'grid.moment1': dist.shard_tensor(f32(4, 6), mesh, [dist.Shard(0), dist.Shard(1)])},
}
dist.save_state_dict(sd, 'ckpt')
"""

# sharding stage-1 v2 style: each rank keeps a flat slice of the same parameters
DCP_FLAT = HEADER + """
from paddle.distributed.flex_checkpoint.dcp.sharded_weight import ShardedWeight

dist.init_parallel_env()
rank = dist.get_rank()
w, v = f32(3, 4), bf16(2, 5)
cut_w, cut_v = 5, 7
sd = {}
for key, t, cut in [('w', w, cut_w), ('v', v, cut_v)]:
    flat = t.flatten()
    lo, hi = (0, cut) if rank == 0 else (cut, t.numel().item())
    sd[key] = ShardedWeight(key=key, local_tensor=flat[lo:hi].clone(),
                            local_shape=tuple(t.shape), global_shape=tuple(t.shape),
                            global_offset=(0,) * t.ndim, is_flattened=True,
                            flattened_range=slice(lo, hi))
dist.save_state_dict(sd, 'ckpt')
"""

DCP_2RANK_P2 = HEADER + """
dist.init_parallel_env()
mesh = dist.ProcessMesh([0, 1], dim_names=['x'])
sd = {
    'row': dist.shard_tensor(f32(6, 4), mesh, [dist.Shard(0)]),
    'col': dist.shard_tensor(f32(4, 6), mesh, [dist.Shard(1)]),
    'rep': dist.shard_tensor(i64(7), mesh, [dist.Replicate()]),
    'emb': dist.shard_tensor(f32(4, 2), mesh, [dist.Shard(0)]).astype('bfloat16'),
}
dist.save_state_dict(sd, 'ckpt')
"""

DCP_1RANK_P2 = HEADER + """
sd = {'linear.weight': f32(4, 3), 'linear.bias': f32(3), 'embed': bf16(5, 2), 'ids': i64(6)}
dist.save_state_dict(sd, 'ckpt')
"""

# --------------------------------------------------------------------------------------
# safetensors=True saves
# --------------------------------------------------------------------------------------

ST_STATE = HEADER + """
sd = {'z_last': f32(2, 3), 'a_bf16': bf16(2), 'm_ids': i64(3), 'b_u8': paddle.to_tensor([1, 2], dtype='uint8')}
paddle.save(sd, 'model.safetensors', safetensors=True)
"""
ST_NO_BF16 = HEADER + """
sd = {'w': f32(3, 2), 'b': f32(2), 'half': f32(4).astype('float16'), 'steps': i64(2)}
paddle.save(sd, 'model.safetensors', safetensors=True)
"""
ST_ZERO = HEADER + """
sd = {'empty': paddle.zeros([0, 3]), 'x': f32(2)}
paddle.save(sd, 'model.safetensors', safetensors=True)
"""
ST_NESTED = HEADER + """
# not a dict of tensors: paddle.save silently writes a pickle under the .safetensors name
sd = {'model': {'w': f32(2, 2)}, 'epoch': 3}
paddle.save(sd, 'model.safetensors', safetensors=True)
"""
ST_PDPARAMS = HEADER + """
layer = paddle.nn.Linear(3, 2)
paddle.save(layer.state_dict(), 'model.pdparams', safetensors=True)
"""

# --------------------------------------------------------------------------------------
# Vocab and Strings tensors (a tokenizer's vocabulary kept in a layer)
# --------------------------------------------------------------------------------------

VOCAB = HEADER + """
from paddle.base import core

vocab = core.eager.Tensor(core.VarDesc.VarType.STRING, [], 'vocab', core.VarDesc.VarType.VOCAB, False)
vocab.value().set_vocab({'[PAD]': 0, 'hello': 1, '\u4e16\u754c': 2, 'a b': 3})
# paddle.save of a state dict: a Vocab tensor is saved as the dict get_map_tensor() gives
paddle.save({'vocab': vocab, 'emb': f32(4, 2)}, 'model.pdparams')
"""

# --------------------------------------------------------------------------------------
# PaddleFormers save_pretrained shards
# --------------------------------------------------------------------------------------

PF = """\
import paddle
from paddleformers.transformers import LlamaConfig, LlamaForCausalLM

paddle.seed(2024)
cfg = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                  num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=32)
model = LlamaForCausalLM(cfg)
model.save_pretrained('model', max_shard_size='6KB', safe_serialization={safe},
                      save_to_hf=False, save_checkpoint_format='unified')
"""


def case_list(major):
    """(id, kind, format, api, snippet, nproc, entry, option sets, extra)"""
    ckpt_sets = ["default", "return_numpy"]
    st_sets = ["default", "safetensors", "safetensors_return_numpy"]
    if major == 3:
        return [
            ("y_p3_dcp_1rank", DCP_1RANK, 1, "ckpt", ckpt_sets),
            ("y_p3_dcp_2rank", DCP_2RANK.replace("{extra}", ""), 2, "ckpt", ckpt_sets),
            ("y_p3_dcp_2rank_replicas", DCP_2RANK.replace("{extra}", ", save_replicas=True"), 2, "ckpt", ckpt_sets),
            ("y_p3_dcp_2rank_safetensors", DCP_2RANK.replace("{extra}", ", safetensors=True"), 2, "ckpt", ckpt_sets),
            ("y_p3_dcp_4rank_mesh", DCP_4RANK, 4, "ckpt", ckpt_sets),
            ("y_p3_dcp_2rank_flattened", DCP_FLAT, 2, "ckpt", ckpt_sets),
            ("y_p3_safetensors_state_dict", ST_STATE, 0, "model.safetensors", st_sets),
            ("y_p3_safetensors_no_bf16", ST_NO_BF16, 0, "model.safetensors", st_sets),
            ("y_p3_safetensors_zero_size", ST_ZERO, 0, "model.safetensors", st_sets),
            ("y_p3_safetensors_nested_is_pickle", ST_NESTED, 0, "model.safetensors", st_sets),
            ("y_p3_safetensors_named_pdparams", ST_PDPARAMS, 0, "model.pdparams", st_sets),
            ("y_p3_proto4_vocab_state_dict", VOCAB, 0, "model.pdparams", ["default", "return_numpy", "keep_name_table"]),
        ]
    return [
        ("y_p2_dcp_1rank", DCP_1RANK_P2, 1, "ckpt", ckpt_sets),
        ("y_p2_dcp_2rank", DCP_2RANK_P2, 2, "ckpt", ckpt_sets),
    ]


def pf_cases():
    return [
        ("y_p3_pf_index_pdparams", PF.replace("{safe}", "False"), "model/model_state.pdparams.index.json"),
        ("y_p3_pf_index_safetensors", PF.replace("{safe}", "True"), "model/model.safetensors.index.json"),
    ]


def run(cmd, cwd, env=None):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} in {cwd} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r.stdout


ORACLE = """\
import json, sys, warnings
warnings.filterwarnings('ignore')
sys.path.insert(0, {view_dir!r})
import view
import logging
logging.disable(logging.CRITICAL)
print(json.dumps(view.load_view({path!r}, form={form!r}, **{opts!r})))
"""

SET_OPTS = {
    "default": {},
    "return_numpy": {"return_numpy": True},
    "safetensors": {"safetensors": True},
    "safetensors_return_numpy": {"safetensors": True, "return_numpy": True},
    "keep_name_table": {"keep_name_table": True},
}


def oracle(py, path, form, set_name):
    code = ORACLE.format(view_dir=VIEW_DIR, path=os.path.abspath(path), form=form,
                         opts=SET_OPTS[set_name])
    out = run([py, "-c", code], cwd=os.path.dirname(os.path.abspath(path)))
    return json.loads(_generated_names_null(out.strip().splitlines()[-1]))


def _generated_names_null(text):
    """Names Paddle generates at load (`eager_tmp_<N>`, a process-wide counter) are null in
    the view (spec/view.md L-NAME): a loader's counter differs from the oracle's."""
    import re

    return re.sub(r'"name": ?"eager_tmp_\d+"', '"name": null', text)


FLAT_SPEC = {"y_p3_dcp_2rank_flattened"}

FLAT_VIEW = """\
import json, os, sys, warnings
warnings.filterwarnings('ignore')
import numpy as np
import paddle
sys.path.insert(0, {view_dir!r})
import view
path = {path!r}
meta = paddle.load(os.path.join(path, '0.metadata'))
files = {{}}
out = {{}}
for key, metas in meta.state_dict_metadata.items():
    shape = metas[0].global_shape
    flat = None
    for index, file in meta.storage_metadata.items():
        if index.tensor_key != key:
            continue
        if file not in files:
            files[file] = paddle.load(os.path.join(path, file))
        piece = files[file][key].numpy().ravel()
        if flat is None:
            flat = np.zeros(int(np.prod(shape)), dtype=piece.dtype)
        lo, hi = index.flattened_range
        flat[lo:hi] = piece
    out[key] = flat.reshape(shape)
if not {numpy!r}:
    # paddle.to_tensor of bfloat16's uint16 patterns gives a bfloat16 Tensor (L-DTYPE)
    out = {{k: paddle.to_tensor(v) for k, v in out.items()}}
print(json.dumps({{"view": 1, "result": view.to_view(out)}}))
"""


def flat_spec_view(py, path, set_name):
    code = FLAT_VIEW.format(view_dir=VIEW_DIR, path=os.path.abspath(path),
                            numpy=set_name == "return_numpy")
    out = run([py, "-c", code], cwd="/")
    return json.loads(out.strip().splitlines()[-1])


def dumps(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def versions(py):
    out = run([py, "-c", "import paddle, numpy, platform; print(paddle.__version__, numpy.__version__, platform.python_version())"], cwd="/")
    return out.split()[-3:]


def files_of(d):
    out = []
    for root, _, fs in os.walk(d):
        for f in fs:
            p = os.path.relpath(os.path.join(root, f), d)
            if p not in ("case.json", "values.json") and not p.startswith("expected.") and not p.startswith("paddle."):
                out.append(p)
    return sorted(out)


def write_case(d, meta):
    # Marks the case as this generator's (corpus/generate.py leaves such cases alone).
    meta["tags"] = list(meta.get("tags", [])) + ["large_model"]
    with open(os.path.join(d, "case.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")


def save(py, out_dir, cid, snippet, nproc, env=None):
    d = os.path.join(out_dir, cid)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    os.makedirs(SNIPPETS, exist_ok=True)
    snip = os.path.join(SNIPPETS, f"{cid}.py")
    with open(snip, "w") as f:
        f.write(snippet)
    if nproc:
        log = f"/tmp/pdsave_launch_{cid}"
        shutil.rmtree(log, ignore_errors=True)
        run([py, "-m", "paddle.distributed.launch", "--nproc_per_node", str(nproc),
             "--log_dir", log, snip], cwd=d, env=env)
        shutil.rmtree(log, ignore_errors=True)
    else:
        run([py, snip], cwd=d, env=env)
    return d


def writer(py, api):
    p, n, v = versions(py)
    return {"paddle": p, "numpy": n, "python": v, "api": api, "protocol": None, "pir": None}


def gen_main(py, out_dir, only):
    major = int(versions(py)[0].split(".")[0])
    made = []
    for cid, snippet, nproc, entry, sets in case_list(major):
        if only and not any(o in cid for o in only):
            continue
        d = save(py, out_dir, cid, snippet, nproc)
        form = "checkpoint" if entry == "ckpt" else None
        fmt = "checkpoint" if form else ("pickle" if "vocab" in cid else "safetensors")
        api = {"checkpoint": "paddle.distributed.save_state_dict", "pickle": "paddle.save"}.get(
            fmt, "paddle.save(safetensors=True)")
        deviation = None
        for s in sets:
            v = oracle(py, os.path.join(d, entry), form, s)
            if cid in FLAT_SPEC:
                # D-16: Paddle's load zeroes part of a piece whose range is not a rectangle;
                # the expected view places every element where its range says (the spec),
                # computed here from the shards with numpy. Paddle's own view is kept.
                with open(os.path.join(d, f"paddle.{s}.json"), "w") as f:
                    f.write(dumps(v) + "\n")
                v = flat_spec_view(py, os.path.join(d, entry), s)
                deviation = {"id": "D-16", "observed": "paddle.<set>.json",
                             "expected_source": "spec/checkpoint.md K-PIECES (numpy over the shards)"}
            with open(os.path.join(d, f"expected.{s}.json"), "w") as f:
                f.write(dumps(v) + "\n")
        tags = [f"nproc={nproc}"] if nproc else []
        w = writer(py, api)
        if fmt == "pickle":
            w["protocol"] = 4
            tags.append("vocab")
        meta_extra = {"deviation": deviation} if deviation else {}
        if deviation:
            # The tensors as the shards hold them (paddle.load of each shard, placed by
            # their ranges with numpy): what the documented view shows.
            with open(os.path.join(d, "expected.default.json")) as f:
                items = json.load(f)["result"]["items"]
            values = [{"name": k["v"], "dtype": v["dtype"], "shape": v["shape"], "sha256": v["sha256"]}
                      for k, v in items]
            with open(os.path.join(d, "values.json"), "w") as f:
                f.write(dumps(values) + "\n")
            meta_extra.update(values="values.json", values_python=FLAT_VIEW)
        write_case(d, {**meta_extra, 
            "id": cid, "kind": "y", "entry": entry, "writer": w, "format": fmt,
            "python": snippet, "notes": "" if nproc < 2 else f"run with python -m paddle.distributed.launch --nproc_per_node {nproc} (gloo, CPU)",
            "tags": tags, "files": files_of(d), "has_expected": True,
            "rules": {"checkpoint": ["K-VIEW"], "pickle": ["L-TABLE"]}.get(fmt, ["L-SAFETENSORS"]),
        })
        made.append(cid)
        print(cid, flush=True)
    if major == 3:
        made += broken(py, out_dir, only)
    return made


# --------------------------------------------------------------------------------------
# hand-broken copies (from y_p3_dcp_2rank)
# --------------------------------------------------------------------------------------

EDIT_HEADER = """\
import dataclasses, os, pickle, warnings
warnings.filterwarnings('ignore')
import paddle
m = paddle.load('ckpt/0.metadata')
R = dataclasses.replace
"""

BROKEN = [
    ("n_p3_dcp_missing_shard", "1_0.distcp", "rm 1_0.distcp: load_state_dict leaves its parts zero",
     "os.remove('ckpt/1_0.distcp')\n"),
    ("n_p3_dcp_overlap", "row", "a third shard of 'row' at rows 1-2 overlaps both real ones",
     EDIT_HEADER + """\
lm = m.state_dict_metadata['row'][0]
m.state_dict_metadata['row'].append(R(lm, global_offset=(1, 0)))
li = [k for k in m.storage_metadata if k.tensor_key == 'row'][0]
m.storage_metadata[R(li, global_offset=(1, 0))] = m.storage_metadata[li]
paddle.save(m, 'ckpt/0.metadata')
"""),
    ("n_p3_dcp_hole", "col", "the second shard of 'col' moved from column 3 to 4: column 3 is a hole",
     EDIT_HEADER + """\
ms = m.state_dict_metadata['col']
ms[1] = R(ms[1], global_offset=(0, 4))
m.storage_metadata = {(R(k, global_offset=(0, 4)) if k.tensor_key == 'col' and k.global_offset == (0, 3) else k): v
                      for k, v in m.storage_metadata.items()}
paddle.save(m, 'ckpt/0.metadata')
"""),
    ("n_p3_dcp_dtype_mismatch", "rep", "the metadata says 'rep' is float32; its shard holds int64",
     EDIT_HEADER + """\
m.state_dict_metadata['rep'] = [R(x, dtype='float32') for x in m.state_dict_metadata['rep']]
paddle.save(m, 'ckpt/0.metadata')
"""),
    ("n_p3_dcp_shape_mismatch", "row", "0_0.distcp's 'row' rewritten with 2 rows where the metadata says 3",
     """\
import warnings
warnings.filterwarnings('ignore')
import paddle
sd = paddle.load('ckpt/0_0.distcp')
sd['row'] = sd['row'][:2]
paddle.save(sd, 'ckpt/0_0.distcp')
"""),
    ("n_p3_dcp_unknown_class", "LocalTensorIndeX", "a class name in the metadata changed (LocalTensorIndex -> LocalTensorIndeX)",
     """\
p = 'ckpt/0.metadata'
b = open(p, 'rb').read().replace(b'LocalTensorIndex', b'LocalTensorIndeX', 1)
open(p, 'wb').write(b)
"""),
    ("n_p3_dcp_unknown_field", "extra", "a LocalTensorIndex with an 'extra' field",
     EDIT_HEADER + """\
k = next(iter(m.storage_metadata))
v = m.storage_metadata.pop(k)
object.__setattr__(k, 'extra', 1)
m.storage_metadata[k] = v
paddle.save(m, 'ckpt/0.metadata')
"""),
    ("n_p3_dcp_hostile_distcp", "system", "1_0.distcp replaced by a pickle calling os.system",
     """\
import os, pickle
class Evil:
    def __reduce__(self):
        return (os.system, ('true',))
pickle.dump({'row': Evil()}, open('ckpt/1_0.distcp', 'wb'), protocol=4)
"""),
    ("n_p3_dcp_hostile_metadata", "system", "the metadata's flat_mapping holds an os.system call",
     EDIT_HEADER + """\
class Evil:
    def __reduce__(self):
        return (os.system, ('true',))
m.flat_mapping['row'] = Evil()
paddle.save(m, 'ckpt/0.metadata')
"""),
]


def broken(py, out_dir, only):
    src = os.path.join(out_dir, "y_p3_dcp_2rank")
    made = []
    for cid, names, notes, edit in BROKEN:
        if only and not any(o in cid for o in only):
            continue
        d = os.path.join(out_dir, cid)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        shutil.copytree(os.path.join(src, "ckpt"), os.path.join(d, "ckpt"))
        if edit.startswith("os.remove"):
            os.remove(os.path.join(d, "ckpt", "1_0.distcp"))
        else:
            run([py, "-c", edit], cwd=d)
        if "hostile" not in cid:
            # What real Paddle does with it (it is not the expected view: pdsave refuses).
            v = oracle(py, os.path.join(d, "ckpt"), "checkpoint", "default")
            with open(os.path.join(d, "paddle.default.json"), "w") as f:
                f.write(dumps(v) + "\n")
        write_case(d, {
            "id": cid, "kind": "n", "entry": "ckpt", "writer": writer(py, "paddle.distributed.save_state_dict"),
            "format": "checkpoint", "python": edit, "notes": f"copy of y_p3_dcp_2rank: {notes}; paddle.default.json is what real Paddle's load gives",
            "tags": ["hand_broken"], "files": files_of(d), "has_expected": False,
            "rules": ["K-STRICT"], "expect": "reject", "reason_contains": names,
        })
        made.append(cid)
        print(cid, flush=True)
    return made


# --------------------------------------------------------------------------------------
# PaddleFormers shards and broken indexes
# --------------------------------------------------------------------------------------

def gen_pf(pf_py, out_dir, only):
    made = []
    for cid, snippet, entry in pf_cases():
        if only and not any(o in cid for o in only):
            continue
        d = save(pf_py, out_dir, cid, snippet, 0)
        os.remove(os.path.join(d, "model", "config.json"))
        for s in ["default", "return_numpy"]:
            v = oracle(pf_py, os.path.join(d, entry), "index", s)
            with open(os.path.join(d, f"expected.{s}.json"), "w") as f:
                f.write(dumps(v) + "\n")
        pv = run([pf_py, "-c", "import paddleformers; print(paddleformers.__version__)"], cwd="/").split()[-1]
        w = writer(pf_py, f"paddleformers {pv} save_pretrained")
        write_case(d, {
            "id": cid, "kind": "y", "entry": entry, "writer": w, "format": "index",
            "python": snippet, "notes": "config.json removed (not part of the state dict)", "tags": ["sharded"],
            "files": files_of(d), "has_expected": True, "rules": ["X-VIEW"],
        })
        made.append(cid)
        print(cid, flush=True)
    made += broken_index(pf_py, out_dir, only)
    return made


def _edit_index(d, fn):
    p = os.path.join(d, "model", "model_state.pdparams.index.json")
    with open(p) as f:
        idx = json.load(f)
    fn(idx, os.path.join(d, "model"))
    with open(p, "w") as f:
        json.dump(idx, f, indent=2)
        f.write("\n")


def broken_index(py, out_dir, only):
    src = os.path.join(out_dir, "y_p3_pf_index_pdparams")
    entry = "model/model_state.pdparams.index.json"
    first = lambda idx: next(iter(idx["weight_map"]))  # noqa: E731

    def missing(idx, d):
        os.remove(os.path.join(d, idx["weight_map"][first(idx)]))

    def wrong(idx, d):
        keys = list(idx["weight_map"])
        other = next(f for f in idx["weight_map"].values() if f != idx["weight_map"][keys[0]])
        idx["weight_map"][keys[0]] = other

    def total(idx, d):
        idx["metadata"]["total_size"] += 4

    def escape(idx, d):
        shard = idx["weight_map"][first(idx)]
        shutil.copy(os.path.join(d, shard), os.path.join(d, "..", "outside.pdparams"))
        idx["weight_map"][first(idx)] = "../outside.pdparams"

    def symlink(idx, d):
        f = idx["weight_map"][first(idx)]
        os.rename(os.path.join(d, f), os.path.join(d, "..", "outside.pdparams"))
        os.symlink("../outside.pdparams", os.path.join(d, f))

    cases = [
        ("i_p3_index_missing_shard", "i", missing, "the first key's shard deleted: paddle.load of it raises, which is the view"),
        ("i_p3_index_wrong_shard", "i", wrong, "the first key names a shard that does not hold it: KeyError"),
        ("i_p3_index_total_size", "i", total, "total_size off by 4 (a check finding; the view is unchanged)"),
        ("n_p3_index_escape", "n", escape, "the first shard named '../outside.pdparams': outside the index's directory"),
        ("n_p3_index_symlink", "n", symlink, "the first shard is a symlink to a file outside the directory"),
    ]
    made = []
    for cid, kind, fn, notes in cases:
        if only and not any(o in cid for o in only):
            continue
        d = os.path.join(out_dir, cid)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        shutil.copytree(os.path.join(src, "model"), os.path.join(d, "model"))
        _edit_index(d, fn)
        meta = {
            "id": cid, "kind": kind, "entry": entry, "writer": json.load(open(os.path.join(src, "case.json")))["writer"],
            "format": "index", "python": textwrap.dedent(__import__("inspect").getsource(fn)),
            "notes": f"copy of y_p3_pf_index_pdparams: {notes}", "tags": ["hand_broken"],
            "files": files_of(d), "rules": ["X-SHARDS"],
        }
        if kind == "i":
            for s in ["default", "return_numpy"]:
                v = oracle(py, os.path.join(d, entry), "index", s)
                with open(os.path.join(d, f"expected.{s}.json"), "w") as f:
                    f.write(dumps(v) + "\n")
            meta["has_expected"] = True
        else:
            meta.update(has_expected=False, expect="reject", reason_contains="outside")
        write_case(d, meta)
        made.append(cid)
        print(cid, flush=True)
    return made


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "cases"))
    ap.add_argument("--only", action="append")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    py = sys.executable
    if args.list:
        major = int(versions(py)[0].split(".")[0])
        for c in case_list(major):
            print(c[0])
        return
    gen_main(py, args.out, args.only)
    pf = os.environ.get("PDSAVE_PF_PYTHON")
    if pf:
        gen_pf(pf, args.out, args.only)


if __name__ == "__main__":
    main()
