"""Interrupted blob downloads resume with `Range` and are verified over the whole blob.

The first layer of ``reliability/big:1.0`` (512 KiB) is cut by the fault proxy in
front of the real registry (or in front of its CDN, behind a 307).
"""

from __future__ import annotations

import httpx
import pytest

from explorer import trace as tracefile
from explorer.client.registry import RegistryClient
from explorer.client.credentials import CredentialSource
from explorer.errors import DigestMismatch
from explorer.flows.pull import pull
from explorer.protocol import reference
from explorer.protocol.mediatypes import Platform
from explorer.recording.recorder import Recorder
from explorer.recording.redact import Secrets
from tests.infra.faults import EditRequest, Reset, Rewrite, Rule, Stall, Truncate, WrongLength
from tests.infra.schemas import validate_trace
from tests.reliability.conftest import BIG, partial_files, pull_via

pytestmark = pytest.mark.usefixtures("fast_retries")
CUT = 100_000


@pytest.fixture
def big(registry_anonymous, seed_big):
    image = seed_big(registry_anonymous)
    layer = image.manifest()["layers"][0]
    return image, layer, image.blob_bytes(layer["digest"])


def blob_hops(out, digest):
    trace = tracefile.load(out)
    return [ex for ex in trace.exchanges if ex.request.url.endswith(f"/blobs/{digest}")]


def pull_layout(fronted, registry, tmp_path, *extra):
    layout = tmp_path / "layout"
    run = pull_via(fronted.host, registry, tmp_path / "t.json", BIG, "--oci-layout", str(layout), "--jobs", "1", *extra)
    return run, layout


def stored(layout, digest):
    return (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()


def test_reset_mid_body_resumes_with_range(registry_anonymous, front, big, tmp_path):
    _image, layer, data = big
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Reset(after=CUT), method="GET", path=layer["digest"]))
    run, layout = pull_layout(fronted, registry_anonymous, tmp_path)
    assert run.code == 0, run.output
    assert stored(layout, layer["digest"]) == data
    first, second = blob_hops(tmp_path / "t.json", layer["digest"])
    assert first.response.status == 200 and first.response.body.complete is False
    assert first.response.body.size == CUT
    assert first.error and first.error.split(":")[0] in ("ReadError", "RemoteProtocolError")  # why it ended
    assert second.error is None
    assert second.request.header("range") == f"bytes={CUT}-"
    assert second.response.status == 206
    assert second.response.header("content-range") == f"bytes {CUT}-{len(data) - 1}/{len(data)}"
    validate_trace(tmp_path / "t.json")
    assert partial_files(layout) == []


@pytest.mark.parametrize(
    ("fault", "statuses"),
    [
        (Truncate(after=CUT, fix_length=True), [200, 206]),
        (Truncate(after=CUT), [200, 206]),
        (WrongLength(CUT), [200, 206]),  # the rest of the body is never read
        (WrongLength(600_000), [200]),  # every byte arrived before the promised rest failed to: verified, kept
    ],
    ids=["short-but-consistent", "closed-early", "content-length-too-small", "content-length-too-big"],
)
def test_truncated_bodies_resume(fault, statuses, registry_anonymous, front, big, tmp_path):
    _image, layer, data = big
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(fault, method="GET", path=layer["digest"]))
    run, layout = pull_layout(fronted, registry_anonymous, tmp_path)
    assert run.code == 0, run.output
    assert stored(layout, layer["digest"]) == data
    hops = blob_hops(tmp_path / "t.json", layer["digest"])
    assert [h.response.status for h in hops] == statuses


def test_a_registry_ignoring_range_is_read_again_skipping_what_we_have(registry_anonymous, front, big, tmp_path):
    _image, layer, data = big
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Reset(after=CUT), method="GET", path=layer["digest"]))
    fronted.registry.add(Rule(EditRequest(drop_headers=("Range",)), method="GET", path=layer["digest"], skip=1))
    run, layout = pull_layout(fronted, registry_anonymous, tmp_path)
    assert run.code == 0, run.output
    assert stored(layout, layer["digest"]) == data
    hops = blob_hops(tmp_path / "t.json", layer["digest"])
    assert [h.response.status for h in hops] == [200, 200]
    assert hops[1].request.header("range") == f"bytes={CUT}-"  # asked, ignored upstream


