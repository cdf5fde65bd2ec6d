"""The exceptions pdsave raises: Python's own classes where ``paddle.load`` /
``paddle.save`` raise them, and ``UnsafePickleError`` where pdsave refuses a pickle."""

from __future__ import annotations

import builtins
import pickle


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle pdsave will not read, because reading it as Python does would run code or
    read it differently: a global outside Paddle's and numpy's allowlist (``os.system``), a
    call or BUILD not in the exact form Paddle writes, or input past pdsave's limits.

    ``paddle.load`` would execute such a file. Attributes: ``global_name`` (``"os.system"``
    where a global is refused, else None), ``offset`` (byte offset in the file, or None),
    ``rule`` (the spec rule, ``"P-ALLOW"``, ``"P-SHAPE"``, ``"P-LIMIT"`` …), ``reason``.
    Run ``pdsave.check(path)`` for every global the file references.
    """

    def __init__(self, reason, offset=None, global_name=None, rule=None):
        super().__init__(reason)
        self.reason = reason
        self.offset = offset
        self.global_name = global_name
        self.rule = rule


class UnsupportedValueError(NotImplementedError):
    """The file loads in Paddle, but to a value pdsave.load does not make (a SelectedRows,
    a Tensor of a dtype numpy cannot carry)."""


def _python_class(name):
    if name == "UnpicklingError":
        return pickle.UnpicklingError
    if name == "SafetensorError":  # paddle.load(..., safetensors=True) on a non-safetensors file
        try:
            from safetensors import SafetensorError

            return SafetensorError
        except ImportError:
            return RuntimeError
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, BaseException):
        return cls
    return RuntimeError


class _Hooks:
    """Called by the native module to make exceptions and numpy / Paddle objects."""

    @staticmethod
    def error(kind, cls, message, offset, global_name, rule):
        if kind == "python":
            c = _python_class(cls)
            if c is UnicodeDecodeError:
                return UnicodeDecodeError("utf-8", b"", 0, 1, message)
            return c(message)
        if kind in ("refused", "limit"):
            return UnsafePickleError(message, offset=offset, global_name=global_name, rule=rule)
        return UnsupportedValueError(message)
