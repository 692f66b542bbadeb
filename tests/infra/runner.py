"""Run the regexplore CLI in-process as the console script does (``explorer.cli.main``; the script's
``run`` adds only the garbage collector's pause during start-up, which a test process must not freeze).

``sys.argv`` is the console script's for the duration (``regexplore ARGS...``): traces
record their command line from it, so redaction of ``--password X`` is tested for real.
"""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass
from typing import Any

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
    old_stdin, old_argv = sys.stdin, sys.argv
    sys.stdin = io.StringIO(stdin)
    sys.argv = ["regexplore", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin, sys.argv = old_stdin, old_argv
    return Run(code, out.getvalue(), err.getvalue())


def login_args(account: Any) -> tuple[list[str], str]:
    """``--username U --password-stdin`` and the stdin that feeds it, for anything with ``username`` and
    ``password`` (a running registry variant, a Sandbox); nothing for None or an anonymous registry."""
    if account is not None and account.username and account.password:
        return ["--username", account.username, "--password-stdin"], account.password + "\n"
    return [], ""
