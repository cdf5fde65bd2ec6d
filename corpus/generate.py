#!/usr/bin/env python3
"""Generate the pdsave corpus: real files written by real Paddle + expected load views.

Run once under each pinned venv (see scripts/venvs.sh):

    <paddle3 python> corpus/generate.py --out corpus/cases
    <paddle2 python> corpus/generate.py --out corpus/cases

Each case is written by a *fresh* interpreter that executes exactly the snippet
stored in case.json["python"] with the case directory as working directory, so
a maintainer can replay it and get the same bytes (fresh process => the same
automatically generated tensor/parameter names).  The expected views are then
produced by paddle.load (adapters/paddle/view.py) in separate processes of the
same venv.  This driver never imports paddle itself and runs at most one Paddle
process at a time.

Other flags:
    --only SUBSTR     only (re)generate cases whose id contains SUBSTR (repeatable)
    --list            print the case ids this venv would generate and exit
    --manifest-only   rescan --out and rewrite corpus/manifest.json
    --no-manifest     do not rewrite the manifest at the end
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VIEW_DIR = os.path.join(ROOT, "adapters", "paddle")
DEFAULT_MANIFEST = os.path.join(HERE, "manifest.json")

OPTION_SETS = [
    ("default", {}),
    ("return_numpy", {"return_numpy": True}),
    ("keep_name_table", {"keep_name_table": True}),
]
META_FILES = {"case.json", "values.json"}
LOAD_CHUNK = 40  # cases per loader process

# --------------------------------------------------------------------------------------
# snippet building blocks
# --------------------------------------------------------------------------------------

HEADER = """\
import collections
import numpy as np
import paddle

paddle.seed(2024)
np.random.seed(2024)
rng = np.random.RandomState(2024)
"""

MAKE_TENSOR = """\
ALL_DTYPES = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'float16',
              'bfloat16', 'float32', 'float64', 'complex64', 'complex128']


def make(dtype, shape=(2, 3)):
    if dtype == 'bfloat16':
        return paddle.to_tensor(rng.standard_normal(shape).astype('float32')).astype('bfloat16')
    if dtype == 'bool':
        return paddle.to_tensor(rng.rand(*shape) > 0.5)
    if dtype.startswith('complex'):
        return paddle.to_tensor((rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype))
    if dtype.startswith('float'):
        return paddle.to_tensor(rng.standard_normal(shape).astype(dtype))
    return paddle.to_tensor(rng.randint(0 if dtype == 'uint8' else -100, 100, shape).astype(dtype))
