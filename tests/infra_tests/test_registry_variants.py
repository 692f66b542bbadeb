"""The test registries behave like the real thing: checked with plain httpx, no regexplore code."""

from __future__ import annotations

import base64
import re

import httpx

from explorer.protocol.challenge import parse_challenges, parse_scope
import pytest

from explorer.protocol import mediatypes
from explorer.oci.sample import SampleImage, build_sample
from tests.conftest import MULTI, SMALL
from tests.infra.registry import RunningRegistry, seed
from tests.infra.skopeo import skopeo_inspect

ACCEPT = ", ".join([mediatypes.OCI_INDEX, mediatypes.OCI_MANIFEST])


def _token(registry: RunningRegistry, *scopes: str, anonymous: bool = False) -> str:
    assert registry.token_server is not None
    auth = None if anonymous else registry.creds
    answer = httpx.get(
        registry.token_server.realm,
        params=[("service", registry.service or ""), *(("scope", s) for s in scopes)],
        auth=auth,
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def _auth_headers(registry: RunningRegistry, *scopes: str) -> dict[str, str]:
    if registry.variant == "anonymous":
        return {}
    if registry.variant == "basic":
        pair = ":".join(registry.creds or ("", ""))
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    return {"Authorization": f"Bearer {_token(registry, *scopes)}"}


def test_ping_answers_per_variant(registry: RunningRegistry) -> None:
    answer = httpx.get(f"{registry.url}/v2/")
    challenge = answer.headers.get("WWW-Authenticate", "")
    assert answer.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    if registry.variant == "anonymous":
        assert answer.status_code == 200
    elif registry.variant == "basic":
        assert answer.status_code == 401
        assert challenge == 'Basic realm="regexplore-basic"'
    else:
        assert registry.token_server is not None
        assert answer.status_code == 401
        assert challenge == f'Bearer realm="{registry.token_server.realm}",service="{registry.service}"'


def test_seeded_manifests_have_the_expected_digests(
    registry: RunningRegistry, seeded_images: dict[str, SampleImage]
) -> None:
    for name, image in seeded_images.items():
        repo, tag = name.split(":")
        headers = {**_auth_headers(registry, f"repository:{repo}:pull"), "Accept": ACCEPT}
        answer = httpx.get(f"{registry.url}/v2/{repo}/manifests/{tag}", headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Docker-Content-Digest"] == image.digest
        assert answer.content == image.manifests[image.digest]
        assert answer.headers["Content-Type"] == image.root["mediaType"]
    multi = seeded_images[MULTI]
    assert set(multi.platforms) == {"linux/amd64", "linux/arm64/v8"}
    assert {d["digest"] for d in multi.manifest()["manifests"]} == set(multi.platforms.values())


def test_basic_variant_refuses_a_wrong_password(registry_basic: RunningRegistry) -> None:
    url = f"{registry_basic.url}/v2/test/small/manifests/1.0"
    assert httpx.get(url, auth=("tester", "wrong"), headers={"Accept": ACCEPT}).status_code == 401
    assert httpx.get(url, auth=registry_basic.creds, headers={"Accept": ACCEPT}).status_code == 200
    assert registry_basic.password and registry_basic.password.startswith("canary-pw-")


@pytest.mark.parametrize("variant", ["token", "redirect"])
def test_a_token_from_our_server_is_accepted(request: pytest.FixtureRequest, variant: str) -> None:
    registry: RunningRegistry = request.getfixturevalue(f"registry_{variant}")
    url = f"{registry.url}/v2/test/small/manifests/1.0"
    challenged = httpx.get(url, headers={"Accept": ACCEPT})
    assert challenged.status_code == 401
    assert 'scope="repository:test/small:pull"' in challenged.headers["WWW-Authenticate"]
    token = _token(registry, "repository:test/small:pull")
    answer = httpx.get(url, headers={"Accept": ACCEPT, "Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert token in registry.token_server.issued_tokens  # type: ignore[union-attr]


def test_an_anonymous_pull_token_gets_insufficient_scope_on_push(registry_token: RunningRegistry) -> None:
    token = _token(registry_token, "repository:test/small:pull,push", anonymous=True)
    headers = {"Authorization": f"Bearer {token}"}
    pulled = httpx.get(f"{registry_token.url}/v2/test/small/tags/list", headers=headers)
    assert pulled.status_code == 200
    pushed = httpx.post(f"{registry_token.url}/v2/test/small/blobs/uploads/", headers=headers)
    assert pushed.status_code == 401
    challenge = pushed.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    # distribution joins the actions in Go map order: "pull,push" or "push,pull"
    (parsed,) = parse_challenges(challenge)
    assert [parse_scope(s) for s in parsed.scopes] == [parse_scope("repository:test/small:pull,push")]


def test_the_catalog_needs_an_authenticated_token(registry_token: RunningRegistry) -> None:
    anonymous = _token(registry_token, "registry:catalog:*", anonymous=True)
    url = f"{registry_token.url}/v2/_catalog"
    assert httpx.get(url, headers={"Authorization": f"Bearer {anonymous}"}).status_code == 401
    user = _token(registry_token, "registry:catalog:*")
    answer = httpx.get(url, headers={"Authorization": f"Bearer {user}"})
    assert answer.status_code == 200
    assert {"test/small", "test/multi"} <= set(answer.json()["repositories"])


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_redirect_variant_sends_blobs_to_the_cdn(
    registry_redirect: RunningRegistry, seeded_images: dict[str, SampleImage], method: str
) -> None:
    assert registry_redirect.cdn is not None and registry_redirect.redirect_host
    image = seeded_images[SMALL]
    layer = image.manifest()["layers"][0]
    token = _token(registry_redirect, "repository:test/small:pull")
    url = f"{registry_redirect.url}/v2/test/small/blobs/{layer['digest']}"
    answer = httpx.request(method, url, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 307
    location = answer.headers["Location"]
    hex_part = layer["digest"].split(":")[1]
    assert location == (
        f"http://{registry_redirect.redirect_host}/docker/registry/v2/blobs/sha256/{hex_part[:2]}/{hex_part}/data"
    )
    assert location.startswith("http://localhost:")
    registry_redirect.cdn.clear()
    served = httpx.request(method, location)
    assert served.status_code == 200
    assert served.headers["Content-Length"] == str(layer["size"])
    assert served.headers["Accept-Ranges"] == "bytes"
    if method == "GET":
        assert served.content == image.blob_bytes(layer["digest"])
    (hop,) = registry_redirect.cdn.requests
    assert hop.header("Authorization") is None


def test_the_cdn_serves_ranges(registry_redirect: RunningRegistry, seeded_images: dict[str, SampleImage]) -> None:
    image = seeded_images[SMALL]
    layer = image.manifest()["layers"][1]
    data = image.blob_bytes(layer["digest"])
    hex_part = layer["digest"].split(":")[1]
    url = f"http://{registry_redirect.redirect_host}/docker/registry/v2/blobs/sha256/{hex_part[:2]}/{hex_part}/data"
    with httpx.Client() as client:  # one keep-alive connection for all requests
        part = client.get(url, headers={"Range": "bytes=10-19"})
        assert (part.status_code, part.content) == (206, data[10:20])
        assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
        tail = client.get(url, headers={"Range": "bytes=100-"})
        assert (tail.status_code, tail.content) == (206, data[100:])
        suffix = client.get(url, headers={"Range": "bytes=-5"})
        assert (suffix.status_code, suffix.content) == (206, data[-5:])
        beyond = client.get(url, headers={"Range": f"bytes={len(data)}-"})
        assert beyond.status_code == 416
        assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
        assert client.get(url.replace("/data", "/nothing")).status_code == 404


def test_the_registry_log_witnesses_requests(registry_anonymous: RunningRegistry) -> None:
    httpx.get(f"{registry_anonymous.url}/v2/test/small/tags/list")
    log = registry_anonymous.log_text()
    assert "response completed" in log
    assert "/v2/test/small/tags/list" in log


def test_skopeo_pushes_do_not_try_mounts(registry_anonymous: RunningRegistry) -> None:
    image = build_sample(layers=1, seed="mount-check")
    before = len(registry_anonymous.log_text())  # the registry is shared: read only our part of its log
    seed(registry_anonymous, image, "infra/mount-a", "1")
    seed(registry_anonymous, image, "infra/mount-b", "1")
    log = registry_anonymous.log_text()[before:]
    assert "/v2/infra/mount-b/blobs/uploads/" in log
    assert not re.search(r"infra/mount-[ab]/blobs/uploads/\?[^ ]*mount=sha256", log), \
        "skopeo used its blob-info cache and tried a mount"


def test_skopeo_inspect_sees_the_seeded_index(
    registry_token: RunningRegistry, seeded_images: dict[str, SampleImage]
) -> None:
    raw = skopeo_inspect(f"docker://{registry_token.host}/test/multi:1.0", raw=True, creds=registry_token.creds)
    assert raw == seeded_images[MULTI].manifest()
