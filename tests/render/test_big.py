"""A 5,000-exchange trace renders in every format quickly, and Mermaid stays under its size limit."""

from __future__ import annotations

import itertools
import time
from functools import lru_cache

import pytest

from explorer import render
from explorer.render import RenderOptions, mermaid
from explorer.trace import Trace
from tests.render import factory

SECONDS = 1.5  # "about a second" with room for a slow CI machine (typically 0.25 s here)
# exports (postman, har, …) write every exchange by design; they are timed in tests/exports
COLLAPSING = [name for name in render.names() if not getattr(render.get(name), "export", False)]


@lru_cache(maxsize=1)
def big() -> Trace:
    trace = factory.case_big()
    assert len(trace.exchanges) == 5000
    return trace


@pytest.mark.parametrize("fmt", COLLAPSING)
def test_collapsed_render_is_fast_and_small(fmt: str) -> None:
    started = time.perf_counter()
    text = render.get(fmt).render(big(), RenderOptions())
    took = time.perf_counter() - started
    assert took < SECONDS, f"{fmt} took {took:.2f} s"
    assert len(text) < 200_000, "collapsed output stays small"
    assert "2496 more layers like this" in text
    assert "503" in text, "the unusual exchange inside the run is drawn"


@pytest.mark.parametrize("fmt", COLLAPSING)
def test_full_render_finishes(fmt: str) -> None:
    started = time.perf_counter()
    render.get(fmt).render(big(), RenderOptions(full=True))
    assert time.perf_counter() - started < 10 * SECONDS


@pytest.mark.parametrize(("notes", "full", "timing", "markdown"), [(n, f, f, f) for n, f in itertools.product([True, False], repeat=2)])
def test_mermaid_is_always_under_its_limit(notes: bool, full: bool, timing: bool, markdown: bool) -> None:
    options = RenderOptions(notes=notes, full=full, timing=timing, markdown=markdown)
    shown, text = mermaid.sequence(big(), options)
    assert len(text) < mermaid.MAX_TEXT_SIZE
    if full:
        assert shown.left_out > 0 and "left out" in text and "Mermaid" in text
        assert len(text) > mermaid.MAX_TEXT_SIZE * 0.8, "cut no more than needed"


def test_mermaid_says_so_when_nothing_fits() -> None:
    b = factory.Builder("pull", "many hosts")
    for i in range(1200):
        b.add("GET", f"http://host-{i:04d}-with-a-rather-long-name.example.org:8443/x", 200, step=None)
    shown, text = mermaid.sequence(b.done(), RenderOptions())
    assert len(text) < mermaid.MAX_TEXT_SIZE
    assert "(1200 exchanges, 1200 hosts) is too large for a<br/>Mermaid diagram" in text and not shown.arrows
