"""Generated images are valid, deterministic, and big ones stay cheap and lazy."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time
from pathlib import Path

import pytest

from explorer.oci.layout import OciLayout
from explorer.protocol import digest as digests
from explorer.protocol import mediatypes
from explorer.protocol.mediatypes import Platform
from explorer.oci.sample import build_artifact, build_image, build_sample
from tests.infra.skopeo import skopeo_inspect

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64", "v8")

# Pinned: a change here changes every recorded trace and golden file that uses the samples.
SMALL_DIGEST = "sha256:a7d7c836bd31c4d4522360265a5d20590762304d2438f0e9622900feda4789be"


def test_builds_are_deterministic() -> None:
    first, second = build_sample([AMD64, ARM64]), build_sample([AMD64, ARM64])
    assert first.root == second.root
    assert first.manifests == second.manifests
    assert {d: b.read() for d, b in first.blobs.items()} == {d: b.read() for d, b in second.blobs.items()}
    assert build_sample().digest == SMALL_DIGEST
    assert build_sample(seed="other").digest != SMALL_DIGEST


def test_a_single_platform_image_is_valid() -> None:
    image = build_sample(layers=3)
    assert not image.is_index
    manifest = image.manifest()
    assert manifest["mediaType"] == mediatypes.OCI_MANIFEST
    assert len(manifest["layers"]) == 3
    config = json.loads(image.blob_bytes(manifest["config"]["digest"]))
    assert (config["os"], config["architecture"]) == ("linux", "amd64") and "variant" not in config
    diff_ids = []
    for layer in manifest["layers"]:
        data = image.blob_bytes(layer["digest"])
        assert digests.compute(data) == layer["digest"] and len(data) == layer["size"]
        tar = gzip.decompress(data)
        diff_ids.append(digests.compute(tar))
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            (member,) = archive.getmembers()
            assert member.mtime == 1704067200 and member.uid == 0 and member.uname == "root"
    assert config["rootfs"] == {"type": "layers", "diff_ids": diff_ids}
    assert image.platforms == {"linux/amd64": image.digest}


def test_two_platforms_make_an_index_with_distinct_layers() -> None:
    image = build_sample([AMD64, ARM64], layers=2)
    assert image.is_index
    index = image.manifest()
    assert [e["platform"] for e in index["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
    ]
    arm = image.manifest(image.platforms["linux/arm64/v8"])
    amd = image.manifest(image.platforms["linux/amd64"])
    assert not {layer["digest"] for layer in arm["layers"]} & {layer["digest"] for layer in amd["layers"]}
    config = json.loads(image.blob_bytes(arm["config"]["digest"]))
    assert config["variant"] == "v8"
    assert image.all_digests() == set(image.manifests) | set(image.blobs)
    assert len(image.manifests) == 3


def test_big_images_are_fast_and_lazy() -> None:
    started = time.perf_counter()
    image = build_image([200 * 1024 * 1024, 10, 0], seed="bench-lazy")
    assert time.perf_counter() - started < 2.0  # ~0.11 s of hashing on the reference machine
    layers = image.manifest()["layers"]
    assert [layer["size"] for layer in layers] == [200 * 1024 * 1024, 10, 0]
    big = image.blobs[layers[0]["digest"]]
    assert big.data is None
    hasher = hashlib.sha256()
    largest = 0
    for chunk in big.chunks():
        hasher.update(chunk)
        largest = max(largest, len(chunk))
    assert f"sha256:{hasher.hexdigest()}" == layers[0]["digest"]
    assert largest <= 1024 * 1024
    other = build_image([10], seed="bench-other")
    assert other.manifest()["layers"][0]["digest"] != layers[1]["digest"]


def test_two_layers_of_the_same_size_differ() -> None:
    image = build_image([1000, 1000], seed="same")
    first, second = image.manifest()["layers"]
    assert first["digest"] != second["digest"]


def test_a_big_image_streams_into_a_layout(tmp_path: Path) -> None:
    image = build_image([5 * 1024 * 1024 + 3, 1], seed="stream")
    image.write_layout(tmp_path, "big")
    layout = OciLayout(tmp_path)
    for descriptor, _chunks in image.iter_blobs():
        assert layout.blob_size(descriptor["digest"]) == descriptor["size"]
    assert layout.resolve("big")["digest"] == image.digest


def test_an_artifact_refers_to_its_subject(tmp_path: Path) -> None:
    subject = build_sample()
    artifact = build_artifact(subject.root, "application/vnd.example.sbom+json", b'{"sbom": true}')
    manifest = artifact.manifest()
    assert manifest["artifactType"] == "application/vnd.example.sbom+json"
    assert manifest["config"] == {
        "mediaType": mediatypes.OCI_EMPTY, "digest": digests.EMPTY_JSON_DIGEST, "size": 2,
    }
    assert manifest["subject"] == subject.root
    assert artifact.blob_bytes(manifest["layers"][0]["digest"]) == b'{"sbom": true}'
    assert artifact.root["artifactType"] == "application/vnd.example.sbom+json"
    artifact.write_layout(tmp_path, "sbom")
    assert skopeo_inspect(f"oci:{tmp_path}:sbom", raw=True) == manifest


@pytest.mark.parametrize("layers", [0, 1, 5])
def test_layer_counts(layers: int) -> None:
    assert len(build_sample(layers=layers).manifest()["layers"]) == layers


def test_a_multi_platform_layout_is_accepted_by_skopeo(tmp_path: Path) -> None:
    image = build_sample([AMD64, ARM64])
    image.write_layout(tmp_path, "multi")
    assert skopeo_inspect(f"oci:{tmp_path}:multi", raw=True) == image.manifest()
