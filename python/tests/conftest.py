"""Shared fixtures: the corpus (corpus/cases/*/case.json) and Paddle's known deviations."""

import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CASES = os.path.join(ROOT, "corpus", "cases")
sys.path.insert(0, os.path.join(ROOT, "adapters", "paddle"))

OPTION_SETS = {
    "default": {},
    "return_numpy": {"return_numpy": True},
    "keep_name_table": {"keep_name_table": True},
}


def cases():
    out = []
    for name in sorted(os.listdir(CASES)):
        p = os.path.join(CASES, name, "case.json")
        if os.path.isfile(p):
            with open(p, encoding="utf-8") as f:
                out.append(json.load(f))
    return out


def known_failures(version="3.3.1"):
    """case or case@option ids Paddle `version` is known to deviate on (validate's list)."""
    out = set()
    with open(os.path.join(ROOT, "adapters", "paddle", f"failures-{version}.txt")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.add(line)
    return out


def entry_path(case):
    return os.path.join(CASES, case["id"], case["entry"])


@pytest.fixture(scope="session")
def paddle():
    paddle = pytest.importorskip("paddle")
    paddle.disable_static()
    return paddle
