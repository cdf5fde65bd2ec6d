"""The Python API beyond paddle.load equality: zero-copy arrays, copies, pdsave.Tensor
without Paddle, bfloat16, path forms, options, check / inspect reports."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import pdsave
from pdsave import _native

from conftest import CASES

SD = os.path.join(CASES, "y_p3_proto4_convnet_state_dict", "model.pdparams")
BF16 = os.path.join(CASES, "y_p3_proto4_bf16_state_dict", "model.pdparams")


def test_arrays_are_read_only_zero_copy_views_where_aligned():
    sd = pdsave.load(SD, return_numpy=True)
    views = 0
    for v in sd.values():
        if not isinstance(v, np.ndarray):
            continue
        assert not v.flags.writeable and v.flags.aligned
        if isinstance(v.base, _native.MappedArray):
            views += 1  # the bytes of the mapped file itself
        else:
            assert v.flags.owndata  # unaligned in the file: an aligned copy
    assert views > 0
    with pytest.raises(ValueError):
        next(iter(sd.values()))[...] = 0


def test_copy_gives_writable_arrays():
    sd = pdsave.load(SD, return_numpy=True, copy=True)
    ref = pdsave.load(SD, return_numpy=True)
    for k, v in sd.items():
        if isinstance(v, np.ndarray):
            assert v.flags.writeable and v.flags.owndata
            assert np.array_equal(v, ref[k])


def test_tensors_without_paddle_in_a_fresh_process():
    code = (
        "import sys, pdsave; sd = pdsave.load(sys.argv[1]); "
        "t = sd['fc.weight']; assert isinstance(t, pdsave.Tensor), type(t); "
        "assert (t.name, t.dtype, t.shape) == ('linear_0.w_0', 'float32', [32, 3]); "
        "assert t.numpy().shape == (32, 3); assert 'paddle' not in sys.modules"
    )
    env = dict(os.environ, PDSAVE_NO_PADDLE="1")
    subprocess.run([sys.executable, "-c", code, SD], check=True, env=env)


def test_bfloat16_as_paddle_gives_it():
    sd = pdsave.load(BF16, tensor="pdsave")
    t = next(v for v in sd.values() if isinstance(v, pdsave.Tensor))
    assert t.dtype == "bfloat16" and t.numpy().dtype == np.uint16
    ml = pytest.importorskip("ml_dtypes")
    assert t.numpy(ml_dtypes=True).dtype == ml.bfloat16
    raw = pdsave.load(BF16, return_numpy=True)
    assert all(v.dtype == np.uint16 for v in raw.values() if isinstance(v, np.ndarray))


def test_path_forms_and_pathlike():
    import pathlib

    prefix = os.path.join(CASES, "y_p2_jit_save_prefix", "net")
    d = pdsave.load(prefix, return_numpy=True, paddle="2.6.2")
    assert d and all(isinstance(v, np.ndarray) for v in d.values())
    assert pdsave.load(pathlib.Path(SD), return_numpy=True).keys() == \
        pdsave.load(SD, return_numpy=True).keys()
    with pytest.raises(ValueError):
        pdsave.load(os.path.join(CASES, "no_such_file"))


def test_paddle_release_selects_that_release_rules():
    # A legacy jit.save prefix: Paddle 2.6.2 loads its parameters, every Paddle 3 raises
    # TypeError (spec/versions.md V-PROGRAM); pickles load alike in every release.
    prefix = os.path.join(CASES, "y_p3_legacy_jit_save_prefix", "net")
    assert pdsave.load(prefix, return_numpy=True, paddle="2.6.2")
    assert pdsave.load(prefix, return_numpy=True, paddle="2")
    for release in ("3.0.0", "3.3.1", "3"):
        with pytest.raises(TypeError):
            pdsave.load(prefix, return_numpy=True, paddle=release)
    assert pdsave.load(SD, return_numpy=True, paddle="2.6.2").keys() == \
        pdsave.load(SD, return_numpy=True, paddle="3.3.1").keys()
    with pytest.raises(ValueError, match="not a release"):
        pdsave.load(SD, paddle="1.8.5")
    assert "3.3.1" in _native.RELEASES and "2.6.2" in _native.RELEASES


def test_safetensors_mode_reads_safetensors_in_data_offset_order():
    st = os.path.join(CASES, "y_p3_safetensors_no_bf16/model.safetensors")
    assert list(pdsave.load(st, safetensors=True, return_numpy=True)) == ["steps", "b", "w", "half"]
    with pytest.raises(Exception, match="header"):
        pdsave.load(SD, safetensors=True)


@pytest.mark.parametrize("case", ["y_p3_proto4_convnet_state_dict/model.pdparams",
                                  "n_memo_hidden_global/input.bin",
                                  "y_p2_jit_save_prefix/net",
                                  "i_p3_proto4_faq2_static_tensor_with_ndarray/obj.pdparams"])
def test_reports_have_the_fields_of_json(case):
    path = os.path.join(CASES, case)
    r = pdsave.check(path)
    want = json.loads(_native.check_json(path))
    for g in want["globals"]:
        g.setdefault("file", None)  # absent in the JSON for a single file
    assert dataclasses.asdict(r) == want
    ok, text = _native.inspect_json(path, True)
    if ok:
        assert dataclasses.asdict(pdsave.inspect(path, stats=True)) == _with_defaults(
            json.loads(text))


def _with_defaults(d):
    # Optional fields the JSON omits when absent (loads_as, stats) are None in the dataclass.
    for v in d["variables"]:
        v.setdefault("loads_as", None)
        v.setdefault("stats", None)
    return d


def test_check_says_unsafe_and_safe():
    assert not pdsave.check(os.path.join(CASES, "n_os_system", "input.bin")).safe
    r = pdsave.check(SD)
    assert r.safe and r.exit_code == 0
    with pytest.raises(FileNotFoundError):
        pdsave.inspect(os.path.join(CASES, "no_such_file"))


def test_tensor_repr_and_array():
    t = pdsave.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), name="w")
    assert "w" in repr(t) and np.asarray(t).shape == (2, 3)
    with pytest.raises(TypeError):
        pdsave.Tensor(np.zeros(2, np.uint32))


def test_align_false_copies_nothing():
    sd = pdsave.load(SD, return_numpy=True, align=False)
    arrays = [v for v in sd.values() if isinstance(v, np.ndarray) and v.nbytes]
    assert arrays and all(isinstance(v.base, _native.MappedArray) for v in arrays)
    ref = pdsave.load(SD, return_numpy=True, copy=True)
    assert all(np.array_equal(v, ref[k]) for k, v in sd.items() if isinstance(v, np.ndarray))
