"""``pdsave.Tensor``: what ``pdsave.load`` gives for a Paddle Tensor when Paddle is not
installed (or with ``tensor="pdsave"``), and a way to hand ``pdsave.save`` a Tensor without
Paddle."""

from __future__ import annotations

import numpy as np

# Paddle dtype name -> the numpy dtype that carries its bytes (Tensor.numpy()'s dtype).
_CARRIER = {
    "bool": "bool", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
    "uint8": "uint8", "float16": "float16", "float32": "float32", "float64": "float64",
    "complex64": "complex64", "complex128": "complex128", "bfloat16": "uint16",
}
_KINDS = ("dynamic", "parameter", "static")


class Tensor:
    """A Paddle Tensor as stored: name, dtype, shape and the values.

    ``pdsave.load`` returns these where ``paddle.load`` returns a ``paddle.Tensor`` and
    Paddle is not importable. ``numpy()`` gives what ``paddle.Tensor.numpy()`` gives: for
    bfloat16 the raw 16-bit patterns as a ``uint16`` array (Paddle 3.3.1 does the same), or
    with ``numpy(ml_dtypes=True)`` the same bytes as an ``ml_dtypes.bfloat16`` array.

    Build one to save without Paddle (``kind``: ``"dynamic"`` for ``paddle.Tensor``,
    ``"parameter"`` for a Layer's parameter, ``"static"`` for a static-graph DenseTensor):

    >>> import numpy as np, pdsave
    >>> t = pdsave.Tensor(np.ones((2, 3), np.float32), name="linear_0.w_0")
    >>> t.dtype, t.shape, t.name
    ('float32', [2, 3], 'linear_0.w_0')
    """

    __slots__ = ("_array", "name", "dtype", "kind", "stop_gradient")

    def __init__(self, array, name=None, dtype=None, kind="dynamic", stop_gradient=True):
        array = np.asarray(array)
        if dtype is None:
            dtype = "bfloat16" if array.dtype.name == "bfloat16" else array.dtype.name
        dtype = str(dtype)
        if dtype.startswith("paddle."):
            dtype = dtype[len("paddle."):]
        if dtype not in _CARRIER:
            raise TypeError(f"pdsave.Tensor: Paddle has no Tensor of dtype {dtype!r}")
        carrier = np.dtype(_CARRIER[dtype])
        if array.dtype != carrier:
            if array.dtype.itemsize == carrier.itemsize and dtype == "bfloat16":
                array = array.view(carrier)  # ml_dtypes.bfloat16 -> its bit patterns
            elif array.dtype.newbyteorder("=") == carrier.newbyteorder("="):
                pass  # another byte order: numpy() converts
            else:
                raise TypeError(
                    f"pdsave.Tensor: a {dtype} Tensor needs {carrier.name} data, got {array.dtype}"
                )
        if kind not in _KINDS:
            raise ValueError(f"pdsave.Tensor: kind must be one of {_KINDS}, not {kind!r}")
        self._array = array
        self.name = name
        self.dtype = dtype
        self.kind = kind
        self.stop_gradient = bool(stop_gradient)

    @property
    def shape(self):
        """The shape, as a list (as ``paddle.Tensor.shape``)."""
        return [int(d) for d in self._array.shape]

    @property
    def ndim(self):
        return self._array.ndim

    @property
    def size(self):
        return int(self._array.size)

    def numpy(self, ml_dtypes=False):
        """The values as an ndarray (the loaded array itself: read-only unless
        ``pdsave.load(..., copy=True)``). bfloat16: ``uint16`` bit patterns, or
        ``ml_dtypes.bfloat16`` with ``ml_dtypes=True`` (needs the ``ml_dtypes`` package)."""
        a = self._array
        if self.dtype == "bfloat16" and ml_dtypes:
            import ml_dtypes as mld

            return a.view(mld.bfloat16)
        return a

    def __array__(self, dtype=None, copy=None):
        a = self._array
        if dtype is not None:
            a = a.astype(dtype)
        if copy:
            a = a.copy()
        return a

    def __len__(self):
        return len(self._array)

    def __repr__(self):
        return (
            f"pdsave.Tensor(name={self.name!r}, dtype={self.dtype}, shape={self.shape}"
            + (f", kind={self.kind!r}" if self.kind != "dynamic" else "")
            + ")"
        )
