"""The fault proxy itself: each fault does what it says, against the real registry (httpx as the client)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.infra.fault_proxy import FaultProxy
from tests.infra.faults import (
    DropResponse,
    EditRequest,
    RejectStaleBearer,
    Reset,
    ResetRequest,
    Respond,
    Rewrite,
    Rule,
    Stall,
    Throttle,
    Truncate,
    WrongLength,
)
from tests.reliability.conftest import SMALL


@pytest.fixture
def layer(registry_anonymous, seeded_images):
    desc = seeded_images[SMALL].manifest()["layers"][0]
    return desc, seeded_images[SMALL].blob_bytes(desc["digest"])


@pytest.fixture
def proxy(registry_anonymous, proxies):
    return proxies(registry_anonymous.url)


def blob_url(proxy: FaultProxy, digest: str) -> str:
    return f"{proxy.url}/v2/test/small/blobs/{digest}"


def test_passes_everything_through_with_keep_alive(proxy, layer):
    desc, data = layer
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{proxy.url}/v2/").status_code == 200, proxy.errors
        response = client.get(blob_url(proxy, desc["digest"]))
        assert response.content == data
        assert client.head(blob_url(proxy, desc["digest"])).headers["content-length"] == str(len(data))
    assert [(s.method, s.status) for s in proxy.seen] == [("GET", 200), ("GET", 200), ("HEAD", 200)]


def test_rules_apply_to_the_chosen_occurrences(proxy):
    rule = proxy.add(Rule(Respond(503, retry_after="0"), method="GET", path=r"^/v2/$", skip=1, times=2))
    with httpx.Client(timeout=10) as client:
        statuses = [client.get(f"{proxy.url}/v2/").status_code for _ in range(4)]
    assert statuses == [200, 503, 503, 200]
    assert (rule.matched, rule.applied) == (4, 2)
    assert proxy.seen[1].faults == ("Respond",)


def test_reset_mid_body_after_n_bytes(proxy, layer):
    desc, _ = layer
    proxy.add(Rule(Reset(after=4096), path="/blobs/"))
    received = bytearray()
    with httpx.Client(timeout=10) as client, pytest.raises(httpx.TransportError):
        with client.stream("GET", blob_url(proxy, desc["digest"])) as response:
            for chunk in response.iter_bytes():
                received += chunk
    assert len(received) == 4096


@pytest.mark.parametrize("fix_length", [False, True])
def test_truncate(proxy, layer, fix_length):
    desc, data = layer
    proxy.add(Rule(Truncate(after=1000, fix_length=fix_length), path="/blobs/"))
    with httpx.Client(timeout=10) as client:
        if fix_length:  # a consistent but short answer
            response = client.get(blob_url(proxy, desc["digest"]))
            assert response.content == data[:1000]
        else:
            with pytest.raises(httpx.RemoteProtocolError):
                client.get(blob_url(proxy, desc["digest"]))


def test_wrong_content_length(proxy, layer):
    desc, data = layer
    proxy.add(Rule(WrongLength(len(data) + 10), path="/blobs/"))
    with httpx.Client(timeout=10) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(blob_url(proxy, desc["digest"]))


def test_stall_before_headers_and_after_bytes(proxy, layer):
    desc, data = layer
    proxy.add(Rule((Stall(0.2), Stall(0.2, after=100)), path="/blobs/"))
    started = time.perf_counter()
    with httpx.Client(timeout=10) as client:
        assert client.get(blob_url(proxy, desc["digest"])).content == data
    assert time.perf_counter() - started >= 0.4


def test_throttle_slows_the_body(proxy, layer):
    desc, data = layer
    proxy.add(Rule(Throttle(chunk=2048, delay=0.02), path="/blobs/"))
    started = time.perf_counter()
    with httpx.Client(timeout=10) as client:
        assert client.get(blob_url(proxy, desc["digest"])).content == data
    assert time.perf_counter() - started >= 0.02 * (len(data) // 2048)


def test_rewrite_status_headers_and_body_and_edit_request(proxy):
    proxy.add(Rule((EditRequest(set_headers={"Accept": "text/plain"}),
                    Rewrite(status=200, set_headers={"Content-Type": "text/html"},
                            add_headers=[("Set-Cookie", "a=1")], body=b"<html>login</html>")), path="/manifests/"))
    with httpx.Client(timeout=10) as client:
        response = client.get(f"{proxy.url}/v2/test/small/manifests/nope")
    assert (response.status_code, response.text) == (200, "<html>login</html>")
    assert response.headers["set-cookie"] == "a=1"
    assert proxy.seen[0].header("accept") == "text/plain"


def test_drop_response_and_reset_request(proxy):
    proxy.add(Rule(DropResponse(), path="^/v2/$"))
    proxy.add(Rule(ResetRequest(after=10), method="POST"))
    with httpx.Client(timeout=10) as client:
        with pytest.raises(httpx.TransportError):
            client.get(f"{proxy.url}/v2/")
        with pytest.raises(httpx.TransportError):
            client.post(f"{proxy.url}/v2/mine/up/blobs/uploads/", content=b"x" * 100_000)
        assert client.get(f"{proxy.url}/v2/").status_code == 200


def test_locations_lead_back_through_the_proxy(registry_anonymous, proxy):
    with httpx.Client(timeout=10) as client:
        response = client.post(f"{proxy.url}/v2/reliability/proxy/blobs/uploads/")
        assert response.status_code == 202
        location = response.headers["location"]
        assert location.startswith(proxy.url) or location.startswith("/v2/")
        client.delete(httpx.URL(proxy.url).join(location))


def test_redirect_variant_cdn_and_token_proxies(registry_redirect, front, seeded_images):
    fronted = front(registry_redirect, cdn=True, token=True)
    desc = seeded_images[SMALL].manifest()["layers"][0]
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        challenge = client.get(f"{fronted.registry.url}/v2/").headers["www-authenticate"]
        assert fronted.token.url in challenge
        token = client.get(f"{fronted.token.url}/token", params={
            "service": registry_redirect.service, "scope": "repository:test/small:pull"}).json()["token"]
        hop = client.get(f"{fronted.registry.url}/v2/test/small/blobs/{desc['digest']}",
                         headers={"Authorization": f"Bearer {token}"})
        assert hop.status_code == 307 and hop.headers["location"].startswith(fronted.cdn.url)
        assert client.get(hop.headers["location"]).status_code == 200
    assert fronted.cdn.url.startswith("http://localhost:")


def test_reject_stale_bearer_answers_with_the_registry_challenge(registry_token, proxies):
    proxy = proxies(registry_token.url)
    rule = proxy.add(Rule(RejectStaleBearer(), times=None))
    old_expiry = registry_token.token_server.expires_in
    registry_token.token_server.expires_in = -1  # already expired when issued
    try:
        with httpx.Client(timeout=10) as client:
            token = client.get(registry_token.token_server.realm, params={
                "service": registry_token.service, "scope": "repository:test/small:pull"}).json()["token"]
            response = client.get(f"{proxy.url}/v2/test/small/manifests/1.0",
                                  headers={"Authorization": f"Bearer {token}"})
    finally:
        registry_token.token_server.expires_in = old_expiry
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "repository:test/small:pull" in response.headers["www-authenticate"]
    assert rule.fault.rejected == 1


def test_tls_and_plain_on_the_same_port(registry_anonymous, proxies):
    proxy = proxies(registry_anonymous.url, tls=True)
    with httpx.Client(timeout=10, verify=False) as client:
        assert client.get(f"{proxy.https_url}/v2/").status_code == 200
        assert client.get(f"{proxy.url}/v2/").status_code == 200


def test_the_rules_an_interrupted_chunked_upload_needs(registry_anonymous, proxies):
    """For push (pending): what distribution 2.8.2 does after a chunk's answer is lost vs. a chunk cut short.

    ``DropResponse`` on PATCH: the registry HAS the chunk, the client never hears so;
    distribution's ``_state`` in the old Location then no longer matches and it
    refuses status and retry with 404 BLOB_UPLOAD_INVALID: only a new upload helps.
    ``ResetRequest`` on PATCH: the chunk never arrived; the old Location still
    reports ``Range: 0-0`` and the chunk can be sent again.
    """
    proxy = proxies(registry_anonymous.url)
    chunk = {"content": b"a" * 5000, "headers": {"Content-Range": "0-4999", "Content-Type": "application/octet-stream"}}
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        proxy.add(Rule(DropResponse(), method="PATCH"))
        location = client.post("/v2/reliability/upload/blobs/uploads/").headers["location"]
        with pytest.raises(httpx.TransportError):
            client.patch(location, **chunk)
        status = client.get(location)
        assert (status.status_code, status.json()["errors"][0]["code"]) == (404, "BLOB_UPLOAD_INVALID")

        proxy.add(Rule(ResetRequest(after=1000), method="PATCH"))
        location = client.post("/v2/reliability/upload/blobs/uploads/").headers["location"]
        with pytest.raises(httpx.TransportError):
            client.patch(location, **chunk)
        status = client.get(location)
        assert (status.status_code, status.headers["range"]) == (204, "0-0")
        again = client.patch(location, **chunk)
        assert (again.status_code, again.headers["range"]) == (202, "0-4999")
        client.delete(again.headers["location"])
