"""Upload, copy-source and pagination logic against an in-memory fake registry (httpx.MockTransport).

The real-registry tests cannot provoke these: distribution 2.8 never answers 416 (it
ignores Content-Range), sends no OCI-Chunk-Min-Length and does not paginate tags.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from explorer.client.registry import RegistryClient, UploadSession
from explorer.client.credentials import CredentialSource, Credentials
from explorer.errors import ProtocolViolation
from explorer.flows.copy import RegistrySource
from explorer.flows.listing import list_tags
from explorer.flows.upload import BlobStep, ChunksSource, FileSource, SliceBody, upload_blob
from explorer.recording.recorder import Recorder
from explorer.recording.redact import Secrets

HOST = "127.0.0.1:5000"
DATA = bytes(range(256)) * 40  # 10240 bytes
DIGEST = "sha256:" + hashlib.sha256(DATA).hexdigest()


class FakeUploads:
    """One repository's upload endpoint, strict about Content-Range like the OCI spec (416 when out of order)."""

    def __init__(self, *, min_chunk: int | None = None, refuse_patch: int | None = None, keep_on_refusal: int = 0):
        self.stored = bytearray()
        self.min_chunk = min_chunk
        self.refuse_patch = refuse_patch  # answer this PATCH (1-based) with 416 once ...
        self.keep_on_refusal = keep_on_refusal  # ... after keeping this many of its bytes
        self.patches = 0
        self.log: list[tuple[str, int, str | None]] = []  # (method, status, content-range)
        self.blobs: dict[str, bytes] = {}
        self.auth_required: str | None = None
        self.unavailable_once = False
        self.lose_session_once = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self._answer(request)
        self.log.append((request.method, response.status_code, request.headers.get("content-range")))
        return response

    def _session_headers(self) -> dict[str, str]:
        end = max(len(self.stored) - 1, 0)
        return {"Location": f"/v2/r/blobs/uploads/u1?_state={len(self.stored)}", "Range": f"0-{end}",
                "Docker-Upload-UUID": "u1"}

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if self.auth_required and request.headers.get("authorization") != self.auth_required:
            request.read()
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="fake"'})
        path, method = request.url.path, request.method
        if method == "HEAD" and "/blobs/sha256:" in path:
            return httpx.Response(200 if path.rsplit("/", 1)[1] in self.blobs else 404)
        if method == "POST":
            headers = self._session_headers()
            if self.min_chunk:
                headers["OCI-Chunk-Min-Length"] = str(self.min_chunk)
            return httpx.Response(202, headers=headers)
        body = request.read()
        if method == "PATCH":
            self.patches += 1
            start, end = map(int, request.headers["content-range"].split("-"))
            if self.patches == self.refuse_patch:
                self.stored += body[: self.keep_on_refusal]
                return httpx.Response(416, json={"errors": [{"code": "RANGE_INVALID", "message": "x"}]},
                                      headers=self._session_headers())
            if start != len(self.stored) or end - start + 1 != len(body):
                return httpx.Response(416, headers=self._session_headers())
            self.stored += body
            return httpx.Response(202, headers=self._session_headers())
        if method == "GET" and "/uploads/" in path:
            return httpx.Response(204, headers=self._session_headers())
        if method == "PUT" and self.lose_session_once:
            self.lose_session_once = False
            self.stored.clear()
            return httpx.Response(404, json={"errors": [{"code": "BLOB_UPLOAD_UNKNOWN", "message": "x"}]})
        if method == "DELETE":
            return httpx.Response(404)
        if method == "PUT" and self.unavailable_once:
            self.unavailable_once = False
            return httpx.Response(503)
        if method == "PUT":
            self.stored += body
            digest = request.url.params["digest"]
            if "sha256:" + hashlib.sha256(self.stored).hexdigest() != digest:
                return httpx.Response(400, json={"errors": [{"code": "DIGEST_INVALID", "message": "x"}]})
            self.blobs[digest] = bytes(self.stored)
            return httpx.Response(201, headers={"Location": f"/v2/r/blobs/{digest}", "Docker-Content-Digest": digest})
        return httpx.Response(404)


def _client(handler, credentials: Credentials | None = None) -> RegistryClient:
    secrets = Secrets()
    return RegistryClient(
        HOST,
        recorder=Recorder(secrets=secrets),
        credentials=CredentialSource(secrets, credentials, env={}),
        plain_http=True,  # the mock stands for a plain-http registry (it would "speak TLS" to a probe)
        transport=httpx.MockTransport(handler),
        sleep=lambda seconds: None,
    )


def _source(tmp_path: Path) -> FileSource:
    path = tmp_path / "blob"
    path.write_bytes(DATA)
    return FileSource(path, DIGEST, len(DATA))


def test_a_416_is_recovered_by_asking_the_upload_status_and_resuming_there(tmp_path):
    fake = FakeUploads(refuse_patch=2, keep_on_refusal=100)
    with _client(fake) as client:
        outcome = upload_blob(client, "r", _source(tmp_path), BlobStep("layer", 1, 1), context="t", chunk_size=4096)
    assert outcome == "uploaded" and fake.blobs[DIGEST] == DATA
    assert fake.log == [
        ("HEAD", 404, None), ("POST", 202, None),
        ("PATCH", 202, "0-4095"), ("PATCH", 416, "4096-8191"),
        ("GET", 204, None),  # Range: 0-4195 -> the registry kept 100 bytes of the refused chunk
        ("PATCH", 202, "4196-8291"), ("PATCH", 202, "8292-10239"),
        ("PUT", 201, None),
    ]
    steps = {ex.step for ex in client.recorder.trace.exchanges}
    assert steps == {"check layer 1/1", "upload layer 1/1"}


