"""Media types (image-spec media-types.md, protocol.md §10) and platform matching (containerd)."""

from __future__ import annotations

from typing import Any

import pytest

from explorer.errors import InvalidPlatform
from explorer.protocol import mediatypes as mt
from explorer.protocol.mediatypes import Platform


def test_accept_list_is_the_four_readable_manifest_types_best_first() -> None:
    assert mt.MANIFEST_ACCEPT == (mt.OCI_INDEX, mt.OCI_MANIFEST, mt.DOCKER_MANIFEST_LIST, mt.DOCKER_MANIFEST_V2)
    assert mt.accept_header() == ", ".join(mt.MANIFEST_ACCEPT)
    assert "*/*" not in mt.accept_header() and not mt.SCHEMA1_TYPES & set(mt.accept_header().split(", "))
    assert set(mt.MANIFEST_ACCEPT) == mt.MANIFEST_TYPES


@pytest.mark.parametrize(
    ("constant", "value"),
    [
        (mt.OCI_INDEX, "application/vnd.oci.image.index.v1+json"),
        (mt.OCI_MANIFEST, "application/vnd.oci.image.manifest.v1+json"),
        (mt.DOCKER_MANIFEST_LIST, "application/vnd.docker.distribution.manifest.list.v2+json"),
        (mt.DOCKER_MANIFEST_V2, "application/vnd.docker.distribution.manifest.v2+json"),
        (mt.DOCKER_SCHEMA1, "application/vnd.docker.distribution.manifest.v1+json"),
        (mt.DOCKER_SCHEMA1_SIGNED, "application/vnd.docker.distribution.manifest.v1+prettyjws"),
        (mt.OCI_CONFIG, "application/vnd.oci.image.config.v1+json"),
        (mt.DOCKER_CONFIG, "application/vnd.docker.container.image.v1+json"),
        (mt.OCI_LAYER_GZIP, "application/vnd.oci.image.layer.v1.tar+gzip"),
        (mt.OCI_LAYER, "application/vnd.oci.image.layer.v1.tar"),
        (mt.OCI_LAYER_ZSTD, "application/vnd.oci.image.layer.v1.tar+zstd"),
        (mt.DOCKER_LAYER_GZIP, "application/vnd.docker.image.rootfs.diff.tar.gzip"),
        (mt.DOCKER_FOREIGN_LAYER, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"),
        (mt.OCI_EMPTY, "application/vnd.oci.empty.v1+json"),
        (mt.OCI_LAYOUT_HEADER, "application/vnd.oci.layout.header.v1+json"),
        (mt.OCI_ARTIFACT_MANIFEST, "application/vnd.oci.artifact.manifest.v1+json"),
        (mt.OCTET_STREAM, "application/octet-stream"),
    ],
)
def test_constants(constant: str, value: str) -> None:
    assert constant == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" Application/VND.OCI.Image.Index.v1+JSON ; charset=utf-8", mt.OCI_INDEX),
        (mt.OCI_MANIFEST, mt.OCI_MANIFEST),
        ("", ""),
        (None, ""),
    ],
)
def test_base(value: str | None, expected: str) -> None:
    assert mt.base(value) == expected


@pytest.mark.parametrize(
    ("value", "index", "image", "schema1", "layer"),
    [
        (mt.OCI_INDEX, True, False, False, False),
        (mt.DOCKER_MANIFEST_LIST + "; charset=utf-8", True, False, False, False),
        (mt.OCI_MANIFEST, False, True, False, False),
        (mt.DOCKER_MANIFEST_V2.upper(), False, True, False, False),
        (mt.DOCKER_SCHEMA1, False, False, True, False),
        (mt.DOCKER_SCHEMA1_SIGNED, False, False, True, False),
        (mt.OCI_LAYER_ZSTD, False, False, False, True),
        (mt.DOCKER_FOREIGN_LAYER, False, False, False, True),
        (mt.OCI_CONFIG, False, False, False, False),
        ("application/json", False, False, False, False),
        (None, False, False, False, False),
    ],
)
def test_kinds(value: str | None, index: bool, image: bool, schema1: bool, layer: bool) -> None:
    assert mt.is_index(value) is index
    assert mt.is_image_manifest(value) is image
    assert mt.is_manifest(value) is (index or image)
    assert mt.is_schema1(value) is schema1
    assert mt.is_layer(value) is layer


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (mt.OCI_INDEX, "OCI index"),
        (mt.OCI_MANIFEST, "OCI manifest"),
        (mt.DOCKER_MANIFEST_LIST, "Docker manifest list"),
        (mt.DOCKER_MANIFEST_V2 + "; x=y", "Docker manifest"),
        (mt.OCI_CONFIG, "OCI config"),
        (mt.OCI_LAYER_GZIP, "layer (tar+gzip)"),
        (mt.DOCKER_LAYER_GZIP, "layer (tar+gzip)"),
        ("application/x-custom", "application/x-custom"),
        (None, ""),
    ],
)
def test_describe(value: str | None, name: str) -> None:
    assert mt.describe(value) == name


@pytest.mark.parametrize(
    ("value", "textual"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        (mt.OCI_MANIFEST, True),
        ("text/plain", True),
        ("text/html; charset=UTF-8", True),
        ("application/x-www-form-urlencoded", True),
        ("application/xml", True),
        ("application/octet-stream", False),
        (mt.OCI_LAYER_GZIP, False),
        (mt.DOCKER_SCHEMA1_SIGNED, True),
        ("application/xhtml+xml", True),
        ("application/problem+json", True),
        ("image/png", False),
        ("", False),
        (None, False),
    ],
)
def test_is_textual(value: str | None, textual: bool) -> None:
    assert mt.is_textual(value) is textual