"""

NET_DEF = """\
class Net(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = paddle.nn.Conv2D(1, 2, 3)
        self.bn = paddle.nn.BatchNorm2D(2)
        self.fc = paddle.nn.Linear(2 * 4 * 4, 3)

    def forward(self, x):
        x = paddle.nn.functional.relu(self.bn(self.conv(x)))
        return self.fc(paddle.flatten(x, 1))
"""

# tiny static program (fc) used by the static-tensor pickle cases
STATIC_FC = """\
paddle.enable_static()
main = paddle.static.Program()
startup = paddle.static.Program()
with paddle.static.program_guard(main, startup):
    x = paddle.static.data('x', [None, 3], 'float32')
    fc = paddle.nn.Linear(3, 4)
    y = fc(x)
exe = paddle.static.Executor(paddle.CPUPlace())
exe.run(startup)
exe.run(main, feed={'x': rng.standard_normal((2, 3)).astype('float32')}, fetch_list=[y])
"""

# static conv net (conv2d + batch_norm + linear); every persistable gets distinct values
STATIC_CONV = """\
paddle.enable_static()
main = paddle.static.Program()
startup = paddle.static.Program()
with paddle.static.program_guard(main, startup):
    x = paddle.static.data('x', [None, 1, 6, 6], 'float32')
    conv = paddle.nn.Conv2D(1, 2, 3)
    bn = paddle.nn.BatchNorm2D(2)
    fc = paddle.nn.Linear(2 * 4 * 4, 3)
    y = fc(paddle.flatten(paddle.nn.functional.relu(bn(conv(x))), 1))
exe = paddle.static.Executor(paddle.CPUPlace())
exe.run(startup)
for name, value in main.state_dict().items():
    value.set(rng.standard_normal(np.array(value).shape).astype('float32'), paddle.CPUPlace())
"""

# static fc net trained one step with Adam (for paddle.static.save)
STATIC_TRAIN = """\
paddle.enable_static()
main = paddle.static.Program()
startup = paddle.static.Program()
with paddle.static.program_guard(main, startup):
    x = paddle.static.data('x', [None, 3], 'float32')
    fc = paddle.nn.Linear(3, 4)
    loss = paddle.mean(fc(x))
    opt = paddle.optimizer.Adam(learning_rate=0.01)
    opt.minimize(loss)
exe = paddle.static.Executor(paddle.CPUPlace())
exe.run(startup)
exe.run(main, feed={'x': rng.standard_normal((2, 3)).astype('float32')}, fetch_list=[loss])
"""


def indent(code, n=4):
    return textwrap.indent(code, " " * n)


def legacy_wrap(code):
    """Run ``code`` under Paddle 3's legacy IR (ProgramDesc) instead of PIR."""
    return "with paddle.pir_utils.OldIrGuard():\n" + indent(code)


# --------------------------------------------------------------------------------------
# values.json snippets (run in the same child after the save snippet, with helpers)
# helpers injected by the child: read_tensor_stream(path), value_entry(name, arr, dtype,
# **extra), order_records(records, named_arrays) -> entries, read_selected_rows(path),
# scope_array(name), VALUES (list to fill)
# --------------------------------------------------------------------------------------

VALUES_SINGLE_STREAM = """\
for rec in read_tensor_stream(ENTRY):
    extra = {'lod': rec['lod']} if rec['lod'] else {}
    VALUES.append(value_entry(None, rec['array'], rec['dtype'], **extra))
"""

VALUES_COMBINED_FROM_SCOPE = """\
# records as Paddle's own tensor loader reads them, in file order; names from the
# program's persistable variables (save_combine writes them sorted by name)
records = read_tensor_stream(PARAMS_FILE)
named = [(n, scope_array(n)) for n in sorted(PERSISTABLE_NAMES())]
VALUES.extend(order_records(records, named))
"""

VALUES_DIR_FROM_SCOPE = """\
import os
for root, _, files in sorted(os.walk(DIRNAME)):
    for fn in sorted(files):
        rel = os.path.relpath(os.path.join(root, fn), DIRNAME).replace(os.sep, '/')
        if rel in SKIP_FILES:
            continue
        recs = read_tensor_stream(os.path.join(root, fn))
        assert len(recs) == 1, (rel, len(recs))
        ref = scope_array(rel)
        check_same(recs[0], ref, rel)
        VALUES.append(value_entry(rel, recs[0]['array'], recs[0]['dtype']))
VALUES.sort(key=lambda e: e['name'])
"""

VALUES_JIT = """\
records = read_tensor_stream(PARAMS_FILE)
sd = net.state_dict()
named = [(p.name, p.numpy()) for p in sd.values()]
structured = {p.name: k for k, p in sd.items()}
entries = order_records(records, sorted(named, key=lambda t: t[0]))
for e in entries:
    e['structured_name'] = structured.get(e['name'])
VALUES.extend(entries)
"""

VALUES_STATIC_SAVE = """\
import pickle
state = paddle.static.load_program_state('model')
with open(ENTRY, 'rb') as f:
    keys = list(pickle.load(f).keys())   # only for the on-disk order of the entries
for k in keys:
    VALUES.append(value_entry(k, np.asarray(state[k])))
"""

VALUES_SELECTED_ROWS = """\
sr = read_selected_rows(ENTRY)
VALUES.append(value_entry(None, sr['array'], sr['dtype'], rows=sr['rows'], height=sr['height']))
"""


# --------------------------------------------------------------------------------------
# case table
# --------------------------------------------------------------------------------------


class Case:
    def __init__(self, cid, code, *, kind="y", entry, fmt, api, protocol=None, pir=None,
                 tags=(), notes="", values=None, values_env=None, expect_save_error=False,
                 alt_pir_off=False):
        self.id = cid
        self.code = code
        self.kind = kind
        self.entry = entry
        self.fmt = fmt
        self.api = api
        self.protocol = protocol
        self.pir = pir
        self.tags = list(tags)
        self.notes = notes
        self.values = values  # python snippet or None
        self.values_env = values_env or {}
        self.expect_save_error = expect_save_error
        self.alt_pir_off = alt_pir_off


def family(w):
    """The code family of a writer tag: 'p2' (Paddle 2.x, legacy IR only) or 'p3'."""
    return "p2" if w.startswith("p2") else "p3"


def pickle_cases(w):
    """paddle.save pickle cases for writer tag w ('p2' / 'p3', or a release tag such as
    'p300' / 'p262n123', see RELEASE_TAGS)."""
    fam = family(w)
    cases = []

    def add(name, body, *, kind="y", entry, tags=(), notes="", protos=(2, 3, 4), pre="",
            pir=None, writers=("p2", "p3")):
        if fam not in writers:
            return
        for p in protos:
            code = HEADER + ("\n" + pre if pre else "") + "\n" + body.replace("PROTO", str(p))
            cases.append(Case(f"{kind}_{w}_proto{p}_{name}", code, kind=kind, entry=entry,
                              fmt="pickle", api="paddle.save", protocol=p, pir=pir,
                              tags=tags, notes=notes))

    # ---------------- state dicts
    add("linear_state_dict", """\
layer = paddle.nn.Linear(3, 4)
paddle.save(layer.state_dict(), 'model.pdparams', protocol=PROTO)
""", entry="model.pdparams", tags=["state_dict", "name_table"])

    add("convnet_state_dict", """\
net = Net()
net.train()
net(paddle.to_tensor(rng.standard_normal((2, 1, 6, 6)).astype('float32')))  # update BN running stats
paddle.save(net.state_dict(), 'model.pdparams', protocol=PROTO)
""", pre=NET_DEF, entry="model.pdparams", tags=["state_dict", "name_table", "buffers"])

    add("adam_lr_state_dict", """\
layer = paddle.nn.Linear(3, 4)
scheduler = paddle.optimizer.lr.StepDecay(learning_rate=0.1, step_size=2, gamma=0.5)
adam = paddle.optimizer.Adam(learning_rate=scheduler, parameters=layer.parameters())
loss = layer(paddle.to_tensor(rng.standard_normal((2, 3)).astype('float32'))).mean()
loss.backward()
adam.step()
adam.clear_grad()
scheduler.step()
paddle.save(adam.state_dict(), 'adam.pdopt', protocol=PROTO)
""", entry="adam.pdopt", tags=["state_dict", "optimizer", "lr_scheduler", "name_table"])

    add("bf16_state_dict", """\
layer = paddle.nn.Linear(3, 4)
layer.to(dtype='bfloat16')
paddle.save(layer.state_dict(), 'model.pdparams', protocol=PROTO)
""", entry="model.pdparams", tags=["state_dict", "bf16", "name_table"],
        notes="bfloat16 parameters are pickled as uint16 ndarrays; paddle.load turns uint16 "
              "ndarrays back into bfloat16 tensors (return_numpy keeps uint16).")

    add("fp16_state_dict", """\
layer = paddle.nn.Linear(3, 4)
layer.to(dtype='float16')
paddle.save(layer.state_dict(), 'model.pdparams', protocol=PROTO)
""", entry="model.pdparams", tags=["state_dict", "fp16", "name_table"])

    add("state_dict_all_dtypes", """\
state = {}
for dt in ALL_DTYPES:
    state[dt] = make(dt)
paddle.save(state, 'model.pdparams', protocol=PROTO)
""", pre=MAKE_TENSOR, entry="model.pdparams",
        tags=["state_dict", "all_dtypes", "bf16", "name_table"])

    add("nested_model_opt_epoch", """\
layer = paddle.nn.Linear(3, 4)
adam = paddle.optimizer.Adam(learning_rate=0.001, parameters=layer.parameters())
layer(paddle.to_tensor(rng.standard_normal((2, 3)).astype('float32'))).mean().backward()
adam.step()
obj = {'model': layer.state_dict(), 'opt': adam.state_dict(), 'epoch': 100}
paddle.save(obj, 'model.pdparams', protocol=PROTO)
""", entry="model.pdparams", tags=["nested", "tensor_tuple"],
        notes="paddle.load docstring example 2: not a state dict (the int value), so every "
              "tensor is pickled as a (name, ndarray) tuple and no name table is written.")

    # ---------------- dynamic tensors
    add("tensor", """\
t = paddle.to_tensor(rng.standard_normal((2, 3)).astype('float32'))
paddle.save(t, 'tensor.pdtensor', protocol=PROTO)
""", entry="tensor.pdtensor", tags=["tensor", "tensor_tuple"])

    add("parameter", """\
layer = paddle.nn.Linear(3, 4)
paddle.save(layer.weight, 'weight.pdtensor', protocol=PROTO)
""", entry="weight.pdtensor", tags=["tensor", "parameter", "tensor_tuple"],
        notes="A Parameter is pickled as (param.name, ndarray); paddle.load gives a plain "
              "Tensor named linear_0.w_0.")

    add("tensor_named", """\
t = paddle.to_tensor(rng.standard_normal((3,)).astype('float64'))
t.name = 'user_named_tensor'
paddle.save(t, 'tensor.pdtensor', protocol=PROTO)
""", entry="tensor.pdtensor", tags=["tensor", "tensor_tuple", "tensor_name"])

    add("tensor_0d", """\
t = paddle.to_tensor(3.5, dtype='float32')
paddle.save(t, 'tensor.pdtensor', protocol=PROTO)
""", entry="tensor.pdtensor", tags=["tensor", "0d"])

    add("tensor_empty", """\
t = paddle.zeros([0, 3], dtype='float32')
paddle.save(t, 'tensor.pdtensor', protocol=PROTO)
""", entry="tensor.pdtensor", tags=["tensor", "empty"])

    add("tensor_bf16", """\
t = paddle.to_tensor(rng.standard_normal((4,)).astype('float32')).astype('bfloat16')
paddle.save(t, 'tensor.pdtensor', protocol=PROTO)
""", entry="tensor.pdtensor", tags=["tensor", "bf16"])

    add("tensor_fp16", """\
t = paddle.to_tensor(rng.standard_normal((4,)).astype('float16'))
paddle.save(t, 'tensor.pdtensor', protocol=PROTO)
""", entry="tensor.pdtensor", tags=["tensor", "fp16"])

    add("tensor_all_dtypes", """\
tensors = [make(dt) for dt in ALL_DTYPES]
paddle.save(tensors, 'obj.pdparams', protocol=PROTO)
""", pre=MAKE_TENSOR, entry="obj.pdparams", tags=["tensor", "all_dtypes", "bf16", "tensor_tuple"])

    add("tensors_nested", """\
t1 = paddle.to_tensor(rng.standard_normal((2,)).astype('float32'))
t2 = paddle.to_tensor(rng.randint(0, 9, (3,)).astype('int64'))
t3 = paddle.to_tensor(rng.standard_normal((1, 2)).astype('float64'))
obj = {'a': [t1, (t2, 3)], 'b': {'c': t3, 'd': 'text'}, 'e': None}
paddle.save(obj, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["tensor", "nested", "tensor_tuple"])

    # ---------------- static-graph tensors (DenseTensor pickled as eval('data', {'data': nd}))
    if fam == "p2":
        static_get = "weight = fc.weight.get_value()  # DenseTensor\n"
        spir = False
        snote = "Legacy static graph; Variable.get_value() returns a DenseTensor."
    else:
        static_get = ("# PIR Values have no get_value(); read the DenseTensor from the scope\n"
                      "weight = paddle.static.global_scope().find_var(fc.weight.name).get_tensor()\n")
        spir = True
        snote = ("Paddle 3 static mode is PIR: pir.Value has no get_value(), so the DenseTensor "
                 "comes from global_scope().find_var(name).get_tensor().")
    snote += (" A DenseTensor is pickled via the reducer (eval, ('data', {'data': ndarray})), "
              "i.e. a builtins.eval global call.")

    add("static_tensor", STATIC_FC + static_get + """\
paddle.save(weight, 'tensor.pdtensor', protocol=PROTO)
""", entry="tensor.pdtensor", tags=["static_tensor", "eval_reduce"], notes=snote, pir=spir)

    add("static_state_dict", STATIC_FC + """\
paddle.save(main.state_dict(), 'model.pdparams', protocol=PROTO)
""", entry="model.pdparams", tags=["static_tensor", "state_dict"], pir=spir,
        notes="In static mode a dict of DenseTensors goes through _legacy_static_save: plain "
              "{name: ndarray} pickle, no StructuredToParameterName@@ table.")

    add("faq2_static_tensor_with_ndarray", STATIC_FC + static_get + """\
paddle.save([weight, rng.standard_normal((2,)).astype('float32')], 'obj.pdparams', protocol=PROTO)
""", kind="i", entry="obj.pdparams", tags=["faq_case_2", "static_tensor", "eval_reduce"],
        pir=spir, notes=snote + " FAQ case 2: the saved ndarray and the DenseTensor both "
                                "come back as Tensors (indistinguishable).")

    add("faq2_static_tensor_with_tuple", STATIC_FC + static_get + """\
paddle.save([weight, ('user_name', rng.standard_normal((2,)).astype('float32'))], 'obj.pdparams', protocol=PROTO)
""", kind="i", entry="obj.pdparams", tags=["faq_case_2", "static_tensor", "eval_reduce",
                                           "tensor_tuple"],
        pir=spir, notes=snote + " FAQ case 2: a (str, ndarray) tuple is present, so only the "
                                "tuple becomes a Tensor; the DenseTensor comes back as a bare "
                                "ndarray.")

    # ---------------- ndarrays
    add("ndarray_dtypes", """\
arrays = {}
for dt in ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8']:
    arrays[dt] = (rng.standard_normal((2, 3)) * 50).astype(dt)
arrays['bool'] = rng.rand(2, 3) > 0.5
arrays['complex64'] = (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype('complex64')
arrays['complex128'] = (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype('complex128')
paddle.save(arrays, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["ndarray", "all_dtypes", "ndarray_becomes_tensor"],
        notes="uint16/uint32/uint64 are covered by their own 'i' cases.")

    add("ndarray_0d", """\
arrays = [np.array(1.5, dtype='float32'), np.array(-7, dtype='int64'), np.array(True),
          np.array(1 + 2j, dtype='complex128')]
paddle.save(arrays, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["ndarray", "0d", "ndarray_becomes_tensor"])

    add("ndarray_empty", """\
arrays = [np.zeros((0, 3), dtype='float32'), np.zeros((2, 0), dtype='int64'), np.zeros((0,), dtype='bool')]
paddle.save(arrays, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["ndarray", "empty", "ndarray_becomes_tensor"])

    add("ndarray_fortran", """\
a = np.asfortranarray(rng.standard_normal((3, 4)))
b = np.asfortranarray(np.arange(24, dtype='int32').reshape(2, 3, 4))
c = rng.standard_normal((4, 3)).astype('float32').T      # F-contiguous view
d = np.arange(20, dtype='int16').reshape(4, 5)[:, ::2]    # non-contiguous view
paddle.save([a, b, c, d], 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["ndarray", "fortran_order", "ndarray_becomes_tensor"],
        notes="numpy pickles F-contiguous arrays with fortran_order=True and the data in "
              "Fortran order; the non-contiguous view is pickled as a C-order copy.")

    add("ndarray_big_64k", """\
a = rng.standard_normal(18000).astype('float32')   # 72000 bytes > 64 KiB
paddle.save(a, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["ndarray", "big", "gt_64k", "ndarray_becomes_tensor"])

    add("ndarray_big_256k", """\
a = rng.randint(0, 128, (1025, 256)).astype('int8')   # 262400 bytes > 256 KiB
paddle.save({'big': a, 'after': 'tail'}, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["ndarray", "big", "gt_256k", "ndarray_becomes_tensor"],
        notes="int8 values 0..127 so the protocol 2 latin1 text stays ~1 byte per element "
              "(corpus size); *_ndarray_big_64k has float32 data.")

    add("np_scalars", """\
values = [np.float32(1.5), np.int64(-3), np.bool_(True), np.complex64(1 + 2j),
          np.float64(-0.0), np.uint8(255), np.float16(0.5), np.int8(-128), np.uint64(2**64 - 1)]
paddle.save(values, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["npscalar"])

    # ---------------- plain python values
    add("py_scalars", """\
values = [None, True, False, 0, 255, 256, 65535, 65536, 2**31, -2**31 - 1, 2**63, -2**64, 10**40,
          0.0, -0.0, 1.5, float('nan'), float('inf'), float('-inf'), 1e300, complex(1, -2)]
paddle.save(values, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["python", "int", "float", "complex"])

    add("py_strings", """\
values = ['', 'a', '\\u00fc\\u4e2d', ''.join(chr(65 + i % 26) for i in range(300)), 'b' * 255, 'c' * 256]
paddle.save(values, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["python", "str"])

    add("py_bytes_via_state_dict", """\
# bytes/bytearray/frozenset anywhere in a non-state-dict object make paddle.save raise
# NotImplementedError; inside a nested dict of a state dict they are pickled untouched.
extra = {
    'bytes_empty': b'',
    'bytes_1': b'b',
    'bytes_300': bytes(range(256)) + bytes(range(44)),
    'bytearray_empty': bytearray(),
    'bytearray': bytearray(b'\\x00\\xffab'),
    'frozenset': frozenset({1, 2, 3}),
    'frozenset_empty': frozenset(),
    'set': {'x', 'y'},
    'set_empty': set(),
    'none': None,
}
state = {'weight': paddle.to_tensor(rng.standard_normal((2,)).astype('float32')), 'extra': extra}
paddle.save(state, 'model.pdparams', protocol=PROTO)
""", entry="model.pdparams", tags=["python", "bytes", "bytearray", "set", "frozenset",
                                   "state_dict", "name_table"])

    add("py_containers", """\
obj = {}
for n in range(5):
    obj['list%d' % n] = list(range(n))
    obj['tuple%d' % n] = tuple(range(10, 10 + n))
    obj['dict%d' % n] = {'k%d' % i: i for i in range(n)}
obj['odict'] = collections.OrderedDict([('z', 1), ('a', [1, 2]), ('m', None)])
obj['set'] = {1, 2, 3}
obj['set_empty'] = set()
obj['nested'] = [[[]], ({'x': (1,)},)]
paddle.save(obj, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["python", "list", "tuple", "dict", "odict", "set"])

    add("py_big_containers", """\
obj = {
    'list1000': list(range(1000)),
    'list1001': list(range(1001)),
    'tuple1000': (None,) * 1000,
    'tuple1001': (None,) * 1001,
    'dict1000': dict.fromkeys(range(1000)),
    'dict1001': dict.fromkeys(range(1001)),
}
paddle.save(obj, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["python", "batching", "list", "tuple", "dict"],
        writers=("p3",),
        notes="pickle batches APPENDS/SETITEMS by 1000 items. Written by Paddle 3 only: "
              "these are plain Python containers pickled by CPython's pickle module, so the "
              "bytes do not depend on the Paddle/numpy version (kept out of p2 to keep the "
              "corpus small).")

    add("py_odict", """\
obj = collections.OrderedDict([('z', 1), ('a', [1.5, 'x']), ('m', None)])
paddle.save(obj, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["python", "odict"])

    add("py_set", """\
paddle.save({1, 2, 3, 'a'}, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["python", "set"])

    add("py_dict_of_dicts", """\
obj = {'a': {'x': 1, 'y': [1, 2]}, 'b': {}}
paddle.save(obj, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["python", "dict", "name_table", "state_dict"],
        notes="A dict whose values are all dicts passes _is_state_dict, so paddle.save adds an "
              "empty StructuredToParameterName@@ table (visible with keep_name_table=True).")

    add("py_empty_dict", """\
paddle.save({}, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["python", "dict", "name_table", "state_dict"],
        notes="An empty dict is treated as a state dict: the file holds "
              "{'StructuredToParameterName@@': {}}.")

    # ---------------- shared references
    add("shared_ndarray", """\
a = rng.standard_normal((2, 2)).astype('float32')
paddle.save([a, a], 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["shared_refs", "ndarray"])

    add("shared_tensor", """\
t = paddle.to_tensor(rng.standard_normal((2, 2)).astype('float32'))
paddle.save([t, t], 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["shared_refs", "tensor", "tensor_tuple"])

    add("shared_str", """\
s = ''.join(['shared-', 'string'])
paddle.save([s, s, {'k': s}], 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["shared_refs", "str"])

    add("shared_list", """\
inner = [1, 2, [3]]
paddle.save([inner, inner], 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["shared_refs", "list"])

    add("shared_dict_value", """\
v = {'k': [1, 2]}
paddle.save({'a': v, 'b': [v]}, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["shared_refs", "dict"])

    add("shared_tuple", """\
tup = (1, 'x', [2])
paddle.save([tup, tup], 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["shared_refs", "tuple"],
        notes="paddle.save's _parse_every_object rebuilds every tuple inside a list/dict "
              "before pickling, so the two references become two distinct tuples (no memo GET "
              "for the tuple itself; the inner list is still shared).")

    add("nested_shared", """\
a = rng.standard_normal((3,)).astype('float64')
t = paddle.to_tensor(rng.standard_normal((2,)).astype('float32'))
s = ''.join(['sha', 'red'])
inner = [a, s, {'deep': [a, t]}]
obj = {'first': inner, 'second': inner, 'tensors': [t, t], 'strs': (s, s)}
paddle.save(obj, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["shared_refs", "nested", "tensor_tuple"])

    # ---------------- saves that succeed while the load raises
    add("set_holding_tensor", """\
t = paddle.to_tensor(rng.standard_normal((3,)).astype('float32'))
paddle.save({'s': {t, 1}, 'epoch': 3}, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["set", "tensor_tuple", "load_error"],
        notes="paddle.save pickles the Tensor in the set as (name, ndarray): the tuple is "
              "unhashable, so pickle.load raises TypeError adding it to the set (the save "
              "succeeds, the load cannot).")

    add("tensor_as_dict_key", """\
t = paddle.to_tensor(rng.standard_normal((2,)).astype('float32'))
paddle.save({t: 'value'}, 'obj.pdparams', protocol=PROTO)
""", entry="obj.pdparams", tags=["tensor_tuple", "load_error"],
        notes="dict keys are not walked by paddle.save: the Tensor key is pickled as "
              "(name, ndarray), unhashable, and pickle.load raises TypeError.")

    # ---------------- FAQ non-unique decodings (kind i)
    add("faq1_tensor_with_tuple", """\
t = paddle.to_tensor(rng.standard_normal((2,)).astype('float32'))
paddle.save([t, ('user_name', rng.standard_normal((3,)).astype('float32'))], 'obj.pdparams', protocol=PROTO)
""", kind="i", entry="obj.pdparams", tags=["faq_case_1", "tensor_tuple"],
        notes="FAQ case 1: the user's (str, ndarray) tuple loads as a Tensor named 'user_name', "
              "indistinguishable from the saved dynamic Tensor.")

    add("faq3_ndarrays_with_tuple", """\
obj = [rng.standard_normal((2,)).astype('float32'),
       ('user_name', rng.standard_normal((3,)).astype('float32')),
       rng.randint(0, 9, (2,)).astype('int64')]
paddle.save(obj, 'obj.pdparams', protocol=PROTO)
""", kind="i", entry="obj.pdparams", tags=["faq_case_3", "tensor_tuple"],
        notes="FAQ case 3: because a (str, ndarray) tuple is present, only the tuple becomes a "
              "Tensor; the bare ndarrays stay ndarrays.")

    add("lone_name_ndarray_tuple", """\
paddle.save(('just_a_tuple', rng.standard_normal((2,)).astype('float32')), 'obj.pdparams', protocol=PROTO)
""", kind="i", entry="obj.pdparams", tags=["faq_case_3", "tensor_tuple"],
        notes="A plain (str, ndarray) tuple loads as a Tensor named after the string.")

    add("ndarray_uint16", """\
paddle.save(np.array([0, 16256, 16384, 65535], dtype='uint16'), 'obj.pdparams', protocol=PROTO)
""", kind="i", entry="obj.pdparams", tags=["uint16_as_bf16", "ndarray"],
        notes="A uint16 ndarray loads as a bfloat16 Tensor (paddle.to_tensor maps uint16 to "
              "bfloat16).")

    add("ndarray_uint32", """\
paddle.save(np.array([0, 1, 2**32 - 1], dtype='uint32'), 'obj.pdparams', protocol=PROTO)
""", kind="i", entry="obj.pdparams", tags=["uint32_load_fails", "ndarray"],
        notes="paddle.to_tensor rejects uint32: default load raises, return_numpy works.")

    add("ndarray_uint64", """\
paddle.save(np.array([0, 1, 2**64 - 1], dtype='uint64'), 'obj.pdparams', protocol=PROTO)
""", kind="i", entry="obj.pdparams", tags=["uint64_load_fails", "ndarray"],
        notes="paddle.to_tensor rejects uint64: default load raises, return_numpy works.")

    add("state_dict_custom_names", """\
w = paddle.to_tensor(rng.standard_normal((2, 2)).astype('float32'))
w.name = 'custom_weight_name'
b = paddle.to_tensor(rng.standard_normal((2,)).astype('float32'))
b.name = 'custom_bias_name'
paddle.save({'fc.weight': w, 'fc.bias': b}, 'model.pdparams', protocol=PROTO)
""", kind="i", entry="model.pdparams", tags=["state_dict", "name_table", "tensor_name"],
        notes="Custom tensor names are stored only in the StructuredToParameterName@@ table "
              "and re-applied on load (return_numpy drops them).")

    add("stop_gradient_false", """\
t = paddle.to_tensor(rng.standard_normal((3,)).astype('float32'), stop_gradient=False)
paddle.save(t, 'tensor.pdtensor', protocol=PROTO)
""", kind="i", entry="tensor.pdtensor", tags=["stop_gradient_lost", "tensor_tuple"],
        notes="stop_gradient is not saved: the loaded Tensor has stop_gradient=True (not part of "
              "the view).")

    return cases


def single_cases(w):
    """Protocol independent cases (one per Paddle version or IR)."""
    fam = family(w)
    cases = []
    ir_variants = [("", False)] if fam == "p2" else [("pir_", True), ("legacy_", False)]

    def wrap(code, pir):
        return code if (fam == "p2" or pir) else legacy_wrap(code)

    # ---------------- paddle.save errors (protocol 4 = paddle.save default)
    for name, body, tags, notes in [
        ("layer_object", "layer = paddle.nn.Linear(3, 4)\n"
                         "paddle.save(layer, 'linear.pdparams')\n",
         ["layer", "save_error"], "paddle.save(Layer) raises ValueError from the Layer "
                                  "pickle reducer; it leaves a 0-byte linear.pdparams behind "
                                  "(removed here)."),
        ("bytes_in_list", "paddle.save([b'ab', 1], 'obj.pdparams')\n",
         ["bytes", "save_error"], "bytes are rejected by _parse_every_object (not a supported "
                                  "iterable); see *_py_bytes_via_state_dict for bytes that do "
                                  "get saved."),
        ("frozenset_in_list", "paddle.save([frozenset({1, 2})], 'obj.pdparams')\n",
         ["frozenset", "save_error"], "frozenset is rejected by _parse_every_object."),
        ("bytearray_in_list", "paddle.save([bytearray(b'ab')], 'obj.pdparams')\n",
         ["bytearray", "save_error"], "bytearray is rejected by _parse_every_object."),
    ]:
        cases.append(Case(f"y_{w}_proto4_{name}", HEADER + "\n" + body, entry=None,
                          fmt="save_error", api="paddle.save", protocol=4, tags=tags,
                          notes=notes, expect_save_error=True))

    # ---------------- paddle.save(Program)
    for ir, pir in ir_variants:
        prog = STATIC_FC.replace("exe.run(main, feed={'x': rng.standard_normal((2, 3)).astype('float32')}, fetch_list=[y])\n", "")
        code = HEADER + "\n" + wrap(prog + "paddle.save(main, 'main.pdmodel')\n", pir)
        cases.append(Case(f"y_{w}_{ir}program", code, entry="main.pdmodel", fmt="program",
                          api="paddle.save", protocol=None, pir=pir, tags=["program"],
                          notes=("PIR program: paddle.save writes the PIR JSON serialization "
                                 "(serialize_pir_program)." if pir else
                                 "Legacy ProgramDesc protobuf (desc.serialize_to_string()).")))

    # ---------------- paddle.save(..., use_binary_format=True)
    for dt in ["bool", "int8", "int16", "int32", "int64", "uint8", "float16", "bfloat16",
               "float32", "float64", "complex64", "complex128"]:
        code = HEADER + "\n" + MAKE_TENSOR + f"""
t = make('{dt}', (2, 3))
paddle.save(t, 'tensor.pdtensor', use_binary_format=True)
"""
        cases.append(Case(f"y_{w}_binary_{dt}", code, entry="tensor.pdtensor",
                          fmt="tensor_stream", api="paddle.save(use_binary_format=True)",
                          tags=["binary", "tensor_stream", dt] + (["bf16"] if dt == "bfloat16" else []),
                          values=VALUES_SINGLE_STREAM.replace("ENTRY", "'tensor.pdtensor'")))
    for name, body, tags in [
        ("binary_0d", "t = paddle.to_tensor(2.5, dtype='float64')\n", ["0d"]),
        ("binary_empty", "t = paddle.zeros([0, 3], dtype='float32')\n", ["empty"]),
        ("binary_big_64k", "t = paddle.to_tensor(rng.standard_normal((130, 130)).astype('float32'))  # 67600 bytes\n",
         ["big", "gt_64k"]),
    ]:
        code = HEADER + "\n" + body + "paddle.save(t, 'tensor.pdtensor', use_binary_format=True)\n"
        cases.append(Case(f"y_{w}_{name}", code, entry="tensor.pdtensor", fmt="tensor_stream",
                          api="paddle.save(use_binary_format=True)",
                          tags=["binary", "tensor_stream"] + tags,
                          values=VALUES_SINGLE_STREAM.replace("ENTRY", "'tensor.pdtensor'")))
    dense = "DenseTensor" if fam == "p3" else "LoDTensor"
    cases.append(Case(f"y_{w}_binary_lod", HEADER + f"""
from paddle.base import core
t = core.{dense}()
t.set(np.arange(12, dtype='float32').reshape(6, 2), paddle.CPUPlace())
t.set_lod([[0, 2, 6]])
paddle.save(t, 'tensor.pdtensor', use_binary_format=True)
""", entry="tensor.pdtensor", fmt="tensor_stream", api="paddle.save(use_binary_format=True)",
        tags=["binary", "tensor_stream", "lod"],
        notes="The LoD ([[0, 2, 6]]) is stored in the file but paddle.load's Tensor does not "
              "expose it; values.json records it.",
        values=VALUES_SINGLE_STREAM.replace("ENTRY", "'tensor.pdtensor'")))
    cases.append(Case(f"y_{w}_selected_rows", HEADER + """
from paddle.base import core
sr = core.SelectedRows([0, 4, 7], 10)
sr.get_tensor().set(rng.standard_normal((3, 2)).astype('float32'), paddle.CPUPlace())
paddle.save(sr, 'rows.pdtensor', use_binary_format=True)
""", entry="rows.pdtensor", fmt="tensor_stream", api="paddle.save(use_binary_format=True)",
        tags=["binary", "selected_rows", "no_view"],
        notes="SelectedRows can only be written through paddle.save(use_binary_format=True) "
              "(core.save_selected_rows); pickling one raises. paddle.load returns a "
              "core.SelectedRows object (even with return_numpy=True), which the load view "
              "cannot represent, so this case has no expected.*.json; values.json holds rows, "
              "height and the value tensor.",
        values=VALUES_SELECTED_ROWS.replace("ENTRY", "'rows.pdtensor'")))

    # ---------------- paddle.static.save
    for ir, pir in ir_variants:
        code = HEADER + "\n" + wrap(STATIC_TRAIN + "paddle.static.save(main, 'model')\n", pir)
        model_file = "model.json" if pir else "model.pdmodel"
        for suffix, entry, fmt in [("pdparams", "model.pdparams", "pickle"),
                                   ("pdopt", "model.pdopt", "pickle"),
                                   (model_file.split(".")[1], model_file, "program")]:
            cases.append(Case(
                f"y_{w}_{ir}static_save_{suffix}", code, entry=entry, fmt=fmt,
                api="paddle.static.save", protocol=4 if fmt == "pickle" else None, pir=pir,
                tags=["static_save"] + (["state_dict"] if fmt == "pickle" else ["program"]),
                values=(VALUES_STATIC_SAVE.replace("ENTRY", repr(entry))
                        if fmt == "pickle" else None),
                alt_pir_off=(fam == "p3" and not pir)))

    # ---------------- paddle.static.save_inference_model
    persist = "PERSISTABLE_NAMES = lambda: list(main.state_dict().keys())\n"
    for ir, pir in ir_variants:
        model_file = "model.json" if pir else "model.pdmodel"
        variants = [("", "", ["prefix", "pdiparams", "model"])]
        if not pir:
            variants.append(("legacy_format_", ", legacy_format=True", ["prefix"]))
        for vname, kw, entries in variants:
            code = HEADER + "\n" + wrap(
                STATIC_CONV + f"paddle.static.save_inference_model('model', [x], [y], exe, program=main{kw})\n",
                pir)
            for ent in entries:
                if ent == "prefix":
                    entry, fmt, sfx = "model", "program+params", "prefix"
                elif ent == "pdiparams":
                    entry, fmt, sfx = "model.pdiparams", "tensor_stream", "pdiparams"
                else:
                    entry, fmt, sfx = model_file, "program", model_file.split(".")[1]
                cases.append(Case(
                    f"y_{w}_{ir}save_inference_model_{vname}{sfx}", code, entry=entry, fmt=fmt,
                    api="paddle.static.save_inference_model", pir=pir,
                    tags=["save_inference_model", "combined_params"] + (["legacy_format"] if vname else []),
                    values=persist + VALUES_COMBINED_FROM_SCOPE.replace("PARAMS_FILE", "'model.pdiparams'"),
                    alt_pir_off=(fam == "p3" and not pir)))

    # ---------------- paddle.jit.save
    for ir, pir in ir_variants:
        code = HEADER + "\n" + NET_DEF + """
net = Net()
net.train()
net(paddle.to_tensor(rng.standard_normal((2, 1, 6, 6)).astype('float32')))  # update BN running stats
net.eval()
spec = [paddle.static.InputSpec([None, 1, 6, 6], 'float32', 'x')]
""" + (legacy_wrap("paddle.jit.save(net, 'net', input_spec=spec)\n") if (fam == "p3" and not pir)
       else "paddle.jit.save(net, 'net', input_spec=spec)\n")
        model_file = "net.json" if pir else "net.pdmodel"
        entries = [("prefix", "net", "program+params"), ("pdiparams", "net.pdiparams", "tensor_stream"),
                   (model_file.split(".")[1], model_file, "program")]
        if not pir:
            entries.append(("pdiparams_info", "net.pdiparams.info", "pickle"))
        jnote = ""
        if fam == "p2":
            jnote = ("Not deterministic: Paddle 2.6.2 writes net.pdiparams.info (a protocol 2 "
                     "pickle) with its keys in the order of concrete_program.parameters, which "
                     "changes from run to run; the other files are stable.")
        elif not pir:
            jnote = "Legacy jit.save also writes net.pdiparams.info (var name -> structured_name)."
        else:
            jnote = "PIR jit.save writes no .pdiparams.info, so structured names are not on disk."
        for sfx, entry, fmt in entries:
            cases.append(Case(
                f"y_{w}_{ir}jit_save_{sfx}", code, entry=entry, fmt=fmt, api="paddle.jit.save",
                pir=pir, protocol=None, notes=jnote,
                tags=["jit_save", "combined_params"] + (["nondeterministic"] if fam == "p2" else []),
                values=VALUES_JIT.replace("PARAMS_FILE", "'net.pdiparams'"),
                alt_pir_off=(fam == "p3" and not pir)))

    # ---------------- 1.x style directories
    for ir, pir in ir_variants:
        # save_persistables: one file per variable
        if fam == "p2" or not pir:
            save = "paddle.distributed.io.save_persistables(exe, 'model', main)\n"
            api = "paddle.distributed.io.save_persistables (fluid.io.save_persistables)"
        else:
            save = ("from paddle.static.pir_io import save_vars_pir\n"
                    "save_vars_pir('model', main_program=main)\n")
            api = "paddle.static.pir_io.save_vars_pir (what paddle.static.save_vars calls in PIR mode)"
        code = HEADER + "\n" + wrap(STATIC_CONV + save, pir)
        cases.append(Case(
            f"y_{w}_{ir}save_vars_dir", code, entry="model", fmt="directory", api=api, pir=pir,
            tags=["directory", "save_persistables", "separate_params"],
            values="DIRNAME = 'model'\nSKIP_FILES = set()\n" + VALUES_DIR_FROM_SCOPE,
            alt_pir_off=(fam == "p3" and not pir)))

        # save_inference_model with __model__ + one file per variable
        if fam == "p2":
            save = ("# Paddle 2.6.2 has no API that writes the 1.x layout any more; this is what\n"
                    "# fluid.io.save_inference_model(dirname, ...) did: __model__ + save_persistables\n"
                    "import os\n"
                    "os.makedirs('model', exist_ok=True)\n"
                    "program_bytes = paddle.static.serialize_program([x], [y], program=main, legacy_format=True)\n"
                    "paddle.static.io.save_to_file(os.path.join('model', '__model__'), program_bytes)\n"
                    "inference = paddle.static.deserialize_program(program_bytes)\n"
                    "paddle.distributed.io.save_persistables(exe, 'model', inference)\n")
            api = ("emulated fluid.io.save_inference_model (paddle.static.serialize_program + "
                   "paddle.distributed.io.save_persistables)")
            skip = "{'__model__'}"
        else:
            save = ("paddle.static.save_inference_model('model/inference', [x], [y], exe, program=main,\n"
                    "                                    separate_parameters=True)\n")
            api = "paddle.static.save_inference_model(separate_parameters=True)"
            skip = "{'__model__', '__model__.json'}"
        code = HEADER + "\n" + wrap(STATIC_CONV + save, pir)
        cases.append(Case(
            f"y_{w}_{ir}inference_model_dir", code, entry="model", fmt="directory", api=api,
            pir=pir, tags=["directory", "save_inference_model", "separate_params", "__model__"],
            values=f"DIRNAME = 'model'\nSKIP_FILES = {skip}\n" + VALUES_DIR_FROM_SCOPE,
            alt_pir_off=(fam == "p3" and not pir)))

        # 1.x combined: model_filename / params_filename inside a directory (legacy IR only)
        if pir:
            continue
        save = ("# fluid.io.save_inference_model(dirname, ..., model_filename='model', params_filename='params')\n"
                "import os\n"
                "os.makedirs('model', exist_ok=True)\n"
                "program_bytes = paddle.static.serialize_program([x], [y], program=main, legacy_format=True)\n"
                "paddle.static.io.save_to_file(os.path.join('model', 'model'), program_bytes)\n"
                "inference = paddle.static.deserialize_program(program_bytes)\n"
                "paddle.distributed.io.save_persistables(exe, 'model', inference, filename='params')\n")
        api = ("emulated fluid.io.save_inference_model(model_filename='model', params_filename='params') "
               "(serialize_program + paddle.distributed.io.save_persistables(filename=...))")
        code = HEADER + "\n" + wrap(STATIC_CONV + save, pir)
        cases.append(Case(
            f"y_{w}_{ir}inference_model_dir_filenames", code, entry="model", fmt="directory",
            api=api, pir=pir,
            tags=["directory", "model_filename", "params_filename", "combined_params"],
            notes="paddle.load(dir) without model_filename/params_filename does not know which "
                  "file is which (the load view has no such options).",
            values="PERSISTABLE_NAMES = lambda: list(main.state_dict().keys())\n"
                   + VALUES_COMBINED_FROM_SCOPE.replace("PARAMS_FILE", "'model/params'"),
            alt_pir_off=(fam == "p3" and not pir)))
    return cases


def all_cases(w):
    return pickle_cases(w) + single_cases(w)


# --------------------------------------------------------------------------------------
# child processes
# --------------------------------------------------------------------------------------

CHILD_HELPERS = r'''
import hashlib, os, tempfile
import numpy as np
import paddle
from paddle.base import core

_DT = getattr(core, 'DenseTensor', None) or core.LoDTensor
_LOAD = getattr(core, 'load_dense_tensor', None) or core.load_lod_tensor
_NP2PD = {'float16': 'float16', 'float32': 'float32', 'float64': 'float64', 'int8': 'int8',
          'int16': 'int16', 'int32': 'int32', 'int64': 'int64', 'uint8': 'uint8', 'bool': 'bool',
          'complex64': 'complex64', 'complex128': 'complex128', 'uint16': 'bfloat16'}


def _le(a):
    a = np.ascontiguousarray(a)
    return a.astype(a.dtype.newbyteorder('<'), copy=False).tobytes()


def _pd_dtype(t):
    s = str(t._dtype())
    return s[len('paddle.'):] if s.startswith('paddle.') else s


def value_entry(name, arr, dtype=None, **extra):
    arr = np.asarray(arr)
    if dtype is None:
        dtype = _NP2PD[arr.dtype.name]
    if dtype == 'bfloat16':
        arr = arr.view(np.uint16)
    e = {'name': name, 'dtype': dtype, 'shape': [int(d) for d in arr.shape],
         'sha256': hashlib.sha256(_le(arr)).hexdigest()}
    e.update(extra)
    return e


def read_tensor_stream(path):
    """Every record of a tensor stream file, read by Paddle's own C++ loader."""
    with open(path, 'rb') as f:
        data = f.read()
    out, off = [], 0
    fd, tmp = tempfile.mkstemp(prefix='pdsave_rec_')
    os.close(fd)
    try:
        while off < len(data):
            with open(tmp, 'wb') as f:
                f.write(data[off:])
            t = _DT()
            end = _LOAD(t, tmp)
            if not isinstance(end, int) or end <= 0:
                raise RuntimeError('tensor loader did not advance: %r' % (end,))
            lod = [list(map(int, l)) for l in t.lod()] if hasattr(t, 'lod') else []
            out.append({'dtype': _pd_dtype(t), 'array': np.array(t), 'lod': lod,
                        'offset': off, 'end': off + end})
            off += end
    finally:
        os.remove(tmp)
    return out


def read_selected_rows(path):
    sr = core.SelectedRows()
    core.load_selected_rows(sr, path)
    t = sr.get_tensor()
    return {'rows': [int(r) for r in sr.rows()], 'height': int(sr.height()),
            'dtype': _pd_dtype(t), 'array': np.array(t)}


def scope_array(name):
    var = paddle.static.global_scope().find_var(name)
    if var is None:
        raise KeyError('no scope variable %r' % name)
    return np.array(var.get_tensor())


def check_same(rec, ref, label):
    a = rec['array']
    ref = np.asarray(ref)
    if a.shape != ref.shape or a.dtype != ref.dtype or _le(a) != _le(ref):
        raise AssertionError('record %s differs from the reference value' % label)


def order_records(records, named):
    """Attach names to the records (file order). First try the given name order, then
    fall back to unique content matching; raises if neither explains the file."""
    if len(records) != len(named):
        raise AssertionError('%d records in file, %d named values' % (len(records), len(named)))
    ok = all(r['array'].shape == np.asarray(v).shape and _le(r['array']) == _le(np.asarray(v))
             for r, (_, v) in zip(records, named))
    if ok:
        return [value_entry(n, r['array'], r['dtype']) for r, (n, _) in zip(records, named)]
    out, used = [], set()
    for r in records:
        hits = [n for n, v in named if n not in used and np.asarray(v).shape == r['array'].shape
                and _le(np.asarray(v)) == _le(r['array'])]
        if len(hits) != 1:
            raise AssertionError('cannot name record at offset %d (%d candidates)' % (r['offset'], len(hits)))
        used.add(hits[0])
        out.append(value_entry(hits[0], r['array'], r['dtype']))
    return out
'''


# The save child runs as ``python -c SAVE_BOOTSTRAP spec.json result.json``.  Legacy
# ProgramDesc files keep an op_callstack with every Python frame above the op, so the
# frames above the snippet must not depend on this file's line numbers: the bootstrap
# is a constant string ("<string>" frames), and the snippet itself lives in a real file
# (paddle.jit.save's dy2static reads forward()'s source with inspect) at a stable path.
SAVE_BOOTSTRAP = """\
import json, os, sys, tempfile, traceback
spec = json.load(open(sys.argv[1]))
os.chdir(spec['dir'])
snip_dir = os.path.join(tempfile.gettempdir(), 'pdsave_snippets')
os.makedirs(snip_dir, exist_ok=True)
snip = os.path.join(snip_dir, spec['id'] + '.py')
open(snip, 'w').write(spec['python'])
g = {'__name__': '__main__', '__file__': snip}
result = {'save_error': None, 'values': None, 'values_error': None}
try:
    exec(compile(spec['python'], snip, 'exec'), g)
except Exception as e:
    result['save_error'] = {'class': type(e).__name__, 'message': str(e)}
import numpy, paddle
result['paddle'] = paddle.__version__
result['numpy'] = numpy.__version__
result['python'] = '.'.join(map(str, sys.version_info[:3]))
if spec.get('values') and result['save_error'] is None:
    h = {}
    exec(spec['helpers'], h)
    g.update({k: v for k, v in h.items() if not k.startswith('__')})
    g['VALUES'] = []
    try:
        exec(compile(spec['values'], '<values>', 'exec'), g)
        result['values'] = g['VALUES']
    except Exception:
        result['values_error'] = traceback.format_exc()
json.dump(result, open(sys.argv[2], 'w'))
"""


def child_load(spec_path, result_path):
    with open(spec_path) as f:
        spec = json.load(f)
    sys.path.insert(0, VIEW_DIR)
    import view  # adapters/paddle/view.py

    for item in spec["cases"]:
        # mark start so the parent knows which case crashed the interpreter
        with open(result_path, "a") as f:
            f.write(json.dumps({"start": item["id"]}) + "\n")
        os.chdir(item["dir"])
        # Absolute path: paddle.load of a bare prefix such as 'model' (no directory part)
        # fails in _construct_program_holders (os.listdir('')).
        path = os.path.join(item["dir"], item["entry"])
        out = {}
        for name in item["options"]:
            opts = dict(OPTION_SETS)[name]
            try:
                v = view.load_view(path, **opts)
                out[name] = view.dumps(v)
            except Exception as e:  # noqa: BLE001 - to_view failures
                out[name] = None
                out[name + "_failure"] = f"{type(e).__name__}: {e}"
        with open(result_path, "a") as f:
            f.write(json.dumps({"done": item["id"], "views": out}) + "\n")


# --------------------------------------------------------------------------------------
# parent
# --------------------------------------------------------------------------------------


def run_child(mode, spec, env_extra=None, log=None):
    fd, spec_path = tempfile.mkstemp(prefix="pdsave_spec_", suffix=".json")
    os.close(fd)
    fd, res_path = tempfile.mkstemp(prefix="pdsave_res_", suffix=".json")
    os.close(fd)
    os.remove(res_path)
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    env = dict(os.environ)
    env.update(env_extra or {})
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("PYTHONHASHSEED", "0")
    env.setdefault("GLOG_minloglevel", "2")
    if mode == "--child-save":
        argv = [sys.executable, "-c", SAVE_BOOTSTRAP, spec_path, res_path]
    else:
        argv = [sys.executable, os.path.abspath(__file__), mode, spec_path, res_path]
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    os.remove(spec_path)
    text = proc.stdout.decode("utf-8", "replace")
    if log is not None:
        log.write(f"--- {mode} rc={proc.returncode}\n{text}\n")
    data = None
    if os.path.exists(res_path):
        with open(res_path) as f:
            data = f.read()
        os.remove(res_path)
    return proc.returncode, data, text


# The two writers of the original corpus keep their short tags; every other (release,
# numpy) pair is tagged p<release digits>, plus n<numpy major><minor> when numpy is not
# the newest that release accepts (spec/versions.md).
DEFAULT_WRITERS = {("3.3.1", "2.4.6"): "p3", ("2.6.2", "1.26.4"): "p2"}
NEWEST_NUMPY = {"2.6.2": "1.26.4"}  # every 3.x release takes numpy 2.4.6


def writer_tag(paddle_version, numpy_version=None):
    if numpy_version is None:
        return "p3" if paddle_version.startswith("3.") else "p2"
    tag = DEFAULT_WRITERS.get((paddle_version, numpy_version))
    if tag:
        return tag
    tag = "p" + paddle_version.replace(".", "")
    if numpy_version != NEWEST_NUMPY.get(paddle_version, "2.4.6"):
        tag += "n" + "".join(numpy_version.split(".")[:2])
    return tag


# The cross-version subset (--set matrix): one case per save API and form, the entries
# the matrix of spec/versions.md is measured on (ids without their "<kind>_<tag>_").
MATRIX_CASES = [
    "proto2_linear_state_dict", "proto4_linear_state_dict", "proto2_adam_lr_state_dict",
    "proto4_adam_lr_state_dict", "proto2_tensor", "proto4_tensor", "proto2_static_tensor",
    "proto4_static_tensor", "proto2_ndarray_dtypes", "proto4_ndarray_dtypes",
    "proto2_np_scalars", "proto4_np_scalars", "proto4_state_dict_all_dtypes",
    "proto2_ndarray_big_64k", "proto4_ndarray_big_64k", "proto4_nested_model_opt_epoch",
    "binary_float32", "binary_bfloat16", "binary_lod",
    "program", "pir_program", "legacy_program",
    "static_save_pdparams", "pir_static_save_pdparams", "legacy_static_save_pdparams",
    "static_save_pdopt", "pir_static_save_pdopt", "legacy_static_save_pdopt",
    "save_inference_model_prefix", "pir_save_inference_model_prefix",
    "legacy_save_inference_model_prefix", "save_inference_model_pdiparams",
    "pir_save_inference_model_pdiparams", "legacy_save_inference_model_pdiparams",
    "jit_save_prefix", "pir_jit_save_prefix", "legacy_jit_save_prefix",
    "save_vars_dir", "pir_save_vars_dir", "legacy_save_vars_dir",
    "inference_model_dir", "pir_inference_model_dir", "legacy_inference_model_dir",
    "inference_model_dir_filenames", "legacy_inference_model_dir_filenames",
]
# The numpy-variant subset (--set numpy): pickles only (numpy writes nothing else).
NUMPY_CASES = [c for c in MATRIX_CASES if c.startswith("proto")]


def case_name(cid):
    """An id without its kind and writer tag: y_p300_proto2_tensor -> proto2_tensor."""
    return cid.split("_", 2)[2]


def detect_versions():
    from importlib import metadata

    return metadata.version("paddlepaddle"), metadata.version("numpy")


def clean_case_dir(d):
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)


def paddle_files(d):
    out = []
    for root, _, files in os.walk(d):
        for fn in files:
            rel = os.path.relpath(os.path.join(root, fn), d).replace(os.sep, "/")
            if rel in META_FILES or rel.startswith("expected.") or rel.startswith("observed."):
                continue
            out.append(rel)
    return sorted(out)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")


def _large_case(d):
    """A case corpus/generate_large.py writes (tag `large_model`): not this generator's."""
    try:
        with open(os.path.join(d, "case.json"), encoding="utf-8") as f:
            return "large_model" in json.load(f).get("tags", [])
    except (OSError, ValueError):
        return False


def generate(out, only, log, subset=None):
    pv, nv = detect_versions()
    w = writer_tag(pv, nv)
    cases = all_cases(w)
    if subset:
        keep = {"matrix": MATRIX_CASES, "numpy": NUMPY_CASES}[subset]
        cases = [c for c in cases if case_name(c.id) in keep]
    if only:
        cases = [c for c in cases if any(s in c.id for s in only)]
    else:
        # full run: remove stale cases of this writer
        if os.path.isdir(out):
            for d in os.listdir(out):
                if f"_{w}_" in d and not _large_case(os.path.join(out, d)):
                    shutil.rmtree(os.path.join(out, d))
    os.makedirs(out, exist_ok=True)
    print(f"writer {w}: paddle {pv}, numpy {nv}, {len(cases)} cases", flush=True)
    problems = []
    loadable = []
    for i, c in enumerate(cases):
        d = os.path.join(out, c.id)
        clean_case_dir(d)
        t0 = time.time()
        rc, data, text = run_child("--child-save",
                                   {"id": c.id, "dir": os.path.abspath(d), "python": c.code,
                                    "values": c.values, "helpers": CHILD_HELPERS}, log=log)
        res = json.loads(data) if data else None
        if res is None:
            problems.append(f"{c.id}: save child crashed rc={rc}")
            print(f"[{i + 1}/{len(cases)}] {c.id}: CRASH rc={rc}\n{text[-2000:]}", flush=True)
            shutil.rmtree(d)
            continue
        files = paddle_files(d)
        case = {
            "id": c.id,
            "kind": c.kind,
            "entry": c.entry,
            "writer": {"paddle": res["paddle"], "numpy": res["numpy"], "python": res["python"],
                       "api": c.api, "protocol": c.protocol, "pir": c.pir},
            "format": c.fmt,
            "python": c.code,
            "notes": c.notes,
            "tags": c.tags,
            "files": files,
        }
        err = res["save_error"]
        if err is not None:
            case["save_error"] = err
            case["format"] = "save_error"
            case["entry"] = None
            left = {fn: os.path.getsize(os.path.join(d, fn)) for fn in files}
            if left:
                case["notes"] = (case["notes"] + " " if case["notes"] else "") + \
                    f"Files left behind by the failed save (deleted): {left}."
                for fn in files:
                    os.remove(os.path.join(d, fn))
            case["files"] = []
            if not c.expect_save_error:
                problems.append(f"{c.id}: unexpected save error {err}")
                if "save_error" not in case["tags"]:
                    case["tags"].append("save_error")
        elif c.expect_save_error:
            problems.append(f"{c.id}: expected a save error but the save succeeded")
        if res.get("values_error"):
            problems.append(f"{c.id}: values.json failed:\n{res['values_error']}")
        if res.get("values") is not None:
            with open(os.path.join(d, "values.json"), "w", encoding="utf-8") as f:
                f.write("[\n" + ",\n".join(json.dumps(e, ensure_ascii=False) for e in res["values"])
                        + "\n]\n")
            case["values"] = "values.json"
            case["values_python"] = c.values
        case["has_expected"] = case["entry"] is not None
        write_json(os.path.join(d, "case.json"), case)
        if case["entry"] is not None:
            loadable.append((c, d))
        print(f"[{i + 1}/{len(cases)}] {c.id}: {'save_error ' + err['class'] if err else 'ok'} "
              f"({time.time() - t0:.1f}s)", flush=True)

    # Expected views.  Loading a program (prefix / directory / model file) is not
    # idempotent inside one interpreter (unique-name counters: a second load of the same
    # jit.save prefix raises KeyError 'batch_norm2d_0.b_1'), so those entries are loaded
    # in a fresh process per option set.  Pickle and tensor-stream loads are batched.
    names = [n for n, _ in OPTION_SETS]
    batched = [(c, d) for c, d in loadable if c.fmt in ("pickle", "tensor_stream")]
    isolated = [(c, d) for c, d in loadable if c.fmt not in ("pickle", "tensor_stream")]
    load_views(batched, names, {}, "expected", problems, log)
    for n in names:
        load_views(isolated, [n], {}, "expected", problems, log, chunk=1)
    # legacy-IR Paddle 3 outputs: also what paddle.load gives with FLAGS_enable_pir_api=0
    alt = [(c, d) for c, d in loadable if c.alt_pir_off]
    if alt:
        load_views(alt, ["default"], {"FLAGS_enable_pir_api": "0"},
                   "observed.FLAGS_enable_pir_api_0", problems, log, chunk=1)
    return problems


def load_views(loadable, option_names, env, prefix, problems, log, chunk=LOAD_CHUNK):
    pending = list(loadable)
    size = chunk
    while pending:
        chunk, pending = pending[:size], pending[size:]
        spec = {"cases": [{"id": c.id, "dir": os.path.abspath(d), "entry": c.entry,
                           "options": option_names} for c, d in chunk]}
        rc, data, text = run_child("--child-load", spec, env_extra=env, log=log)
        done, started = {}, []
        for line in (data or "").splitlines():
            rec = json.loads(line)
            if "start" in rec:
                started.append(rec["start"])
            else:
                done[rec["done"]] = rec["views"]
        by_id = {c.id: (c, d) for c, d in chunk}
        for cid, views in done.items():
            c, d = by_id[cid]
            failed = False
            for name in option_names:
                if views.get(name) is None:
                    failed = True
                    problems.append(f"{cid}: view {name} not representable: "
                                    f"{views.get(name + '_failure')}")
                    continue
                with open(os.path.join(d, f"{prefix}.{name}.json"), "w", encoding="utf-8") as f:
                    f.write(views[name] + "\n")
            if failed and prefix == "expected":
                _mark_no_expected(d, {k: v for k, v in views.items() if k.endswith("_failure")})
        if rc != 0 or len(done) != len(chunk):
            crashed = [s for s in started if s not in done]
            rest = [(c, d) for c, d in chunk if c.id not in done and c.id not in crashed]
            for cid in crashed:
                problems.append(f"{cid}: loader process died (rc={rc}) while loading")
                c, d = by_id[cid]
                if prefix == "expected":
                    _mark_no_expected(d, {"crash": f"loader process died rc={rc}"})
            print(f"loader rc={rc}; crashed on {crashed}; retrying {len(rest)}\n{text[-1500:]}",
                  flush=True)
            pending = rest + pending


def _mark_no_expected(d, why):
    p = os.path.join(d, "case.json")
    with open(p, encoding="utf-8") as f:
        case = json.load(f)
    for fn in os.listdir(d):
        if fn.startswith("expected."):
            os.remove(os.path.join(d, fn))
    case["has_expected"] = False
    case["no_expected_reason"] = why
    write_json(p, case)


def write_manifest(out, manifest_path):
    entries = []
    for d in sorted(os.listdir(out)):
        p = os.path.join(out, d, "case.json")
        if not os.path.isfile(p):
            continue
        with open(p, encoding="utf-8") as f:
            c = json.load(f)
        entries.append({"id": c["id"], "kind": c["kind"], "format": c["format"],
                        "writer": c["writer"], "entry": c["entry"], "tags": c["tags"],
                        "has_expected": c.get("has_expected", False),
                        "values": c.get("values")})
    entries.sort(key=lambda e: e["id"])
    rel = os.path.relpath(out, os.path.dirname(os.path.abspath(manifest_path)))
    write_json(manifest_path, {"version": 1, "cases_dir": rel.replace(os.sep, "/"),
                               "count": len(entries), "cases": entries})
    print(f"manifest: {len(entries)} cases -> {manifest_path}")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--child-load":
        return child_load(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "cases"))
    ap.add_argument("--manifest", default=DEFAULT_MANIFEST)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--set", choices=["matrix", "numpy"], default=None,
                    help="only the cross-version subset (matrix) or its pickles (numpy)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--manifest-only", action="store_true")
    ap.add_argument("--no-manifest", action="store_true")
    ap.add_argument("--log", default=None, help="child output log (default: <out>/../generate.<writer>.log in /tmp)")
    args = ap.parse_args()
    if args.manifest_only:
        write_manifest(args.out, args.manifest)
        return 0
    if args.list:
        pv, nv = detect_versions()
        for c in all_cases(writer_tag(pv, nv)):
            print(c.id)
        return 0
    pv, nv = detect_versions()
    log_path = args.log or os.path.join(tempfile.gettempdir(), f"pdsave_generate_{writer_tag(pv, nv)}.log")
    with open(log_path, "w") as log:
        problems = generate(args.out, args.only, log, args.set)
    if not args.no_manifest:
        write_manifest(args.out, args.manifest)
    print(f"child log: {log_path}")
    if problems:
        print(f"{len(problems)} problem(s):")
        for p in problems:
            print("  - " + p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
