"""Retries of `trace pull`: 408/429/5xx and connection failures, backoff + jitter, Retry-After, each attempt recorded.

The registry is the real distribution behind the fault proxy; where the timing is
the point it is measured from the trace's own timestamps.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from explorer import trace as tracefile
from explorer.trace import Exchange
from tests.infra.faults import DropResponse, Reset, Respond, Rule
from tests.infra.schemas import validate_trace
from tests.infra.traces import signature
from tests.reliability.conftest import SMALL, pull_via

pytestmark = pytest.mark.usefixtures("fast_retries")
MANIFEST = r"/manifests/1\.0$"


def _load(out):
    validate_trace(out)
    return tracefile.load(out)


def _gaps(exchanges: list[Exchange]) -> list[float]:
    """Seconds between the end of each attempt and the start of the next."""
    def start(ex: Exchange) -> float:
        return datetime.fromisoformat(ex.started.replace("Z", "+00:00")).timestamp()
    return [start(b) - (start(a) + a.duration_ms / 1000) for a, b in zip(exchanges, exchanges[1:])]


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_status_is_retried_and_each_attempt_is_an_exchange(status, registry_anonymous, front, tmp_path):
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Respond(status, retry_after="0"), method="GET", path=MANIFEST, times=2))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json")
    assert run.code == 0, run.output
    trace = _load(tmp_path / "t.json")
    manifest_hops = [s for s in signature(trace) if s[1] == "end-3"]
    assert manifest_hops == [("GET", "end-3", status), ("GET", "end-3", status), ("GET", "end-3", 200)]
    assert trace.outcome.status == "ok"


def test_connection_failures_are_retried_and_recorded_with_their_error(registry_anonymous, front, tmp_path):
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(DropResponse(), method="GET", path=MANIFEST))  # the answer is lost
    fronted.registry.add(Rule(Reset(after=100), method="GET", path=MANIFEST, skip=1))  # cut mid-body
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json")
    assert run.code == 0, run.output
    hops = [ex for ex in _load(tmp_path / "t.json").exchanges if ex.request.url.endswith("/manifests/1.0")]
    assert len(hops) == 3
    assert hops[0].response is None and hops[0].error
    assert hops[1].response.status == 200 and hops[1].response.body.complete is False
    assert hops[2].response.status == 200 and hops[2].response.body.complete is True


def test_exhausted_retries_fail_with_one_line_and_keep_every_attempt(registry_anonymous, front, tmp_path):
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Respond(503, body=b"<html>busy</html>", headers={"Content-Type": "text/html"}),
                              path=MANIFEST, times=None))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json", SMALL, "--retries", "2")
    assert run.code == 1
    first = run.stderr.splitlines()[0]
    assert first.startswith("error: ") and "503" in first and "(after 3 attempts)" in first, run.stderr
    assert "Traceback" not in run.output
    trace = _load(tmp_path / "t.json")
    assert [s for s in signature(trace) if s[1] == "end-3"] == [("GET", "end-3", 503)] * 3
    assert trace.outcome.status == "failed"


def test_retries_zero_means_one_attempt(registry_anonymous, front, tmp_path):
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Respond(503), path=MANIFEST, times=None))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json", SMALL, "--retries", "0")
    assert run.code == 1
    assert [s for s in signature(_load(tmp_path / "t.json")) if s[1] == "end-3"] == [("GET", "end-3", 503)]


def test_errors_that_are_not_transient_are_not_retried(registry_anonymous, front, tmp_path):
    fronted = front(registry_anonymous)
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json", "test/small:nope")
    assert run.code == 1
    assert len(fronted.registry.requests("GET", "/manifests/nope")) == 1


def test_refused_connection_is_retried_then_reported(tmp_path, proxies):
    dead = proxies("http://127.0.0.1:9")
    host = dead.host
    dead.stop()  # nothing listens there any more
    from tests.infra.runner import run_cli

    run = run_cli("trace", "pull", f"{host}/{SMALL}", "-o", str(tmp_path / "t.json"), "--retries", "2")
    assert run.code == 1
    assert run.stderr.splitlines()[0].startswith(f"error: cannot connect to http://{host}")
    assert "(after 3 attempts)" in run.stderr
    trace = _load(tmp_path / "t.json")
    probe, *attempts = trace.exchanges  # loopback: https first; refused there too, so http is tried, as docker does
    assert probe.request.url.startswith("https://") and probe.step == "https probe: no TLS answer"
    assert [(ex.response, bool(ex.error), ex.request.url.split(":")[0]) for ex in attempts] == [(None, True, "http")] * 3


def test_backoff_doubles_with_jitter(registry_anonymous, front, tmp_path, monkeypatch):
    base = 0.05
    monkeypatch.setattr("explorer.client.sending.BACKOFF_BASE", base)
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Respond(503), path=MANIFEST, times=3))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json")
    assert run.code == 0, run.output
    hops = [ex for ex in _load(tmp_path / "t.json").exchanges if ex.request.url.endswith("/manifests/1.0")]
    gaps = _gaps(hops)
    assert len(gaps) == 3
    for attempt, gap in enumerate(gaps):
        low = base * 2**attempt
        assert low * 0.95 <= gap <= low * 1.5 + 0.05, (attempt, gaps)


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_is_honoured(form, registry_anonymous, front, tmp_path):
    when = datetime.now(timezone.utc) + timedelta(seconds=2)
    value = "1" if form == "seconds" else format_datetime(when, usegmt=True)
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Respond(429, retry_after=value), path=MANIFEST))
    # --plain-http: the date counts from now, so nothing (not even the https probe) should come before the 429
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json", SMALL, "--plain-http")
    assert run.code == 0, run.output
    hops = [ex for ex in _load(tmp_path / "t.json").exchanges if ex.request.url.endswith("/manifests/1.0")]
    (gap,) = _gaps(hops)
    assert 0.9 <= gap <= 2.5, gap  # an HTTP-date has whole seconds: 1..2 s from now


def test_a_retry_after_beyond_the_limit_is_reported_not_waited_for(registry_anonymous, front, tmp_path):
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Respond(429, retry_after="3600"), path=MANIFEST))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json")
    assert run.code == 1
    assert "hint: the registry asks to retry after 3600 s" in run.stderr
    assert len(fronted.registry.requests("GET", MANIFEST)) == 1


def test_a_busy_token_server_is_retried_like_the_registry(registry_token, front, tmp_path):
    fronted = front(registry_token, token=True)
    fronted.token.add(Rule(Respond(503, retry_after="0"), path="/token", times=1))
    run = pull_via(fronted.host, registry_token, tmp_path / "t.json")
    assert run.code == 0, run.output
    tokens = [s for s in signature(_load(tmp_path / "t.json")) if s[1] == "token"]
    assert tokens[0] == ("GET", "token", 503) and tokens[1] == ("GET", "token", 200)
