"""Type stubs of pdsave (python/pdsave/__init__.py)."""

import os
import pickle
from typing import Any, List, Literal, Optional, Union

import numpy as np
import numpy.typing as npt

from ._reports import CheckReport as CheckReport, InspectReport as InspectReport

__version__: str

_Path = Union[str, "os.PathLike[str]"]

class UnsafePickleError(pickle.UnpicklingError):
    reason: str
    offset: Optional[int]
    global_name: Optional[str]
    rule: Optional[str]
    def __init__(self, reason: str, offset: Optional[int] = ..., global_name: Optional[str] = ...,
                 rule: Optional[str] = ...) -> None: ...

class UnsupportedValueError(NotImplementedError): ...

class Tensor:
    name: Optional[str]
    dtype: str
    kind: Literal["dynamic", "parameter", "static"]
    stop_gradient: bool
    def __init__(self, array: npt.ArrayLike, name: Optional[str] = ..., dtype: Optional[str] = ...,
                 kind: Literal["dynamic", "parameter", "static"] = ...,
                 stop_gradient: bool = ...) -> None: ...
    @property
    def shape(self) -> List[int]: ...
    @property
    def ndim(self) -> int: ...
    @property
    def size(self) -> int: ...
    def numpy(self, ml_dtypes: bool = ...) -> np.ndarray: ...
    def __array__(self, dtype: Any = ..., copy: Optional[bool] = ...) -> np.ndarray: ...
    def __len__(self) -> int: ...

def load(path: _Path, return_numpy: bool = ..., keep_name_table: bool = ...,
         safetensors: bool = ..., *, copy: bool = ..., align: bool = ...,
         tensor: Literal["auto", "paddle", "pdsave"] = ...,
         paddle: Optional[str] = ...) -> Any: ...
def save(obj: Any, path: _Path, protocol: int = ..., numpy: int = ...) -> None: ...
def check(path: _Path) -> CheckReport: ...
def inspect(path: _Path, stats: bool = ...) -> InspectReport: ...
