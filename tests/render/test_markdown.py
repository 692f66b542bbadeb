"""`render markdown` / `regexplore explain`: a page a newcomer learns from, with the pitfalls each trace teaches."""

from __future__ import annotations

import re

import pytest

from explorer import trace as tracefile
from explorer.annotate import annotate
from explorer.render import RenderOptions, markdown
from tests.infra.runner import run_cli
from tests.render import factory


@pytest.mark.parametrize("variant", ["anonymous", "basic", "token", "redirect"])
def test_explain_a_real_pull(variant, pull_trace, live, tmp_path):
    run = run_cli("explain", str(pull_trace(variant)))
    assert run.code == 0, run.output
    page = run.stdout
    assert page.startswith(f"# pull {live(variant).host}/test/small:1.0\n")
    summary = page.split("\n\n")[1]
    assert summary.startswith("This trace records a **pull** of ") and "HTTP exchanges" in summary
    assert re.search(r"\d+(\.\d)? KB down", summary) and "downloaded 4 blobs" in summary
    assert "\n```mermaid\nsequenceDiagram\n" in page
    assert "## Step by step" in page and "### resolve tag" in page
    assert "end-3 · Fetch manifest" in page and "`Accept` negotiation" in page
    assert "**Pitfall:**" in page and "*Why:*" in page
    assert "more layers like this" in page or variant == "basic"
    password = live(variant).password
    if password:
        assert password not in page
    if variant in ("token", "redirect"):
        assert "Token scope: a token is good only for the scopes asked for (`repository:test/small:pull`)" in page
        assert "Bearer token from the token server" in summary
    if variant == "basic":
        assert "HTTP Basic" in page
    if variant == "redirect":
        assert "`Authorization` header is dropped on a redirect to another host" in page
        assert "separate storage host" in summary
    rendered = run_cli("render", "markdown", str(pull_trace(variant)), "-o", str(tmp_path / "pull.md"))
    assert rendered.code == 0 and (tmp_path / "pull.md").read_text() == page


@pytest.mark.parametrize(("case", "lesson"), [
    ("push_second", "The blob is already in the repository, so its upload is skipped"),
    ("copy_mount", "202 instead of 201 on a mount"),
    ("push_chunked", "`Content-Range` is inclusive"),
    ("pull_failed", "- error `MANIFEST_UNKNOWN` (code-7): manifest unknown"),
    ("tags_paged", "A `Link: <…>; rel=\"next\"` header means there is another page"),
    ("pull_broken_storage", "no response: ConnectError"),
    ("push_first", "Manifests go last"),
])
def test_each_situation_teaches_its_pitfall(case, lesson):
    page = markdown.render(annotate(factory.CASES[case]()), RenderOptions())
    assert lesson in page


def test_lessons_are_told_once():
    page = markdown.render(annotate(factory.case_pull_redirect()), RenderOptions(full=True))
    assert page.count("The `Authorization` header is dropped on a redirect") == 1
    assert page.count("**5. ") == 1 and "more layers like this" not in page  # --full shows every exchange


def test_trace_text_cannot_break_the_page():
    page = markdown.render(annotate(factory.case_torture()), RenderOptions())
    prose = re.sub(r"^(`{3,}).*?^\1$", "", page, flags=re.MULTILINE | re.DOTALL)  # fenced blocks are code
    assert "<script>" not in prose and "\\<script\\>" in prose
    fences = re.findall(r"^(`{3,})", page, re.MULTILINE)
    assert len(fences) % 2 == 0  # every fence closes
    for line in page.splitlines():
        if line.startswith("#"):
            assert "\n" not in line and "<" not in line.replace("\\<", "")


def test_an_empty_trace_explains_itself():
    page = markdown.render(annotate(tracefile.Trace(command=["regexplore", "trace", "pull", "x"])), RenderOptions())
    assert "0 HTTP exchanges" in page and "made no registry request" in page
