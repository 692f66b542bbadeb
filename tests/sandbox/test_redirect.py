"""Blob redirects: 307 to the CDN origin, signed URLs, Range there, Authorization refused there."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from explorer.sandbox.cdn import BlobRedirector, CdnApp
from explorer.sandbox.storage import Storage
from tests.sandbox.conftest import open_registry
from tests.sandbox.pushing import push_blob, sha256

DATA = bytes(range(256)) * 64


def test_blob_get_and_head_redirect_to_signed_cdn_urls(mode: str) -> None:
    with open_registry(mode, redirect=True) as (sandbox, client):
        digest = push_blob(client, "cdn/app", DATA)
        for method in ("GET", "HEAD"):
            hop = client.request(method, f"/v2/cdn/app/blobs/{digest}")
            assert hop.status_code == 307
            location = hop.headers["Location"]
            parts = urlsplit(location)
            assert f"{parts.scheme}://{parts.netloc}" == sandbox.cdn_url != sandbox.registry_url
            assert parts.path == f"/docker/registry/v2/blobs/sha256/{digest[7:9]}/{digest[7:]}/data"
            assert set(parse_qs(parts.query)) == {"Expires", "Signature"}
        assert client.get(f"/v2/cdn/app/blobs/{sha256(b'missing')}").status_code == 404

        followed = client.get(f"/v2/cdn/app/blobs/{digest}", follow_redirects=True)
        assert (followed.status_code, followed.content) == (200, DATA)
        assert [hop.status_code for hop in followed.history] == [307]
        ranged = client.get(f"/v2/cdn/app/blobs/{digest}", headers={"Range": "bytes=100-199"}, follow_redirects=True)
        assert (ranged.status_code, ranged.content) == (206, DATA[100:200])
        assert ranged.headers["Content-Range"] == f"bytes 100-199/{len(DATA)}"
        assert client.head(location).headers["Content-Length"] == str(len(DATA))

        leaked = client.get(location, headers={"Authorization": "Bearer registry-token"})
        assert leaked.status_code == 400 and b"InvalidArgument" in leaked.content
        tampered = location.replace("Signature=", "Signature=x")
        assert client.get(tampered).status_code == 403
        assert client.get(location.split("?")[0]).status_code == 403
        assert client.get(location.replace("/data?", "/other?")).status_code == 404


def test_token_auth_with_redirect_shows_four_participants(mode: str) -> None:
    with open_registry(mode, auth="token", redirect=True) as (sandbox, client):
        user = (sandbox.username, sandbox.password)
        scope = "repository:four:pull,push"
        token = client.get(str(sandbox.token_url), params={"service": "regexplore-sandbox", "scope": scope},
                           auth=user).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        digest = push_blob(client, "four", DATA)
        followed = client.get(f"/v2/four/blobs/{digest}", follow_redirects=True)
        assert followed.content == DATA  # httpx dropped Authorization on the cross-origin hop
        hosts = {urlsplit(str(answer.url)).netloc for answer in [*followed.history, followed]}
        assert hosts == {sandbox.registry_host, urlsplit(str(sandbox.cdn_url)).netloc}


def test_cdn_urls_expire() -> None:
    now = [1_000_000.0]
    storage = Storage()
    try:
        redirector = BlobRedirector("http://cdn.test", b"secret", ttl=60, clock=lambda: now[0])
        assert storage.store_blob("x", [b"abc"], sha256(b"abc")) == 3
        location = redirector.location(sha256(b"abc"))
        with httpx.Client(transport=httpx.WSGITransport(app=CdnApp(storage, redirector))) as client:
            assert client.get(location).content == b"abc"
            now[0] += 61
            expired = client.get(location)
            assert expired.status_code == 403 and b"expired" in expired.content
    finally:
        storage.close()
