#!/usr/bin/env python3
"""Write the small real-Paddle samples in tests/data/binary/ (kinds the corpus lacks).

Run from this directory with each pinned venv:

    /work/venvs/p3/bin/python generate.py p3     # paddlepaddle 3.3.1
    /work/venvs/p2/bin/python generate.py p2     # paddlepaddle 2.6.2

Each case is a directory with case.json (id, format, entry, writer) and values.json in the
corpus's layout: a list of {name, dtype, shape, sha256[, lod]} where sha256 is over the
C-order little-endian element bytes as Paddle itself reads them back (load_inference_model +
scope for models; core.load_dense_tensor for streams), never via pdsave.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

W = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))

COND_NAMES = r'''
import paddle
paddle.seed(7)
paddle.enable_static()
main = paddle.static.Program(); startup = paddle.static.Program()
with paddle.static.program_guard(main, startup):
    x = paddle.static.data('inp', [None, 4], 'float32')
    A = lambda n: paddle.ParamAttr(name=n)
    h = paddle.static.nn.fc(x, 3, weight_attr=A('Zeta'), bias_attr=A('alpha'))
    h2 = paddle.static.nn.fc(x, 3, weight_attr=A('_under'), bias_attr=A('a.b-c'))
    h3 = paddle.static.nn.fc(x, 3, weight_attr=A('\u00e9t\u00e9'), bias_attr=A('B9'))
    s = paddle.mean(h)
    t = lambda: paddle.static.nn.fc(h2, 3, weight_attr=A('in_true_w'), bias_attr=False)
    f = lambda: h2 * 2.0
    y = paddle.static.nn.cond(s > 0, t, f) + h3
exe = paddle.static.Executor(paddle.CPUPlace())
exe.run(startup)
paddle.static.save_inference_model('model', [x], [y], exe, program=main)
'''

DTYPE_BUFFERS = r'''
import numpy as np, paddle
class Net(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        for i, dt in enumerate(['float16', 'bfloat16', 'float32', 'float64', 'int8', 'uint8',
                                'int16', 'int32', 'int64', 'bool', 'complex64', 'complex128']):
            t = paddle.to_tensor(np.arange(6).reshape(2, 3).astype('float32') * (i + 1) - 3)
            self.register_buffer('b%02d_%s' % (i, dt), t.astype(dt))
        self.fc = paddle.nn.Linear(3, 3)
    def forward(self, x):
        y = self.fc(x)
        for _, b in self.named_buffers():
            y = y + paddle.cast(b, 'float32').sum()
        return y
net = Net(); net.eval()
paddle.jit.save(net, 'model', input_spec=[paddle.static.InputSpec([None, 3], 'float32', 'x')])
'''

LOD2 = r'''
import numpy as np, paddle
from paddle.base import core
T = getattr(core, 'DenseTensor', None) or core.LoDTensor
t = T()
t.set(np.arange(20, dtype='int64').reshape(10, 2), paddle.CPUPlace())
t.set_lod([[0, 2, 5], [0, 1, 3, 6, 8, 10]])
paddle.save(t, 'tensor.pdtensor', use_binary_format=True)
'''

FLOAT8 = r'''
import numpy as np, paddle
a = np.random.RandomState(3).standard_normal((2, 3, 4)).astype('float32') * 10
paddle.save(paddle.to_tensor(a).astype('DT'), 'tensor.pdtensor', use_binary_format=True)
'''

SELECTED_ROWS = r'''
import numpy as np, paddle
from paddle.base import core
sr = core.SelectedRows([0, 4, 7], 10)
sr.get_tensor().set(np.arange(6, dtype='float32').reshape(3, 2), paddle.CPUPlace())
paddle.save(sr, 'rows.pdtensor', use_binary_format=True)
'''

SR_VALUES = r'''
import hashlib, json, sys, numpy as np, paddle
from paddle.base import core
sr = core.SelectedRows(); core.load_selected_rows(sr, 'rows.pdtensor')
t = sr.get_tensor(); a = np.ascontiguousarray(np.array(t))
e = dict(name=None, dtype=str(t._dtype()).replace('paddle.', ''), shape=list(a.shape),
         sha256=hashlib.sha256(a.tobytes()).hexdigest(), rows=[int(r) for r in sr.rows()],
         height=int(sr.height()))
json.dump(dict(values=[e]), open(sys.argv[1], 'w'))
'''

MODEL_VALUES = r'''
import hashlib, json, sys, numpy as np, paddle
paddle.enable_static()
exe = paddle.static.Executor(paddle.CPUPlace())
scope = paddle.static.Scope()
with paddle.static.scope_guard(scope):
    prog, feeds, fetches = paddle.static.load_inference_model('model', exe)
    if paddle.framework.in_pir_mode():
        from paddle.static.pir_io import get_pir_parameters
        p, o = get_pir_parameters(prog)
        names = sorted({v.name for v in p + o if v.persistable})
    else:
        skip = (paddle.base.core.VarDesc.VarType.FEED_MINIBATCH, paddle.base.core.VarDesc.VarType.FETCH_LIST)
        names = sorted({v.name for v in prog.list_vars() if v.persistable and v.desc.type() not in skip})
    out = []
    for n in names:
        t = scope.find_var(n).get_tensor()
        a = np.ascontiguousarray(np.array(t))
        dt = str(t._dtype()).replace('paddle.', '')
        out.append(dict(name=n, dtype=dt, shape=list(a.shape), sha256=hashlib.sha256(a.tobytes()).hexdigest()))
json.dump(dict(values=out, feeds=list(feeds)), open(sys.argv[1], 'w'))
'''

STREAM_VALUES = r'''
import hashlib, json, sys, numpy as np, paddle
from paddle.base import core
T = getattr(core, 'DenseTensor', None) or core.LoDTensor
L = getattr(core, 'load_dense_tensor', None) or core.load_lod_tensor
t = T(); L(t, 'tensor.pdtensor')
if 'float8' in str(t._dtype()):
    # np.array(DenseTensor) of a float8 tensor returns float32 garbage read past the buffer
    # (Paddle 3.3.1); the Tensor's uint8 view gives the bytes Paddle holds.
    a = np.ascontiguousarray(paddle.Tensor(t).view(paddle.uint8).numpy())
else:
    a = np.ascontiguousarray(np.array(t))
e = dict(name=None, dtype=str(t._dtype()).replace('paddle.', ''), shape=list(a.shape),
         sha256=hashlib.sha256(a.tobytes()).hexdigest())
if t.lod(): e['lod'] = [list(map(int, l)) for l in t.lod()]
json.dump(dict(values=[e]), open(sys.argv[1], 'w'))
'''


def run(code, cwd, args=()):
    # a real file, not `-c`: jit.save (dy2static) needs the source of forward()
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, 'snippet.py')
        with open(script, 'w') as f:
            f.write(code)
        subprocess.run([sys.executable, script, *args], cwd=cwd, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def case(cid, code, fmt, entry, values_code, notes):
    d = os.path.join(HERE, cid)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    run(code, d)
    run(values_code, d, ['values.tmp'])
    with open(os.path.join(d, 'values.tmp')) as f:
        res = json.load(f)
    os.remove(os.path.join(d, 'values.tmp'))
    import paddle
    with open(os.path.join(d, 'values.json'), 'w') as f:
        json.dump(res['values'], f, indent=1, ensure_ascii=False)
    meta = dict(id=cid, format=fmt, entry=entry, writer=dict(paddle=paddle.__version__),
                files=sorted(os.listdir(d)), feeds=res.get('feeds'), notes=notes, python=code)
    with open(os.path.join(d, 'case.json'), 'w') as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
    print(cid, meta['files'])


case(f'{W}_lod2', LOD2, 'tensor_stream', 'tensor.pdtensor', STREAM_VALUES,
     'Two LoD levels; also the base file of the structural-error tests.')
case(f'{W}_cond_names', COND_NAMES, 'program+params', 'model', MODEL_VALUES,
     'Control flow (cond) and names whose byte order differs from case-folded order.')
if W == 'p3':
    case('p3_selected_rows', SELECTED_ROWS, 'tensor_stream', 'rows.pdtensor', SR_VALUES,
         'SelectedRows; the base file of the SelectedRows structural-error tests.')
    for dt in ['float8_e4m3fn', 'float8_e5m2']:
        case(f'p3_{dt}', FLOAT8.replace('DT', dt), 'tensor_stream', 'tensor.pdtensor',
             STREAM_VALUES, 'float8 tensors exist only in Paddle 3.')
    case('p3_dtype_buffers', DTYPE_BUFFERS, 'program+params', 'model', MODEL_VALUES,
         'jit.save of buffers of every dtype: one combined .pdiparams with 12 element types.')
