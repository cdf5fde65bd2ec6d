"""pdsave: a safe, fast ``paddle.load`` / ``paddle.save``, without Paddle.

``pdsave.load(path)`` returns what ``paddle.load(path)`` returns — the same Python types,
Tensors named as Paddle names them — without ever executing the pickle (globals are
checked against Paddle's and numpy's own, exactly), and without Paddle installed:

>>> import pdsave
>>> sd = pdsave.load("model.pdparams")                       # doctest: +SKIP
>>> sd["linear.weight"]                                      # doctest: +SKIP
Tensor(shape=[3, 4], dtype=float32, ...)        # pdsave.Tensor without Paddle
>>> w = pdsave.load("model.pdparams", return_numpy=True)["linear.weight"]   # doctest: +SKIP
>>> w.flags.writeable                # a zero-copy view of the mapped file  # doctest: +SKIP
False

``pdsave.save(obj, path)`` writes the bytes ``paddle.save`` writes; ``pdsave.check`` tells
whether a file is safe and whether ``paddle.load`` gives back what was saved;
``pdsave.inspect`` lists what a file holds. ``pdsave.testing`` has Hypothesis strategies and
``assert_roundtrip`` for Paddle's own tests.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import numpy as _np

from . import _native
from ._errors import UnsafePickleError, UnsupportedValueError, _Hooks
from ._reports import CheckReport, InspectReport, _check, _inspect
from ._save import save
from ._tensor import Tensor

__all__ = [
    "load", "save", "check", "inspect", "Tensor", "UnsafePickleError",
    "UnsupportedValueError", "CheckReport", "InspectReport",
]
__version__ = _native.__version__

_TENSOR_MODES = ("auto", "paddle", "pdsave")


class _LoadHooks(_Hooks):
    def __init__(self, tensor_mode):
        self._mode = tensor_mode
        self._paddle = None

    def _use_paddle(self):
        if self._paddle is None:
            want = self._mode == "paddle" or (self._mode == "auto" and _paddle_importable())
            if want:
                import paddle

                self._paddle = paddle
            else:
                self._paddle = False
        return self._paddle

    def tensor(self, array, dtype, name):
        paddle = self._use_paddle()
        if paddle:
            # As paddle.load makes them: paddle.to_tensor, then the saved name (L-NAME).
            t = paddle.to_tensor(array)
            if name is not None:
                t.name = name
            return t
        return Tensor(array, name=name, dtype=dtype)

    @staticmethod
    def npscalar(typestr, data):
        return _np.frombuffer(data, dtype=_np.dtype(typestr))[0]

    @staticmethod
    def dtype(typestr):
        return _np.dtype(typestr)


def _paddle_importable():
    if "paddle" in sys.modules:
        return True
    if os.environ.get("PDSAVE_NO_PADDLE"):
        return False
    return importlib.util.find_spec("paddle") is not None


def load(path, return_numpy=False, keep_name_table=False, safetensors=False, *, copy=False,
         align=True, tensor="auto", paddle=None):
    """What ``paddle.load(path, return_numpy=..., keep_name_table=...)`` returns, read
    without executing anything and without Paddle.

    ``path``: every form ``paddle.load`` takes — a file (``.pdparams``, ``.pdopt``,
    ``.pdtensor``, any ``paddle.save`` pickle or binary tensor), a ``jit.save`` /
    ``save_inference_model`` prefix (``"dir/model"``), a 1.x model directory — as a str or
    ``os.PathLike``.

    The result has the types ``paddle.load`` gives: dict, OrderedDict, list, tuple, set,
    frozenset, int (any size), float (bit for bit), complex, str, bytes, bytearray, numpy
    scalars and dtypes, numpy arrays, and Tensors: ``paddle.Tensor`` (named as Paddle names
    it) when Paddle is importable, else ``pdsave.Tensor``; ``tensor="pdsave"`` /
    ``"paddle"`` forces one (``PDSAVE_NO_PADDLE=1`` in the environment makes ``"auto"`` never
    import Paddle). bfloat16 comes as Paddle gives it: a bfloat16 Tensor, or with
    ``return_numpy`` the ``uint16`` bit patterns.

    Arrays are read-only, zero-copy views of the memory-mapped file where the bytes are
    aligned for their dtype (the file stays mapped while an array uses it); the others are
    aligned read-only copies (a pickle stores payloads at any offset). ``align=False``
    makes those unaligned zero-copy views too (``a.flags.aligned`` is False: numpy computes
    on them correctly, but some C extensions want aligned data) — loading then copies
    nothing. ``copy=True`` gives writable copies of every array, like ``paddle.load``'s
    (Tensors are always Paddle's own copies).

    Where ``paddle.load`` raises, this raises the same class (ValueError for a path that
    is not there, EOFError for an empty file, …). A pickle pdsave will not read — one that
    would run code (``os.system``), or is not in the form Paddle and numpy write — raises
    ``pdsave.UnsafePickleError`` (a ``pickle.UnpicklingError``) naming the global and the
    offset; ``paddle.load`` would have executed it.

    ``safetensors=True`` is ``paddle.load``'s safetensors mode: the file is read as
    safetensors, keys in data-offset order (spec/rules.md L-SAFETENSORS).

    ``paddle="2.6.2"`` follows that release's ``paddle.load`` (a release pip offers, or a
    series: ``"2"``, ``"3.2"``; spec/versions.md): releases differ on legacy-program
    prefixes and 1.x directories, not on pickles. By default, the installed Paddle's
    release when ``paddle`` is imported already, else the newest (3.3.1).

    >>> sd = pdsave.load("model.pdparams", return_numpy=True)   # doctest: +SKIP
    >>> {k: v.shape for k, v in sd.items()}                        # doctest: +SKIP
    {'weight': (3, 4), 'bias': (4,)}
    """
    if tensor not in _TENSOR_MODES:
        raise ValueError(f"tensor must be one of {_TENSOR_MODES}, not {tensor!r}")
    if paddle is None and "paddle" in sys.modules:
        paddle = _installed_release(getattr(sys.modules["paddle"], "__version__", ""))
    return _native.load(
        os.fspath(path), bool(return_numpy), bool(keep_name_table), bool(safetensors),
        None if paddle is None else str(paddle), bool(copy), bool(align), _LoadHooks(tensor),
    )


def _installed_release(version):
    """The release pdsave follows for an installed Paddle: its own version when pdsave
    knows it, else None (the newest)."""
    return version if version in _native.RELEASES else None


def check(path):
    """``pdsave check PATH``: is the file safe to load, and will ``paddle.load`` give back
    what was saved? Returns a :class:`CheckReport` with the fields of ``pdsave check
    --json`` (every global with its offsets and verdict, findings with rule ids and
    workarounds, ``exit_code`` 0 clean / 1 findings / 2 error). Never raises for a bad file:
    an unreadable one is a report with ``exit == "error"``.

    >>> r = pdsave.check("evil.pkl")                          # doctest: +SKIP
    >>> [(g.module, g.name, g.verdict) for g in r.globals]    # doctest: +SKIP
    [('os', 'system', 'danger')]
    >>> r.safe                                                # doctest: +SKIP
    False
    """
    return _check(os.fspath(path))


def inspect(path, stats=False):
    """``pdsave inspect PATH``: what a file, prefix or directory holds — format, the API
    that wrote it, pickle protocol, every variable (path, name, dtype, shape, bytes) — as an
    :class:`InspectReport` with the fields of ``pdsave inspect --json``. ``stats=True`` adds
    min / max / mean / NaN counts (reads every value). Raises FileNotFoundError for a path
    that is not there and ValueError for one pdsave cannot read.

    >>> r = pdsave.inspect("model.pdparams")                  # doctest: +SKIP
    >>> [(v.path, v.dtype, v.shape) for v in r.variables]     # doctest: +SKIP
    [("obj['weight']", 'float32', [3, 4]), ("obj['bias']", 'float32', [4])]
    """
    return _inspect(os.fspath(path), bool(stats))
