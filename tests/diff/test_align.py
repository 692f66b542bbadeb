"""Alignment by meaning on synthetic traces: interleavings, extra exchanges, each class of difference."""

from __future__ import annotations

import copy
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.diff import compare
from explorer.trace import Trace
from tests.render.factory import case_pull_multiarch, case_pull_token, case_push_first, case_push_second


def _kinds(a: Trace, b: Trace, ignore: frozenset[str] = frozenset()) -> list[str]:
    return [d.kind for d in compare(a, b).kept(ignore)]


def test_a_trace_matches_itself() -> None:
    trace = case_pull_multiarch()
    result = compare(trace, copy.deepcopy(trace))
    assert result.same() and result.pairs == len(trace.exchanges)


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_any_interleaving_of_the_same_exchanges_matches(rnd: random.Random) -> None:
    trace = case_pull_multiarch()
    shuffled = copy.deepcopy(trace)
    head, blobs = shuffled.exchanges[:6], shuffled.exchanges[6:]
    rnd.shuffle(blobs)
    shuffled.exchanges = head + blobs
    assert compare(trace, shuffled).kept(frozenset({"timings"})) == []


def test_an_extra_ping_is_only_in_one_side() -> None:
    a = case_pull_token()
    b = copy.deepcopy(a)
    b.exchanges.insert(1, copy.deepcopy(b.exchanges[0]))
    result = compare(a, b)
    assert [(d.kind, d.numbers) for d in result.kept(frozenset({"timings"}))] == [("only-in-b", (None, 2))]
    assert "end-1" in result.differences[0].what


def test_status_header_and_size_differences_are_classed() -> None:
    a = case_pull_token()
    b = copy.deepcopy(a)
    manifest = next(ex for ex in b.exchanges if "/manifests/" in ex.request.url and ex.response.status == 200)
    manifest.request.headers.append(("Range", "bytes=0-"))
    manifest.response.body.size += 1
    layer = next(ex for ex in b.exchanges if "/blobs/" in ex.request.url)
    layer.response.status = 206
    assert sorted(_kinds(a, b, frozenset({"timings"}))) == ["body-size", "headers", "status"]
    assert _kinds(a, b, frozenset({"timings", "headers", "body-size", "status"})) == []


def test_first_and_second_push_differ_by_uploads_turned_into_head_200() -> None:
    first, second = case_push_first(), case_push_second()
    result = compare(first, second)
    kinds = {d.kind for d in result.differences}
    assert "only-in-a" in kinds  # uploads of the first push that the second does not make


def test_a_different_order_of_phases_is_reported() -> None:
    a = case_pull_token()
    b = copy.deepcopy(a)
    first_blob = next(i for i, ex in enumerate(b.exchanges) if "/blobs/" in ex.request.url)
    manifest_index = next(i for i, ex in enumerate(b.exchanges) if "/manifests/" in ex.request.url)
    b.exchanges.insert(manifest_index, b.exchanges.pop(first_blob))
    assert "order" in _kinds(a, b)


def test_token_response_sizes_are_not_compared() -> None:
    a = case_pull_token()
    b = copy.deepcopy(a)
    token = next(ex for ex in b.exchanges if "/token" in ex.request.url)
    token.response.body.size += 17
    assert _kinds(a, b, frozenset({"timings"})) == []


def test_an_https_probe_has_its_own_class() -> None:
    a = case_pull_token()
    b = copy.deepcopy(a)
    probe = copy.deepcopy(b.exchanges[0])
    probe.request.url = probe.request.url.replace("http://", "https://")
    probe.response, probe.error = None, "ConnectError: [SSL: WRONG_VERSION_NUMBER] wrong version number"
    b.exchanges.insert(0, probe)
    assert _kinds(a, b, frozenset({"timings"})) == ["https-probe"]
    assert _kinds(a, b, frozenset({"timings", "https-probe"})) == []
