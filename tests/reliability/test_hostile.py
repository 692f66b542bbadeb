"""Hostile or broken registry answers, served for real by the fault proxy: one clear error, exit 1, trace kept.

Every case pulls ``test/small:1.0`` (or ``test/multi:1.0``) through a proxy that
replaces part of the real registry's answer. Expected: exactly one ``error:``
line naming the problem (optionally ``hint:`` and the trace note), exit 1, no
traceback, a valid trace with outcome ``failed``, and nothing written outside
the ``--oci-layout`` directory (nor, when the manifest is refused, inside it).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from explorer import trace as tracefile
from explorer.client.registry import RegistryClient
from explorer.client.credentials import CredentialSource
from explorer.errors import MalformedHeader, ManifestError
from explorer.recording.recorder import Recorder
from explorer.recording.redact import Secrets
from tests.infra.faults import Reset, Respond, Rewrite, Rule, Truncate, WrongLength
from tests.infra.runner import Run
from tests.infra.schemas import validate_trace
from tests.reliability.conftest import MULTI, SMALL, pull_via

pytestmark = pytest.mark.usefixtures("fast_retries")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
TAG = r"/manifests/1\.0$"
BIG_BODY = b'{"pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_rewrite(body: bytes, media_type: str = OCI_MANIFEST, *, digest_header: bool = True) -> Rewrite:
    headers = {"Content-Type": media_type}
    if digest_header:
        headers["Docker-Content-Digest"] = sha256(body)
    return Rewrite(status=200, set_headers=headers, drop_headers=() if digest_header else ("Docker-Content-Digest",),
                   body=body)


def image_with(small, **changes) -> bytes:
    """The real manifest of test/small with some fields replaced (``layer0``/``config`` dicts are merged)."""
    manifest = json.loads(json.dumps(small.manifest()))
    if "layer0" in changes:
        manifest["layers"][0].update(changes.pop("layer0"))
    if "config" in changes:
        manifest["config"].update(changes.pop("config"))
    manifest.update(changes)
    return json.dumps(manifest).encode()


def expect_failure(run: Run, out: Path, *fragments: str) -> str:
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    lines = run.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, run.stderr
    others = [line for line in lines if not line.startswith(("error: ", "hint: ", "trace of the failed pull: "))]
    assert others == [], run.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    validate_trace(out)
    assert tracefile.load(out).outcome.status == "failed"
    return errors[0]


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


MANIFEST_CASES = {
    "too big, Content-Length says so": (
        manifest_rewrite(BIG_BODY), f"is {len(BIG_BODY)} bytes, more than the 4 MiB limit",
    ),
    "too big, no Content-Length": (
        Rewrite(status=200, set_headers={"Content-Type": OCI_MANIFEST},
                drop_headers=("Content-Length", "Docker-Content-Digest"), body=BIG_BODY),
        "more than the 4 MiB limit",
    ),
    "Content-Length claims 10 MiB": ((manifest_rewrite(b"{}"), WrongLength(10 * 1024 * 1024)), "is 10485760 bytes"),
    "Content-Length claims 40 bytes of 5 MiB": (
        (manifest_rewrite(BIG_BODY, digest_header=False), WrongLength(40)), "is not valid JSON",
    ),
    "invalid JSON": (manifest_rewrite(b'{"schemaVersion": 2, "layers": ['), "is not valid JSON"),
    "JSON but not an object": (manifest_rewrite(b"[1, 2, 3]"), "is not a JSON object"),
    "HTML login page": (manifest_rewrite(b"<html><form>Sign in</form></html>", "text/html"), "HTML page"),
    "Docker-Content-Digest lies": (
        Rewrite(set_headers={"Docker-Content-Digest": "sha256:" + "0" * 64}), "Docker-Content-Digest says",
    ),
    "schema 1": (manifest_rewrite(b'{"schemaVersion": 1, "name": "x", "fsLayers": []}',
                                  "application/vnd.docker.distribution.manifest.v1+prettyjws"), "schema 1"),
    "not a manifest media type": (manifest_rewrite(b'{"schemaVersion": 2}', "application/octet-stream"),
                                  "unexpected manifest media type application/octet-stream"),
}


@pytest.mark.parametrize("case", MANIFEST_CASES, ids=list(MANIFEST_CASES))
def test_bad_manifests_are_refused(case, registry_anonymous, front, tmp_path):
    fault, fragment = MANIFEST_CASES[case]
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(fault, method="GET", path=TAG, times=None))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json", SMALL, "--oci-layout", str(tmp_path / "l"))
    expect_failure(run, tmp_path / "t.json", fragment)
    assert tree(tmp_path) == {"t.json"}


DESCRIPTOR_CASES = {  # name: (changes to test/small's manifest, what the error must say)
    "media type conflict": ({"mediaType": DOCKER_MANIFEST}, f"says mediaType {DOCKER_MANIFEST}"),
    "layer digest climbing out": ({"layer0": {"digest": "sha256:../../x"}}, "sha256:../../x"),
    "config digest climbing out": ({"config": {"digest": "sha256:../../../etc/passwd"}}, "sha256:../../../etc/passwd"),
    "unverifiable algorithm": ({"layer0": {"digest": "md5:" + "a" * 32}}, "cannot verify digest"),
    "upper-case hex": ({"layer0": {"digest": "sha256:" + "A" * 64}}, "sha256:" + "A" * 64),
    "negative size": ({"layer0": {"size": -1}}, "size -1 is not a sensible byte count"),
    "absurd size": ({"layer0": {"size": 2**62}}, f"size {2**62} is not a sensible byte count"),
    "size as text": ({"layer0": {"size": "10263"}}, "is not a sensible byte count"),
    "size as boolean": ({"layer0": {"size": True}}, "is not a sensible byte count"),
    "layers not a list": ({"layers": {"0": 1}}, "has no layers list"),
    "descriptor not an object": ({"layers": ["sha256:" + "a" * 64]}, "is not a JSON object"),
}


@pytest.mark.parametrize("case", DESCRIPTOR_CASES, ids=list(DESCRIPTOR_CASES))
def test_bad_descriptors_are_refused_before_anything_is_written(case, registry_anonymous, front, seeded_images,
                                                                 tmp_path):
    changes, fragment = DESCRIPTOR_CASES[case]
    body = image_with(seeded_images[SMALL], **changes)
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(manifest_rewrite(body), method="GET", path=TAG, times=None))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json", SMALL, "--oci-layout", str(tmp_path / "l"))
    expect_failure(run, tmp_path / "t.json", fragment)
    assert tree(tmp_path) == {"t.json"}  # no layout, nothing beside or above it
    assert not [r for r in fronted.registry.seen if "/blobs/" in r.target]  # nothing fetched with it either


def test_nested_index_and_index_cycle(registry_anonymous, front, seeded_images, tmp_path):
    multi = seeded_images[MULTI]
    inner = multi.manifests[multi.digest]
    outer = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_INDEX, "digest": sha256(inner), "size": len(inner),
         "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(manifest_rewrite(outer, OCI_INDEX), method="GET", path=TAG, times=None))
    fronted.registry.add(Rule(manifest_rewrite(inner, OCI_INDEX), method="GET", path=sha256(inner), times=None))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "a.json", MULTI, "--platform", "linux/amd64")
    expect_failure(run, tmp_path / "a.json", "nested indexes are not supported")

    # a cycle: the child named by digest is answered with the index itself; it cannot hash to that digest
    fronted.registry.clear()
    fronted.registry.add(Rule(manifest_rewrite(outer, OCI_INDEX), method="GET", path=TAG, times=None))
    fronted.registry.add(Rule(manifest_rewrite(outer, OCI_INDEX), method="GET", path=sha256(inner), times=None))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "b.json", MULTI, "--platform", "linux/amd64")
    expect_failure(run, tmp_path / "b.json", f"not the requested {sha256(inner)}")


HEADER_CASES = {
    "WWW-Authenticate garbage": ('=,"', "WWW-Authenticate"),
    "Bearer without realm": ('Bearer service="x",scope="repository:test/small:pull"', "has no realm"),
    "realm not http": ('Bearer realm="file:///etc/passwd",service="x"', "is not an http(s) URL"),
    "unclosed quote": ('Bearer realm="http://127.0.0.1:1/token', "WWW-Authenticate"),
    "unknown scheme only": ('Negotiate abc', "HTTP 401"),
}


@pytest.mark.parametrize("case", HEADER_CASES, ids=list(HEADER_CASES))
def test_malformed_challenges(case, registry_anonymous, front, tmp_path):
    value, fragment = HEADER_CASES[case]
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Respond(401, {"WWW-Authenticate": value}), method="GET", path=TAG, times=None))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json")
    expect_failure(run, tmp_path / "t.json", fragment)


LOCATION_CASES = {
    "not a URL": ("http://[::1", "Location"),
    "another scheme": ("ftp://127.0.0.1/blob", "unsupported protocol"),
    "a redirect loop": (None, "too many redirects"),
}


@pytest.mark.parametrize("case", LOCATION_CASES, ids=list(LOCATION_CASES))
def test_malformed_redirects(case, registry_anonymous, front, seeded_images, tmp_path):
    location, fragment = LOCATION_CASES[case]
    layer = seeded_images[SMALL].manifest()["layers"][0]["digest"]
    fronted = front(registry_anonymous)
    target = location or f"{fronted.registry.url}/v2/test/small/blobs/{layer}"
    fronted.registry.add(Rule(Respond(307, {"Location": target}), method="GET", path=layer, times=None))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json", SMALL, "--retries", "1")
    expect_failure(run, tmp_path / "t.json", fragment)


@pytest.mark.parametrize(
    ("status", "fragment", "hint"),
    [(404, "HTTP 404 Not Found", None), (401, "HTTP 401 Unauthorized", "hint: log in")],
    ids=["404-html", "401-html-without-challenge"],
)
def test_error_bodies_that_are_not_json(status, fragment, hint, registry_anonymous, front, tmp_path):
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Respond(status, {"Content-Type": "text/html"}, b"<html><h1>Please log in</h1></html>"),
                              method="GET", path=TAG))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json")
    expect_failure(run, tmp_path / "t.json", fragment)
    assert hint is None or hint in run.stderr


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        (b"<html>Sign in to continue</html>", "text/html", "body that is not JSON"),
        (b'{"expires_in": 300}', "application/json", "neither 'token' nor 'access_token'"),
        (b'"just a string"', "application/json", "not an object"),
    ],
    ids=["html-login-page", "no-token", "not-an-object"],
)
def test_broken_token_responses(body, content_type, fragment, registry_token, front, tmp_path):
    fronted = front(registry_token, token=True)
    fronted.token.add(Rule(Rewrite(status=200, set_headers={"Content-Type": content_type}, body=body), times=None))
    run = pull_via(fronted.host, registry_token, tmp_path / "t.json")
    expect_failure(run, tmp_path / "t.json", fragment)


@pytest.mark.parametrize("link", ['</v2/tags/list?n=1&last=a; rel="next"', "<>; rel=", "garbage"])
def test_malformed_link_header(link, registry_anonymous, proxies):
    proxy = proxies(registry_anonymous.url)
    proxy.add(Rule(Rewrite(set_headers={"Link": link}), path="/tags/list", times=None))
    client = RegistryClient(proxy.host, recorder=Recorder(), credentials=CredentialSource(Secrets(), env={}), retries=0)
    with client, pytest.raises(MalformedHeader, match="Link"):
        client.list_page(f"{proxy.url}/v2/test/small/tags/list", context="tags of test/small")


def test_malformed_content_range_on_a_resume_is_not_trusted(registry_anonymous, front, seeded_images, tmp_path):
    layer = seeded_images[SMALL].manifest()["layers"][0]
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Reset(after=1000), method="GET", path=layer["digest"]))
    fronted.registry.add(Rule(Rewrite(set_headers={"Content-Range": "bytes lots"}), method="GET", path=layer["digest"],
                              skip=1, times=1))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json", SMALL, "--oci-layout", str(tmp_path / "l"))
    assert run.code == 0, run.output
    statuses = [s.status for s in fronted.registry.requests("GET", layer["digest"])]
    assert statuses == [200, 206, 200]


def test_a_truncated_manifest_is_fetched_again(registry_anonymous, front, tmp_path):
    fronted = front(registry_anonymous)
    fronted.registry.add(Rule(Truncate(after=50), method="GET", path=TAG))
    run = pull_via(fronted.host, registry_anonymous, tmp_path / "t.json")
    assert run.code == 0, run.output
    assert len(fronted.registry.requests("GET", TAG)) == 2


def test_http_client_sees_the_body_cap_even_without_our_pull(registry_anonymous, proxies):
    """The cap lives in the client: any caller of get_manifest gets it."""
    proxy = proxies(registry_anonymous.url)
    proxy.add(Rule(Rewrite(status=200, set_headers={"Content-Type": OCI_MANIFEST}, drop_headers=("Content-Length",),
                           body=BIG_BODY), path=TAG, times=None))
    client = RegistryClient(proxy.host, recorder=Recorder(), credentials=CredentialSource(Secrets(), env={}), retries=0,
                            timeout=httpx.Timeout(10.0))
    with client, pytest.raises(ManifestError, match="4 MiB"):
        client.get_manifest("test/small", "1.0", context="test/small:1.0")
