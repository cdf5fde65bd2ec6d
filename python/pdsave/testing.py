"""pdsave's conformance properties for Paddle's own test suite.

Hypothesis strategies for the save-side objects pdsave's property suite generates
(``src/gen.rs``: state dicts, optimizer states, nested containers with shared references,
every dtype, edge scalars, and the FAQ's ambiguous cases — dynamic Tensors beside user
``(str, ndarray)`` tuples, static Tensors beside ndarrays, uint16/uint32 arrays), and
:func:`assert_roundtrip`, which saves an object with the installed Paddle and checks:

1. ``pdsave.save`` writes the same bytes as ``paddle.save`` (or raises the same class);
2. ``pdsave.load`` equals ``paddle.load`` under each option set (objects compared by
   :func:`compare`);
3. ``paddle.load`` gives back what was saved exactly when pdsave's classifier finds no
   non-unique decoding (spec/harness.md H-2); a case it finds fails with its rule id
   (``A-FAQ1`` …) unless that rule is in ``allow``.

Three lines in a Paddle test::

    from hypothesis import given
    import paddle, pdsave.testing as pt

    @given(pt.objects())
    def test_save_load_roundtrip(obj):
        pt.assert_roundtrip(obj, paddle=paddle, allow=pt.KNOWN_RULES)

Objects hold :class:`pdsave.Tensor` for Tensors (kind ``dynamic``, ``parameter`` or
``static``); ``assert_roundtrip`` turns them into Paddle's own before ``paddle.save``.
Needs the ``hypothesis`` package (``pip install pdsave[testing]``).
"""

from __future__ import annotations

import collections
import json
import math
import os
import struct
import tempfile

import numpy as np

from . import _native
from ._save import _flatten
from ._tensor import Tensor

try:
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - the strategies need hypothesis
    st = None

__all__ = [
    "objects", "state_dicts", "optimizer_states", "trees", "leaves", "scalars", "arrays",
    "tensors", "protocols", "assert_roundtrip", "compare", "materialize", "KNOWN_RULES",
    "OPTION_SETS",
]

#: The option sets pdsave's corpus records (name, paddle.load keyword arguments).
OPTION_SETS = (
    ("default", {}),
    ("return_numpy", {"return_numpy": True}),
    ("keep_name_table", {"keep_name_table": True}),
)

#: Every non-unique decoding of spec/rules.md: Paddle's documented behaviour, not a bug.
KNOWN_RULES = frozenset({
    "A-FAQ1", "A-FAQ2", "A-FAQ3", "A-NDARRAY", "A-BF16", "A-UINT", "A-ITER", "A-LARGE",
    "A-DEEP", "A-ODICT", "A-GRAD", "A-SPLIT", "A-SAVE-ITER", "A-SAVE-LAYER", "A-SAVE",
    "A-STATIC-EMPTY",
})

_NUMPY_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64", "float16", "float32", "float64", "complex64", "complex128"]
_PADDLE_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float64",
                  "complex64", "complex128"]
_CARRIER = {"bfloat16": "uint16"}


