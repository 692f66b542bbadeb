"""`regexplore trace pull` against the real CNCF distribution registry in its four variants."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from explorer import trace as tracefile
from tests.infra.runner import login_args, run_cli
from tests.infra.schemas import validate_trace
from tests.infra.skopeo import skopeo_inspect
from tests.infra.traces import signature

SMALL = "test/small:1.0"
MULTI = "test/multi:1.0"

# docker's dance: the ping only learns the challenge (no token for /v2/, no second ping)
PROBE = [("GET", "end-1", None)]  # https first: distribution on loopback speaks plain http, so no answer
PING = {
    "anonymous": [("GET", "end-1", 200)],
    "basic": [("GET", "end-1", 401)],
    "token": [("GET", "end-1", 401)],
}
PING["redirect"] = PING["token"]
MANIFEST = {
    "anonymous": [("GET", "end-3", 200)],
    "basic": [("GET", "end-3", 200)],  # Basic is sent pre-emptively once the challenge is known
    "token": [("GET", "token", 200), ("GET", "end-3", 200)],  # the repository-scoped token first
}
MANIFEST["redirect"] = MANIFEST["token"]


def blob(variant: str) -> list[tuple[str, str, int]]:
    if variant == "redirect":
        return [("GET", "end-2", 307), ("GET", "storage", 200)]
    return [("GET", "end-2", 200)]


def pull(registry, image: str, tmp_path: Path, *extra: str, name: str = "pull.trace.json"):
    args, stdin = login_args(registry)
    out = tmp_path / name
    run = run_cli("trace", "pull", f"{registry.host}/{image}", "-o", str(out), *args, *extra, stdin=stdin)
    return run, out


def test_pull_sequence_per_variant(registry, tmp_path, seeded_images):
    run, out = pull(registry, SMALL, tmp_path, "--jobs", "1")
    assert run.code == 0, run.output
    data = validate_trace(out)
    trace = tracefile.Trace.from_dict(data)
    variant = registry.variant
    expected = PROBE + PING[variant] + MANIFEST[variant] + blob(variant) * 4  # config + 3 layers
    assert signature(trace) == expected
    assert trace.exchanges[0].request.url.startswith("https://") and trace.exchanges[1].request.url.startswith("http://")
    image = seeded_images[SMALL]
    assert f"manifest {image.digest}" in run.stdout
    assert trace.outcome.status == "ok" and trace.operation == "pull"
    steps = [ex.step for ex in trace.exchanges if ex.step != "authenticate"]
    assert steps[:2] == ["https probe: plain-HTTP registry", "ping"] and "resolve tag" in steps and steps[-1] == "fetch layer 3/3"
    token_requests = [httpx.URL(ex.request.url) for ex in trace.exchanges if ex.step == "authenticate"]
    if variant in ("token", "redirect"):  # ONE token request, with the repository scope and the account
        assert [url.params.get_list("scope") for url in token_requests] == [["repository:test/small:pull"]]
        assert token_requests[0].params["account"] == registry.creds[0]
    else:
        assert token_requests == []
    if variant == "redirect":
        storage_hops = [ex for ex in trace.exchanges[1:] if ex.response.status == 200 and "localhost" in ex.request.url]
        assert len(storage_hops) == 4
        assert all(ex.request.header("authorization") is None for ex in storage_hops)
        served = [r for r in registry.cdn.requests if r.method == "GET"]
        assert served and all(r.header("authorization") is None for r in served)
        registry_hops = [ex for ex in trace.exchanges[1:] if ex.response.status == 307]
        assert all(ex.request.header("authorization") == "Bearer <redacted>" for ex in registry_hops)


def test_parallel_pull_keeps_every_exchange(registry_token, tmp_path):
    run, out = pull(registry_token, SMALL, tmp_path, "--jobs", "4")
    assert run.code == 0, run.output
    trace = tracefile.load(out)
    ids = [ex.id for ex in trace.exchanges]
    assert ids == sorted(ids) == list(range(1, len(ids) + 1))
    layer_steps = sorted(ex.step for ex in trace.exchanges if ex.step and ex.step.startswith("fetch layer"))
    assert layer_steps == ["fetch layer 1/3", "fetch layer 2/3", "fetch layer 3/3"]


def test_multi_platform_pull_writes_an_oci_layout_skopeo_accepts(registry_anonymous, tmp_path, seeded_images):
    layout = tmp_path / "layout"
    run, out = pull(registry_anonymous, MULTI, tmp_path, "--platform", "linux/arm64/v8", "--oci-layout", str(layout))
    assert run.code == 0, run.output
    image = seeded_images[MULTI]
    arm = next(m for m in image.manifest()["manifests"] if m["platform"]["architecture"] == "arm64")
    trace = tracefile.load(out)
    steps = [ex.step for ex in trace.exchanges]
    assert "fetch manifest linux/arm64/v8" in steps
    inspected = skopeo_inspect(f"oci:{layout}")
    assert inspected["Digest"] == arm["digest"]
    assert inspected["Architecture"] == "arm64"
    manifest = image.manifest(arm["digest"])
    for layer in manifest["layers"]:
        hexpart = layer["digest"].split(":", 1)[1]
        assert (layout / "blobs" / "sha256" / hexpart).stat().st_size == layer["size"]


def test_no_matching_platform_lists_the_available_ones(registry_anonymous, tmp_path):
    run, out = pull(registry_anonymous, MULTI, tmp_path, "--platform", "linux/s390x")
    assert run.code == 1
    assert "linux/amd64" in run.stderr and "linux/arm64/v8" in run.stderr
    assert tracefile.load(out).outcome.status == "failed"


def test_unknown_tag_reports_the_registry_error_and_keeps_the_trace(registry_anonymous, tmp_path):
    run, out = pull(registry_anonymous, "test/small:nope", tmp_path)
    assert run.code == 1
    first_line = run.stderr.splitlines()[0]
    assert first_line == f"error: MANIFEST_UNKNOWN: manifest unknown ({registry_anonymous.host}/test/small:nope)"
    trace = tracefile.load(out)
    assert signature(trace)[-1] == ("GET", "end-3", 404)
    assert trace.outcome.status == "failed" and "MANIFEST_UNKNOWN" in trace.outcome.message


@pytest.mark.parametrize("variant", ["basic", "token"])
def test_wrong_password_names_registry_and_user(variant, request, tmp_path):
    registry = request.getfixturevalue(f"registry_{variant}")
    out = tmp_path / "wrong.trace.json"
    run = run_cli("trace", "pull", f"{registry.host}/{SMALL}", "-o", str(out),
                  "--username", registry.username, "--password-stdin", stdin="not-the-password\n")
    assert run.code == 1, run.output
    line = run.stderr.splitlines()[0]
    assert registry.host in line and f"'{registry.username}'" in line
    validate_trace(out)
    assert "not-the-password" not in out.read_text()


def test_tampered_layer_is_a_digest_mismatch_and_leaves_no_file(registry_anonymous, tmp_path, seeded_images):
    # a private copy of the image, so the seeded one stays intact for other tests
    from tests.infra.registry import seed

    image = seeded_images[SMALL]
    seed(registry_anonymous, image, "tamper/small", "1.0")
    layer = image.manifest()["layers"][1]
    data_path = registry_anonymous.blob_data_path(layer["digest"])
    original = data_path.read_bytes()
    try:
        data_path.write_bytes(b"X" * len(original))
        layout = tmp_path / "layout"
        run, out = pull(registry_anonymous, "tamper/small:1.0", tmp_path, "--oci-layout", str(layout))
    finally:
        data_path.write_bytes(original)
    assert run.code == 1
    assert "layer 2/3" in run.stderr and layer["digest"] in run.stderr
    blob_file = layout / "blobs" / "sha256" / layer["digest"].split(":", 1)[1]
    assert not blob_file.exists()
    leftovers = [p.name for p in (layout / "blobs" / "sha256").iterdir()] if (layout / "blobs").exists() else []
    assert not any(name.endswith(".part") for name in leftovers)
    assert tracefile.load(out).outcome.status == "failed"


@pytest.mark.parametrize(
    ("reference", "complaint"),
    [
        ("127.0.0.1:5000/Team/app:1", "lowercase"),
        ("127.0.0.1:5000/team/app:", "tag"),
        ("127.0.0.1:5000/team/app@sha256:abc", "digest"),
        ("", "empty"),
        ("team//app", "repository"),
    ],
)
def test_malformed_references_exit_2_and_write_no_trace(reference, complaint, tmp_path):
    out = tmp_path / "bad.trace.json"
    run = run_cli("trace", "pull", reference, "-o", str(out))
    assert run.code == 2
    assert run.stderr.startswith("error: ") and complaint in run.stderr.splitlines()[0].lower()
    assert "Traceback" not in run.output
    assert not out.exists() and list(tmp_path.iterdir()) == []  # a usage error sends nothing and records nothing


def test_canary_password_and_tokens_never_reach_the_trace_or_the_terminal(registry_token, tmp_path):
    run, out = pull(registry_token, MULTI, tmp_path, "--platform", "linux/amd64")
    assert run.code == 0, run.output
    issued = list(registry_token.token_server.issued_tokens)
    assert issued, "the token server issued no token: the canary test would prove nothing"
    text = out.read_text()
    for secret in [registry_token.password, *issued]:
        assert secret not in text
        assert secret not in run.output
    # the token's signature and payload are not there in pieces either
    for token in issued:
        for part in token.split("."):
            assert part not in text


def test_show_prints_the_table(registry_anonymous, tmp_path):
    run, out = pull(registry_anonymous, SMALL, tmp_path)
    shown = run_cli("show", str(out))
    assert shown.code == 0
    lines = shown.stdout.splitlines()
    assert lines[1].split() == ["#", "step", "method", "path", "status", "size", "time"]
    assert any("resolve tag" in line and "/v2/test/small/manifests/1.0" in line and " 200 " in line for line in lines)
