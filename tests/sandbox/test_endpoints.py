"""Every sandbox endpoint and error code, in-process (WSGI) and over sockets."""

from __future__ import annotations

import json

import httpx

from tests.sandbox.pushing import (
    ACCEPT, OCI_INDEX, OCI_MANIFEST, error_codes, manifest_for, push_blob, push_image, sha256,
)

MISSING = "sha256:" + "0" * 64
API_VERSION = "registry/2.0"


def test_base_answers_200_with_api_version(client: httpx.Client) -> None:
    answer = client.get("/v2/")
    assert answer.status_code == 200
    assert answer.json() == {}
    assert answer.headers["Docker-Distribution-API-Version"] == API_VERSION


def test_unknown_paths_are_404_pages_and_v2_without_slash_redirects(client: httpx.Client) -> None:
    answer = client.get("/v3/")
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.headers["Docker-Distribution-API-Version"] == API_VERSION
    moved = client.get("/v2")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/v2/")


def test_manifest_by_tag_and_digest_get_and_head(client: httpx.Client) -> None:
    digest, manifest = push_image(client, "team/app", "1.0")
    assert digest == sha256(manifest)
    for ref in ("1.0", digest):
        got = client.get(f"/v2/team/app/manifests/{ref}", headers=ACCEPT)
        assert got.status_code == 200
        assert got.content == manifest
        assert got.headers["Content-Type"] == OCI_MANIFEST
        assert got.headers["Docker-Content-Digest"] == digest
        head = client.head(f"/v2/team/app/manifests/{ref}", headers=ACCEPT)
        assert head.status_code == 200
        assert head.headers["Content-Length"] == str(len(manifest))
        assert head.headers["Docker-Content-Digest"] == digest
        assert head.content == b""
    not_modified = client.get(f"/v2/team/app/manifests/{digest}", headers={"If-None-Match": f'"{digest}"'})
    assert not_modified.status_code == 304


def test_manifest_content_negotiation(client: httpx.Client) -> None:
    push_image(client, "negotiate", "1")
    assert client.get("/v2/negotiate/manifests/1").status_code == 200  # no Accept: served
    assert client.get("/v2/negotiate/manifests/1", headers={"Accept": "*/*"}).status_code == 200
    docker_only = client.get("/v2/negotiate/manifests/1",
                             headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    assert docker_only.status_code == 404
    assert error_codes(docker_only) == ["MANIFEST_UNKNOWN"]


def test_manifest_unknown_tag_and_digest(client: httpx.Client) -> None:
    push_image(client, "app", "1")
    for ref in ("nope", MISSING, "-bad-tag"):
        answer = client.get(f"/v2/app/manifests/{ref}", headers=ACCEPT)
        assert answer.status_code == 404, ref
        assert error_codes(answer) == ["MANIFEST_UNKNOWN"]
    assert client.get("/v2/never-pushed/manifests/1").status_code == 404
    bad = client.get("/v2/app/manifests/sha256:zz")
    assert (bad.status_code, error_codes(bad)) == (400, ["DIGEST_INVALID"])


def test_manifest_put_refuses_invalid_manifests(client: httpx.Client) -> None:
    config, layer = b"{}", b"layer"
    push_blob(client, "val", config)
    push_blob(client, "val", layer)
    good = manifest_for(config, [layer])

    def put(body: bytes, content_type: str | None = OCI_MANIFEST, ref: str = "t") -> httpx.Response:
        headers = {"Content-Type": content_type} if content_type else {}
        return client.put(f"/v2/val/manifests/{ref}", content=body, headers=headers)

    cases = {
        "not json": put(b"not json"),
        "wrong content type": put(good, "application/vnd.docker.distribution.manifest.v2+json"),
        "no content type": put(good, None),
        "schema1": put(good, "application/vnd.docker.distribution.manifest.v1+prettyjws"),
        "schemaVersion 1": put(json.dumps({**json.loads(good), "schemaVersion": 1}).encode()),
        "bad descriptor": put(json.dumps({**json.loads(good), "config": {"digest": "nope"}}).encode()),
        "a list": put(b"[]"),
    }
    for case, answer in cases.items():
        assert (answer.status_code, error_codes(answer)) == (400, ["MANIFEST_INVALID"]), case
    wrong_digest = put(good, ref=MISSING)
    assert (wrong_digest.status_code, error_codes(wrong_digest)) == (400, ["DIGEST_INVALID"])
    bad_tag = put(good, ref="-x")
    assert (bad_tag.status_code, error_codes(bad_tag)) == (400, ["TAG_INVALID"])
    assert put(good, ref=sha256(good)).status_code == 201  # by digest: untagged
    assert client.get("/v2/val/tags/list").json()["tags"] == []


def test_manifest_put_needs_every_referenced_blob_in_this_repository(client: httpx.Client) -> None:
    config, layer = b'{"a":1}', b"layer bytes"
    push_blob(client, "owner", config)
    push_blob(client, "owner", layer)
    manifest = manifest_for(config, [layer])
    elsewhere = client.put("/v2/other/manifests/1", content=manifest, headers={"Content-Type": OCI_MANIFEST})
    assert elsewhere.status_code == 400
    assert error_codes(elsewhere) == ["MANIFEST_BLOB_UNKNOWN", "MANIFEST_BLOB_UNKNOWN"]
    assert {entry["detail"] for entry in elsewhere.json()["errors"]} == {sha256(config), sha256(layer)}
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": sha256(manifest), "size": len(manifest)}]}).encode()
    orphan = client.put("/v2/owner/manifests/idx", content=index, headers={"Content-Type": OCI_INDEX})
    assert error_codes(orphan) == ["MANIFEST_BLOB_UNKNOWN"]
    assert client.put(f"/v2/owner/manifests/{sha256(manifest)}", content=manifest,
                      headers={"Content-Type": OCI_MANIFEST}).status_code == 201
    created = client.put("/v2/owner/manifests/idx", content=index, headers={"Content-Type": OCI_INDEX})
    assert created.status_code == 201
    assert created.headers["Location"].endswith(f"/v2/owner/manifests/{sha256(index)}")
    assert client.get("/v2/owner/manifests/idx", headers=ACCEPT).headers["Content-Type"] == OCI_INDEX


def test_manifest_size_cap_is_413(client: httpx.Client) -> None:
    big = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "pad": "x" * (4 * 1024 * 1024)}).encode()
    answer = client.put("/v2/big/manifests/1", content=big, headers={"Content-Type": OCI_MANIFEST})
    assert (answer.status_code, error_codes(answer)) == (413, ["MANIFEST_INVALID"])


