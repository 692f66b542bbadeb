"""explorer/client/registry.py: RegistryClient, one method per endpoint, against the real distribution registry.

Each method's request (endpoint id and intent kind as recorded), its answer and its typed errors.
The flows that chain these methods are tested in tests/integration.
"""

from __future__ import annotations

import hashlib

import httpx
import pytest

from explorer.client.registry import RegistryClient, UploadSession, next_page_url
from explorer.client.credentials import CredentialSource
from explorer.errors import ManifestError, ProtocolViolation, RegistryError
from explorer.protocol import mediatypes
from explorer.recording.recorder import Recorder
from explorer.recording.redact import Secrets
from explorer.trace import Intent


@pytest.fixture
def client(registry_anonymous):
    with RegistryClient(registry_anonymous.host, recorder=Recorder(), plain_http=True, retries=0,
                        credentials=CredentialSource(Secrets(), env={})) as client:
        yield client


def _recorded(client: RegistryClient) -> list[tuple[str, str | None, str | None, int | None]]:
    """(method, endpoint id, intent kind, status) of every recorded exchange."""
    out = []
    for ex in client.recorder.trace.exchanges:
        intent = ex.intent
        out.append((ex.request.method, intent.endpoint if intent else None, intent.kind if intent else None,
                    ex.response.status if ex.response else None))
    return out


def test_ping_and_manifests(client, seeded_images):
    small = seeded_images["test/small:1.0"]
    assert client.ping().status_code == 200
    with client.step(Intent("resolve", repository="test/small")):
        manifest = client.get_manifest("test/small", "1.0", context="test/small:1.0")
    assert manifest.data == small.manifests[small.digest] and manifest.digest == small.digest
    assert manifest.header_digest == small.digest and manifest.media_type == mediatypes.OCI_MANIFEST
    assert manifest.parsed()["schemaVersion"] == 2
    head = client.head_manifest("test/small", small.digest, context="by digest")
    assert head is not None and head.headers["docker-content-digest"] == small.digest
    assert client.head_manifest("test/small", "no-such-tag", context="missing") is None
    assert _recorded(client) == [
        ("GET", "end-1", "ping", 200),
        ("GET", "end-3", "resolve", 200),
        ("HEAD", "end-3", "check-manifest", 200),
        ("HEAD", "end-3", "check-manifest", 404),
    ]


def test_missing_manifest_is_a_typed_error(client):
    with pytest.raises(RegistryError) as caught:
        client.get_manifest("test/small", "nope", context="test/small:nope")
    assert caught.value.status == 404 and caught.value.code == "MANIFEST_UNKNOWN"
    assert "test/small:nope" in caught.value.message


def test_blobs_stream_and_head(client, seeded_images):
    small = seeded_images["test/small:1.0"]
    digest, blob = next(iter(small.blobs.items()))
    with client.open_blob("test/small", digest, context="blob") as response:
        data = response.read()
    assert hashlib.sha256(data).hexdigest() == digest.split(":", 1)[1]
    with client.open_blob("test/small", digest, context="rest", offset=10) as response:
        assert response.status_code == 206 and response.read() == data[10:]
    assert client.head_blob("test/small", digest, context="head") == len(data) == blob.size
    assert client.head_blob("test/small", "sha256:" + "0" * 64, context="absent") is None
    assert [row[1:3] for row in _recorded(client)] == [("end-2", "fetch-blob")] * 2 + [("end-2", "check-blob")] * 2


def test_upload_monolithic_then_cancel_an_open_one(client):
    data = b"regexplore client test blob\n"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    session = client.start_upload("client/uploads", context="open")
    assert isinstance(session, UploadSession) and client.is_own_upload_url(session.location)
    client.finish_upload(session, digest, context="close", body=data, size=len(data))
    assert client.head_blob("client/uploads", digest, context="check") == len(data)

    chunked = client.start_upload("client/uploads", context="open again")
    chunked = client.upload_chunk(chunked, data[:10], 0, 9, context="chunk")
    assert chunked.offset == 10 and client.upload_status(chunked, context="status").offset == 10
    client.cancel_upload(chunked, context="cancel")
    kinds = [row[2] for row in _recorded(client)]
    assert kinds == ["open-upload", "close-upload", "check-blob", "open-upload", "upload-chunk", "upload-status",
                     "cancel-upload"]

    mounted = client.start_upload("client/other", context="mount", mount=digest, from_repository="client/uploads")
    assert mounted is None  # 201: mounted, no session
    assert _recorded(client)[-1][1:] == ("end-11", "mount", 201)


def test_cancel_goes_only_to_an_upload_url_of_this_registry(client, registry_anonymous):
    before = len(client.recorder.trace.exchanges)
    for location in (f"http://{registry_anonymous.host}/v2/test/small/manifests/1.0",  # not an upload
                     "http://elsewhere.test/v2/x/blobs/uploads/abc"):  # another origin
        assert not client.is_own_upload_url(location)
        client.cancel_upload(UploadSession(location), context="cancel")
    assert len(client.recorder.trace.exchanges) == before  # nothing sent


def test_listing_pages_follow_link_on_the_same_origin_only(client):
    body, next_url = client.list_page(client.url("/v2/test/small/tags/list?n=1"), context="tags")
    assert body["name"] == "test/small" and next_url is None or next_url.startswith(client.base_url)
    request = httpx.Request("GET", client.url("/v2/r/tags/list?n=1"))
    same = httpx.Response(200, headers={"link": '</v2/r/tags/list?n=1&last=a>; rel="next"'}, request=request)
    assert next_page_url(same) == client.url("/v2/r/tags/list?n=1&last=a")
    assert client.next_page_url(same, context="tags") == client.url("/v2/r/tags/list?n=1&last=a")
    other = httpx.Response(200, headers={"link": '<http://evil.test/v2/r/tags/list>; rel="next"'}, request=request)
    with pytest.raises(ProtocolViolation, match="another host"):
        client.next_page_url(other, context="tags")


def test_referrers_on_distribution_without_the_api(client, seeded_images):
    response = client.referrers("test/small", seeded_images["test/small:1.0"].digest, context="referrers")
    assert response.status_code in (200, 404)  # distribution 2.8 answers 404: no referrers API
    assert _recorded(client)[-1][1:3] == ("end-12a", "referrers")


def test_manifest_limit_is_containerds():
    assert mediatypes.MANIFEST_LIMIT == 4 * 1024 * 1024


def test_an_html_page_is_not_a_manifest():
    page = b"<html><body>please log in</body></html>"
    transport = httpx.MockTransport(lambda request: httpx.Response(200, headers={"content-type": "text/html"},
                                                                   content=page))
    with RegistryClient("registry.test", recorder=Recorder(), credentials=CredentialSource(Secrets(), env={}),
                        transport=transport, retries=0, plain_http=False) as client:
        with pytest.raises(ManifestError, match="HTML page"):
            client.get_manifest("r", "1", context="r:1")
