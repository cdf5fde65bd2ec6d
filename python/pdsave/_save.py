"""``pdsave.save``: a Python object as the flat node list the native module reads
(python/src/objects.rs: one node per distinct object, so identity is kept as pickle keeps
it), then the library's ``paddle.save``."""

from __future__ import annotations

import collections
import os
import sys

import numpy as np

from . import _native
from ._errors import _Hooks
from ._tensor import Tensor

_NUMPY_DTYPES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
}


def _paddle_types():
    """(Tensor, EagerParamBase, DenseTensor, Layer, Program classes) when paddle is imported."""
    paddle = sys.modules.get("paddle")
    if paddle is None:
        return None
    from paddle.base import core
    from paddle.base.framework import EagerParamBase

    programs = [paddle.static.Program]
    pir = getattr(paddle, "pir", None)
    if pir is not None and hasattr(pir, "Program"):
        programs.append(pir.Program)
    return core.eager.Tensor, EagerParamBase, core.DenseTensor, paddle.nn.Layer, tuple(programs)


def _cached_str(s):
    """CPython's cached object for an empty or one-character str (P-ID), or None."""
    if s == "":
        return str()
    return chr(ord(s)) if ord(s) < 256 else None


def _cached_bytes(b):
    return bytes() if b == b"" else bytes([b[0]])


def _array_parts(a):
    """(fortran, contiguous array) as numpy's ndarray.__reduce__ sees it."""
    if a.flags.c_contiguous:
        return False, a
    if a.flags.f_contiguous:
        return True, a
    return False, a.copy(order="C")


class _Flattener:
    def __init__(self):
        self.nodes = []
        self.index = {}
        self.keep = []  # every object visited (ids stay unique) and every array read
        self.paddle = _paddle_types()

    def data(self, a):
        self.keep.append(a)
        return a.__array_interface__["data"][0] if a.nbytes else 0, a.nbytes

    def add(self, o, node):
        self.nodes.append(node)
        self.index[id(o)] = len(self.nodes) - 1
        return len(self.nodes) - 1

    def tensor_node(self, kind, dtype, arr, name, stop_gradient):
        arr = np.asarray(arr)
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
        if dtype == "bfloat16":
            arr = arr.view(np.uint16)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        addr, n = self.data(arr)
        shape = [int(d) for d in arr.shape]
        return ("tensor", kind, dtype, shape, addr, n, name, bool(stop_gradient))

    def visit(self, o):
        k = id(o)
        if k in self.index:
            return self.index[k]
        self.keep.append(o)
        t = type(o)
        if o is None:
            return self.add(o, ("none",))
        if isinstance(o, np.generic):
            name = o.dtype.name
            if name not in _NUMPY_DTYPES:
                raise TypeError(f"pdsave.save: numpy scalar of dtype {o.dtype} is not supported")
            return self.add(o, ("npscalar", name, o.astype(o.dtype.newbyteorder("<")).tobytes()))
        if t is bool:
            return self.add(o, ("bool", o))
        if t is int:
            return self.add(o, ("int", o))
        if t is float:
            return self.add(o, ("float", o))
        if t is complex:
            return self.add(o, ("complex", o.real, o.imag))
        if t is str:
            return self.add(o, ("str", o, len(o) <= 1 and o is not _cached_str(o)))
        if t is bytes:
            return self.add(o, ("bytes", o, len(o) <= 1 and o is not _cached_bytes(o)))
        if t is bytearray:
            return self.add(o, ("bytearray", bytes(o)))
        if t in (list, tuple, set, frozenset):
            items = [self.visit(x) for x in o]
            return self.add(o, (t.__name__, items))
        if t is dict or t is collections.OrderedDict:
            items = [(self.visit(kk), self.visit(v)) for kk, v in o.items()]
            return self.add(o, ("dict" if t is dict else "odict", items))
        if t is np.ndarray:
            name = o.dtype.name
            if name not in _NUMPY_DTYPES:
                raise TypeError(f"pdsave.save: ndarray of dtype {o.dtype} is not supported")
            fortran, a = _array_parts(o)
            order = ">" if a.dtype.byteorder == ">" else "<"
            addr, n = self.data(a)
            return self.add(o, ("ndarray", name, order, [int(d) for d in a.shape], fortran,
                                addr, n))
        if isinstance(o, Tensor):
            return self.add(o, self.tensor_node(o.kind, o.dtype, o._array, o.name,
                                                o.stop_gradient))
        if self.paddle is not None:
            eager, param, dense, layer, programs = self.paddle
            if isinstance(o, eager):
                dtype = str(o.dtype).replace("paddle.", "")
                kind = "parameter" if isinstance(o, param) else "dynamic"
                return self.add(o, self.tensor_node(kind, dtype, o.numpy(), o.name,
                                                    o.stop_gradient))
            if isinstance(o, dense):
                arr = np.array(o)
                dtype = str(o._dtype()).replace("paddle.", "").lower()
                dtype = {"bf16": "bfloat16", "fp32": "float32"}.get(dtype, dtype)
                if dtype not in ("bfloat16",) and arr.dtype.name in _NUMPY_DTYPES:
                    dtype = {"uint16": "bfloat16"}.get(arr.dtype.name, arr.dtype.name)
                return self.add(o, self.tensor_node("static", dtype, arr, None, True))
            if isinstance(o, layer):
                return self.add(o, ("layer",))
            if isinstance(o, programs):
                return self.add(o, ("program",))
        raise TypeError(
            f"pdsave.save: cannot save an object of type {t.__module__}.{t.__qualname__} "
            "(pdsave saves what paddle.save writes for Paddle's and numpy's types and "
            "Python's built-in ones; pickle would store this one by class reference)"
        )


def _flatten(obj):
    f = _Flattener()
    root = f.visit(obj)
    return f, root


def save(obj, path, protocol=4, numpy=2):
    """Writes what ``paddle.save(obj, path, protocol=protocol)`` writes, byte for byte,
    without Paddle: a state dict gets its ``StructuredToParameterName@@`` table, Tensors
    their ``(name, ndarray)`` form, protocols 2 and 3 split big parameters — the rules of
    spec/rules.md (S-). ``numpy``: the numpy major version of the saving environment whose
    module paths the pickle names (``numpy._core`` for 2, ``numpy.core`` for 1; Paddle on
    numpy 2 writes 2).

    Tensors may be ``paddle.Tensor`` (and Layer parameters, static DenseTensors) when
    Paddle is imported, or :class:`pdsave.Tensor` without it. The file is written through
    a temporary beside it, renamed into place: an error leaves nothing behind. Raises what
    ``paddle.save`` raises (ValueError for protocol 5 or a Layer, NotImplementedError for
    bytes in a non-state-dict object, …), and TypeError for a type pdsave cannot save.

    >>> import numpy as np, pdsave
    >>> sd = {"weight": pdsave.Tensor(np.zeros((3, 4), np.float32), name="linear_0.w_0")}
    >>> pdsave.save(sd, "model.pdparams")                     # doctest: +SKIP
    >>> pdsave.load("model.pdparams")["weight"].name          # doctest: +SKIP
    'linear_0.w_0'
    """
    f, root = _flatten(obj)
    _native.save(f.nodes, root, os.fspath(path), int(protocol), int(numpy), _Hooks)
