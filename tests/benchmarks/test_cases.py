"""An unknown case is one error line (exit 2) in every benchmark that takes cases, before anything runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks.run import REPO

HINT = "pull-, push- or copy- and one of small, many, big, multi"


@pytest.mark.parametrize(("module", "option", "value"), [
    ("benchmarks.run", "--cases", "pull-many,push-lots"),
    ("benchmarks.instructions", "--cases", "bogus-many"),
    ("benchmarks.cpusplit", "--cases", "push-many,pull-huge"),
    ("benchmarks.revisions", "--case", "push-lots"),
])
def test_an_unknown_case_is_one_error_line_before_anything_runs(module, option, value):
    args = [sys.executable, "-m", module, option, value] + (["HEAD"] if module.endswith("revisions") else [])
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-500:]
    last = done.stderr.splitlines()[-1]
    assert last.endswith(f": {HINT}") and "error: unknown case" in last, last


def test_cases_are_read_as_given():
    import argparse

    from benchmarks.run import parse_cases

    assert parse_cases(argparse.ArgumentParser(), "pull-many,push-big,,copy-many") == ["pull-many", "push-big",
                                                                                         "copy-many"]
