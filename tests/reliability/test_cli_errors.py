"""Bad invocations, table-driven through `explorer.cli.main`: exit 2, ONE `error:` line naming the problem.

Each row: the arguments (``{trace}``, ``{dir}``, ``{file}``, ``{registry}`` are filled
in), optional stdin, and a fragment the error line must contain. Every row must
give exit 2, exactly one ``error: ...`` line, at most one ``hint: ...`` line,
nothing else (but the documented ``warning:`` for ``--password``), and no
traceback; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from pathlib import Path

import pytest

from tests.infra.runner import Run, run_cli

REF = "127.0.0.1:1/test/small:1.0"  # never contacted: every row fails before any request

CASES: dict[str, tuple[list[str], str, str]] = {
    # --- references ----------------------------------------------------------------------
    "empty reference": (["trace", "pull", ""], "", "empty reference"),
    "two tags": (["trace", "pull", "a:b:c"], "", 'invalid reference "a:b:c"'),
    "short digest": (["trace", "pull", "127.0.0.1:5000/x@sha256:12"], "", "sha256 needs 64"),
    "spaces in the name": (["trace", "pull", "127.0.0.1:5000/my app:1"], "", "invalid reference"),
    "a digest we cannot verify": (["trace", "pull", "127.0.0.1:1/x@md5:" + "0" * 32], "",
                                  "cannot use the md5 digest"),
    "copy from an md5 digest": (["trace", "copy", "127.0.0.1:1/x@md5:" + "0" * 32, "127.0.0.1:1/y:1"], "",
                                "cannot use the md5 digest"),
    # --- trace files ---------------------------------------------------------------------
    "missing trace file": (["show", "{dir}/nope.json"], "", "trace file not found"),
    "trace is a directory": (["show", "{dir}"], "", "is a directory"),
    "trace is not JSON": (["show", "{file:not json}"], "", "not a JSON trace file"),
    "trace is JSON but no trace": (["show", "{file:[1, 2]}"], "", "trace must be a JSON object"),
    "trace of a newer format": (["show", "{trace:99}"], "", "trace format 99 is newer"),
    "trace of an unknown format": (["show", "{trace:0}"], "", "unknown trace format 0"),
    # --- commands and options --------------------------------------------------------------
    "unknown command": (["frobnicate"], "", "No such command 'frobnicate'"),
    "unknown option": (["trace", "pull", REF, "--nope"], "", "No such option: --nope"),
    "missing image": (["trace", "pull"], "", "Missing argument 'IMAGE'"),
    "password and password-stdin": (["trace", "pull", REF, "--username", "u", "--password", "p", "--password-stdin"],
                                     "p\n", "exclude each other"),
    "username without password": (["trace", "pull", REF, "--username", "u"], "", "--username needs a password"),
    "password without username": (["trace", "pull", REF, "--password", "p"], "", "--password needs --username"),
    "password-stdin without username": (["trace", "pull", REF, "--password-stdin"], "p\n", "needs --username"),
    "password-stdin but stdin empty": (["trace", "pull", REF, "--username", "u", "--password-stdin"], "",
                                       "no password on standard input"),
    "platform without arch": (["trace", "pull", REF, "--platform", "linux"], "", 'invalid platform "linux"'),
    "platform with too many parts": (["trace", "pull", REF, "--platform", "linux/arm/v7/x"], "", "invalid platform"),
    "jobs zero": (["trace", "pull", REF, "--jobs", "0"], "", "'--jobs'"),
    "jobs not a number": (["trace", "pull", REF, "--jobs", "many"], "", "'--jobs'"),
    "jobs too many": (["trace", "pull", REF, "--jobs", "1000"], "", "'--jobs'"),
    "retries negative": (["trace", "pull", REF, "--retries", "-1"], "", "'--retries'"),
    "timeout zero": (["trace", "pull", REF, "--timeout", "0"], "", "'--timeout'"),
    "timeout not a number": (["trace", "tags", "127.0.0.1:5000/team/app", "--timeout", "soon"], "", "'--timeout'"),
    "trace output is a directory": (["trace", "pull", REF, "-o", "{dir}"], "", "is a directory"),
    # --- push, copy and the rest ------------------------------------------------------------
    "push without a destination": (["trace", "push", "{dir}"], "", "push needs SOURCE and DEST"),
    "push of a directory that is no layout": (["trace", "push", "{dir}", "127.0.0.1:1/y:1"], "", "oci-layout"),
    "delete without a digest": (["trace", "delete", "127.0.0.1:1/y:1"], "", "names no digest"),
    "bad chunk size": (["trace", "push", "--sample", "127.0.0.1:1/y:1", "--chunk-size", "lots"], "",
                       "--chunk-size 'lots' is not a size"),
    "copy with both passwords on stdin": (["trace", "copy", REF, "127.0.0.1:2/y:1", "--src-username", "a",
                                           "--src-password-stdin", "--dest-username", "b", "--dest-password-stdin"],
                                          "p\nq\n", "standard input holds one password"),
    "copy src-username without a password": (["trace", "copy", REF, "127.0.0.1:2/y:1", "--src-username", "a"], "",
                                             "--src-username needs a password"),
    "copy dest-password-stdin without user": (["trace", "copy", REF, "127.0.0.1:2/y:1", "--dest-password-stdin"],
                                              "p\n", "--dest-password-stdin needs --dest-username"),
    # --- render / export / import ------------------------------------------------------------
    "unknown render format": (["render", "visio", "{trace:1}"], "", "unknown format 'visio'"),
    "unknown export format": (["export", "visio", "{trace:1}"], "", "unknown export format 'visio'"),
    "export without a trace": (["export", "har"], "", "export har needs a TRACE"),
    "all-endpoints with a trace": (["export", "postman", "{trace:1}", "--all-endpoints"], "",
                                   "--all-endpoints belongs to `export postman` and takes no TRACE"),
    "render of a missing trace": (["render", "mermaid", "{dir}/nope.json"], "", "trace file not found"),
    "import of a missing file": (["import", "har", "{dir}/nope.har"], "", "nope.har"),
    "serve with an unknown auth": (["serve", "--auth", "kerberos"], "", "unknown --auth 'kerberos'"),
}


def _fill(args: list[str], tmp_path: Path) -> list[str]:
    out = []
    for arg in args:
        if arg.startswith("{file:"):
            path = tmp_path / f"file-{len(out)}.json"
            path.write_text(arg[len("{file:"):-1])
            arg = str(path)
        elif arg.startswith("{trace:"):
            path = tmp_path / f"trace-{len(out)}.json"
            fmt = int(arg[len("{trace:"):-1])
            path.write_text(json.dumps({"format": fmt, "tool": {}, "created": "2026-01-01T00:00:00Z",
                                        "command": [], "exchanges": []}))
            arg = str(path)
        out.append(arg.replace("{dir}", str(tmp_path)))
    return out


def check_usage_error(run: Run, fragment: str) -> None:
    assert run.code == 2, run.output
    assert "Traceback" not in run.output
    lines = run.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    hints = [line for line in lines if line.startswith("hint: ")]
    allowed = ("error: ", "hint: ", "warning: a password on the command line")
    rest = [line for line in lines if not line.startswith(allowed)]
    assert len(errors) == 1 and len(hints) <= 1 and rest == [], run.stderr
    assert fragment in errors[0], errors[0]
    assert run.stdout == ""


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_invocation(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # should a row ever reach a registry, its default trace lands here
    args, stdin, fragment = CASES[case]
    before = set(tmp_path.iterdir())
    check_usage_error(run_cli(*_fill(args, tmp_path), stdin=stdin), fragment)
    assert not [p for p in set(tmp_path.iterdir()) - before if p.name.endswith(".trace.json")]  # no trace file


def test_oci_layout_that_is_a_file(registry_anonymous, tmp_path):
    blocker = tmp_path / "layout"
    blocker.write_text("not a directory")
    run = run_cli("trace", "pull", f"{registry_anonymous.host}/test/small:1.0", "-o", str(tmp_path / "t.json"),
                  "--oci-layout", str(blocker))
    assert run.code == 2, run.output
    assert f"{blocker} exists and is not a directory" in run.stderr.splitlines()[0]
    assert not (tmp_path / "t.json").exists()  # refused before any request: a usage error writes no trace


def test_debug_adds_the_traceback(tmp_path):
    run = run_cli("--debug", "show", str(tmp_path / "nope.json"))
    assert run.code == 2
    assert "Traceback (most recent call last)" in run.stderr
    assert run.stderr.splitlines()[-2].startswith("error: trace file not found")


def test_unreadable_trace_file(tmp_path):
    """Tests run as root, who reads everything: the check runs in a child whose filesystem uid is `nobody`."""
    secret = tmp_path / "locked.json"
    secret.write_text("{}")
    secret.chmod(0)
    if os.geteuid() != 0:
        check_usage_error(run_cli("show", str(secret)), "Permission denied")
        return
    libc = ctypes.CDLL(None, use_errno=True)
    import explorer.cli.table  # noqa: F401 - imported now: the child may not be able to read the sources
    import explorer.trace  # noqa: F401

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: only the filesystem uid changes; report the run through the pipe
        try:
            libc.setfsgid(65534)
            libc.setfsuid(65534)
            run = run_cli("show", str(secret))
            os.write(write_end, json.dumps([run.code, run.stdout, run.stderr]).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        code, stdout, stderr = json.loads(pipe.read() or b"[null, \"\", \"child failed\"]")
    os.waitpid(pid, 0)
    check_usage_error(Run(code, stdout, stderr), f"cannot read {secret}: Permission denied")
    assert sys.platform.startswith("linux")
