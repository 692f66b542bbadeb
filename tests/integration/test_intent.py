"""Structured intent against real registries: recorded by our flows, inferred for a skopeo capture.

* ``trace push --jobs 4`` records an intent for every exchange (per variant: the token
  request of the Bearer variant keeps the transfer of the blob it was fetched for);
* skopeo pushing through a recording proxy gives a HAR capture; imported, it has no
  step labels, yet ``show`` and the diagrams label, group and cast it by inference.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from explorer import importers
from explorer.annotate import annotate, step_labels
from explorer.render import RenderOptions, mermaid, view
from explorer.oci.sample import build_sample
from tests.infra.fault_proxy import FaultProxy
from tests.infra.runner import run_cli
from tests.infra.skopeo import skopeo_copy
from tests.integration.helpers import traced


def test_push_at_jobs_4_records_an_intent_per_exchange(registry, tmp_path: Path) -> None:
    run, trace = traced(registry, tmp_path, "push", "--sample", f"{registry.host}/intent/app:1", "--jobs", "4",
                        name="push.trace.json")
    assert run.code == 0, run.output
    assert '"format": 2' in (tmp_path / "push.trace.json").read_text()[:20]
    assert all(ex.intent is not None for ex in trace.exchanges), [ex.step for ex in trace.exchanges if not ex.intent]
    by_transfer: dict[str, list[str]] = {}
    for ex in trace.exchanges:
        assert ex.step == (ex.intent.label() if not ex.step.endswith("skipped") else ex.step), ex
        if ex.intent.transfer:
            by_transfer.setdefault(ex.intent.transfer, []).append(ex.intent.kind)
    assert len(by_transfer) == 4  # the sample's config and three layers
    for kinds in by_transfer.values():
        moving = [k for k in kinds if k != "authenticate"]
        assert moving[0] == "check-blob" and moving[-1] == "close-upload" and "open-upload" in moving
    tokens = [ex for ex in trace.exchanges if ex.intent.kind == "authenticate"]
    assert all(ex.intent.endpoint is None for ex in tokens)
    seq = view.build(annotate(trace), full=True)
    assert len(seq.shown) == len(trace.exchanges)


def _har_from(proxy: FaultProxy, manifest: bytes) -> dict[str, object]:
    """A HAR of what the proxy saw. A capture holds bodies; the proxy keeps none, so the one body
    annotation reads (the pushed manifest) is put back from the image that was pushed."""
    start = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    entries = []
    for i, seen in enumerate(proxy.seen):
        request: dict[str, object] = {
            "method": seen.method, "url": f"http://{proxy.host}{seen.target}", "httpVersion": "HTTP/1.1",
            "headers": [{"name": k, "value": v} for k, v in seen.headers]}
        if seen.method == "PUT" and "/manifests/" in seen.target:
            request["postData"] = {"mimeType": seen.header("content-type"), "text": manifest.decode()}
        entries.append({
            "startedDateTime": (start + timedelta(milliseconds=10 * i)).isoformat(timespec="milliseconds"),
            "time": 5, "request": request,
            "response": {"status": seen.status, "statusText": "", "httpVersion": "HTTP/1.1",
                         "headers": [{"name": k, "value": v} for k, v in seen.response_headers],
                         "content": {"size": 0, "mimeType": ""}}})
    return {"log": {"version": "1.2", "creator": {"name": "test proxy", "version": "1"}, "entries": entries}}


def test_an_imported_skopeo_capture_gets_labels_transfers_and_roles(registry_anonymous, tmp_path: Path) -> None:
    image = build_sample(layers=3, seed="har-capture")
    layout = image.write_layout(tmp_path / "layout", "1")
    source = tmp_path / "skopeo.har"
    with FaultProxy(registry_anonymous.url).start() as proxy:
        skopeo_copy(f"oci:{layout}:1", f"docker://{proxy.host}/har/app:1")
        source.write_text(json.dumps(_har_from(proxy, image.manifests[image.digest])))
    run = run_cli("import", "har", str(source))
    assert run.code == 0, run.output
    trace = importers.load("har", source)
    assert trace.exchanges and all(ex.step is None and ex.intent is None for ex in trace.exchanges)

    labels = step_labels(trace)
    assert all(labels), [(ex.request.method, ex.request.url) for ex, label in zip(trace.exchanges, labels) if not label]
    assert {"check config", "upload config", "push manifest"} <= set(labels)
    assert {f"upload layer {i}/3" for i in (1, 2, 3)} <= set(labels)
    shown = run_cli("show", str(tmp_path / "skopeo.trace.json"))
    assert shown.code == 0 and "upload layer 1/3" in shown.output

    annotated = annotate(trace)
    assert {a.participant.kind for a in annotated.exchanges} == {"registry"}
    blobs = {d["digest"] for d in [image.manifest()["config"], *image.manifest()["layers"]]}
    transfers: dict[str, set[str]] = {}
    for a in annotated.exchanges:
        if a.transfer:
            transfers.setdefault(a.transfer, set()).add(a.exchange.request.method)
    assert set(transfers) == blobs, "each blob's HEAD, POST, PATCH and PUT tie to its digest"
    assert all({"HEAD", "POST", "PUT"} <= methods for methods in transfers.values())
    text = mermaid.render(annotate(trace), RenderOptions(full=True))
    assert "Note over Client,Registry: upload layer 2/3" in text