def test_a_lost_session_is_cancelled_and_the_blob_sent_again_in_a_new_one(tmp_path):
    fake = FakeUploads()
    fake.lose_session_once = True
    with _client(fake) as client:
        assert upload_blob(client, "r", _source(tmp_path), BlobStep("config"), context="t") == "uploaded"
    assert [(method, status) for method, status, _rng in fake.log] == [
        ("HEAD", 404), ("POST", 202), ("PUT", 404), ("DELETE", 404), ("POST", 202), ("PUT", 201)
    ]
    assert fake.blobs[DIGEST] == DATA


def test_chunks_honour_oci_chunk_min_length(tmp_path):
    fake = FakeUploads(min_chunk=6000)
    with _client(fake) as client:
        upload_blob(client, "r", _source(tmp_path), BlobStep("config"), context="t", chunk_size=1024)
    assert [rng for method, _status, rng in fake.log if method == "PATCH"] == ["0-5999", "6000-10239"]
    assert fake.blobs[DIGEST] == DATA


def test_a_present_blob_is_skipped_and_the_step_renamed(tmp_path):
    fake = FakeUploads()
    fake.blobs[DIGEST] = DATA
    with _client(fake) as client:
        assert upload_blob(client, "r", _source(tmp_path), BlobStep("layer", 2, 5), context="t") == "skipped"
        assert [ex.step for ex in client.recorder.trace.exchanges] == ["layer 2/5 already present, skipped"]


@pytest.mark.parametrize("first_answer", ["401 basic challenge", "503 then retry"])
def test_the_streamed_body_is_sent_whole_again(tmp_path, first_answer):
    fake = FakeUploads()
    if first_answer.startswith("401"):
        fake.auth_required = "Basic YWxpY2U6cHc="  # alice:pw
    else:
        fake.unavailable_once = True
    with _client(fake, Credentials("alice", "pw")) as client:
        session = UploadSession(f"http://{HOST}/v2/r/blobs/uploads/u1?_state=0")
        body = SliceBody(_source(tmp_path), 0, len(DATA))
        client.finish_upload(session, DIGEST, context="t", body=body, size=len(DATA))
    puts = [ex for ex in client.recorder.trace.exchanges if ex.request.method == "PUT"]
    assert [ex.response.status for ex in puts] == [int(first_answer[:3]), 201]
    assert [ex.request.body.size for ex in puts] == [len(DATA), len(DATA)]
    assert fake.blobs[DIGEST] == DATA


def test_slice_bodies_of_a_generated_blob_replay_the_same_bytes():
    source = ChunksSource(lambda: iter([DATA[:1000], DATA[1000:5000], DATA[5000:]]), DIGEST, len(DATA))
    body = SliceBody(source, 900, 4200)
    assert b"".join(body) == b"".join(body) == DATA[900:5100]


def _blob_server(*, honour_range: bool, log: list[str | None]):
    def handler(request: httpx.Request) -> httpx.Response:
        wanted = request.headers.get("range")
        log.append(wanted)
        if wanted and honour_range:
            start = int(wanted.removeprefix("bytes=").rstrip("-"))
            return httpx.Response(206, content=DATA[start:],
                                  headers={"Content-Range": f"bytes {start}-{len(DATA) - 1}/{len(DATA)}"})
        return httpx.Response(200, content=DATA)

    return handler


@pytest.mark.parametrize("honour_range", [True, False])
def test_a_registry_source_reads_in_order_and_reopens_with_range_for_a_resend(honour_range):
    log: list[str | None] = []
    with _client(_blob_server(honour_range=honour_range, log=log)) as client:
        source = RegistrySource(client, "src", {"digest": DIGEST, "size": len(DATA)}, "src:1")
        source.prepare()
        assert b"".join(source.slice(0, 3000)) == DATA[:3000]
        assert b"".join(source.slice(3000, 3000)) == DATA[3000:6000]  # same stream, no new GET
        assert b"".join(source.slice(3000, 3000)) == DATA[3000:6000]  # a resend: re-opened from 3000
        assert b"".join(source.slice(6000, len(DATA) - 6000)) == DATA[6000:]
        source.close()
    assert log == [None, "bytes=3000-"]


def test_tag_listing_follows_link_until_there_is_none():
    tags = [f"t{n}" for n in range(5)]
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/v2/":
            return httpx.Response(200)
        last = request.url.params.get("last")
        start = tags.index(last) + 1 if last else 0
        page = tags[start : start + 2]
        headers = {}
        if start + 2 < len(tags):
            headers["Link"] = f'</v2/r/tags/list?last={page[-1]}&n=2>; rel="next"'
        return httpx.Response(200, json={"name": "r", "tags": page}, headers=headers)

    with _client(handler) as client:
        listing = list_tags(client, "r", page_size=2, context="r")
    assert listing.items == tags and listing.pages == 3
    assert seen[1:] == [
        f"http://{HOST}/v2/r/tags/list?n=2",
        f"http://{HOST}/v2/r/tags/list?last=t1&n=2",
        f"http://{HOST}/v2/r/tags/list?last=t3&n=2",
    ]


def test_a_link_back_to_a_page_already_read_is_a_protocol_violation():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        return httpx.Response(200, json={"tags": ["a"]}, headers={"Link": '</v2/r/tags/list>; rel="next"'})

    with _client(handler) as client, pytest.raises(ProtocolViolation):
        list_tags(client, "r", context="r")
