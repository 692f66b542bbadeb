"""Faults during `trace copy`: a source blob that breaks off, a busy source, a busy destination.

Source and destination are the same real distribution 2.8.2 behind two fault
proxies (two hosts, so two clients and blobs streamed across, never mounted):
``reliability/big`` (layers of 512, 256 and 128 KiB) is copied with ``--jobs 1``
to a fresh repository, then pulled back straight from the registry: same
manifest digest, every blob verified.

A source body that breaks off is resumed with ``Range`` inside the destination's
request (which only sees a pause); a destination request that must be sent again
re-opens the source: from byte 0 for a whole-blob PUT, with ``Range`` at the
chunk's offset for a PATCH.
"""

from __future__ import annotations

import json

import httpx
import pytest

from explorer import trace as tracefile
from explorer.client.registry import RegistryClient
from explorer.client.credentials import CredentialSource
from explorer.flows.copy import copy_image
from explorer.protocol import reference
from explorer.protocol.mediatypes import Platform
from explorer.recording.recorder import Recorder
from explorer.recording.redact import Secrets
from explorer.trace import Exchange, Trace
from tests.infra.faults import EditRequest, Reset, Respond, Rule, Stall
from tests.infra.runner import run_cli
from tests.infra.schemas import validate_trace
from tests.infra.traces import step_hops
from tests.reliability.conftest import BIG, assert_pulled_back, unique_repository

pytestmark = pytest.mark.usefixtures("fast_retries")

CUT = 100_000
LAYER_1 = "copy layer 1/3"


@pytest.fixture
def sides(registry_anonymous, seed_big, proxies):
    """(source proxy, destination proxy, the seeded image), both proxies in front of the same registry."""
    image = seed_big(registry_anonymous)
    return proxies(registry_anonymous.url), proxies(registry_anonymous.url), image


def _copy(source, dest, tmp_path, *extra: str):
    repository = unique_repository("reliability/copy")
    run = run_cli("trace", "copy", f"{source.host}/{BIG}", f"{dest.host}/{repository}:1", "-o",
                  str(tmp_path / "t.json"), "--jobs", "1", *extra)
    validate_trace(tmp_path / "t.json")
    return run, repository, tracefile.load(tmp_path / "t.json")


def _blob_gets(trace: Trace, digest: str) -> list[Exchange]:
    return [ex for ex in trace.exchanges if ex.request.method == "GET" and ex.request.url.endswith(digest)]


# --- the source breaks off ---------------------------------------------------------------------
@pytest.mark.parametrize("ranges", [True, False], ids=["source-honours-range", "source-ignores-range"])
def test_a_source_reset_mid_blob_is_resumed_inside_the_destination_put(ranges, sides, registry_anonymous,
                                                                       tmp_path):
    source, dest, image = sides
    layer = image.manifest()["layers"][0]["digest"]
    source.add(Rule(Reset(after=CUT), method="GET", path=layer))
    if not ranges:
        source.add(Rule(EditRequest(drop_headers=("Range",)), method="GET", path=layer, skip=1))
    run, repository, trace = _copy(source, dest, tmp_path)
    assert run.code == 0, run.output
    gets = _blob_gets(trace, layer)
    assert [(g.response.status, g.request.header("range")) for g in gets] == [
        (200, None), (206 if ranges else 200, f"bytes={CUT}-")
    ]
    assert gets[0].response.body.complete is False and gets[0].response.body.size == CUT
    destination = [hop for hop in step_hops(trace, LAYER_1) if hop[1] != "end-2"]
    assert destination == [("POST", "end-4a", 202), ("PUT", "end-6", 201)]  # it never noticed
    assert_pulled_back(registry_anonymous.host, registry_anonymous, repository, image, tmp_path)


def test_a_source_reset_during_a_chunk_resumes_at_the_byte_it_stopped(sides, registry_anonymous, tmp_path):
    source, dest, image = sides
    layer = image.manifest()["layers"][0]["digest"]
    source.add(Rule(Reset(after=300_000), method="GET", path=layer))  # inside the 3rd 128 KiB chunk
    run, repository, trace = _copy(source, dest, tmp_path, "--chunk-size", "128KiB")
    assert run.code == 0, run.output
    assert [(g.response.status, g.request.header("range")) for g in _blob_gets(trace, layer)] == [
        (200, None), (206, "bytes=300000-")
    ]
    destination = [hop for hop in step_hops(trace, LAYER_1) if hop[1] != "end-2"]
    assert destination == [("POST", "end-4a", 202), *[("PATCH", "end-5", 202)] * 4, ("PUT", "end-6", 201)]
    assert_pulled_back(registry_anonymous.host, registry_anonymous, repository, image, tmp_path)


def test_a_busy_source_is_retried(sides, registry_anonymous, tmp_path):
    source, dest, image = sides
    layer = image.manifest()["layers"][0]["digest"]
    source.add(Rule(Respond(503, retry_after="0"), method="GET", path=layer))
    run, repository, trace = _copy(source, dest, tmp_path)
    assert run.code == 0, run.output
    assert step_hops(trace, LAYER_1) == [("POST", "end-4a", 202), ("GET", "end-2", 503), ("GET", "end-2", 200),
                                     ("PUT", "end-6", 201)]
    assert_pulled_back(registry_anonymous.host, registry_anonymous, repository, image, tmp_path)


