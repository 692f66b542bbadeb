"""Diagrams at any concurrency: each blob's exchanges together, overlapping transfers in ``par``, one number each.

Inputs are the recordings made at ``--jobs 4`` against distribution (format 2, with
recorded intents), the format-1 recordings (intents inferred) and the synthetic cases.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import trace as tracefile
from explorer.annotate import annotate, step_labels
from explorer.render import RenderOptions, mermaid, plantuml, swimlanes, view
from explorer.trace import Trace
from tests.render import factory

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"
CONCURRENT = ["anonymous/push-jobs4.trace.json", "redirect/copy-jobs4.trace.json"]


def load(path: str) -> Trace:
    return tracefile.load(RECORDINGS / path)


def every_view_input() -> list[tuple[str, Trace]]:
    out = [(p.relative_to(RECORDINGS).as_posix(), tracefile.load(p)) for p in sorted(RECORDINGS.rglob("*.trace.json"))]
    return out + [(name, make()) for name, make in factory.CASES.items()]


@pytest.mark.parametrize("path", CONCURRENT)
def test_concurrent_recordings_are_format_2_with_an_intent_per_exchange(path: str) -> None:
    trace = load(path)
    assert "--jobs" in trace.command and trace.command[trace.command.index("--jobs") + 1] == "4"
    assert all(ex.intent is not None for ex in trace.exchanges)
    blobs = [ex for ex in trace.exchanges if ex.intent.transfer]
    assert {ex.intent.kind for ex in blobs} >= {"check-blob", "open-upload", "close-upload"}
    for ex in blobs:  # the transfer id is the blob's digest: every blob exchange names it
        assert ex.intent.digest == ex.intent.transfer, ex
    starts = {}
    for ex in blobs:
        starts.setdefault(ex.intent.transfer, []).append(ex.id)
    interleaved = any(a[0] < b[-1] and b[0] < a[-1] for a in starts.values() for b in starts.values() if a is not b)
    assert interleaved, "the recording is only a fair test if its transfers really overlapped"


@pytest.mark.parametrize("path", CONCURRENT)
@pytest.mark.parametrize("full", [False, True])
def test_each_blob_is_drawn_whole_and_in_protocol_order(path: str, full: bool) -> None:
    annotated = annotate(load(path))
    seq = view.build(annotated, full=full)
    drawn = [seq.exchanges[n] for n in dict.fromkeys(a.exchange for a in seq.arrows)]
    runs: list[str] = []
    for a in drawn:
        if a.transfer and (not runs or runs[-1] != a.transfer):
            runs.append(a.transfer)
    assert len(runs) == len(set(runs)), f"a transfer is split: {runs}"
    for transfer in set(runs):
        numbers = [a.number for a in drawn if a.transfer == transfer]
        assert numbers == sorted(numbers), "protocol (start) order inside a transfer"
        kinds = [a.intent.kind for a in drawn if a.transfer == transfer and a.intent.kind != "authenticate"]
        if "close-upload" in kinds:
            assert kinds.index("open-upload") < kinds.index("close-upload")
            assert "check-blob" not in kinds or kinds.index("check-blob") < kinds.index("open-upload")
    par = [e for e in seq.events if e.kind == "par"]
    assert len(par) == 1 and "ran concurrently" in par[0].text
    if full:
        assert len(seq.shown) == len(annotated.exchanges)


@pytest.mark.parametrize("path", CONCURRENT)
def test_mermaid_and_plantuml_draw_par_and_swimlanes_says_it_in_a_note(path: str) -> None:
    trace = load(path)
    mmd = mermaid.render(annotate(trace), RenderOptions())
    assert re.search(r"^\s+par \d+ blob transfers ran concurrently", mmd, re.M)
    assert re.search(r"^\s+and$", mmd, re.M)
    puml = plantuml.render(annotate(trace), RenderOptions())
    assert re.search(r"^\s*par \d+ blob transfers", puml, re.M) and re.search(r"^\s*else$", puml, re.M)
    lanes = swimlanes.render(annotate(trace), RenderOptions())
    assert re.search(r"^note Client, \w+: \d+ blob transfers ran concurrently", lanes, re.M)
    assert "par" not in {line.split()[0] for line in lanes.splitlines() if line.strip()}


def _interleavings(trace: Trace, rng: random.Random) -> Trace:
    """The same exchanges started in another order: each transfer keeps its own order, the rest stays put."""
    exchanges = trace.exchanges
    out: list[tracefile.Exchange] = []
    i = 0
    while i < len(exchanges):
        if exchanges[i].intent is None or exchanges[i].intent.transfer is None:
            out.append(exchanges[i])
            i += 1
            continue
        j = i
        while j < len(exchanges) and exchanges[j].intent is not None and exchanges[j].intent.transfer:
            j += 1
        queues: dict[str, list[tracefile.Exchange]] = {}
        for ex in exchanges[i:j]:
            queues.setdefault(ex.intent.transfer, []).append(ex)
        while queues:
            key = rng.choice(sorted(queues))
            out.append(queues[key].pop(0))
            if not queues[key]:
                del queues[key]
        i = j
    renumbered = [replace(ex, id=n) for n, ex in enumerate(out, 1)]  # ids follow start order, as recorded
    return replace(trace, exchanges=renumbered)


def _drawn(trace: Trace, full: bool) -> list[tuple[str, str, int | None, bool]]:
    seq = view.build(annotate(trace), full=full)
    out = []
    for ev in seq.events:
        if ev.arrow is not None:
            ex = seq.exchanges[ev.arrow.exchange].exchange
            out.append((ex.request.method, ex.request.url, ex.response.status if ex.response else None,
                        ev.arrow.response))
        elif ev.kind in ("section", "loop", "par", "and", "end"):
            out.append((ev.kind, re.sub(r"\(exchanges? [^)]*\)", "", ev.text), None, False))
    return out


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), which=st.sampled_from(CONCURRENT), full=st.booleans())
def test_any_interleaving_of_the_same_exchanges_draws_the_same(seed: int, which: str, full: bool) -> None:
    trace = load(which)
    shuffled = _interleavings(trace, random.Random(seed))
    assert _drawn(shuffled, full) == _drawn(trace, full)


def _numbers(text: str) -> set[int]:
    out: set[int] = set()
    for part in re.findall(r"\d+(?:–\d+)?", text):
        a, _, b = part.partition("–")
        out.update(range(int(a), int(b or a) + 1))
    return out


@pytest.mark.parametrize(("name", "trace"), every_view_input(), ids=[n for n, _ in every_view_input()])
def test_one_number_per_exchange_and_gaps_never_cover_a_drawn_one(name: str, trace: Trace) -> None:
    annotated = annotate(trace)
    assert [a.number for a in annotated.exchanges] == [ex.id for ex in trace.exchanges]
    for full in (False, True):
        seq = view.build(annotated, full=full)
        drawn = {a.exchange for a in seq.arrows}
        listed: set[int] = set()
        for ev in seq.events:
            if ev.kind != "gap":
                continue
            span = re.search(r"\(exchanges? ([^)]*)\)", ev.text)
            assert span, ev.text
            named = _numbers(span.group(1).split(" more")[0] if "more)" in ev.text else span.group(1))
            assert not named & drawn, (ev.text, sorted(named & drawn))
            assert named <= set(ev.exchanges)
            assert not set(ev.exchanges) & drawn
            listed |= set(ev.exchanges)
        assert drawn | listed == {a.number for a in annotated.exchanges}, "every exchange is drawn or counted"
        mmd = mermaid.render(annotate(trace), RenderOptions(full=full, notes=False))
        numbered = {int(m) for m in re.findall(r"(?:->>|-->>|-x)\w+: (\d+) · ", mmd)}
        if "left out" not in mmd:
            assert numbered == drawn


def test_format_1_recordings_still_load_and_get_inferred_transfers() -> None:
    trace = load("redirect/pull.trace.json")
    assert '"format": 1' in (RECORDINGS / "redirect/pull.trace.json").read_text()[:40]
    assert all(ex.intent is None for ex in trace.exchanges)
    annotated = annotate(trace)
    storage = [a for a in annotated.exchanges if a.participant.kind == "storage"]
    assert storage and all(a.transfer for a in storage)
    for a in storage:  # the storage GET belongs to the 307 that sent the client there
        redirect = next(b for b in annotated.exchanges if b.transfer == a.transfer and b.participant.kind == "registry"
                        and b.exchange.response is not None and b.exchange.response.status == 307)
        assert redirect.number < a.number and redirect.intent.kind == a.intent.kind == "fetch-layer" or \
            a.intent.kind == "fetch-config"
    layers = [a for a in annotated.exchanges if a.intent.kind == "fetch-layer" and a.participant.kind == "registry"]
    assert [a.intent.index for a in layers] == [1, 2, 3] and {a.intent.total for a in layers} == {3}


def test_labels_come_from_intent_when_a_trace_has_none() -> None:
    trace = factory.case_push_first()
    recorded = [ex.step for ex in trace.exchanges]
    for ex in trace.exchanges:
        ex.step = None
    derived = step_labels(trace)
    assert derived == recorded, "inference from the wire gives the labels the flow wrote"


@pytest.mark.parametrize("fmt", ["swimlanes", "mermaid", "plantuml", "svg", "html", "markdown"])
def test_hostile_traces_are_annotated_and_drawn(fmt: str, tmp_path: Path) -> None:
    """Recorded values are untrusted: a malformed challenge or odd manifest must not stop inference or drawing."""
    from explorer import render
    from explorer.cli.table import exchange_table
    from tests.hostile import corpus

    marker = corpus.marker_path(tmp_path)
    traces = {"free-text": corpus.free_text_trace(marker), **corpus.protocol_traces(marker)}
    for name, trace in traces.items():
        labels = step_labels(trace)
        assert all(label is None or "\n" not in label and "\x1b" not in label for label in labels), name
        exchange_table(trace, labels)
        for full in (False, True):
            assert render.get(fmt).render(annotate(trace), RenderOptions(full=full)), name
    assert not marker.exists()