def test_a_206_with_another_range_is_not_appended(registry_anonymous, front, big, tmp_path):
    _image, layer, data = big
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Reset(after=CUT), method="GET", path=layer["digest"]))
    fronted.registry.add(Rule(Rewrite(set_headers={"Content-Range": f"bytes 0-{len(data) - CUT - 1}/{len(data)}"}),
                              method="GET", path=layer["digest"], skip=1))
    run, layout = pull_layout(fronted, registry_anonymous, tmp_path)
    assert run.code == 0, run.output
    assert stored(layout, layer["digest"]) == data
    hops = blob_hops(tmp_path / "t.json", layer["digest"])
    assert [h.response.status for h in hops] == [200, 206, 200]
    assert hops[2].request.header("range") is None  # restarted from byte 0


def test_resumed_bytes_that_differ_fail_the_digest_and_keep_nothing(registry_anonymous, front, big, tmp_path):
    _image, layer, data = big
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Reset(after=CUT), method="GET", path=layer["digest"]))
    fronted.registry.add(Rule(Rewrite(body=b"\0" * (len(data) - CUT)), method="GET", path=layer["digest"], skip=1))
    run, layout = pull_layout(fronted, registry_anonymous, tmp_path)
    assert run.code == 1
    assert "layer 1/3" in run.stderr and layer["digest"] in run.stderr
    assert not (layout / "blobs" / "sha256" / layer["digest"].split(":", 1)[1]).exists()
    assert partial_files(layout) == []
    assert not (layout / "index.json").exists()


def test_no_progress_gives_up_after_the_retries(registry_anonymous, front, big, tmp_path):
    _image, layer, _data = big
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Reset(after=CUT), method="GET", path=layer["digest"]))
    fronted.registry.add(Rule(Reset(after=0), method="GET", path=layer["digest"], skip=1, times=None))
    run, layout = pull_layout(fronted, registry_anonymous, tmp_path, "--retries", "2")
    assert run.code == 1
    line = run.stderr.splitlines()[0]
    assert "layer 1/3" in line and "interrupted 3 times without progress" in line and f"got {CUT} of" in line
    assert len(blob_hops(tmp_path / "t.json", layer["digest"])) == 4
    assert partial_files(layout) == []
    validate_trace(tmp_path / "t.json")


def test_resume_behind_a_cdn_redirect(registry_redirect, front, seed_big, tmp_path):
    image = seed_big(registry_redirect)
    layer = image.manifest()["layers"][0]
    fronted = front(registry_redirect, cdn=True)
    fronted.cdn.add(Rule(Reset(after=CUT), method="GET", path=layer["digest"].split(":", 1)[1]))
    run, layout = pull_layout(fronted, registry_redirect, tmp_path)
    assert run.code == 0, run.output
    assert stored(layout, layer["digest"]) == image.blob_bytes(layer["digest"])
    cdn_gets = fronted.cdn.requests("GET", layer["digest"].split(":", 1)[1])
    assert [s.header("range") for s in cdn_gets] == [None, f"bytes={CUT}-"]
    assert [s.status for s in cdn_gets] == [200, 206]
    assert all(s.header("authorization") is None for s in fronted.cdn.seen)


def test_a_stalled_body_times_out_and_resumes(registry_anonymous, proxies, big, tmp_path):
    image, layer, data = big
    proxy = proxies(registry_anonymous.url)
    proxy.add(Rule(Stall(1.0, after=CUT), method="GET", path=layer["digest"]))
    recorder = Recorder()
    client = RegistryClient(proxy.host, recorder=recorder, credentials=CredentialSource(Secrets(), env={}),
                            timeout=httpx.Timeout(5.0, read=0.3), retries=2)
    with client:
        result = pull(client, reference.parse(f"{proxy.host}/{BIG}"), platform=Platform("linux", "amd64"),
                      layout=tmp_path / "layout", jobs=2)
    assert result.manifest_digest == image.digest
    assert stored(tmp_path / "layout", layer["digest"]) == data
    hops = [ex for ex in recorder.trace.exchanges if ex.request.url.endswith(layer["digest"])]
    assert [h.response.status for h in hops] == [200, 206]
    assert hops[0].response.body.complete is False


def test_digest_mismatch_without_any_fault_still_detected(registry_anonymous, front, big, tmp_path):
    # the proxy serves the right length but wrong bytes for the WHOLE blob: nothing to resume, just refuse
    _image, layer, data = big
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Rewrite(body=b"x" * len(data)), method="GET", path=layer["digest"]))
    run, layout = pull_layout(fronted, registry_anonymous, tmp_path)
    assert run.code == 1 and "layer 1/3" in run.stderr
    assert DigestMismatch.__name__ not in run.stderr  # a message, not a class name
    assert partial_files(layout) == []
