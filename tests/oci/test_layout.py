"""OCI image layouts: verified atomic blob writes, index merging, precise errors when reading."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from explorer.errors import BadSource, DigestMismatch, InvalidDigest, ManifestError
from explorer.oci.layout import (
    BACKGROUND_WRITE_FROM,
    REF_NAME_ANNOTATION,
    OciLayout,
    OciLayoutWriter,
    parse_layout_source,
)
from explorer.protocol import digest as digests
from explorer.protocol import mediatypes
from explorer.oci.sample import build_sample
from tests.infra.skopeo import skopeo_inspect

DATA = b"hello layout\n"
DIGEST = digests.compute(DATA)


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_new_layout_has_header_index_and_blobs(tmp_path: Path) -> None:
    root = tmp_path / "out"
    with OciLayoutWriter(root) as layout:
        assert layout.write_blob(DATA) == DIGEST
        layout.add_manifest({"mediaType": mediatypes.OCI_MANIFEST, "digest": DIGEST, "size": len(DATA)}, "1.0")
    assert json.loads((root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((root / "index.json").read_text())
    assert index["schemaVersion"] == 2 and index["mediaType"] == mediatypes.OCI_INDEX
    assert index["manifests"][0]["annotations"] == {REF_NAME_ANNOTATION: "1.0"}
    assert _files(root) == ["blobs/sha256/" + DIGEST.split(":")[1], "index.json", "oci-layout"]


def test_streamed_blob_is_verified_and_renamed_into_place(tmp_path: Path) -> None:
    layout = OciLayoutWriter(tmp_path)
    with layout.blob_writer(DIGEST, len(DATA)) as blob:
        assert not blob.exists
        blob.write(DATA[:5])
        assert not layout.has_blob(DIGEST)
        blob.write(DATA[5:])
    assert layout.blob_path(DIGEST).read_bytes() == DATA
    with layout.blob_writer(DIGEST, len(DATA)) as again:
        assert again.exists


@pytest.mark.parametrize(
    ("content", "size", "message"),
    [
        (b"tampered content", None, "expected digest"),
        (DATA + b"x", len(DATA), f"expected {len(DATA)} bytes, got more"),
        (DATA[:-1], len(DATA), f"expected {len(DATA)} bytes, got {len(DATA) - 1}"),
    ],
)
def test_a_mismatch_leaves_no_file(tmp_path: Path, content: bytes, size: int | None, message: str) -> None:
    layout = OciLayoutWriter(tmp_path)
    with pytest.raises(DigestMismatch, match=message) as caught:
        with layout.blob_writer(DIGEST, size) as blob:
            blob.write(content)
    assert DIGEST in str(caught.value)
    assert _files(tmp_path / "blobs") == []


BIG = bytes(range(256)) * (BACKGROUND_WRITE_FROM // 256 + 4096)  # written on a thread of its own
BIG_DIGEST = digests.compute(BIG)


def test_a_big_blob_is_written_in_the_background_verified_and_renamed_into_place(tmp_path: Path) -> None:
    layout = OciLayoutWriter(tmp_path)
    with layout.blob_writer(BIG_DIGEST, len(BIG)) as blob:
        for start in range(0, len(BIG), 1 << 20):
            blob.write(BIG[start:start + (1 << 20)])
        assert not layout.has_blob(BIG_DIGEST)
        assert any(t.name == "file-write" for t in threading.enumerate())
    assert layout.blob_path(BIG_DIGEST).read_bytes() == BIG
    assert _files(tmp_path / "blobs") == ["sha256/" + BIG_DIGEST.split(":")[1]]
    assert not any(t.name == "file-write" for t in threading.enumerate())


@pytest.mark.parametrize("content", [BIG[:-1] + b"x", BIG[:-1]])
def test_a_big_blob_that_fails_verification_leaves_no_file(tmp_path: Path, content: bytes) -> None:
    layout = OciLayoutWriter(tmp_path)
    with pytest.raises(DigestMismatch):
        with layout.blob_writer(BIG_DIGEST, len(BIG)) as blob:
            blob.write(content)
    assert _files(tmp_path / "blobs") == []


def test_an_error_while_writing_removes_the_temporary_file(tmp_path: Path) -> None:
    layout = OciLayoutWriter(tmp_path)
    with pytest.raises(ConnectionError):
        with layout.blob_writer(DIGEST, len(DATA)) as blob:
            blob.write(DATA[:3])
            raise ConnectionError("reset")
    assert _files(tmp_path / "blobs") == []


@pytest.mark.parametrize(
    "bad",
    ["sha256:../../etc/passwd", "sha256:" + "a" * 63 + "/", "../sha256:" + "a" * 64, "md5:" + "a" * 32, "sha256:" + "A" * 64],
)
def test_digests_are_validated_before_they_touch_a_path(tmp_path: Path, bad: str) -> None:
    with OciLayoutWriter(tmp_path / "out") as layout:
        with pytest.raises(InvalidDigest):
            layout.blob_writer(bad, 1)
        with pytest.raises(InvalidDigest):
            layout.has_blob(bad)
        with pytest.raises(InvalidDigest):
            layout.add_manifest({"mediaType": mediatypes.OCI_MANIFEST, "digest": bad, "size": 1})
    reader = OciLayout(tmp_path / "out")
    for method in (reader.has_blob, reader.open_blob, reader.blob_size, reader.read_blob):
        with pytest.raises(InvalidDigest):
            method(bad)
    assert _files(tmp_path) == ["out/index.json", "out/oci-layout"]
    assert sorted(p.name for p in (tmp_path / "out" / "blobs").iterdir()) == ["sha256"]


def test_an_existing_layout_is_extended_and_a_tag_replaced(tmp_path: Path) -> None:
    first = build_sample(seed="one")
    second = build_sample(seed="two")
    first.write_layout(tmp_path, "a")
    first.write_layout(tmp_path, "b")
    second.write_layout(tmp_path, "a")
    layout = OciLayout(tmp_path)
    assert layout.tags() == ["b", "a"]
    assert layout.resolve("a")["digest"] == second.digest
    assert layout.resolve("b")["digest"] == first.digest
    for image in (first, second):
        for digest in image.all_digests():
            assert layout.has_blob(digest)


def test_untagged_manifests_are_not_duplicated(tmp_path: Path) -> None:
    with OciLayoutWriter(tmp_path) as layout:
        descriptor = {"mediaType": mediatypes.OCI_MANIFEST, "digest": layout.write_blob(DATA), "size": len(DATA)}
        layout.add_manifest(descriptor)
        layout.add_manifest(descriptor)
    assert len(OciLayout(tmp_path).index()["manifests"]) == 1
    assert OciLayout(tmp_path).resolve(None)["digest"] == DIGEST


def test_the_writer_refuses_a_non_empty_directory_that_is_no_layout(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(BadSource, match="non-empty directory"):
        OciLayoutWriter(tmp_path)


def test_reader_resolves_tags_and_reads_blobs(tmp_path: Path) -> None:
    image = build_sample()
    image.write_layout(tmp_path, "1.0")
    layout = OciLayout(tmp_path)
    assert layout.resolve("1.0") == {**image.root, "annotations": {REF_NAME_ANNOTATION: "1.0"}}
    assert layout.resolve(None)["digest"] == image.digest
    assert layout.read_blob(image.digest) == image.manifests[image.digest]
    config = image.manifest()["config"]
    assert layout.blob_size(config["digest"]) == config["size"]
    with layout.open_blob(config["digest"]) as blob:
        assert blob.read() == image.blob_bytes(config["digest"])
    with pytest.raises(ManifestError, match="larger than 10 bytes"):
        layout.read_blob(image.digest, limit=10)


def test_reader_errors_are_precise(tmp_path: Path) -> None:
    with pytest.raises(BadSource, match="does not exist"):
        OciLayout(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(BadSource, match="not a directory"):
        OciLayout(tmp_path / "file")
    with pytest.raises(BadSource, match="no oci-layout"):
        OciLayout(tmp_path)
    (tmp_path / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    with pytest.raises(BadSource, match="no index.json"):
        OciLayout(tmp_path)
    (tmp_path / "index.json").write_text("{not json")
    with pytest.raises(BadSource, match="cannot read index.json"):
        OciLayout(tmp_path)


def test_reader_names_missing_tags_and_blobs(tmp_path: Path) -> None:
    build_sample(seed="one").write_layout(tmp_path, "one")
    build_sample(seed="two").write_layout(tmp_path, "two")
    layout = OciLayout(tmp_path)
    with pytest.raises(BadSource, match=r"no tag 'three' \(tags: one, two\)"):
        layout.resolve("three")
    with pytest.raises(BadSource, match=r"holds 2 images; name one as DIR:TAG \(tags: one, two\)"):
        layout.resolve(None)
    with pytest.raises(BadSource, match=f"lacks blob {DIGEST}"):
        layout.open_blob(DIGEST)
    with pytest.raises(BadSource, match=f"lacks blob {DIGEST}"):
        layout.blob_size(DIGEST)


def test_parse_layout_source(tmp_path: Path) -> None:
    existing = tmp_path / "with:colon"
    existing.mkdir()
    assert parse_layout_source(str(existing)) == (existing, None)
    assert parse_layout_source("./app-layout:1.0") == (Path("./app-layout"), "1.0")
    assert parse_layout_source(f"{existing}:v2") == (existing, "v2")
    assert parse_layout_source("./plain") == (Path("./plain"), None)
    with pytest.raises(BadSource, match="not a valid tag"):
        parse_layout_source("./app:-bad")
    with pytest.raises(BadSource, match="not a valid tag"):
        parse_layout_source("./app:")


def test_skopeo_accepts_a_written_layout(tmp_path: Path) -> None:
    image = build_sample()
    image.write_layout(tmp_path / "layout", "1.0")
    raw = skopeo_inspect(f"oci:{tmp_path / 'layout'}:1.0", raw=True)
    assert raw == image.manifest()
    info = skopeo_inspect(f"oci:{tmp_path / 'layout'}:1.0")
    assert info["Digest"] == image.digest
    assert info["Architecture"] == "amd64" and info["Os"] == "linux"
