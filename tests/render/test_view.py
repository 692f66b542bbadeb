"""view.py: the one sequence model — sections, collapsed loops, notes, timing and size budgets."""

from __future__ import annotations

import pytest

from explorer.annotate import annotate
from explorer.render import view
from explorer.render.view import SequenceView
from tests.render import factory


def build(case: str, **kw: object) -> SequenceView:
    return view.build(annotate(factory.CASES[case]()), **kw)  # type: ignore[arg-type]


def kinds(seq: SequenceView) -> list[str]:
    return [e.kind for e in seq.events]


def texts(seq: SequenceView, kind: str) -> list[str]:
    return [e.text for e in seq.events if e.kind == kind]


@pytest.mark.parametrize("case", list(factory.CASES))
@pytest.mark.parametrize("options", [{}, {"full": True}, {"notes": False, "timing": True}])
def test_blocks_balance_and_arrows_cover_the_shown_exchanges(case: str, options: dict[str, bool]) -> None:
    seq = build(case, **options)
    depth = 0
    for ev in seq.events:
        assert ev.depth == depth - (ev.kind in ("end", "and")), ev
        depth += {"section": 1, "loop": 1, "par": 1, "end": -1}.get(ev.kind, 0)
        assert depth >= 0
    assert depth == 0
    lanes = {lane.id for lane in seq.lanes}
    for arrow in seq.arrows:
        assert {arrow.source, arrow.target} <= lanes and "Client" in (arrow.source, arrow.target)
    per_exchange = {a.number: (1 if a.failed else 2) for a in seq.shown}
    assert len(seq.arrows) == sum(per_exchange.values())
    if options.get("full"):
        assert len(seq.shown) == len(seq.exchanges) and seq.collapsed == 0


def test_full_shows_everything_in_step_sections() -> None:
    seq = build("pull_redirect", full=True)
    assert "loop" not in kinds(seq)
    assert texts(seq, "section") == ["ping", "resolve tag", "fetch config"] + [f"fetch layer {i}/4" for i in range(1, 5)]


def test_layer_run_collapses_to_one_loop_with_the_first_iteration() -> None:
    seq = build("pull_redirect")
    assert texts(seq, "loop") == ["for each of 4 layers"]
    assert texts(seq, "gap") == ["3 more layers like this (exchanges 7–12)"]
    assert [a.number for a in seq.shown] == [1, 2, 3, 4, 5, 6]
    assert seq.collapsed == 6


def test_each_shape_of_iteration_is_shown_once() -> None:
    seq = build("push_second")
    loop = texts(seq, "loop")
    assert loop == ["for each of 4 layers"]
    sections = texts(seq, "section")
    assert "layer 1/4 already present, skipped" in sections and "check layer 4/4" in sections
    assert "upload layer 4/4" in sections, "the upload path of the last layer is inside the same loop"
    # layer 1 carries the token dance: a shape of its own; layers 2 and 3 are skipped alike
    assert texts(seq, "gap") == ["1 more layer like this (exchange 6)"]


def test_unusual_iterations_are_always_shown() -> None:
    seq = build("pull_broken_storage")
    assert [a.number for a in seq.shown][-2:] == [10, 11]
    assert seq.arrows[-1].lost and seq.arrows[-1].unusual
    big = view.build(annotate(factory.case_big(layers=40)))
    shown = [a.number for a in big.shown]
    retried = [a.number for a in annotate(factory.case_big(layers=40)).exchanges if a.unusual]
    assert set(retried) <= set(shown)
    assert texts(big, "loop") == ["for each of 40 layers"]


def test_short_repeats_inside_a_step_collapse() -> None:
    seq = build("push_chunked")
    assert "for each of 8 chunks" in texts(seq, "loop")
    assert "7 more chunks like this (exchanges 5–11)" in texts(seq, "gap")


def test_a_trace_without_labels_or_intent_is_grouped_by_inferred_intent() -> None:
    """An import has no step labels: labels, layers and transfers come from the wire (never from labels)."""
    trace = factory.case_pull_redirect()
    for ex in trace.exchanges:
        ex.step = None
    seq = view.build(annotate(trace))
    assert texts(seq, "loop") == ["for each of 4 layers"]
    assert texts(seq, "section")[:4] == ["ping", "resolve tag", "fetch config", "fetch layer 1/4"]
    assert texts(seq, "gap") == ["3 more layers like this (exchanges 7–12)"]
    transfers = {a.number: a.transfer for a in annotate(trace).exchanges}
    assert transfers[5] == transfers[6] == factory.dg("layer1"), "the 307 and the storage GET are one transfer"


def test_notes_once_per_endpoint_plus_every_error() -> None:
    seq = build("pull_anonymous")
    notes = texts(seq, "note")
    assert [n.split(" ·")[0] for n in notes] == ["end-1", "end-3", "end-2"]
    assert not texts(build("pull_anonymous", notes=False), "note")
    failed = texts(build("pull_failed"), "note")
    assert failed[-1].startswith("MANIFEST_UNKNOWN (code-7)")
    long = [e for e in seq.events if e.kind == "note"][0]
    assert len(long.lines) > 1 and all(len(line) <= 64 for line in long.lines)


def test_timing_adds_durations_to_responses() -> None:
    seq = build("pull_anonymous", timing=True)
    assert seq.arrows[1].text == "200 OK (registry/2.0) · 12 ms"
    assert " ms" not in seq.arrows[0].text


def test_budget_cuts_between_exchanges_and_says_what_was_left_out() -> None:
    seq = build("pull_redirect", full=True, max_arrows=7, budget_reason="to stay small")
    assert len(seq.arrows) == 8, "the exchange whose request made 7 keeps its response"
    assert seq.left_out == 8
    assert texts(seq, "gap")[-1] == "8 more exchanges left out (exchanges 5–12) to stay small"
    broken = build("pull_broken_storage", full=True, max_arrows=4)
    assert "1 of them failed or unusual" in texts(broken, "gap")[-1]


def test_title_lanes_and_steps() -> None:
    seq = build("pull_multiarch", title="My pull")
    assert seq.title == "My pull"
    assert [(lane.id, lane.lines) for lane in seq.lanes] == [
        ("Client", ("Client",)), ("Registry", ("Registry", "localhost:5000")),
        ("Auth", ("Auth", "localhost:5001")), ("Storage", ("Storage", "localhost:5005"))]
    anchors = [e.anchor for e in seq.steps]
    assert len(set(anchors)) == len(anchors) and all(a.startswith("step-") for a in anchors)


def test_step_labels_become_one_line() -> None:
    seq = build("torture")
    assert all("\n" not in e.text for e in seq.events)
