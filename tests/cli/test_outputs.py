"""The export / import / explain commands and `trace pull --keep-bodies`: help, files, errors."""

from __future__ import annotations

import os

import pytest

from explorer import trace as tracefile
from tests.infra.runner import run_cli


@pytest.mark.parametrize("command", ["export", "import", "explain"])
def test_every_command_has_help_with_an_example(command):
    run = run_cli(command, "--help")
    assert run.code == 0 and "Example: regexplore " + command in run.stdout


def test_exports_write_files_and_scripts_are_executable(pull_trace, tmp_path):
    trace = str(pull_trace("anonymous"))
    for fmt, name in [("postman", "p.json"), ("har", "p.har"), ("curl", "p.sh"), ("python", "p.py"),
                      ("cassette", "p.yaml")]:
        out = tmp_path / "sub" / name
        run = run_cli("export", fmt, trace, "-o", str(out))
        assert run.code == 0 and f"wrote {fmt} to {out}" in run.stderr, run.output
        assert os.access(out, os.X_OK) == (fmt in ("curl", "python"))
    to_stdout = run_cli("export", "har", trace)
    assert to_stdout.code == 0 and to_stdout.stdout.startswith('{\n "log"')


@pytest.mark.parametrize(("args", "message"), [
    (("export", "svg", "t.json"), "error: unknown export format 'svg'; choose from: postman, har, curl, python, cassette"),
    (("export", "har"), "error: export har needs a TRACE"),
    (("export", "har", "--all-endpoints"), "error: --all-endpoints belongs to `export postman` and takes no TRACE"),
    (("export", "postman", "t.json", "--all-endpoints"), "error: --all-endpoints belongs to `export postman`"),
    (("export", "postman", "/nonexistent/t.json"), "error: trace file not found: /nonexistent/t.json"),
    (("explain", "/nonexistent/t.json"), "error: trace file not found: /nonexistent/t.json"),
    (("import", "har", "x.har", "--keep-bodies", "lots"), "error: --keep-bodies 'lots' is not a size"),
    (("trace", "pull", "127.0.0.1:1/a:b", "--keep-bodies", "0"), "error: --keep-bodies '0' is not a size"),
])
def test_bad_invocations_are_one_line_and_exit_2(args, message):
    run = run_cli(*args)
    assert run.code == 2, run.output
    assert run.stderr.startswith(message), run.stderr
    assert "Traceback" not in run.output


def test_keep_bodies_puts_blobs_into_the_trace(pull_trace):
    trace = tracefile.load(pull_trace("anonymous", keep_bodies=True))
    blobs = [ex.response.body for ex in trace.exchanges if "/blobs/" in ex.request.url]
    assert len(blobs) == 4 and all(b.base64 and not b.truncated for b in blobs)
    plain = tracefile.load(pull_trace("anonymous"))
    assert all(ex.response.body.base64 is None for ex in plain.exchanges if "/blobs/" in ex.request.url)
