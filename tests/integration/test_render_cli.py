"""`regexplore render FORMAT TRACE` on a real pull trace: every format, default outputs, bad input."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from explorer.render import FORMATS
from tests.infra.runner import run_cli


@pytest.fixture(scope="module")
def pull_trace(registry_token, tmp_path_factory):
    out = tmp_path_factory.mktemp("render") / "pull.trace.json"
    run = run_cli("trace", "pull", f"{registry_token.host}/test/small:1.0", "-o", str(out),
                  "--username", registry_token.username, "--password-stdin", stdin=registry_token.password + "\n")
    assert run.code == 0, run.output
    return out


@pytest.mark.parametrize("fmt", ["swimlanes", "mermaid", "plantuml"])
def test_text_formats_print_to_stdout(fmt, pull_trace):
    run = run_cli("render", fmt, str(pull_trace))
    assert run.code == 0, run.output
    assert "/v2/test/small/manifests/1.0" in run.stdout
    assert run.stderr == ""


def test_svg_and_html_default_to_the_trace_name(pull_trace):
    for fmt in ("svg", "html"):
        run = run_cli("render", fmt, str(pull_trace))
        assert run.code == 0, run.output
        written = pull_trace.with_name(f"pull.{fmt}")
        assert run.stderr.strip() == f"wrote {fmt} to {written}"
        assert written.stat().st_size > 1000
    ET.parse(pull_trace.with_name("pull.svg"))


def test_options_change_the_output(pull_trace, tmp_path):
    plain = run_cli("render", "mermaid", str(pull_trace), "--no-notes").stdout
    noted = run_cli("render", "mermaid", str(pull_trace)).stdout
    fenced = run_cli("render", "mermaid", str(pull_trace), "--markdown", "-o", str(tmp_path / "p.md"))
    assert "Note over" in noted and "end-3" in noted and "end-3" not in plain
    assert (tmp_path / "p.md").read_text().startswith("```mermaid\n")
    assert fenced.code == 0
    link = run_cli("render", "swimlanes", str(pull_trace), "--link").stdout.strip()
    assert link.startswith("https://swimlanes.io/#") and "\n" not in link


def test_every_registered_format_renders(pull_trace, tmp_path):
    for fmt in FORMATS:
        run = run_cli("render", fmt, str(pull_trace), "-o", str(tmp_path / f"out.{fmt}"))
        assert run.code == 0, (fmt, run.output)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("render", "visio", "x.json"), "error: unknown format 'visio'; choose from: "),
        (("render", "mermaid", "/nonexistent/t.json"), "error: trace file not found: /nonexistent/t.json"),
    ],
)
def test_bad_render_invocations(args, message):
    run = run_cli(*args)
    assert run.code == 2
    assert run.stderr.startswith(message)
    assert "Traceback" not in run.output
