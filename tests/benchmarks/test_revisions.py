"""``benchmarks.revisions``: an unknown case is one error line (exit 2), before any export or registry."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.run import REPO


def test_an_unknown_case_is_one_error_line_before_anything_runs():
    done = subprocess.run([sys.executable, "-m", "benchmarks.revisions", "--case", "push-lots", "HEAD"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == ("revisions.py: error: unknown case 'push-lots': pull-, push- or copy- "
                                            "and one of small, many, big, multi")
