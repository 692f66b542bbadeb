"""Postman collections: valid v2.1.0, parameterised, credential-free, and passing under newman for real.

newman runs once per module, batched in one node process (tests/infra/newman.py): the
collection exported from a real pull in each of the four registry variants, the
collection exported from a real push in each variant (run on a fresh repository, its
blob bodies read as ``mode: file`` from the pushed OCI layout), the ``--all-endpoints``
tour against the anonymous, basic and token variants (each on a fresh repository), and
a tampered collection that must FAIL (so a silent harness cannot pass the others).
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from explorer import trace as tracefile
from explorer.protocol.endpoints import ENDPOINTS
from explorer.render import RenderOptions, postman
from explorer.annotate import annotate
from explorer.oci.sample import build_image
from tests.infra.newman import NewmanRun, run_collections
from tests.infra.runner import login_args, run_cli
from tests.infra.schemas import validate_postman
from tests.conftest import MULTI, SMALL
from tests.render import factory

VARIANTS = ("anonymous", "basic", "token", "redirect")
TOUR_VARIANTS = ("anonymous", "basic", "token", "redirect")


def items(node: dict) -> list[dict]:
    """Every request item of a collection or folder, depth first."""
    out = []
    for item in node.get("item", []):
        out += items(item) if "item" in item else [item]
    return out


def exported(pull_trace: Callable[..., Path], variant: str, tmp_path: Path) -> tuple[Path, dict]:
    out = tmp_path / f"pull-{variant}.postman_collection.json"
    run = run_cli("export", "postman", str(pull_trace(variant)), "-o", str(out))
    assert run.code == 0, run.output
    return out, json.loads(out.read_text())


@pytest.mark.parametrize("variant", VARIANTS)
def test_collection_of_a_real_pull_is_valid_and_parameterised(variant, pull_trace, live, tmp_path):
    path, data = exported(pull_trace, variant, tmp_path)
    validate_postman(data)
    registry = live(variant)
    text = path.read_text()
    if registry.password:
        assert registry.password not in text
    variables = {v["key"]: v["value"] for v in data["variable"]}
    assert variables["registry"].startswith("http://127.0.0.1:")
    assert variables["repository"] == "test/small" and variables["reference"] == "1.0"
    assert variables["username"] == variables["password"] == variables["token"] == ""
    assert {"manifestDigest", "configDigest", "layer1Digest", "layer3Digest"} <= variables.keys()
    requests = items(data)
    urls = [r["request"]["url"]["raw"] for r in requests]
    assert all(u.startswith(("{{registry}}", "{{realm}}", "{{blobLocation}}")) for u in urls), urls
    assert "{{registry}}/v2/{{repository}}/manifests/{{reference}}" in urls
    assert "{{registry}}/v2/{{repository}}/blobs/{{layer2Digest}}" in urls
    for r in requests:  # every request tests the status the trace saw, and says what it is
        assert any("pm.response.to.have.status(" in line for line in r["event"][-1]["script"]["exec"])
        assert r["request"]["description"]
    manifest = [r for r in requests if r["request"]["url"]["raw"].endswith("/manifests/{{reference}}")][-1]
    assert "end-3" in manifest["request"]["description"]
    assert any("Docker-Content-Digest" in line for line in manifest["event"][-1]["script"]["exec"])
    expected_auth = {"anonymous": "noauth", "basic": "basic", "token": "bearer", "redirect": "bearer"}[variant]
    assert data["auth"]["type"] == expected_auth
    if variant in ("token", "redirect"):
        token = next(r for r in requests if r["request"]["url"]["raw"].startswith("{{realm}}"))
        assert token["request"]["auth"]["type"] == "basic"  # the trace sent Basic to the token server
        assert 'pm.collectionVariables.set("token"' in "\n".join(token["event"][-1]["script"]["exec"])
        first = requests[0]
        assert first["request"]["auth"] == {"type": "noauth"}  # the anonymous 401 that starts the dance
    registry_requests = [r for r in requests if r["request"]["url"]["raw"].startswith("{{registry}}")]
    assert all(r.get("protocolProfileBehavior") == {"followRedirects": False} for r in registry_requests)
    if variant == "redirect":
        storage = [r for r in requests if r["request"]["url"]["raw"] == "{{blobLocation}}"]
        assert len(storage) == 4 and all(r["request"]["auth"] == {"type": "noauth"} for r in storage)


def test_all_endpoints_is_valid_and_covers_every_endpoint(tmp_path):
    out = tmp_path / "api.json"
    run = run_cli("export", "postman", "--all-endpoints", "-o", str(out))
    assert run.code == 0, run.output
    data = validate_postman(out)
    names = " ".join(i["name"] for i in items(data))
    for endpoint in ENDPOINTS:
        assert f"{endpoint.id} " in names, f"{endpoint.id} missing from the tour"
    variables = {v["key"]: v["value"] for v in data["variable"]}
    assert variables["username"] == variables["password"] == ""
    for item in items(data):
        assert len(item["request"]["description"]) > 60, item["name"]  # it teaches something
        assert item["event"][-1]["listen"] == "test"


def test_push_collection_chains_upload_locations_and_names_blob_files():
    data = postman.collection(annotate(factory.case_push_chunked()), RenderOptions())
    validate_postman(data)
    requests = items(data)
    posts = [r for r in requests if r["request"]["method"] == "POST"]
    assert all('pm.collectionVariables.set("uploadLocation"' in "\n".join(r["event"][-1]["script"]["exec"])
               for r in posts)
    patches = [r for r in requests if r["request"]["method"] == "PATCH"]
    assert len(patches) == 8
    assert all(r["request"]["url"]["raw"] == "{{uploadLocation}}" for r in patches)
    assert all(r["request"]["body"]["mode"] == "file" for r in patches)
    assert "blobs/sha256/" in patches[0]["request"]["body"]["file"]["src"]
    assert "cannot be embedded" in patches[0]["request"]["description"]
    assert "not a file of an OCI image layout" in patches[0]["request"]["description"]  # a slice of a blob
    assert "--working-dir LAYOUT" in data["info"]["description"]  # how to run it: blob files from the layout
    pull = postman.collection(annotate(factory.case_pull_anonymous()), RenderOptions())
    assert "--working-dir" not in pull["info"]["description"]
    manifest_put = next(r for r in requests if r["request"]["method"] == "PUT" and "manifests" in r["request"]["url"]["raw"])
    assert manifest_put["request"]["body"]["mode"] == "raw"


def test_url_objects_agree_with_raw():
    assert postman.url_object("{{registry}}/v2/{{repository}}/tags/list?n=2&last=a") == {
        "raw": "{{registry}}/v2/{{repository}}/tags/list?n=2&last=a", "host": ["{{registry}}"],
        "path": ["v2", "{{repository}}", "tags", "list"],
        "query": [{"key": "n", "value": "2"}, {"key": "last", "value": "a"}]}
    assert postman.url_object("http://localhost:5005/x/y") == {
        "raw": "http://localhost:5005/x/y", "protocol": "http", "host": ["localhost"], "port": "5005",
        "path": ["x", "y"]}
    assert "path" not in postman.url_object("{{realm}}?service=s")  # no trailing slash added by Postman


def test_every_synthetic_case_exports_a_valid_collection():
    for name, case in factory.CASES.items():
        if name != "big":
            validate_postman(postman.collection(annotate(case()), RenderOptions()))


# --- newman, against the live registries -------------------------------------------------------


def _variables(registry) -> dict[str, str]:
    env = {"registry": registry.url}
    if registry.username:
        env |= {"username": registry.username, "password": registry.password}
    return env


def _push_collection(registry, layout: Path, work: Path, variant: str) -> Path:
    """The collection of a real ``trace push LAYOUT:1`` to a fresh repository of ``registry``."""
    trace = work / f"push-{variant}.trace.json"
    args, stdin = login_args(registry)
    run = run_cli("trace", "push", f"{layout}:1", f"{registry.host}/export/push-{secrets.token_hex(4)}:1",
                  "-o", str(trace), "--jobs", "1", "-q", *args, stdin=stdin)
    assert run.code == 0, run.output
    path = work / f"push-{variant}.json"
    path.write_text(postman.render(annotate(tracefile.load(trace)), RenderOptions()))
    return path


@pytest.fixture(scope="module")
def multi_collection(live, tmp_path_factory) -> Path:
    """The collection of a real pull of the multi-platform ``test/multi:1.0`` for linux/arm64/v8 (token variant)."""
    registry, work = live("token"), tmp_path_factory.mktemp("multi")
    trace = work / "multi.trace.json"
    args, stdin = login_args(registry)
    run = run_cli("trace", "pull", f"{registry.host}/{MULTI}", "--platform", "linux/arm64/v8", "-o", str(trace),
                  "--jobs", "1", "-q", *args, stdin=stdin)
    assert run.code == 0, run.output
    path = work / "multi.json"
    path.write_text(postman.render(annotate(tracefile.load(trace)), RenderOptions()))
    return path


def _copy_collection(registry, work: Path) -> tuple[Path, dict]:
    """The collection of a real ``trace copy`` within one registry (blobs mounted)."""
    trace = work / "copy.trace.json"
    creds = f"{registry.username}:{registry.password}"
    run = run_cli("trace", "copy", f"{registry.host}/{SMALL}", f"{registry.host}/export/copy-{secrets.token_hex(4)}:1.0",
                  "-o", str(trace), "--jobs", "1", "-q", "--src-creds", creds, "--dest-creds", creds)
    assert run.code == 0, run.output
    path = work / "copy.json"
    path.write_text(postman.render(annotate(tracefile.load(trace)), RenderOptions()))
    return path, json.loads(path.read_text())


@pytest.fixture(scope="module")
def newman_runs(pull_trace, live, multi_collection, tmp_path_factory) -> dict[str, NewmanRun]:
    work = tmp_path_factory.mktemp("newman")
    jobs: list[tuple[str, Path, dict[str, str]] | tuple[str, Path, dict[str, str], Path]] = []
    for variant in VARIANTS:
        path = work / f"pull-{variant}.json"
        path.write_text(postman.render(annotate(tracefile.load(pull_trace(variant))), RenderOptions()))
        jobs.append((f"pull-{variant}", path, _variables(live(variant))))
    # recorded without redirects, run where every blob GET answers 307 to the CDN
    jobs.append(("pull-token-on-redirect", work / "pull-token.json", _variables(live("redirect"))))
    layout = build_image([3000, 5000], seed="newman-push").write_layout(work / "layout", "1")
    again = []
    for variant in VARIANTS:
        path = _push_collection(live(variant), layout, work, variant)
        fresh = {"repository": f"export/newman-{secrets.token_hex(4)}"}  # every blob and the manifest new there
        jobs.append((f"push-{variant}", path, _variables(live(variant)) | fresh, layout))
        again.append((f"push-{variant}-again", path, _variables(live(variant)) | fresh, layout))
    jobs += again  # the same collection on the same repository, once every first run is done
    jobs.append(("multi-arm64", multi_collection, _variables(live("token"))))
    jobs.append(("multi-amd64", multi_collection, _variables(live("token")) | {"platform": "linux/amd64"}))
    copy_path, copy_data = _copy_collection(live("basic"), work)
    destination = next(v["key"] for v in copy_data["variable"] if v["value"].startswith("export/copy-"))
    jobs.append(("copy-mount", copy_path, _variables(live("basic")) | {destination: f"export/copy-{secrets.token_hex(4)}"}))
    tour = work / "api.json"
    tour.write_text(postman.all_endpoints())
    for variant in TOUR_VARIANTS:
        repository = f"tour/{variant}-{secrets.token_hex(4)}"  # an empty repository every run
        jobs.append((f"all-endpoints-{variant}", tour, _variables(live(variant)) | {"repository": repository}))
    control = json.loads((work / "pull-anonymous.json").read_text())
    broken = copy.deepcopy(control)
    first = items(broken)[0]
    first["event"][-1]["script"]["exec"][0] = first["event"][-1]["script"]["exec"][0].replace("(200)", "(418)")
    (work / "control.json").write_text(json.dumps(broken))
    jobs.append(("control", work / "control.json", _variables(live("anonymous"))))
    return run_collections(jobs, work)


@pytest.mark.parametrize("name", [f"pull-{v}" for v in VARIANTS] + [f"all-endpoints-{v}" for v in TOUR_VARIANTS])
def test_newman_passes_with_zero_failures(newman_runs, name):
    run = newman_runs[name]
    assert run.error is None, run.error
    assert run.failed == 0, str(run)
    assert run.requests >= 6 and run.assertions >= run.requests, str(run)
    if name.startswith("all-endpoints"):
        assert run.requests >= 36


@pytest.mark.parametrize("variant", VARIANTS)
def test_newman_pushes_the_image_again_from_the_layout_files(newman_runs, variant):
    run = newman_runs[f"push-{variant}"]
    assert run.error is None, run.error
    assert run.failed == 0, str(run)
    answered = [status for name, status in run.answers]
    # 3 blobs (2 layers, the config): POST 202, then PUT ?digest= with the file as body, 201; the manifest 201
    assert answered.count(202) == 3 and answered.count(201) == 4, run.answers


@pytest.mark.parametrize("variant", VARIANTS)
def test_newman_push_run_twice_uploads_nothing_the_second_time(newman_runs, variant):
    run = newman_runs[f"push-{variant}-again"]
    assert run.error is None, run.error
    assert run.failed == 0, str(run)
    uploads = [(method, url) for _name, method, _status, url in run.sent
               if method in ("POST", "PATCH") or (method == "PUT" and "/blobs/uploads/" in url)]
    assert uploads == [], uploads
    found = [status for _name, method, status, url in run.sent
             if method == "HEAD" and "/blobs/" in url and (status == 200 or 300 <= status < 400)]
    assert len(found) >= 3, run.sent  # every blob found present (redirect: 307 to storage): 2 layers, the config


def test_newman_pull_of_an_index_picks_the_platform_by_its_fields(newman_runs, seeded_images):
    image = seeded_images[MULTI]
    for name, platform in (("multi-arm64", "linux/arm64/v8"), ("multi-amd64", "linux/amd64")):
        run = newman_runs[name]
        assert run.error is None, run.error
        assert run.failed == 0, str(run)
        urls = [url for _name, method, status, url in run.sent if method == "GET" and status == 200]
        digest = image.platforms[platform]  # the index entry of that platform, wherever it sits in the index
        assert any(url.endswith(f"/manifests/{digest}") for url in urls), (platform, urls)
        manifest = json.loads(image.manifests[digest])
        for blob in [manifest["config"], *manifest["layers"]]:  # then what that manifest lists
            assert any(url.endswith(f"/blobs/{blob['digest']}") for url in urls), (platform, blob, urls)


def test_multi_platform_collection_names_its_platform(multi_collection):
    data = validate_postman(json.loads(multi_collection.read_text()))
    variables = {v["key"]: v["value"] for v in data["variable"]}
    assert variables["platform"] == "linux/arm64/v8"
    scripts = "\n".join(line for item in items(data) for event in item["event"] for line in event["script"]["exec"])
    assert "manifests[1]" not in scripts and "pick(manifest, pm.variables.get(\"platform\"))" in scripts


def test_copy_within_one_registry_runs(newman_runs):
    run = newman_runs["copy-mount"]
    assert run.error is None, run.error
    assert run.failed == 0, str(run)
    assert any(method == "POST" and status == 201 and "mount=" in url for _n, method, status, url in run.sent), run.sent


def test_copy_between_registries_says_why_it_cannot_run():
    data = postman.collection(annotate(factory.case_copy_across()), RenderOptions())
    first = data["info"]["description"].splitlines()[0]
    assert first.startswith("This copy cannot run in Postman: it goes between two registries")
    assert "regexplore export python" in first
    mount_fell_back = postman.collection(annotate(factory.case_copy_mount()), RenderOptions())  # layer 3: 202, then uploaded
    assert mount_fell_back["info"]["description"].splitlines()[0].startswith(
        "This copy cannot run in Postman: some blobs were not mounted but uploaded")


def test_newman_follows_a_live_redirect_without_credentials(newman_runs, live):
    run = newman_runs["pull-token-on-redirect"]
    assert run.error is None, run.error
    assert run.failed == 0, str(run)  # including the hash of every blob fetched from the Location by hand
    cdn = live("redirect").cdn
    registry_blobs = [status for _n, _m, status, url in run.sent if url.startswith(f"{live('redirect').url}/v2/")
                      and "/blobs/" in url]
    assert registry_blobs == [307] * 4, run.sent  # not followed by Postman: the request carried a token
    # the collection has no storage URL (the trace saw none): the tests fetched each Location by hand
    assert [status for _n, _m, status, url in run.sent if url.startswith(f"http://{cdn.host}/")] == [200] * 4, run.sent
    assert not [r for r in cdn.requests if r.header("authorization")], cdn.requests


def test_newman_reports_a_broken_collection(newman_runs):
    run = newman_runs["control"]
    assert run.failed >= 1 and "418" in " ".join(run.failures), str(run)