class _Ref:
    """A reference to an earlier finished object (resolved by ``_resolve``)."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k


def _need_hypothesis():
    if st is None:
        raise ImportError("pdsave.testing's strategies need hypothesis: pip install hypothesis")


def _data(draw, n, bool_like):
    b = draw(st.binary(min_size=n, max_size=n))
    if bool_like:
        b = bytes(x & 1 for x in b)
    return b


def _shape():
    return st.one_of(
        st.just(()), st.just(()), st.just((0, 3)), st.just((0,)),
        st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple),
        st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple),
        st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple),
    )


def numpy_dtypes():
    """A numpy dtype name, weighted toward the ones with load-side rules (uint16/32/64)."""
    _need_hypothesis()
    return st.one_of(
        st.just("float32"), st.just("float32"), st.just("float32"), st.just("int64"),
        st.just("uint16"), st.just("uint32"), st.just("uint64"), st.sampled_from(_NUMPY_DTYPES),
        st.sampled_from(_NUMPY_DTYPES),
    )


@st.composite if st is not None else (lambda f: f)
def arrays(draw):
    """An ndarray: C or Fortran order, rarely big-endian."""
    dtype = np.dtype(draw(numpy_dtypes()))
    shape = draw(_shape())
    n = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    data = _data(draw, n, dtype.name == "bool")
    if dtype.itemsize > 1 and draw(st.integers(0, 19)) == 0:
        dtype = dtype.newbyteorder(">")
    a = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if len(shape) >= 2 and draw(st.booleans()):
        a = np.asfortranarray(np.frombuffer(data, dtype=dtype).reshape(shape, order="F"))
    return a


@st.composite if st is not None else (lambda f: f)
def tensors(draw):
    """A :class:`pdsave.Tensor`: dynamic, Parameter or static, of any Paddle dtype."""
    kind = draw(st.sampled_from(["dynamic"] * 6 + ["parameter"] * 2 + ["static"] * 2))
    dtype = draw(st.one_of(st.just("float32"), st.just("float32"), st.just("bfloat16"),
                           st.sampled_from(_PADDLE_DTYPES)))
    shape = draw(_shape())
    if kind == "parameter" and 0 in shape:
        shape = (1,)  # a Parameter is never empty in Paddle
    carrier = np.dtype(_CARRIER.get(dtype, dtype))
    n = int(np.prod(shape, dtype=np.int64)) * carrier.itemsize
    data = _data(draw, n, carrier.name == "bool")
    k = draw(st.integers(0, 49))
    naming = draw(st.integers(0, 3))
    if kind == "static":
        name = None
    elif kind == "parameter":
        name = f"linear_{k}.w_0"
    else:
        name = {0: f"eager_tmp_{k}", 1: f"my_tensor{k}"}.get(naming, f"generated_tensor_{k}")
    sg = {"parameter": False, "static": True}.get(kind, draw(st.booleans()))
    arr = np.frombuffer(data, dtype=carrier).reshape(shape).copy()
    return Tensor(arr, name=name, dtype=dtype, kind=kind, stop_gradient=sg)


def _ints():
    return st.one_of(
        st.sampled_from([0, 1, 255, 256, 65535, 65536, -1, -256, 1 << 31, -(1 << 31) - 1,
                         2**63 - 1, -(2**63)]),
        st.integers(-(2**63), 2**63 - 1),
        st.sampled_from([2**63, -(2**64), 10**40]),
    )


def _floats():
    return st.one_of(
        st.sampled_from([0.0, -0.0, 1.5, math.nan, math.inf, -math.inf, 1e300, 5e-324]),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def _text():
    return st.one_of(
        st.sampled_from(["", "a", "ü中", "weight", "bias", "data"]),
        st.from_regex(r"[a-z_.]{0,12}", fullmatch=True),
        st.just("x" * 300),
    )


def _npscalar():
    return st.builds(
        lambda d, b: np.frombuffer(b, dtype=d)[0],
        st.shared(numpy_dtypes(), key="npscalar"),
        st.shared(numpy_dtypes(), key="npscalar").flatmap(
            lambda d: st.binary(min_size=np.dtype(d).itemsize, max_size=np.dtype(d).itemsize)
            .map(lambda b: bytes(x & 1 for x in b) if d == "bool" else b)),
    )


def scalars():
    """A plain Python or numpy scalar: None, bool, int of any size, float (NaN, ±inf,
    -0.0, subnormals), complex, str, bytes, bytearray, numpy scalars."""
    _need_hypothesis()
    return st.one_of(
        st.none(), st.booleans(), _ints(), _ints(), _floats(),
        st.builds(complex, _floats(), _floats()), _text(), _text(),
        st.binary(max_size=3), st.binary(max_size=3).map(bytearray), _npscalar(),
    )


def _keys():
    return st.one_of(
        st.sampled_from(["w", "b", "weight", "bias", "a", "LR_Scheduler", "epoch",
                         "linear.weight", "x" * 300]),
        st.integers(0, 4),
    )


def leaves():
    """A leaf of a generic object: scalars, ndarrays, Tensors, the user ``(str, ndarray)``
    tuple (the FAQ's ambiguous form), a reference to an earlier object, a set."""
    _need_hypothesis()
    return st.one_of(
        scalars(), arrays(), tensors(), tensors(),
        st.tuples(_text(), arrays()),
        st.integers(0, 2**32).map(_Ref),
        st.lists(st.integers(0, 7), max_size=4).map(set),
    )


def _dict(kv, max_size, cls=dict):
    return st.lists(kv, max_size=max_size).map(lambda items: cls(_unique(items)))


def _unique(items):
    seen, out = set(), []
    for k, v in items:
        if (type(k), k) not in seen:
            seen.add((type(k), k))
            out.append((k, v))
    return out


def trees():
    """Nested lists, tuples, dicts, OrderedDicts and frozensets over :func:`leaves`."""
    _need_hypothesis()
    return st.recursive(
        leaves(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.lists(inner, max_size=4).map(tuple),
            _dict(st.tuples(_keys(), inner), 4),
            _dict(st.tuples(_keys(), inner), 3, collections.OrderedDict),
            st.lists(st.integers(0, 7), max_size=3).map(frozenset),
        ),
        max_leaves=12,
    )


def state_dicts():
    """``layer.state_dict()``-like: str keys to Tensors; sometimes an OrderedDict."""
    _need_hypothesis()
    return st.builds(
        lambda items, od: (collections.OrderedDict if od else dict)(_unique(items)),
        st.lists(st.tuples(_keys(), tensors()), max_size=4), st.booleans(),
    )


def optimizer_states():
    """``optimizer.state_dict()``-like: Tensors and an ``LR_Scheduler`` dict of scalars."""
    _need_hypothesis()

    def build(ts, sched):
        d = dict(_unique(ts))
        d["LR_Scheduler"] = dict(_unique(sched))
        return d

    return st.builds(build, st.lists(st.tuples(_keys(), tensors()), max_size=3),
                     st.lists(st.tuples(_keys(), scalars()), max_size=3))


def objects():
    """A save-side object as users pass it to ``paddle.save`` (what pdsave's property
    suite generates: 3 parts state dicts, 1 optimizer states, 6 nested trees)."""
    _need_hypothesis()
    sd, opt, tree = state_dicts(), optimizer_states(), trees()
    return st.one_of(sd, sd, sd, opt, tree, tree, tree, tree, tree, tree).map(_resolve)


def protocols():
    """A protocol ``paddle.save`` accepts: 2, 3 or 4."""
    _need_hypothesis()
    return st.sampled_from([2, 3, 4])


def _resolve(obj):
    """Replaces each ``_Ref`` by an earlier finished object (none yet: None), as the Rust
    generators do: shared references without cycles."""
    done = []

    def go(o):
        if isinstance(o, _Ref):
            return done[o.k % len(done)] if done else None
        t = type(o)
        if t in (list, tuple):
            o = t(go(x) for x in o)
        elif t in (dict, collections.OrderedDict):
            o = t((k, go(v)) for k, v in o.items())
        done.append(o)
        return o

    return go(obj)


def materialize(obj, paddle):
    """``obj`` with each :class:`pdsave.Tensor` made a Paddle one of its kind (shared
    objects stay shared): what ``paddle.save`` is given. Returns ``(object, keep)``; keep
    ``keep`` alive while the object is used (a static DenseTensor borrows its Tensor)."""
    from paddle.base.framework import EagerParamBase

    memo, keep = {}, []

    def tensor(t):
        arr = t.numpy()
        if t.kind == "parameter":
            p = EagerParamBase(shape=list(arr.shape), dtype=t.dtype, name=t.name)
            p.set_value(paddle.to_tensor(arr) if t.dtype == "bfloat16" else arr)
            p.stop_gradient = t.stop_gradient
            return p
        x = paddle.to_tensor(arr)
        if t.kind == "static":
            keep.append(x)
            return x.value().get_tensor()
        if t.name is not None:
            x.name = t.name
        x.stop_gradient = t.stop_gradient
        return x

    def go(o):
        k = id(o)
        if k in memo:
            return memo[k]
        t = type(o)
        if isinstance(o, Tensor):
            r = tensor(o)
        elif t in (list, tuple, set, frozenset):
            r = t(go(x) for x in o)
        elif t in (dict, collections.OrderedDict):
            r = t((k2, go(v)) for k2, v in o.items())
        else:
            r = o
        memo[k] = r
        keep.append(o)
        return r

    return go(obj), keep


def _float_bits(x):
    return struct.pack("<d", x)


def _generated(name):
    return name is None or str(name).startswith(("generated_tensor", "eager_tmp"))


def _tensor_parts(t):
    """(dtype, shape, name, C-order bytes) of a paddle or pdsave Tensor."""
    dtype = str(t.dtype).replace("paddle.", "")
    a = np.asarray(t.numpy())
    if dtype == "bfloat16":
        a = a.view(np.uint16)
    return dtype, [int(d) for d in t.shape], t.name, np.ascontiguousarray(a).tobytes()


def _is_tensor(o):
    if isinstance(o, Tensor):
        return True
    import sys

    paddle = sys.modules.get("paddle")
    return paddle is not None and isinstance(o, paddle.Tensor)


def compare(a, b, path="obj"):
    """Where ``a`` and ``b`` differ as ``paddle.load`` results (``None``: the same):
    exact Python types; floats and complex bit for bit; dicts in order; sets as sets;
    arrays by dtype (with byte order), shape, memory order and bytes; Tensors by dtype,
    shape, bytes and name (names Paddle generates — ``generated_tensor_<N>``,
    ``eager_tmp_<N>`` — are equal to each other, their counters being process-wide)."""
    if _is_tensor(a) or _is_tensor(b):
        if not (_is_tensor(a) and _is_tensor(b)):
            return f"{path}: {type(a).__name__} vs {type(b).__name__}"
        if type(a) is not type(b):
            return f"{path}: {type(a).__name__} vs {type(b).__name__}"
        (da, sa, na, ba), (db, sb, nb, bb) = _tensor_parts(a), _tensor_parts(b)
        if (da, sa) != (db, sb):
            return f"{path}: Tensor {da}{sa} vs {db}{sb}"
        if ba != bb:
            return f"{path}: Tensor values differ"
        if na != nb and not (_generated(na) and _generated(nb)):
            return f"{path}: Tensor name {na!r} vs {nb!r}"
        if getattr(a, "stop_gradient", True) != getattr(b, "stop_gradient", True):
            return f"{path}: stop_gradient {a.stop_gradient} vs {b.stop_gradient}"
        return None
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.dtype.byteorder != b.dtype.byteorder:
            return f"{path}: ndarray dtype {a.dtype.str} vs {b.dtype.str}"
        if a.shape != b.shape:
            return f"{path}: ndarray shape {a.shape} vs {b.shape}"
        if a.flags.f_contiguous != b.flags.f_contiguous or a.flags.c_contiguous != \
                b.flags.c_contiguous:
            return f"{path}: ndarray memory order differs"
        if a.tobytes("A") != b.tobytes("A"):
            return f"{path}: ndarray values differ"
        return None
    if isinstance(a, np.generic):
        if a.dtype != b.dtype or a.tobytes() != b.tobytes():
            return f"{path}: numpy scalar {a!r} vs {b!r}"
        return None
    if isinstance(a, float):
        return None if _float_bits(a) == _float_bits(b) else f"{path}: {a!r} vs {b!r}"
    if isinstance(a, complex):
        same = _float_bits(a.real) == _float_bits(b.real) and \
            _float_bits(a.imag) == _float_bits(b.imag)
        return None if same else f"{path}: {a!r} vs {b!r}"
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = compare(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(a, dict):
        ka, kb = list(a.keys()), list(b.keys())
        if len(ka) != len(kb):
            return f"{path}: {len(ka)} keys vs {len(kb)}"
        for x, y in zip(ka, kb):
            d = compare(x, y, f"{path}.keys()")
            if d:
                return d
            d = compare(a[x], b[y], f"{path}[{x!r}]")
            if d:
                return d
        return None
    if isinstance(a, (set, frozenset)):
        return None if a == b else f"{path}: {a!r} vs {b!r}"
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def _outcome(f):
    try:
        return f(), None
    except Exception as e:  # noqa: BLE001 - the class is the observable
        return None, e


def assert_roundtrip(obj, paddle, protocol=4, allow=frozenset(), numpy=None):
    """Saves ``obj`` with ``paddle.save`` and checks pdsave against it (module docstring):
    bytes, loads under every option set, and the round trip itself. Raises
    AssertionError naming what differs, the rule ids the classifier finds and a Python
    snippet that replays the case; a non-unique decoding whose rule is in ``allow``
    (e.g. :data:`KNOWN_RULES`) passes."""
    import pdsave

    if numpy is None:
        numpy = int(np.__version__.split(".")[0])
    real, keep = materialize(obj, paddle)
    f, root = _flatten(obj)
    with tempfile.TemporaryDirectory(prefix="pdsave-rt-") as d:
        theirs, ours = os.path.join(d, "paddle.pdparams"), os.path.join(d, "pdsave.pdparams")
        _, e_theirs = _outcome(lambda: paddle.save(real, theirs, protocol=protocol))
        _, e_ours = _outcome(lambda: pdsave.save(obj, ours, protocol=protocol, numpy=numpy))
        report = json.loads(_native.classify(
            f.nodes, root, protocol, numpy, None if e_theirs else theirs))
        rules = sorted({x["rule"] for x in report["findings"] if x["visible"]})
        where = "; ".join(f"{x['rule']} at {x['path']}: {x['message']}"
                          for x in report["findings"] if x["visible"])

        def fail(what):
            raise AssertionError(
                f"{what}\nrules: {', '.join(rules) or 'none'}{' (' + where + ')' if where else ''}"
                f"\nreplay with real Paddle:\n{report['snippet']}")

        if e_theirs or e_ours:
            if type(e_theirs) is not type(e_ours):
                fail(f"paddle.save raised {e_theirs!r}, pdsave.save raised {e_ours!r}")
            if not any(r.startswith("A-SAVE") for r in rules):
                fail(f"paddle.save raised {e_theirs!r} and no A-SAVE rule predicts it")
            if not set(r for r in rules if r.startswith("A-SAVE")) <= set(allow):
                fail(f"paddle.save raises {type(e_theirs).__name__}")
            return
        with open(theirs, "rb") as a, open(ours, "rb") as b:
            ba, bb = a.read(), b.read()
        if ba != bb:
            at = next((i for i, (x, y) in enumerate(zip(ba, bb)) if x != y), min(len(ba), len(bb)))
            fail(f"pdsave.save differs from paddle.save at byte {at} "
                 f"({len(bb)} vs {len(ba)} bytes)")
        for name, kw in OPTION_SETS:
            p, ep = _outcome(lambda: paddle.load(theirs, **kw))
            q, eq = _outcome(lambda: pdsave.load(theirs, **kw))
            if ep or eq:
                if type(ep) is not type(eq):
                    fail(f"{name}: paddle.load raised {ep!r}, pdsave.load raised {eq!r}")
                continue
            d = compare(q, p)
            if d:
                fail(f"{name}: pdsave.load and paddle.load differ at {d}")
        same = report["diff"] is None
        if same and rules:
            fail("the object comes back as saved, yet the classifier reports a finding (H-2)")
        if not same and not rules:
            fail(f"paddle.load does not give back what was saved (at {report['diff']}) and no "
                 "rule explains it (H-2)")
        if not same and not set(rules) <= set(allow):
            fail(f"paddle.load does not give back what was saved (at {report['diff']})")
    del keep
