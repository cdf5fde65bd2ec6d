"""Typed results of ``pdsave.check`` and ``pdsave.inspect``: dataclasses with exactly the
fields of ``pdsave check --json`` / ``pdsave inspect --json`` (spec/check.md,
spec/inspect.md), built from the library's reports."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Union

from . import _native


@dataclass(frozen=True)
class Finding:
    """A finding: a safety rule (P-ALLOW, P-SHAPE …) or a non-unique decoding (A-…)."""

    rule: str
    path: str
    message: str
    workaround: Optional[str]
    visible: bool


@dataclass(frozen=True)
class GlobalEntry:
    """One distinct global of a pickle: every reference to it and the verdict
    (``paddle_own``, ``unsafe``, ``dangerous``, ``unresolved``)."""

    module: Optional[str]
    name: Optional[str]
    offsets: List[int]
    count: int
    via: List[str]
    paddle_own: bool
    verdict: str
    meaning: str
    file: Optional[str] = None


@dataclass(frozen=True)
class FileCheck:
    """One file of a prefix or directory."""

    path: str
    format: str
    protocol: Optional[int]
    error: Optional[str]


@dataclass(frozen=True)
class CheckReport:
    """What ``pdsave check`` reports (``exit_code``: 0 clean, 1 findings, 2 error)."""

    path: str
    format: str
    protocol: Optional[int]
    files: List[FileCheck]
    globals: List[GlobalEntry]
    findings: List[Finding]
    error: Optional[str]
    notes: List[str]
    exit: str
    exit_code: int

    @property
    def safe(self) -> bool:
        """Every global is Paddle's or numpy's own and the file could be read."""
        return self.error is None and all(g.paddle_own for g in self.globals) and not any(
            f.rule.startswith("P-") for f in self.findings
        )


@dataclass(frozen=True)
class Stats:
    """min / max / mean / NaN and inf counts of an array's values."""

    min: Optional[Union[int, float]]
    max: Optional[Union[int, float]]
    mean: Optional[float]
    nan: int
    inf: int


@dataclass(frozen=True)
class Variable:
    """One stored array: where (``path``), kind, parameter name, dtype as stored,
    ``loads_as`` (the dtype ``paddle.load`` gives when it differs), shape, bytes."""

    path: str
    kind: str
    name: Optional[str]
    dtype: str
    shape: List[int]
    bytes: int
    loads_as: Optional[str] = None
    stats: Optional[Stats] = None


@dataclass(frozen=True)
class ProgramInfo:
    """A program's summary: IR, version, feeds, fetches, op counts, blocks."""

    ir: str
    version: Optional[int]
    feeds: List[str]
    fetches: List[str]
    op_counts: Dict[str, int]
    blocks: int


@dataclass(frozen=True)
class ValueEntry:
    """A non-array entry: its key path and its value as Python would ``repr`` it (cut)."""

    path: str
    value: str


@dataclass(frozen=True)
class InspectReport:
    """What ``pdsave inspect`` finds."""

    path: str
    format: str
    writer: str
    pickle_protocol: Optional[int]
    numpy: Optional[str]
    variables: List[Variable]
    program: Optional[ProgramInfo]
    values: List[ValueEntry]
    warnings: List[Finding]


def _make(cls, d):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:  # the library's JSON grew a field: say so rather than drop it
        raise RuntimeError(f"pdsave: {cls.__name__} has no field(s) {sorted(unknown)}")
    return cls(**d)


def _finding(d):
    return _make(Finding, d)


def _check(path: str) -> CheckReport:
    d = json.loads(_native.check_json(path))
    d["files"] = [_make(FileCheck, x) for x in d["files"]]
    d["globals"] = [_make(GlobalEntry, x) for x in d["globals"]]
    d["findings"] = [_finding(x) for x in d["findings"]]
    return _make(CheckReport, d)


def _inspect(path: str, stats: bool) -> InspectReport:
    ok, text = _native.inspect_json(path, stats)
    if not ok:
        if not os.path.lexists(path) and not os.path.exists(path + ".pdmodel") and not \
                os.path.exists(path + ".json"):
            raise FileNotFoundError(text)
        raise ValueError(text)
    d = json.loads(text)
    variables = []
    for v in d["variables"]:
        if v.get("stats") is not None:
            v["stats"] = _make(Stats, v["stats"])
        variables.append(_make(Variable, v))
    d["variables"] = variables
    if d.get("program") is not None:
        d["program"] = _make(ProgramInfo, d["program"])
    d["values"] = [_make(ValueEntry, x) for x in d.get("values", [])]
    d["warnings"] = [_finding(x) for x in d["warnings"]]
    return _make(InspectReport, d)


__all__ = [
    "CheckReport", "InspectReport", "Finding", "GlobalEntry", "FileCheck", "Variable",
    "Stats", "ProgramInfo", "ValueEntry",
]
