"""A 5,000-exchange trace renders in every format, collapsed and small, and Mermaid stays under its size limit.

How fast is measured by the benchmark (``python -m benchmarks.run``: every render of this
trace, targets in docs/performance.md), not asserted here: timing assertions flake on busy CI.
"""

from __future__ import annotations

import gc
import itertools
import os
import re
import sys
import tempfile
import urllib.parse
from functools import lru_cache

import pytest

from explorer import render
from explorer.protocol import endpoints, urls
from explorer.render import RenderOptions, mermaid
from explorer.annotate import annotate
from explorer.trace import Trace
from tests.render import factory

# exports (postman, har, …) write every exchange by design: they do not collapse
COLLAPSING = render.names("diagram")
RENDERING = re.compile(r"explorer[/\\](render|annotate)[/\\]")  # code that annotates or renders


@lru_cache(maxsize=1)
def big() -> Trace:
    trace = factory.case_big()
    assert len(trace.exchanges) == 5000
    return trace


@pytest.mark.parametrize("fmt", COLLAPSING)
def test_collapsed_render_is_small(fmt: str) -> None:
    text = render.get(fmt).render(annotate(big()), RenderOptions())
    assert len(text) < 200_000, "collapsed output stays small"
    assert "2496 more layers like this" in text
    assert "503" in text, "the unusual exchange inside the run is drawn"


@pytest.mark.parametrize("fmt", COLLAPSING)
def test_full_render_draws_every_exchange(fmt: str) -> None:
    text = render.get(fmt).render(annotate(big()), RenderOptions(full=True))
    assert "more layers like this" not in text


@pytest.mark.parametrize(("notes", "full", "timing", "markdown"), [(n, f, f, f) for n, f in itertools.product([True, False], repeat=2)])
def test_mermaid_is_always_under_its_limit(notes: bool, full: bool, timing: bool, markdown: bool) -> None:
    options = RenderOptions(notes=notes, full=full, timing=timing, markdown=markdown)
    shown, text = mermaid.sequence(annotate(big()), options)
    assert len(text) < mermaid.MAX_TEXT_SIZE
    if full:
        assert shown.left_out > 0 and "left out" in text and "Mermaid" in text
        assert len(text) > mermaid.MAX_TEXT_SIZE * 0.8, "cut no more than needed"


def test_mermaid_says_so_when_nothing_fits() -> None:
    b = factory.Builder("pull", "many hosts")
    for i in range(1200):
        b.add("GET", f"http://host-{i:04d}-with-a-rather-long-name.example.org:8443/x", 200, step=None)
    shown, text = mermaid.sequence(annotate(b.done()), RenderOptions())
    assert len(text) < mermaid.MAX_TEXT_SIZE
    assert "(1200 exchanges, 1200 hosts) is too large for a<br/>Mermaid diagram" in text and not shown.arrows


def _urls_split() -> int:
    """How many URLs have really been parsed so far: by ``urllib.parse.urlsplit`` (its own cache holds
    128), and by ``protocol.urls.split`` (its fast path for plain http[s] URLs does not call urlsplit)."""
    return urllib.parse.urlsplit.cache_info().misses + urls.split.cache_info().misses


def test_each_url_is_parsed_a_bounded_number_of_times() -> None:
    """Annotating the 5,000 exchanges parses each URL a few times at most (its own, a Location joined
    to it), and a render after it none again: URL parts are remembered (``protocol.urls``). Before,
    annotating parsed 42,484 times (8.5 an exchange) and postman, curl and python 32,000-37,000 more:
    the seconds issue 17 measured. Counted, not timed (timing assertions flake on busy CI)."""
    trace = big()
    for cached in (urls.split, urls.join, urls.netloc, urls.query_pairs, urls.query_params, endpoints.classify,
                   endpoints.parse_route):
        cached.cache_clear()
    before = _urls_split()
    annotated = annotate(trace)
    assert _urls_split() - before <= 3 * len(trace.exchanges)
    for name in render.names():
        before = _urls_split()
        render.get(name).render(annotated, RenderOptions())
        assert _urls_split() - before <= 10, f"{name} parses the trace's URLs again"


def test_no_collection_walks_a_render() -> None:
    """From loading to text, a render runs with the cyclic collector paused (``explorer.collector``):
    none of its passes over the trace, the annotation and the output being built (20-100 ms each at
    5,000 exchanges, issue 17). What the render leaves (the URL caches) is walked after it, once, by
    a young collection. Counted, not timed."""
    from explorer import operations, trace as tracefile
    from explorer.operations import outputs

    small = factory.case_big(200)
    inside: list[int] = []  # collections that ran inside a render: the generation of each

    def watch(phase: str, info: dict[str, int]) -> None:
        frame = sys._getframe(1)
        while frame is not None and phase == "start":
            if frame.f_code is outputs._text.__code__ or RENDERING.search(frame.f_code.co_filename):
                inside.append(info["generation"])
                return
            frame = frame.f_back

    for name in render.names():  # first: every renderer's modules imported
        operations.render(small, name)
    gc.collect()
    gc.callbacks.append(watch)
    threshold = gc.get_threshold()
    gc.set_threshold(100)  # a collection every 100 objects unless paused
    try:
        for name in render.names():
            operations.render(small, name)
            assert inside == [], f"{name}: {len(inside)} collections during the render"
            render.get(name).render(annotate(small), RenderOptions())  # the format called directly (a library)
            assert inside == [], f"{name}: {len(inside)} collections during the format's own render"
        with tempfile.TemporaryDirectory() as folder:
            saved = tracefile.save(small, os.path.join(folder, "t.json"))
            operations.render(saved, "postman")  # loading the file too
            assert inside == []
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(watch)
