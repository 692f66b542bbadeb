"""Docker Hub's rate-limit headers: read per answer, shown by `show` and `explain` with what is left at the end."""

from __future__ import annotations

import copy
from pathlib import Path

from explorer.protocol.ratelimit import last_rate_limit, rate_limit
from explorer.render import RenderOptions, get
from explorer.cli.table import exchange_table
from explorer.annotate import annotate
from explorer.trace import load

REPO = Path(__file__).resolve().parents[2]


def test_quota_and_window_are_read_and_garbage_is_shown_shortened() -> None:
    limit = rate_limit([("RateLimit-Limit", "100;w=21600"), ("ratelimit-remaining", "76;w=21600"),
                        ("docker-ratelimit-source", "203.0.113.7")])
    assert limit is not None
    assert limit.line() == "76 of 100 pulls left (window 21600 s), counted against 203.0.113.7"
    odd = rate_limit([("ratelimit-remaining", "lots\x1b[2J" + "x" * 100)])
    assert odd is not None and "\x1b" not in odd.line() and len(odd.line()) < 90
    assert rate_limit([("content-type", "x")]) is None
    assert last_rate_limit([[("ratelimit-remaining", "5")], [], [("ratelimit-remaining", "4")], []]).line() \
        == "remaining 4"


def _limited():
    trace = copy.deepcopy(load(REPO / "recordings/anonymous/pull-multi-arch.trace.json"))
    left = 50
    for ex in trace.exchanges:
        if "/manifests/" in ex.request.url and ex.response is not None:
            ex.response.headers += [("ratelimit-limit", "100;w=21600"), ("ratelimit-remaining", f"{left};w=21600")]
            left -= 1
    return trace, left + 1


def test_show_and_explain_give_each_answer_and_what_is_left() -> None:
    trace, last = _limited()
    table = exchange_table(trace)
    assert "rate limit (ratelimit-* headers):" in table
    assert f"left at the end: {last} of 100 pulls left (window 21600 s)" in table
    assert table.count("of 100 pulls left") == 51 - last + 1  # one line per limited answer, plus the end
    markdown = get("markdown").render(annotate(trace), RenderOptions())
    assert "## Rate limit" in markdown and f"| left at the end | {last} of 100 pulls left" in markdown


def test_nothing_is_added_when_no_answer_carries_the_headers() -> None:
    trace = load(REPO / "recordings/anonymous/pull.trace.json")
    assert "rate limit" not in exchange_table(trace)
    assert "## Rate limit" not in get("markdown").render(annotate(trace), RenderOptions())