# --- platforms ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "platform"),
    [
        ("linux/amd64", Platform("linux", "amd64")),
        ("linux/arm64/v8", Platform("linux", "arm64", "v8")),
        ("Linux/ARM/v7", Platform("linux", "arm", "v7")),
        (" windows/amd64 ", Platform("windows", "amd64")),
    ],
)
def test_parse_platform(text: str, platform: Platform) -> None:
    assert mt.parse_platform(text) == platform
    assert str(mt.parse_platform(text)) == text.strip().lower()


@pytest.mark.parametrize("text", ["linux", "linux/", "/amd64", "linux/arm/v7/x", "", "linux amd64", "linux/amd64!"])
def test_parse_platform_refuses(text: str) -> None:
    with pytest.raises(InvalidPlatform, match="expected os/arch"):
        mt.parse_platform(text)


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [
        ("Linux", "x86_64", "linux/amd64"),
        ("Windows", "AMD64", "linux/amd64"),  # Docker Desktop's default: Linux containers
        ("Linux", "aarch64", "linux/arm64/v8"),
        ("Darwin", "arm64", "linux/arm64/v8"),
        ("Darwin", "x86_64", "linux/amd64"),
        ("Linux", "armv7l", "linux/arm/v7"),
        ("Linux", "armv6l", "linux/arm/v6"),
        ("Linux", "i686", "linux/386"),
        ("Linux", "i386", "linux/386"),
        ("Linux", "ppc64le", "linux/ppc64le"),
        ("Linux", "s390x", "linux/s390x"),
        ("Linux", "riscv64", "linux/riscv64"),
        ("FreeBSD", "sparc64", "linux/sparc64"),
    ],
)
def test_host_platform(system: str, machine: str, expected: str) -> None:
    assert str(mt.host_platform(system, machine)) == expected


def entry(platform: str | None, name: str = "", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"mediaType": mt.OCI_MANIFEST, "digest": name or f"sha256:{platform}", "size": 1}
    if platform is not None:
        os_name, arch, *variant = platform.split("/")
        item["platform"] = {"os": os_name, "architecture": arch, **({"variant": variant[0]} if variant else {})}
    item.update(extra)
    return item


ATTESTATION = entry(
    "unknown/unknown", "attestation",
    annotations={"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": "sha256:x"},
)


@pytest.mark.parametrize(
    ("entries", "wanted", "picked"),
    [
        ([entry("linux/amd64"), entry("linux/arm64/v8")], "linux/arm64/v8", "sha256:linux/arm64/v8"),
        ([entry("linux/amd64"), entry("linux/arm64")], "linux/arm64/v8", "sha256:linux/arm64"),  # v8 is the default
        ([entry("linux/arm64/v8")], "linux/arm64", "sha256:linux/arm64/v8"),
        ([entry("linux/arm64", "plain"), entry("linux/arm64/v8", "exact")], "linux/arm64/v8", "exact"),
        ([entry("linux/arm64/v8", "v8"), entry("linux/arm64", "plain")], "linux/arm64", "plain"),
        ([entry("linux/aarch64")], "linux/arm64/v8", "sha256:linux/aarch64"),
        ([entry("linux/arm/v6"), entry("linux/arm/v7")], "linux/arm/v7", "sha256:linux/arm/v7"),
        ([entry("linux/arm/v6"), entry("linux/arm/v5")], "linux/arm/v7", "sha256:linux/arm/v6"),  # best fallback
        ([entry("linux/arm")], "linux/arm/v7", "sha256:linux/arm"),  # arm without variant = v7
        ([entry("linux/arm/v8")], "linux/arm/v7", None),  # never a newer variant
        ([entry("linux/386"), entry("linux/amd64")], "linux/amd64", "sha256:linux/amd64"),
        ([entry("linux/386")], "linux/amd64", "sha256:linux/386"),  # containerd: amd64 runs 386
        ([entry("linux/amd64/v2"), entry("linux/amd64")], "linux/amd64/v3", "sha256:linux/amd64/v2"),
        ([entry("linux/amd64/v3")], "linux/amd64", None),
        ([entry("linux/arm/v7")], "linux/arm64/v8", "sha256:linux/arm/v7"),  # 64-bit Arm runs 32-bit
        ([entry("linux/amd64"), ATTESTATION], "linux/amd64", "sha256:linux/amd64"),
        ([ATTESTATION], "unknown/unknown", None),  # attestations never match
        ([entry(None)], "linux/amd64", None),  # no platform: never picked
        ([entry("windows/amd64"), entry("linux/amd64")], "linux/amd64", "sha256:linux/amd64"),
        ([entry("linux/ppc64le")], "linux/amd64", None),
        ([], "linux/amd64", None),
        ([entry("linux/amd64", "first"), entry("linux/amd64", "second")], "linux/amd64", "first"),
    ],
)
def test_select_platform(entries: list[dict[str, Any]], wanted: str, picked: str | None) -> None:
    chosen = mt.select_platform(entries, mt.parse_platform(wanted))
    assert (chosen["digest"] if chosen else None) == picked


def test_select_platform_survives_malformed_entries() -> None:
    junk: list[Any] = [{"platform": "linux/amd64"}, {"platform": {"os": 1}}, {}, entry("linux/amd64")]
    assert mt.select_platform(junk, Platform("linux", "amd64"))["digest"] == "sha256:linux/amd64"  # type: ignore[index]


def test_platform_of_and_available_platforms() -> None:
    entries = [entry("linux/amd64"), entry("linux/arm64/v8"), entry("linux/amd64", "dup"), ATTESTATION, entry(None)]
    assert mt.platform_of(entries[1]) == Platform("linux", "arm64", "v8")
    assert mt.platform_of(entries[-1]) is None
    assert mt.available_platforms(entries) == ["linux/amd64", "linux/arm64/v8"]
