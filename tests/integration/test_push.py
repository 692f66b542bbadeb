"""`regexplore trace push` against the real CNCF distribution registry: skip, mount, chunks, bad input."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from explorer import trace as tracefile
from explorer.client.bounded import HELD_LIMIT
from explorer.protocol import digest as digests
from explorer.protocol.mediatypes import Platform
from explorer.oci.sample import build_artifact, build_image, build_sample
from explorer.sandbox import Sandbox
from tests.infra.runner import run_cli
from tests.infra.skopeo import skopeo_copy, skopeo_inspect
from tests.infra.traces import signature
from tests.integration.helpers import core_signature, traced

UPLOAD = [("HEAD", "end-2", 404), ("POST", "end-4a", 202), ("PUT", "end-6", 201)]


def test_first_push_uploads_and_second_push_skips_everything(registry, tmp_path):
    image = build_sample()
    dest = f"{registry.host}/push/first:1"
    run, first = traced(registry, tmp_path, "push", "--sample", dest, "--jobs", "1", name="first.json")
    assert run.code == 0, run.output
    assert core_signature(first) == [*UPLOAD * 4, ("HEAD", "end-3", 404), ("PUT", "end-7", 201)]
    assert signature(first)[0] == ("GET", "end-1", 200 if registry.variant == "anonymous" else 401)
    token_scopes = [parse_qs(urlsplit(ex.request.url).query).get("scope", [])
                    for ex in first.exchanges if ex.step == "authenticate"]
    # docker's dance: the ping learns the challenge; the first token asks for pull,push at once
    expected = [["repository:push/first:pull,push"]] if registry.variant in ("token", "redirect") else []
    assert token_scopes == expected
    steps = [ex.step for ex in first.exchanges if ex.step != "authenticate"]
    distinct = [step for i, step in enumerate(steps) if i == 0 or steps[i - 1] != step]
    blobs = ("layer 1/3", "layer 2/3", "layer 3/3", "config")
    per_blob = [f"{verb} {what}" for what in blobs for verb in ("check", "upload")]
    assert distinct == ["ping", *per_blob, "push manifest"]
    assert f"4 blobs uploaded, 0 skipped, manifest {image.digest}" in run.stdout
    assert first.outcome.status == "ok" and first.operation == "push"

    run, second = traced(registry, tmp_path, "push", "--sample", dest, name="second.json")
    assert run.code == 0, run.output
    sig = signature(second)
    assert not [hop for hop in sig if hop[0] in ("POST", "PATCH", "PUT")]
    # final answers to the blob HEADs (the redirect variant answers 307, then its storage 200)
    blob_heads = [s for m, k, s in sig if m == "HEAD" and k in ("end-2", "storage") and s not in (401, 307)]
    assert blob_heads == [200] * 4
    assert core_signature(second)[-1] == ("HEAD", "end-3", 200)
    skipped = {ex.step for ex in second.exchanges if ex.step and ex.step.endswith("already present, skipped")}
    assert skipped == {f"layer {i}/3 already present, skipped" for i in (1, 2, 3)} | {"config already present, skipped"}
    assert "0 blobs uploaded, 4 skipped" in run.stdout


def test_a_second_push_skips_a_layer_bigger_than_any_answer_it_reads(registry, tmp_path):
    # the blob's HEAD 200 declares the layer's size (over the 4 MiB cap of answers held in memory) and
    # carries no body: that is a skip, not a body too large to read
    image = build_image([HELD_LIMIT + 1], seed="over-the-cap")
    layout = image.write_layout(tmp_path / "layout", "1")
    dest = f"{registry.host}/push/big-layer:1"
    first, _ = traced(registry, tmp_path, "push", f"{layout}:1", dest, name="first.json")
    assert first.code == 0, first.output
    again, trace = traced(registry, tmp_path, "push", f"{layout}:1", dest, name="second.json")
    assert again.code == 0, again.output
    assert "0 blobs uploaded, 2 skipped" in again.stdout
    # the layer's HEAD (the redirect variant's: its storage's) is what declared the size
    skipped = "layer 1/1 already present, skipped"
    sizes = [ex.response.header("content-length") for ex in trace.exchanges
             if ex.request.method == "HEAD" and ex.response.status == 200 and ex.step == skipped]
    assert sizes == [str(HELD_LIMIT + 1)]


def test_small_chunk_size_patches_with_content_range_and_the_image_survives(registry_anonymous, tmp_path):
    reg = registry_anonymous
    image = build_sample(layers=2, seed="chunked")
    layout = image.write_layout(tmp_path / "layout", "1")
    dest = f"{reg.host}/push/chunked:1"
    run, trace = traced(reg, tmp_path, "push", f"{layout}:1", dest, "--chunk-size", "4KiB", name="push.json")
    assert run.code == 0, run.output
    for descriptor, _chunks in image.iter_blobs():
        size = descriptor["size"]
        patches = [
            ex for ex in trace.exchanges
            if ex.request.method == "PATCH" and ex.step and ex.step.endswith(_what(image, descriptor["digest"]))
        ]
        if size <= 4096:
            assert not patches
            continue
        ranges = [tuple(map(int, ex.request.header("content-range").split("-"))) for ex in patches]
        assert ranges[0][0] == 0 and ranges[-1][1] == size - 1
        assert all(b[0] == a[1] + 1 for a, b in zip(ranges, ranges[1:]))
        for ex, (start, end) in zip(patches, ranges):
            assert int(ex.request.header("content-length")) == ex.request.body.size == end - start + 1
        assert all(ex.response.status == 202 for ex in patches)
    assert sum(1 for ex in trace.exchanges if ex.request.method == "PATCH") >= 4

    pulled, _ = traced(reg, tmp_path, "pull", dest, name="pull.json")
    assert pulled.code == 0 and f"manifest {image.digest}" in pulled.stdout, pulled.output
    skopeo_copy(f"docker://{dest}", f"oci:{tmp_path / 'back'}:1", all_images=False)
    assert skopeo_inspect(f"oci:{tmp_path / 'back'}:1")["Digest"] == image.digest


def _what(image, digest: str) -> str:
    manifest = image.manifest()
    if manifest["config"]["digest"] == digest:
        return "config"
    layers = manifest["layers"]
    index = next(i for i, layer in enumerate(layers, 1) if layer["digest"] == digest)
    return f"layer {index}/{len(layers)}"


def test_mount_from_another_repository_uploads_no_bytes(registry_token, tmp_path):
    reg = registry_token
    run, _ = traced(reg, tmp_path, "push", "--sample", f"{reg.host}/mount/a:1", name="a.json")
    assert run.code == 0, run.output
    args = ["push", "--sample", f"{reg.host}/mount/b:1", "--mount-from", "mount/a", "--jobs", "1"]
    run, trace = traced(reg, tmp_path, *args, name="b.json")
    assert run.code == 0, run.output
    mounts = [hop for hop in signature(trace) if hop[1] == "end-11"]
    assert [status for _m, _k, status in mounts if status != 401] == [201] * 4
    assert not [hop for hop in signature(trace) if hop[0] == "PATCH" or hop[1] == "end-6"]
    uploaded = [ex for ex in trace.exchanges if ex.request.body and ex.request.body.size and ex.request.method != "PUT"]
    assert uploaded == []
    assert {ex.step for ex in trace.exchanges if ex.request.method == "POST"} <= {
        "mount layer 1/3", "mount layer 2/3", "mount layer 3/3", "mount config"
    }
    token_requests = [ex for ex in trace.exchanges if ex.step == "authenticate"]
    scopes = [parse_qs(urlsplit(ex.request.url).query).get("scope", []) for ex in token_requests]
    assert {"repository:mount/b:pull,push", "repository:mount/a:pull"} in [set(s) for s in scopes]  # one token, both
    assert "4 mounted" in run.stdout


def test_what_regexplore_pushes_skopeo_reads_with_the_same_digests(registry_basic, tmp_path):
    reg = registry_basic
    platforms = [Platform("linux", "amd64"), Platform("linux", "arm64")]
    image = build_sample(platforms)
    dest = f"{reg.host}/interop/pushed:1"
    run, trace = traced(
        reg, tmp_path, "push", "--sample", "--sample-platforms", "linux/amd64,linux/arm64", dest, name="push.json"
    )
    assert run.code == 0, run.output
    manifest_puts = [ex for ex in trace.exchanges if ex.request.method == "PUT" and "/manifests/" in ex.request.url]
    manifest_steps = [ex.step for ex in manifest_puts]
    assert manifest_steps == ["push manifest linux/amd64", "push manifest linux/arm64", "push index"]
    raw = skopeo_inspect(f"docker://{dest}", raw=True, creds=reg.creds)
    assert digests.compute(json.dumps(raw, separators=(",", ":")).encode()) == image.digest
    skopeo_copy(f"docker://{dest}", f"oci:{tmp_path / 'copy'}:1", src_creds=reg.creds)
    index = json.loads((tmp_path / "copy" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == image.digest


def test_bad_sources_exit_2_before_any_request(tmp_path, registry_anonymous):
    dest = f"{registry_anonymous.host}/bad/source:1"
    (tmp_path / "empty").mkdir()
    layout = build_sample(seed="bad-source").write_layout(tmp_path / "layout", "1")
    broken = build_sample(seed="missing-blob")
    broken_layout = broken.write_layout(tmp_path / "broken", "1")
    missing = broken.manifest()["layers"][1]["digest"]
    (broken_layout / "blobs" / "sha256" / missing.split(":", 1)[1]).unlink()
    cases = [
        (f"{tmp_path / 'empty'}:1", "has no oci-layout"),
        (f"{layout}:2.0", "has no tag '2.0'"),
        (f"{broken_layout}:1", f"lacks blob {missing} (layer 2/3 of manifest)"),
    ]
    for number, (source, complaint) in enumerate(cases):
        out = tmp_path / f"bad{number}.json"
        run = run_cli("trace", "push", source, dest, "-o", str(out))
        assert run.code == 2, run.output
        assert complaint in run.stderr.splitlines()[0]
        assert not out.exists()  # a usage error sends nothing and writes no trace


def test_a_corrupt_blob_fails_at_its_upload_and_the_trace_shows_where(registry_anonymous, tmp_path):
    reg = registry_anonymous
    image = build_sample(seed="corrupt")
    layout = image.write_layout(tmp_path / "layout", "1")
    layer = image.manifest()["layers"][0]["digest"]
    path = layout / "blobs" / "sha256" / layer.split(":", 1)[1]
    path.write_bytes(b"X" * path.stat().st_size)
    dest = f"{reg.host}/push/corrupt:1"
    run, trace = traced(reg, tmp_path, "push", f"{layout}:1", dest, "--jobs", "1", name="c.json")
    assert run.code == 1
    assert "DIGEST_INVALID" in run.stderr.splitlines()[0]
    assert trace.outcome.status == "failed"
    sig = signature(trace)
    assert sig[-2] == ("PUT", "end-6", 400) and sig[-1][:2] == ("DELETE", "end-14")
    assert {ex.step for ex in trace.exchanges[-2:]} == {"upload layer 1/3"}
    assert not [hop for hop in sig if hop[1] == "end-7"]


def test_pushing_an_artifact_maintains_the_referrers_fallback_tag(registry, tmp_path):
    repo = f"{registry.host}/refs/app"
    run, _ = traced(registry, tmp_path, "push", "--sample", f"{repo}:1", name="base.json")
    assert run.code == 0, run.output
    artifact = build_artifact(build_sample().root, "application/vnd.example.sbom", b'{"sbom": true}')
    layout = artifact.write_layout(tmp_path / "artifact", "sbom")
    run, trace = traced(registry, tmp_path, "push", f"{layout}:sbom", f"{repo}:sbom", name="artifact.json")
    assert run.code == 0, run.output
    updates = [(ex.request.method, ex.response.status) for ex in trace.exchanges
               if ex.step == "update referrers tag" and ex.response.status not in (401,)]
    assert updates == [("GET", 404), ("PUT", 201)]
    subject = build_sample().digest
    assert f"referrers fallback tag updated: {digests.referrers_tag(subject)}" in run.stdout

    run, listed = traced(registry, tmp_path, "referrers", f"{repo}@{subject}", name="refs.json")
    assert run.code == 0, run.output
    assert f"{artifact.digest} application/vnd.example.sbom" in run.stdout
    assert f"via tag {digests.referrers_tag(subject)}" in run.stdout
    assert core_signature(listed)[-2:] == [("GET", "end-12a", 404), ("GET", "end-3", 200)]
    assert {ex.step for ex in listed.exchanges if ex.step != "authenticate"} == {"ping", "list referrers"}

    args = ["referrers", f"{repo}@{subject}", "--artifact-type", "text/other"]
    run, _ = traced(registry, tmp_path, *args, name="filtered.json")
    assert run.code == 0 and "0 referrers" in run.stdout

    # deleting the artifact drops it from the fallback tag (2.8 has no referrers API)
    run, deleted = traced(registry, tmp_path, "delete", f"{repo}@{artifact.digest}", name="delete.json")
    assert run.code == 0, run.output
    assert f"referrers fallback tag updated: {digests.referrers_tag(subject)}" in run.stdout
    assert [(ex.step, *hop) for ex, hop in zip(deleted.exchanges, signature(deleted))
            if ex.step not in ("authenticate", "ping") and ex.response.status != 401] == [
        ("inspect manifest", "GET", "end-3", 200),
        ("delete manifest", "DELETE", "end-9", 202),
        ("update referrers tag", "GET", "end-12a", 404),
        ("update referrers tag", "GET", "end-3", 200),
        ("update referrers tag", "PUT", "end-7", 201),
    ]
    run, listed = traced(registry, tmp_path, "referrers", f"{repo}@{subject}", name="after.json")
    assert run.code == 0 and "0 referrers" in run.stdout, run.output
    assert artifact.digest not in run.stdout


def test_deleting_a_referrer_where_the_registry_keeps_the_list_touches_no_tag(tmp_path):
    subject = build_sample()
    artifact = build_artifact(subject.root, "application/vnd.example.sbom", b'{"sbom": true}')
    layout = artifact.write_layout(tmp_path / "artifact", "sbom")
    with Sandbox() as sandbox:  # the built-in registry has the referrers API
        repo = f"{sandbox.registry_host}/refs/app"
        assert run_cli("trace", "push", "--sample", f"{repo}:1", "-q", "-o", str(tmp_path / "b.json")).code == 0
        run = run_cli("trace", "push", f"{layout}:sbom", f"{repo}:sbom", "-q", "-o", str(tmp_path / "a.json"))
        assert run.code == 0, run.output
        run = run_cli("trace", "delete", f"{repo}@{artifact.digest}", "-o", str(tmp_path / "d.json"))
        assert run.code == 0, run.output
        assert "referrers fallback tag" not in run.stdout
        deleted = tracefile.load(tmp_path / "d.json")
        assert [hop for ex, hop in zip(deleted.exchanges, signature(deleted)) if ex.step == "update referrers tag"] \
            == [("GET", "end-12a", 200)]
        run = run_cli("trace", "referrers", f"{repo}@{subject.digest}", "-o", str(tmp_path / "r.json"))
        assert run.code == 0 and "0 referrers" in run.stdout, run.output


def test_a_push_asks_for_one_push_token_even_with_parallel_uploads(registry_token, tmp_path):
    dest = f"{registry_token.host}/push/onetoken:1"
    run, trace = traced(registry_token, tmp_path, "push", "--sample", dest, "--jobs", "4", name="one.json")
    assert run.code == 0, run.output
    token_scopes = [
        parse_qs(urlsplit(ex.request.url).query).get("scope", []) for ex in trace.exchanges if ex.step == "authenticate"
    ]
    # no token for the ping, then ONE token for the whole push: no duplicate fetches by parallel checks
    assert token_scopes == [["repository:push/onetoken:pull,push"]]
    unauthorized = [(ex.request.method, ex.step) for ex in trace.exchanges if ex.response.status == 401]
    assert unauthorized == [("GET", "ping")]  # only the ping: no HEAD, POST or PUT ever meets a 401
