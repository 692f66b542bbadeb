"""Faults during `trace push`: lost and cut chunks, transient answers, expiring tokens, Ctrl-C.

Targets, each behind the fault proxy: the real distribution 2.8.2, and the
built-in registry on real sockets, with its default upload Locations (a signed
``_state``, as distribution) and with ``RegistryOptions(upload_state=False)``
(Locations without ``_state``, as zot sends them): only there is an old Location
still good after its chunk arrived, so a chunk sent again gets 416 and the
upload resumes from the upload status ``Range``.

The image is ``reliability/big`` (layers of 512, 256 and 128 KiB) from an OCI
layout with ``--chunk-size 128KiB --jobs 1``: layer 1 goes in 4 PATCHes, layer 2
in 2, layer 3 and the config in one PUT each (21 exchanges without faults).
Every push that succeeds is pulled back straight from the registry (no proxy):
same manifest digest, every blob verified.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from explorer import trace as tracefile
from explorer.sandbox import RegistryOptions, Sandbox
from explorer.trace import Exchange, Trace
from tests.infra.fault_proxy import FaultProxy
from tests.infra.faults import DropResponse, RejectStaleBearer, ResetRequest, Respond, Rule, Stall
from tests.infra.schemas import validate_trace
from tests.infra.traces import hop_kind, signature, step_hops
from tests.reliability.conftest import assert_pulled_back, interrupt_when, push_via, unique_repository

pytestmark = pytest.mark.usefixtures("fast_retries")

CHUNKS = ("--chunk-size", "128KiB", "--jobs", "1")
LAYER_1 = "upload layer 1/3"
EXIT_WITHIN = 2.5  # seconds from SIGINT to exit, as for pull
UNAVAILABLE = json.dumps({"errors": [{"code": "UNAVAILABLE", "message": "registry in maintenance"}]}).encode()


@dataclass
class Target:
    name: str
    proxy: FaultProxy  # push through it; its rules make the faults
    direct: str  # host:port of the registry itself, to pull the result back without faults
    account: object | None = None  # username/password holder for push_via/pull_via (None: anonymous)


@pytest.fixture
def target(request: pytest.FixtureRequest, proxies) -> Iterator[Target]:
    """``distribution``, ``sandbox`` (signed ``_state`` Locations) or ``sandbox-stateless`` (zot-like Locations)."""
    if request.param == "distribution":
        registry = request.getfixturevalue("registry_anonymous")
        yield Target(request.param, proxies(registry.url), registry.host)
        return
    with Sandbox(options=RegistryOptions(upload_state=request.param == "sandbox")) as sandbox:
        yield Target(request.param, proxies(sandbox.registry_url), sandbox.registry_host)


def _load(out: Path) -> Trace:
    validate_trace(out)
    return tracefile.load(out)


def _exchanges(trace: Trace, step: str, method: str) -> list[Exchange]:
    return [ex for ex in trace.exchanges if ex.step == step and ex.request.method == method]


def _push(target: Target, tmp_path: Path, layout: Path, *extra: str) -> tuple[str, Trace]:
    repository = unique_repository()
    run = push_via(target.proxy.host, target.account, layout, repository, tmp_path / "t.json", *(extra or CHUNKS))
    assert run.code == 0, run.output
    trace = _load(tmp_path / "t.json")
    assert trace.outcome.status == "ok"
    return repository, trace


# --- a chunk whose answer is lost, a chunk cut mid-body ---------------------------------------
@pytest.mark.parametrize("target", ["distribution", "sandbox"], indirect=True)
def test_a_lost_chunk_answer_with_signed_locations_restarts_in_a_new_session(target, big_layout, big_image,
                                                                            tmp_path):
    # the 2nd chunk of layer 1 reaches the registry, its 202 does not reach us
    target.proxy.add(Rule(DropResponse(), method="PATCH", skip=1))
    repository, trace = _push(target, tmp_path, big_layout)
    cancelled = 404 if target.name == "distribution" else 204  # 2.8 dropped the session when it refused it
    assert step_hops(trace, LAYER_1) == [
        ("POST", "end-4a", 202), ("PATCH", "end-5", 202),
        ("PATCH", "end-5", None),  # the answer lost: sent again on the same Location ...
        ("PATCH", "end-5", 404),  # ... whose _state no longer matches the session
        ("DELETE", "end-14", cancelled),
        ("POST", "end-4a", 202), *[("PATCH", "end-5", 202)] * 4, ("PUT", "end-6", 201),
    ]
    lost, refused = _exchanges(trace, LAYER_1, "PATCH")[1:3]
    assert lost.error and refused.request.header("content-range") == lost.request.header("content-range")
    assert "BLOB_UPLOAD_INVALID" in refused.response.body.text
    assert_pulled_back(target.direct, target.account, repository, big_image, tmp_path)


@pytest.mark.parametrize("target", ["sandbox-stateless"], indirect=True)
def test_a_lost_chunk_answer_resumes_from_the_upload_status_range(target, big_layout, big_image, tmp_path):
    target.proxy.add(Rule(DropResponse(), method="PATCH", skip=1))
    repository, trace = _push(target, tmp_path, big_layout)
    assert step_hops(trace, LAYER_1) == [
        ("POST", "end-4a", 202), ("PATCH", "end-5", 202),
        ("PATCH", "end-5", None),  # the answer lost; the registry has the chunk
        ("PATCH", "end-5", 416),  # the same chunk again: RANGE_INVALID
        ("GET", "end-13", 204),  # where is the upload?
        ("PATCH", "end-5", 202), ("PATCH", "end-5", 202), ("PUT", "end-6", 201),  # resumed there
    ]
    status = _exchanges(trace, LAYER_1, "GET")[0]
    assert status.response.header("range") == "0-262143"
    patches = _exchanges(trace, LAYER_1, "PATCH")
    assert patches[2].request.header("content-range") == "131072-262143"
    assert "RANGE_INVALID" in patches[2].response.body.text
    assert [p.request.header("content-range") for p in patches[3:]] == ["262144-393215", "393216-524287"]
    assert_pulled_back(target.direct, target.account, repository, big_image, tmp_path)


@pytest.mark.parametrize("target", ["distribution", "sandbox", "sandbox-stateless"], indirect=True)
def test_a_chunk_cut_mid_body_is_sent_again(target, big_layout, big_image, tmp_path):
    target.proxy.add(Rule(ResetRequest(after=10_000), method="PATCH", skip=1))  # never reaches the registry
    repository, trace = _push(target, tmp_path, big_layout)
    assert step_hops(trace, LAYER_1) == [
        ("POST", "end-4a", 202), ("PATCH", "end-5", 202), ("PATCH", "end-5", None),
        *[("PATCH", "end-5", 202)] * 3, ("PUT", "end-6", 201),
    ]
    cut, again = _exchanges(trace, LAYER_1, "PATCH")[1:3]
    assert cut.request.header("content-range") == again.request.header("content-range") == "131072-262143"
    assert again.request.body.size == 131072
    assert_pulled_back(target.direct, target.account, repository, big_image, tmp_path)


# --- transient answers --------------------------------------------------------------------------
WHERE = {  # request → (method, path regex seen by the proxy, endpoint id, success status)
    "open upload (POST)": ("POST", r"/blobs/uploads/$", "end-4a", 202),
    "chunk (PATCH)": ("PATCH", r"/blobs/uploads/", "end-5", 202),
    "close upload (PUT)": ("PUT", r"/blobs/uploads/", "end-6", 201),
    "manifest (PUT)": ("PUT", r"/manifests/", "end-7", 201),
}


@pytest.mark.parametrize("where", list(WHERE))
@pytest.mark.parametrize("status", [503, 429])
@pytest.mark.parametrize("target", ["distribution"], indirect=True)
def test_transient_answers_are_retried_each_as_its_own_exchange(status, where, target, big_layout, big_image,
                                                                tmp_path):
    method, path, endpoint, success = WHERE[where]
    target.proxy.add(Rule(Respond(status, retry_after="0"), method=method, path=path, times=2))
    repository, trace = _push(target, tmp_path, big_layout)
    hops = [hop for hop in signature(trace) if hop[:2] == (method, endpoint)]
    assert hops[:3] == [(method, endpoint, status), (method, endpoint, status), (method, endpoint, success)]
    assert len(trace.exchanges) == 1 + 21 + 2  # the https probe (loopback), the push, the two refused answers
    assert_pulled_back(target.direct, target.account, repository, big_image, tmp_path)


@pytest.mark.parametrize("target", ["distribution"], indirect=True)
def test_retry_after_is_waited_for_before_a_chunk_is_sent_again(target, big_layout, tmp_path):
    target.proxy.add(Rule(Respond(429, retry_after="1"), method="PATCH", skip=1))
    _repository, trace = _push(target, tmp_path, big_layout)
    throttled, again = _exchanges(trace, LAYER_1, "PATCH")[1:3]
    assert (throttled.response.status, again.response.status) == (429, 202)
    gap = _start(again) - (_start(throttled) + throttled.duration_ms / 1000)
    assert 0.9 <= gap <= 2.0, gap
    assert again.request.body.size == 131072  # the chunk itself was sent again


def _start(ex: Exchange) -> float:
    return datetime.fromisoformat(ex.started.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("target", ["distribution"], indirect=True)
def test_a_registry_unavailable_for_good_fails_with_its_error_and_the_upload_is_cancelled(target, big_layout,
                                                                                        tmp_path):
    target.proxy.add(Rule(Respond(503, body=UNAVAILABLE), method="PATCH", times=None))
    run = push_via(target.proxy.host, None, big_layout, unique_repository(), tmp_path / "t.json", *CHUNKS,
                   "--retries", "2")
    assert run.code == 1
    first = run.stderr.splitlines()[0]
    assert first.startswith("error: UNAVAILABLE: registry in maintenance (") and "layer 1/3" in first, run.stderr
    assert first.endswith("(after 3 attempts)"), first
    assert "Traceback" not in run.output
    trace = _load(tmp_path / "t.json")
    assert trace.outcome.status == "failed" and "UNAVAILABLE" in trace.outcome.message
    assert step_hops(trace, LAYER_1) == [("POST", "end-4a", 202), *[("PATCH", "end-5", 503)] * 3,
                                     ("DELETE", "end-14", 204)]
    assert not [hop for hop in signature(trace) if hop[1] == "end-7"]  # no manifest for a failed push


# --- tokens that expire during the upload ---------------------------------------------------------
def test_builtin_registry_tokens_expire_mid_upload_and_are_renewed(big_layout, big_image, proxies, tmp_path):
    with Sandbox(auth="token", token_ttl=1) as sandbox:  # no leeway: a 1 s token is refused after 1 s
        target = Target("sandbox", proxies(sandbox.registry_url), sandbox.registry_host, sandbox)
        # chunk 2 of layer 1 is slow to answer: chunk 3 leaves after the token (issued before chunk 1) expired
        target.proxy.add(Rule(Stall(1.05), method="PATCH", skip=1))
        repository, trace = _push(target, tmp_path, big_layout)
        assert_pulled_back(target.direct, target.account, repository, big_image, tmp_path)
    _assert_renewed_mid_chunk(trace)


def test_distribution_tokens_refused_as_expired_mid_upload_are_renewed(registry_token, two_second_tokens, front,
                                                                        big_layout, big_image, tmp_path):
    fronted = front(registry_token)
    strict = fronted.registry.add(Rule(RejectStaleBearer(), times=None))
    fronted.registry.add(Rule(Stall(2.05), method="PATCH", skip=1))  # chunk 3 leaves after the 2 s token expired
    target = Target("distribution", fronted.registry, registry_token.host, registry_token)
    repository, trace = _push(target, tmp_path, big_layout)
    assert strict.fault.rejected >= 1
    refused = _assert_renewed_mid_chunk(trace)
    assert 'error="invalid_token"' in refused.response.header("www-authenticate")
    assert_pulled_back(target.direct, target.account, repository, big_image, tmp_path)


def _assert_renewed_mid_chunk(trace: Trace) -> Exchange:
    """Chunk 3 of layer 1 got 401, a token was fetched, and the same chunk (its whole body) was sent again: 202.
    On a loaded machine the renewed token (1-2 s) may expire too before the layer is done: every later 401 of
    the layer must be renewed the same way (a token, then the same request again)."""
    hops = step_hops(trace, LAYER_1)
    assert hops[:5] == [
        ("POST", "end-4a", 202), ("PATCH", "end-5", 202), ("PATCH", "end-5", 202),
        ("PATCH", "end-5", 401), ("PATCH", "end-5", 202),
    ]
    assert [hop for hop in hops[5:] if hop[2] != 401] == [("PATCH", "end-5", 202), ("PUT", "end-6", 201)]
    layer = [ex for ex in trace.exchanges if ex.step == LAYER_1]
    refusals = [ex for ex in layer if ex.response.status == 401]
    for refused in refusals:
        again = next(ex for ex in layer[layer.index(refused) + 1:] if ex.request.method == refused.request.method)
        between = trace.exchanges[trace.exchanges.index(refused) + 1 : trace.exchanges.index(again)]
        assert [(ex.step, hop_kind(ex), ex.response.status) for ex in between] == [("authenticate", "token", 200)]
        assert refused.request.header("content-range") == again.request.header("content-range")
        assert refused.request.body.size == again.request.body.size
    refused = refusals[0]
    assert refused.request.header("content-range") == "262144-393215"
    assert refused.request.body.size == 131072
    return refused


# --- Ctrl-C --------------------------------------------------------------------------------------
def _push_command(host: str, layout: Path, tmp_path: Path, jobs: int) -> list[str]:
    return [sys.executable, "-m", "explorer", "trace", "push", f"{layout}:1", f"{host}/{unique_repository()}:1",
            "-o", str(tmp_path / "t.json"), "--chunk-size", "64KiB", "--jobs", str(jobs)]


def _interrupted(done, took: float, tmp_path: Path) -> Trace:
    assert done.returncode == 130, done.stderr
    assert took < EXIT_WITHIN, took
    assert done.stderr.splitlines()[0] == f"error: interrupted; the trace so far was written to {tmp_path / 't.json'}"
    assert "Traceback" not in done.stderr
    trace = _load(tmp_path / "t.json")
    assert trace.outcome.status == "interrupted"
    return trace


def _open_sessions(trace: Trace) -> list[str]:
    """Steps of uploads whose session was opened (POST 202) but never closed (no PUT 201)."""
    def steps(endpoint: str, status: int) -> set[str | None]:
        return {ex.step for ex in trace.exchanges
                if hop_kind(ex) == endpoint and ex.response is not None and ex.response.status == status}

    return sorted(step for step in steps("end-4a", 202) - steps("end-6", 201) if step)


@pytest.mark.parametrize("jobs", [1, 4])
def test_sigint_during_a_push_cancels_the_open_uploads(jobs, registry_anonymous, proxies, big_layout, tmp_path):
    proxy = proxies(registry_anonymous.url)
    proxy.add(Rule(Stall(0.15), method="PATCH", times=None))  # a slow link: ~0.15 s per 64 KiB chunk
    done, took = interrupt_when(_push_command(proxy.host, big_layout, tmp_path, jobs), tmp_path,
                                lambda: len(proxy.requests("PATCH")) >= 3)
    trace = _interrupted(done, took, tmp_path)
    open_sessions = _open_sessions(trace)
    assert open_sessions
    for step in open_sessions:  # each one told the registry it is abandoned
        assert [hop[:2] for hop in step_hops(trace, step)][-1] == ("DELETE", "end-14"), step_hops(trace, step)
    assert len(proxy.requests("DELETE")) == len(open_sessions)


def test_sigint_while_the_registry_stalls_does_not_wait_for_the_cancel(registry_anonymous, proxies, big_layout,
                                                                       tmp_path):
    proxy = proxies(registry_anonymous.url)
    proxy.add(Rule(Stall(30), method="PATCH", skip=2))  # the 3rd chunk never gets an answer ...
    proxy.add(Rule(Stall(30), method="DELETE", times=None))  # ... nor does the DELETE of the session
    done, took = interrupt_when(_push_command(proxy.host, big_layout, tmp_path, 1), tmp_path,
                                lambda: len(proxy.requests("PATCH")) >= 3)
    trace = _interrupted(done, took, tmp_path)
    cancel = [ex for ex in trace.exchanges if ex.request.method == "DELETE"]
    assert len(cancel) == 1 and cancel[0].response is None and "Timeout" in cancel[0].error  # one short try
