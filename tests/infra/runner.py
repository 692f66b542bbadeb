"""Run the regexplore CLI in-process exactly as the console script does (``explorer.cli.main``)."""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass

from explorer.cli import main


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: str, stdin: str = "") -> Run:
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin = old_stdin
    return Run(code, out.getvalue(), err.getvalue())