def test_a_stalled_source_times_out_and_resumes(sides, registry_anonymous, tmp_path):
    source, dest, image = sides
    layer = image.manifest()["layers"][0]["digest"]
    source.add(Rule(Stall(1.0, after=CUT), method="GET", path=layer))
    recorder = Recorder()
    repository = unique_repository("reliability/copy")

    def client(host: str) -> RegistryClient:
        return RegistryClient(host, recorder=recorder, credentials=CredentialSource(Secrets(), env={}),
                              timeout=httpx.Timeout(5.0, read=0.3), retries=2)

    with client(source.host) as source_client, client(dest.host) as dest_client:
        result = copy_image(source_client, reference.parse(f"{source.host}/{BIG}"), dest_client,
                            reference.parse(f"{dest.host}/{repository}:1"), platform=Platform("linux", "amd64"),
                            jobs=1)
    assert result.push.digest == image.digest
    recorder.seal()
    validate_trace(json.loads(tracefile.dumps(recorder.trace)))
    gets = _blob_gets(recorder.trace, layer)
    assert [(g.response.status, g.request.header("range")) for g in gets] == [(200, None), (206, f"bytes={CUT}-")]
    assert gets[0].response.body.complete is False and gets[0].response.body.size == CUT
    assert gets[0].error.startswith("ReadTimeout") and gets[1].error is None  # why the first body ended
    assert_pulled_back(registry_anonymous.host, registry_anonymous, repository, image, tmp_path)


def test_a_source_broken_for_good_fails_the_copy_naming_the_source(sides, tmp_path):
    source, dest, image = sides
    layer = image.manifest()["layers"][0]["digest"]
    source.add(Rule(Reset(after=CUT), method="GET", path=layer))
    source.add(Rule(Reset(after=0), method="GET", path=layer, skip=1, times=None))
    run, _repository, trace = _copy(source, dest, tmp_path, "--retries", "2")
    assert run.code == 1
    first = run.stderr.splitlines()[0]
    assert f"of {source.host}/{BIG}" in first and "broke off 3 times without progress" in first, first
    assert f"got {CUT} of" in first and "Traceback" not in run.output
    assert trace.outcome.status == "failed"
    destination = [hop for hop in step_hops(trace, LAYER_1) if hop[1] != "end-2"]
    # the destination's PUT failed with the source's error; its session is cancelled, not retried in a new one
    assert destination[:2] == [("POST", "end-4a", 202), ("PUT", "end-6", None)]
    # 204, or 404 when 2.8 already dropped the session over what the proxy forwarded of the cut PUT (a race)
    assert [hop[:2] for hop in destination[2:]] == [("DELETE", "end-14")] and destination[2][2] in (204, 404)
    assert len(_blob_gets(trace, layer)) == 1 + 3


# --- the destination is busy ------------------------------------------------------------------
def test_a_busy_destination_gets_the_whole_blob_again_from_the_source(sides, registry_anonymous, tmp_path):
    source, dest, image = sides
    layer = image.manifest()["layers"][0]["digest"]
    dest.add(Rule(Respond(503, retry_after="0"), method="PUT", path=r"/blobs/uploads/"))
    run, repository, trace = _copy(source, dest, tmp_path)
    assert run.code == 0, run.output
    destination = [hop for hop in step_hops(trace, LAYER_1) if hop[1] != "end-2"]
    assert destination == [("POST", "end-4a", 202), ("PUT", "end-6", 503), ("PUT", "end-6", 201)]
    # a streamed body cannot be replayed: the source is read again, from byte 0
    assert [(g.response.status, g.request.header("range")) for g in _blob_gets(trace, layer)] == [
        (200, None), (200, None)
    ]
    assert_pulled_back(registry_anonymous.host, registry_anonymous, repository, image, tmp_path)


def test_a_busy_destination_chunk_reopens_the_source_at_its_offset(sides, registry_anonymous, tmp_path):
    source, dest, image = sides
    layer = image.manifest()["layers"][0]["digest"]
    dest.add(Rule(Respond(503, retry_after="0"), method="PATCH", skip=1))  # the 2nd chunk of layer 1
    run, repository, trace = _copy(source, dest, tmp_path, "--chunk-size", "128KiB")
    assert run.code == 0, run.output
    destination = [hop for hop in step_hops(trace, LAYER_1) if hop[1] != "end-2"]
    assert destination == [("POST", "end-4a", 202), ("PATCH", "end-5", 202), ("PATCH", "end-5", 503),
                           *[("PATCH", "end-5", 202)] * 3, ("PUT", "end-6", 201)]
    assert [(g.response.status, g.request.header("range")) for g in _blob_gets(trace, layer)] == [
        (200, None), (206, "bytes=131072-")
    ]
    assert_pulled_back(registry_anonymous.host, registry_anonymous, repository, image, tmp_path)
