"""The table machinery itself: a row rewrites exactly one run of hops, round trips move with it, stale rows fail."""

from __future__ import annotations

import pytest

from tests.faithful.differences import reconcile
from tests.faithful.hops import ANY, Hop

PING = [Hop("GET", "end-1", 200)]
DANCE = [Hop("GET", "end-3", 401), Hop("GET", "token", 200)]


def test_referrers_row_rewrites_the_fallback_into_the_api_call() -> None:
    listed = [*PING, Hop("GET", "end-12a", 404), Hop("GET", "end-3", 200, ("sha256:" + "0" * 64,))]
    assert reconcile("referrers", "referrers", listed, token_auth=False) == [*PING, Hop("GET", "end-12a", 200, ANY, ANY)]


def test_the_token_round_trip_stays_exactly_where_distribution_had_it() -> None:
    challenged = [*PING, Hop("GET", "end-12a", 404), *DANCE, Hop("GET", "end-3", 200)]
    assert [h.signature for h in reconcile("referrers", "referrers", challenged, token_auth=True)] == [
        ("GET", "end-1", 200), ("GET", "end-12a", 401), ("GET", "token", 200), ("GET", "end-12a", 200)]
    already_authorised = [*PING, Hop("GET", "end-12a", 404), Hop("GET", "end-3", 200)]
    assert [h.signature for h in reconcile("referrers", "referrers", already_authorised, token_auth=True)] == [
        ("GET", "end-1", 200), ("GET", "end-12a", 200)]


def test_error_codes_are_part_of_a_row() -> None:
    invalid = [Hop("DELETE", "end-14", 404, (), ("BLOB_UPLOAD_INVALID",))]
    flow, step = "bad digest on upload finish", "push a corrupt layer"
    assert reconcile(flow, step, invalid, token_auth=False)[0].errors == ("BLOB_UPLOAD_UNKNOWN",)
    with pytest.raises(AssertionError, match="matched 0 times"):
        reconcile(flow, step, [Hop("DELETE", "end-14", 404, (), ("BLOB_UPLOAD_UNKNOWN",))], token_auth=False)


def test_steps_without_a_row_are_left_alone() -> None:
    hops = [*PING, Hop("GET", "end-8b", 200)]
    assert reconcile("tags pagination", "tags", hops, token_auth=True) == hops
