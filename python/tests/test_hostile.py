"""Every hostile corpus case (n_*) makes pdsave.load raise, and nothing runs: an audit hook
records every process, exec, eval, compile and import event while pdsave.load reads the
file (real paddle.load runs os.system on n_os_system)."""

import os
import pickle
import sys

import pytest

import pdsave

from conftest import CASES, OPTION_SETS, cases, entry_path

HOSTILE = [c for c in cases() if c["kind"] == "n"]
_EVENTS = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "subprocess.Popen",
           "exec", "compile", "import", "builtins.input", "ctypes.", "os.remove", "open")
_recording = []


def _hook(event, args):
    if _recording and event.startswith(_EVENTS):
        _recording[0].append((event, args[:1]))


sys.addaudithook(_hook)


@pytest.mark.parametrize("case", HOSTILE, ids=[c["id"] for c in HOSTILE])
@pytest.mark.parametrize("opt", list(OPTION_SETS))
def test_hostile_raises_without_running_anything(case, opt):
    events = []
    _recording.append(events)
    try:
        with pytest.raises(Exception) as info:
            pdsave.load(entry_path(case), **OPTION_SETS[opt])
    finally:
        _recording.clear()
    assert events == [], f"pdsave.load ran {events}"
    e = info.value
    # A refusal is UnsafePickleError (a pickle.UnpicklingError) naming where; otherwise it
    # is the exception paddle.load raises on the same bytes (EOFError for an empty file…).
    if isinstance(e, pdsave.UnsafePickleError):
        assert isinstance(e, pickle.UnpicklingError) and e.rule and e.rule.startswith("P-")
        if e.global_name:
            assert e.offset is not None and e.global_name in str(e)
    else:
        assert type(e).__module__ == "builtins" or isinstance(e, pickle.UnpicklingError), e
    if "RecursionError" in case.get("reason_contains", ""):
        assert isinstance(e, RecursionError), repr(e)


def test_refused_global_names_global_and_offset():
    path = os.path.join(CASES, "n_memo_hidden_global", "input.bin")
    with pytest.raises(pdsave.UnsafePickleError) as info:
        pdsave.load(path)
    e = info.value
    assert e.global_name == "os.system" and e.offset == 22 and e.rule == "P-ALLOW"
    assert "os.system" in str(e) and "22" in str(e)


def test_every_hostile_case_is_tested():
    assert len(HOSTILE) >= 28
