"""Blob uploads: monolithic, single POST, chunked with 416 recovery, streamed, mount, status, cancel."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from explorer.sandbox import RegistryOptions
from tests.sandbox.conftest import open_registry
from tests.sandbox.pushing import error_codes, push_blob, sha256, with_digest

OCTETS = {"Content-Type": "application/octet-stream"}


def _open(client: httpx.Client, name: str = "up") -> httpx.Response:
    opened = client.post(f"/v2/{name}/blobs/uploads/")
    assert opened.status_code == 202
    return opened


def test_open_session_headers(client: httpx.Client) -> None:
    opened = _open(client, "team/app")
    location = opened.headers["Location"]
    uuid = opened.headers["Docker-Upload-UUID"]
    assert location.startswith(f"{client.base_url}/v2/team/app/blobs/uploads/{uuid}?_state=")
    assert opened.headers["Range"] == "0-0"
    assert opened.headers["Content-Length"] == "0"
    assert "OCI-Chunk-Min-Length" not in opened.headers


def test_monolithic_put_and_location(client: httpx.Client) -> None:
    opened = _open(client)
    done = client.put(with_digest(opened.headers["Location"], sha256(b"hello")), content=b"hello",
                      headers=OCTETS)
    assert done.status_code == 201
    assert done.headers["Docker-Content-Digest"] == sha256(b"hello")
    assert done.headers["Location"] == f"{client.base_url}/v2/up/blobs/{sha256(b'hello')}"
    assert client.get(done.headers["Location"]).content == b"hello"
    reused = client.put(with_digest(opened.headers["Location"], sha256(b"hello")), content=b"hello")
    assert (reused.status_code, error_codes(reused)) == (404, ["BLOB_UPLOAD_UNKNOWN"])


def test_single_post_upload(client: httpx.Client) -> None:
    data = b"one request"
    answer = client.post("/v2/single/blobs/uploads/", params={"digest": sha256(data)}, content=data, headers=OCTETS)
    assert answer.status_code == 201
    assert answer.headers["Docker-Content-Digest"] == sha256(data)
    assert client.get(f"/v2/single/blobs/{sha256(data)}").content == data
    wrong = client.post("/v2/single/blobs/uploads/", params={"digest": sha256(b"other")}, content=data)
    assert (wrong.status_code, error_codes(wrong)) == (400, ["DIGEST_INVALID"])


def test_single_post_can_behave_like_distribution_28(mode: str) -> None:
    with open_registry(mode, options=RegistryOptions(monolithic_post=False, chunk_min_length=1024)) as (_, client):
        answer = client.post("/v2/x/blobs/uploads/", params={"digest": sha256(b"abc")}, content=b"abc")
        assert answer.status_code == 202
        assert answer.headers["OCI-Chunk-Min-Length"] == "1024"
        assert client.head(f"/v2/x/blobs/{sha256(b'abc')}").status_code == 404


def test_chunked_upload_with_416_recovery(client: httpx.Client) -> None:
    data = b"0123456789abcdefghij"
    location = _open(client).headers["Location"]
    first = client.patch(location, content=data[:8], headers={**OCTETS, "Content-Range": "0-7"})
    assert (first.status_code, first.headers["Range"]) == (202, "0-7")
    location = first.headers["Location"]
    skipped = client.patch(location, content=data[12:], headers={**OCTETS, "Content-Range": "12-19"})
    assert (skipped.status_code, error_codes(skipped)) == (416, ["RANGE_INVALID"])
    assert skipped.headers["Range"] == "0-7"
    status = client.get(location)
    assert (status.status_code, status.headers["Range"]) == (204, "0-7")
    assert status.headers["Docker-Upload-UUID"] == first.headers["Docker-Upload-UUID"]
    resumed_at = int(status.headers["Range"].split("-")[1]) + 1
    second = client.patch(status.headers["Location"], content=data[resumed_at:16],
                          headers={**OCTETS, "Content-Range": f"{resumed_at}-15"})
    assert (second.status_code, second.headers["Range"]) == (202, "0-15")
    done = client.put(with_digest(second.headers["Location"], sha256(data)), content=data[16:],
                      headers={**OCTETS, "Content-Range": "16-19"})
    assert done.status_code == 201
    assert client.get(f"/v2/up/blobs/{sha256(data)}").content == data


def test_locations_without_state_stay_valid_as_zot_sends_them(mode: str) -> None:
    with open_registry(mode, options=RegistryOptions(upload_state=False)) as (_, client):
        opened = _open(client)
        location = opened.headers["Location"]
        assert location == f"{client.base_url}/v2/up/blobs/uploads/{opened.headers['Docker-Upload-UUID']}"
        first = client.patch(location, content=b"01234567", headers={**OCTETS, "Content-Range": "0-7"})
        assert (first.status_code, first.headers["Location"]) == (202, location)
        again = client.patch(location, content=b"01234567", headers={**OCTETS, "Content-Range": "0-7"})
        assert (again.status_code, error_codes(again), again.headers["Range"]) == (416, ["RANGE_INVALID"], "0-7")
        status = client.get(location)
        assert (status.status_code, status.headers["Range"]) == (204, "0-7")
        done = client.put(with_digest(location, sha256(b"0123456789")), content=b"89",
                          headers={**OCTETS, "Content-Range": "8-9"})
        assert done.status_code == 201


def test_chunk_errors(client: httpx.Client) -> None:
    location = _open(client).headers["Location"]
    mismatch = client.patch(location, content=b"abc", headers={"Content-Range": "0-9"})
    assert (mismatch.status_code, error_codes(mismatch)) == (400, ["SIZE_INVALID"])
    malformed = client.patch(location, content=b"abc", headers={"Content-Range": "bytes 0-2/3"})
    assert (malformed.status_code, error_codes(malformed)) == (416, ["RANGE_INVALID"])
    ok = client.patch(location, content=b"abc", headers={"Content-Range": "0-2"})
    assert ok.status_code == 202
    stale = client.patch(location, content=b"def", headers={"Content-Range": "3-5"})
    assert (stale.status_code, error_codes(stale)) == (404, ["BLOB_UPLOAD_INVALID"])
    forged = client.get(location.split("?")[0], params={"_state": "Zm9yZ2Vk"})
    assert (forged.status_code, error_codes(forged)) == (404, ["BLOB_UPLOAD_INVALID"])
    for rebuilt in (location.split("?")[0], "/v2/up/blobs/uploads/00000000-0000-4000-8000-000000000000",
                    location.replace("/v2/up/", "/v2/other/")):
        answer = client.get(rebuilt)  # no _state, or one signed for another repository
        assert (answer.status_code, error_codes(answer)) == (404, ["BLOB_UPLOAD_INVALID"]), rebuilt
    replaced = client.put(location, params={"digest": sha256(b"abc")})  # httpx drops _state this way
    assert (replaced.status_code, error_codes(replaced)) == (404, ["BLOB_UPLOAD_INVALID"])
    assert client.get(ok.headers["Location"]).status_code == 204


def test_put_digest_checks(client: httpx.Client) -> None:
    location = _open(client).headers["Location"]
    missing = client.put(location, content=b"data")
    assert (missing.status_code, error_codes(missing)) == (400, ["DIGEST_INVALID"])
    malformed = client.put(with_digest(location, "sha256:nope"), content=b"data")
    assert (malformed.status_code, error_codes(malformed)) == (400, ["DIGEST_INVALID"])
    wrong = client.put(with_digest(location, sha256(b"other")), content=b"data")
    assert (wrong.status_code, error_codes(wrong)) == (400, ["DIGEST_INVALID"])
    assert wrong.json()["errors"][0]["detail"] == {"Digest": sha256(b"other")}
    after = client.get(location)  # a failed verification ends the session, as in distribution
    assert (after.status_code, error_codes(after)) == (404, ["BLOB_UPLOAD_UNKNOWN"])


def test_stream_patch_without_content_range(client: httpx.Client) -> None:
    data = b"streamed " * 100_000

    def body() -> Iterator[bytes]:  # no length known: httpx sends Transfer-Encoding: chunked
        for start in range(0, len(data), 65536):
            yield data[start:start + 65536]

    location = _open(client).headers["Location"]
    streamed = client.patch(location, content=body(), headers=OCTETS)
    assert streamed.status_code == 202
    assert streamed.headers["Range"] == f"0-{len(data) - 1}"
    done = client.put(with_digest(streamed.headers["Location"], sha256(data)))
    assert done.status_code == 201
    assert client.get(f"/v2/up/blobs/{sha256(data)}").content == data


def test_status_and_cancel(client: httpx.Client) -> None:
    opened = _open(client)
    location = opened.headers["Location"]
    status = client.get(location)
    assert (status.status_code, status.headers["Range"], status.content) == (204, "0-0", b"")
    cancelled = client.delete(location)
    assert cancelled.status_code == 204
    assert cancelled.headers["Docker-Upload-UUID"] == opened.headers["Docker-Upload-UUID"]
    for method in ("GET", "PATCH", "DELETE"):
        answer = client.request(method, location)
        assert (answer.status_code, error_codes(answer)) == (404, ["BLOB_UPLOAD_UNKNOWN"]), method


def test_mount_201_and_202_fallbacks(client: httpx.Client) -> None:
    digest = push_blob(client, "source/app", b"shared layer")
    mounted = client.post("/v2/target/blobs/uploads/", params={"mount": digest, "from": "source/app"})
    assert mounted.status_code == 201
    assert mounted.headers["Docker-Content-Digest"] == digest
    assert mounted.headers["Location"] == f"{client.base_url}/v2/target/blobs/{digest}"
    assert client.get(f"/v2/target/blobs/{digest}").content == b"shared layer"
    fallbacks = {
        "blob not in source": {"mount": sha256(b"absent"), "from": "source/app"},
        "no from": {"mount": digest},
        "invalid from": {"mount": digest, "from": "Not/Valid"},
        "invalid digest": {"mount": "sha256:zz", "from": "source/app"},
        "source lacks it": {"mount": digest, "from": "elsewhere"},
    }
    for case, params in fallbacks.items():
        answer = client.post("/v2/other/blobs/uploads/", params=params)
        assert answer.status_code == 202, case
        assert answer.headers["Range"] == "0-0"
        put = client.put(with_digest(answer.headers["Location"], sha256(b"x")), content=b"x")
        assert put.status_code == 201, case


def test_deletes_can_be_disabled(mode: str) -> None:
    with open_registry(mode, options=RegistryOptions(delete_enabled=False)) as (_, client):
        digest = push_blob(client, "keep", b"kept")
        for path in (f"/v2/keep/blobs/{digest}", f"/v2/keep/manifests/{digest}"):
            answer = client.delete(path)
            assert (answer.status_code, error_codes(answer)) == (405, ["UNSUPPORTED"])