def test_blob_get_head_and_ranges(client: httpx.Client) -> None:
    data = bytes(range(256)) * 40
    digest = push_blob(client, "blobs", data)
    got = client.get(f"/v2/blobs/blobs/{digest}")
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["Docker-Content-Digest"] == digest
    assert got.headers["Content-Type"] == "application/octet-stream"
    head = client.head(f"/v2/blobs/blobs/{digest}")
    assert (head.status_code, head.headers["Content-Length"], head.headers["Accept-Ranges"]) == (
        200, str(len(data)), "bytes")
    part = client.get(f"/v2/blobs/blobs/{digest}", headers={"Range": "bytes=10-19"})
    assert (part.status_code, part.content, part.headers["Content-Range"]) == (
        206, data[10:20], f"bytes 10-19/{len(data)}")
    tail = client.get(f"/v2/blobs/blobs/{digest}", headers={"Range": "bytes=-5"})
    assert (tail.status_code, tail.content) == (206, data[-5:])
    resume = client.get(f"/v2/blobs/blobs/{digest}", headers={"Range": f"bytes={len(data) - 3}-"})
    assert resume.content == data[-3:]
    beyond = client.get(f"/v2/blobs/blobs/{digest}", headers={"Range": f"bytes={len(data)}-"})
    assert (beyond.status_code, beyond.headers["Content-Range"]) == (416, f"bytes */{len(data)}")


def test_blob_errors(client: httpx.Client) -> None:
    digest = push_blob(client, "here", b"content")
    unknown = client.get(f"/v2/here/blobs/{MISSING}")
    assert (unknown.status_code, error_codes(unknown)) == (404, ["BLOB_UNKNOWN"])
    assert client.head(f"/v2/here/blobs/{MISSING}").status_code == 404
    other_repo = client.get(f"/v2/there/blobs/{digest}")
    assert (other_repo.status_code, error_codes(other_repo)) == (404, ["BLOB_UNKNOWN"])
    for bad in ("sha256:zz", "sha256:" + "A" * 64, "md5:" + "0" * 32):
        answer = client.get(f"/v2/here/blobs/{bad}")
        assert (answer.status_code, error_codes(answer)) == (400, ["DIGEST_INVALID"]), bad
    for traversal in ("sha256:..%2F..%2F..%2Fetc%2Fpasswd", "sha256:%2E%2E"):
        assert client.get(f"/v2/here/blobs/{traversal}").status_code in (400, 404)


def test_invalid_names_and_methods(client: httpx.Client) -> None:
    for path in ("/v2/Upper/manifests/1", "/v2/a//b/tags/list", "/v2/-x/blobs/uploads/"):
        answer = client.request("POST" if "uploads" in path else "GET", path)
        assert (answer.status_code, error_codes(answer)) == (400, ["NAME_INVALID"]), path
    refused = client.post("/v2/app/manifests/1")
    assert (refused.status_code, error_codes(refused)) == (405, ["UNSUPPORTED"])
    assert refused.headers["Allow"] == "DELETE, GET, HEAD, PUT"


def test_delete_manifest_by_digest_and_tag_then_404(client: httpx.Client) -> None:
    digest, _ = push_image(client, "del", "a")
    client.put(f"/v2/del/manifests/b", content=client.get("/v2/del/manifests/a").content,
               headers={"Content-Type": OCI_MANIFEST})
    untag = client.delete("/v2/del/manifests/b")
    assert untag.status_code == 202
    assert client.get("/v2/del/manifests/b").status_code == 404
    assert client.get("/v2/del/manifests/a").status_code == 200
    assert client.delete("/v2/del/manifests/b").status_code == 404
    gone = client.delete(f"/v2/del/manifests/{digest}")
    assert gone.status_code == 202
    for ref in ("a", digest):
        answer = client.get(f"/v2/del/manifests/{ref}")
        assert (answer.status_code, error_codes(answer)) == (404, ["MANIFEST_UNKNOWN"])
    assert client.get("/v2/del/tags/list").json() == {"name": "del", "tags": []}
    again = client.delete(f"/v2/del/manifests/{digest}")
    assert (again.status_code, error_codes(again)) == (404, ["MANIFEST_UNKNOWN"])


def test_delete_blob_then_404(client: httpx.Client) -> None:
    digest = push_blob(client, "delblob", b"bye")
    assert client.delete(f"/v2/delblob/blobs/{digest}").status_code == 202
    assert client.head(f"/v2/delblob/blobs/{digest}").status_code == 404
    again = client.delete(f"/v2/delblob/blobs/{digest}")
    assert (again.status_code, error_codes(again)) == (404, ["BLOB_UNKNOWN"])


def test_referrers_with_subject_and_filter(client: httpx.Client) -> None:
    subject_digest, subject_manifest = push_image(client, "ref", "1")
    empty = client.get(f"/v2/ref/referrers/{subject_digest}")
    assert (empty.status_code, empty.json()["manifests"]) == (200, [])
    assert empty.headers["Content-Type"] == OCI_INDEX
    subject = {"mediaType": OCI_MANIFEST, "digest": subject_digest, "size": len(subject_manifest)}
    signature_digest, _ = push_image(client, "ref", "sig", seed="sig", subject=subject,
                                     artifactType="application/vnd.example.signature",
                                     annotations={"org.example": "signed"})
    sbom = manifest_for(b"{}", [], subject=subject, artifactType="application/spdx+json")
    push_blob(client, "ref", b"{}")
    pushed = client.put(f"/v2/ref/manifests/{sha256(sbom)}", content=sbom, headers={"Content-Type": OCI_MANIFEST})
    assert pushed.headers["OCI-Subject"] == subject_digest
    listed = client.get(f"/v2/ref/referrers/{subject_digest}")
    by_type = {entry["artifactType"]: entry for entry in listed.json()["manifests"]}
    assert set(by_type) == {"application/vnd.example.signature", "application/spdx+json"}
    assert by_type["application/vnd.example.signature"]["annotations"] == {"org.example": "signed"}
    assert by_type["application/vnd.example.signature"]["digest"] == signature_digest
    assert "OCI-Filters-Applied" not in listed.headers
    filtered = client.get(f"/v2/ref/referrers/{subject_digest}", params={"artifactType": "application/spdx+json"})
    assert [entry["digest"] for entry in filtered.json()["manifests"]] == [sha256(sbom)]
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    bad = client.get("/v2/ref/referrers/sha256:nope")
    assert (bad.status_code, error_codes(bad)) == (400, ["DIGEST_INVALID"])
    client.delete(f"/v2/ref/manifests/{sha256(sbom)}")
    after = client.get(f"/v2/ref/referrers/{subject_digest}").json()["manifests"]
    assert [entry["digest"] for entry in after] == [signature_digest]


def test_subject_may_point_to_a_missing_manifest(client: httpx.Client) -> None:
    subject = {"mediaType": OCI_MANIFEST, "digest": MISSING, "size": 10}
    digest, _ = push_image(client, "ahead", "1", subject=subject)
    listed = client.get(f"/v2/ahead/referrers/{MISSING}").json()["manifests"]
    assert [entry["digest"] for entry in listed] == [digest]
