"""Media types: the names, which ones are manifests, the Accept list, and platforms.

Rule 1: compare media types through :func:`base` only. Registries SHOULD NOT
add parameters to ``Content-Type`` and clients SHOULD ignore them
(distribution-spec "Pulling manifests"); containerd strips everything after
``;``. Media types are case-insensitive (RFC 9110 §8.3.1).
Rule 2: we ask for exactly the four manifest types we can read, best first,
and never ``*/*`` or schema1: without a matching Accept old registries
down-convert to schema1, so the digest seen for a tag depends on Accept
(protocol.md §3.7).

Sources: OCI image-spec v1.1.1 ``media-types.md``; Docker ``manifest-v2-2.md``;
protocol.md §10. Platform matching follows containerd/platforms
(``database.go`` normalisation, ``compare.go`` ``Only``/``platformVector``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from explorer.errors import InvalidPlatform
from explorer.protocol.quoting import quote
from explorer.records import record

__all__ = [
    "MANIFEST_LIMIT",
    "DOCKER_CONFIG",
    "DOCKER_FOREIGN_LAYER",
    "DOCKER_LAYER",
    "DOCKER_LAYER_GZIP",
    "DOCKER_LAYER_ZSTD",
    "DOCKER_MANIFEST_LIST",
    "DOCKER_MANIFEST_V2",
    "DOCKER_PLUGIN_CONFIG",
    "DOCKER_SCHEMA1",
    "DOCKER_SCHEMA1_SIGNED",
    "IMAGE_MANIFEST_TYPES",
    "INDEX_TYPES",
    "LAYER_TYPES",
    "MANIFEST_ACCEPT",
    "MANIFEST_TYPES",
    "OCI_ARTIFACT_MANIFEST",
    "OCI_CONFIG",
    "OCI_DESCRIPTOR",
    "OCI_EMPTY",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_LAYER_GZIP",
    "OCI_LAYER_NONDISTRIBUTABLE",
    "OCI_LAYER_NONDISTRIBUTABLE_GZIP",
    "OCI_LAYER_NONDISTRIBUTABLE_ZSTD",
    "OCI_LAYER_ZSTD",
    "OCI_LAYOUT_HEADER",
    "OCI_MANIFEST",
    "OCTET_STREAM",
    "Platform",
    "SCHEMA1_TYPES",
    "accept_header",
    "available_platforms",
    "base",
    "describe",
    "host_platform",
    "is_image_manifest",
    "is_index",
    "is_layer",
    "is_manifest",
    "is_schema1",
    "is_textual",
    "parse_platform",
    "platform_of",
    "config_platform",
    "runs_on",
    "select_platform",
]

MANIFEST_LIMIT = 4 * 1024 * 1024  # the largest manifest a client accepts (containerd's limit)

# --- OCI image-spec v1.1.1 media-types.md -------------------------------------------------
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_NONDISTRIBUTABLE = "application/vnd.oci.image.layer.nondistributable.v1.tar"  # deprecated
OCI_LAYER_NONDISTRIBUTABLE_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_LAYER_NONDISTRIBUTABLE_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"  # the 2-byte "{}" blob (OCI 1.1)
OCI_DESCRIPTOR = "application/vnd.oci.descriptor.v1+json"
OCI_LAYOUT_HEADER = "application/vnd.oci.layout.header.v1+json"  # the oci-layout file
OCI_ARTIFACT_MANIFEST = "application/vnd.oci.artifact.manifest.v1+json"  # 1.1 release candidates only

# --- Docker image manifest v2 schema 2 (manifest-v2-2.md) ---------------------------------
DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"  # pull-only (has urls)
DOCKER_PLUGIN_CONFIG = "application/vnd.docker.plugin.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"  # not in Docker's spec; seen in tools
DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd"  # idem
# --- Docker schema 1 (deprecated; we never ask for it) ------------------------------------
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

OCTET_STREAM = "application/octet-stream"  # Content-Type of blob GET/PUT/PATCH

#: What we send as ``Accept`` on manifest GET/HEAD (end-3), best first. No ``*/*``, no schema1.
MANIFEST_ACCEPT: tuple[str, ...] = (OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST_V2)
INDEX_TYPES: frozenset[str] = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_MANIFEST_TYPES: frozenset[str] = frozenset({OCI_MANIFEST, DOCKER_MANIFEST_V2})
#: Every manifest type we can read: indexes and image manifests.
MANIFEST_TYPES: frozenset[str] = INDEX_TYPES | IMAGE_MANIFEST_TYPES
SCHEMA1_TYPES: frozenset[str] = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})
LAYER_TYPES: frozenset[str] = frozenset({
    OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, OCI_LAYER_NONDISTRIBUTABLE,
    OCI_LAYER_NONDISTRIBUTABLE_GZIP, OCI_LAYER_NONDISTRIBUTABLE_ZSTD,
    DOCKER_LAYER_GZIP, DOCKER_FOREIGN_LAYER, DOCKER_LAYER, DOCKER_LAYER_ZSTD,
})

_DESCRIPTIONS = {
    OCI_INDEX: "OCI index",
    OCI_MANIFEST: "OCI manifest",
    OCI_CONFIG: "OCI config",
    OCI_LAYER: "layer (tar)",
    OCI_LAYER_GZIP: "layer (tar+gzip)",
    OCI_LAYER_ZSTD: "layer (tar+zstd)",
    OCI_LAYER_NONDISTRIBUTABLE: "non-distributable layer (tar)",
    OCI_LAYER_NONDISTRIBUTABLE_GZIP: "non-distributable layer (tar+gzip)",
    OCI_LAYER_NONDISTRIBUTABLE_ZSTD: "non-distributable layer (tar+zstd)",
    OCI_EMPTY: "empty JSON {}",
    OCI_DESCRIPTOR: "OCI descriptor",
    OCI_LAYOUT_HEADER: "OCI layout header",
    OCI_ARTIFACT_MANIFEST: "OCI artifact manifest (1.1-rc)",
    DOCKER_MANIFEST_V2: "Docker manifest",
    DOCKER_MANIFEST_LIST: "Docker manifest list",
    DOCKER_CONFIG: "Docker config",
    DOCKER_LAYER_GZIP: "layer (tar+gzip)",
    DOCKER_LAYER: "layer (tar)",
    DOCKER_LAYER_ZSTD: "layer (tar+zstd)",
    DOCKER_FOREIGN_LAYER: "foreign layer (tar+gzip)",
    DOCKER_PLUGIN_CONFIG: "Docker plugin config",
    DOCKER_SCHEMA1: "Docker schema1 manifest",
    DOCKER_SCHEMA1_SIGNED: "Docker schema1 manifest (signed)",
    OCTET_STREAM: "binary",
}


def base(media_type: str | None) -> str:
    """The media type without parameters, trimmed and lower-cased (``""`` for None)."""
    if not media_type:
        return ""
    return media_type.split(";", 1)[0].strip().lower()


def accept_header() -> str:
    """The ``Accept`` value for manifest requests: :data:`MANIFEST_ACCEPT` comma-joined."""
    return ", ".join(MANIFEST_ACCEPT)


def is_index(media_type: str | None) -> bool:
    """An OCI index or a Docker manifest list (children are picked by platform)."""
    return base(media_type) in INDEX_TYPES


def is_image_manifest(media_type: str | None) -> bool:
    """An OCI image manifest or a Docker schema2 manifest (config + layers)."""
    return base(media_type) in IMAGE_MANIFEST_TYPES


def is_manifest(media_type: str | None) -> bool:
    """Either kind of manifest we can read (index or image manifest)."""
    return base(media_type) in MANIFEST_TYPES


def is_schema1(media_type: str | None) -> bool:
    """A deprecated Docker schema1 manifest (signed or not)."""
    return base(media_type) in SCHEMA1_TYPES


def is_layer(media_type: str | None) -> bool:
    """A filesystem layer media type (OCI or Docker, any compression)."""
    return base(media_type) in LAYER_TYPES


def describe(media_type: str | None) -> str:
    """A short human name (``OCI index``, ``layer (tar+gzip)``); unknown types come back as given."""
    return _DESCRIPTIONS.get(base(media_type), media_type or "")


def is_textual(media_type: str | None) -> bool:
    """Bodies worth keeping as text in a trace: JSON, ``+json``, ``text/*``, forms, XML, HTML.

    Schema1's ``+prettyjws`` is JSON too (the signature is embedded in it).
    """
    kind = base(media_type)
    return (
        kind.startswith("text/")
        or kind in {"application/json", "application/x-www-form-urlencoded", "application/xml"}
        or kind.endswith(("+json", "+xml", "+prettyjws"))
    )


# --- platforms ----------------------------------------------------------------------------

@record(frozen=True)
class Platform:
    """An ``os/architecture[/variant]`` triple as found in index entries (OCI ``platform``)."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)


_PLATFORM_PART = re.compile(r"[a-z0-9][a-z0-9._-]*", re.ASCII)
_EXPECTED_PLATFORM = "expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8"


def parse_platform(text: str) -> Platform:
    """``linux/arm64/v8`` → Platform; lower-cased; raises InvalidPlatform with the expected form."""
    parts = text.strip().lower().split("/")
    if len(parts) not in (2, 3) or not all(_PLATFORM_PART.fullmatch(part) for part in parts):
        raise InvalidPlatform(f"invalid platform {quote(text)}: {_EXPECTED_PLATFORM}")
    return Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


# platform.machine() values → (GOARCH, variant). Docker reports arm64 hosts as arm64/v8.
_MACHINES: dict[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None), "amd64": ("amd64", None), "x64": ("amd64", None),
    "aarch64": ("arm64", "v8"), "arm64": ("arm64", "v8"), "armv8l": ("arm", "v8"),  # armv8l: 32-bit userland
    "armv7l": ("arm", "v7"), "armv7": ("arm", "v7"), "armv6l": ("arm", "v6"), "armv5tel": ("arm", "v5"),
    "i386": ("386", None), "i486": ("386", None), "i586": ("386", None), "i686": ("386", None),
    "x86": ("386", None),
    "ppc64le": ("ppc64le", None), "s390x": ("s390x", None), "riscv64": ("riscv64", None),
    "mips64": ("mips64", None), "mips64el": ("mips64le", None), "loongarch64": ("loong64", None),
}


def host_platform(system: str, machine: str) -> Platform:
    """Map ``platform.system()``/``platform.machine()`` to the image platform Docker would pull.

    The OS is always ``linux``: images are Linux images, and Docker Desktop on
    macOS and Windows runs them in a Linux VM by default (``system`` is taken
    for symmetry with ``platform.system()``; pass ``--platform windows/amd64``
    for Windows images). Unknown machines are passed through lower-cased.
    """
    del system  # every host pulls linux images by default
    architecture, variant = _MACHINES.get(machine.strip().lower(), (machine.strip().lower(), None))
    return Platform("linux", architecture, variant)


def platform_of(descriptor: Mapping[str, Any]) -> Platform | None:
    """The ``platform`` of an index entry, or None when it has none (or a malformed one)."""
    raw = descriptor.get("platform") if isinstance(descriptor, Mapping) else None
    if not isinstance(raw, Mapping):
        return None
    os_name, architecture, variant = raw.get("os"), raw.get("architecture"), raw.get("variant")
    if not isinstance(os_name, str) or not isinstance(architecture, str) or not os_name or not architecture:
        return None
    return Platform(os_name, architecture, variant if isinstance(variant, str) and variant else None)


def config_platform(config: Mapping[str, Any]) -> Platform | None:
    """The platform an image config declares (top-level ``os``/``architecture``/``variant``), if any."""
    return platform_of({"platform": config}) if isinstance(config, Mapping) else None


def runs_on(image: Platform, wanted: Platform) -> bool:
    """Whether an image built for ``image`` is what ``wanted`` would pick (containerd's compatibility rules)."""
    return _normalize(image) in _fallbacks(*_normalize(wanted))


def _normalize(platform: Platform) -> tuple[str, str, str]:
    """containerd ``normalizeOS``/``normalizeArch``: aliases folded, default variants made equal."""
    os_name = platform.os.lower()
    os_name = "darwin" if os_name == "macos" else os_name
    arch, variant = platform.architecture.lower(), (platform.variant or "").lower()
    if arch == "i386":
        arch, variant = "386", ""
    elif arch in ("x86_64", "x86-64", "amd64"):
        arch, variant = "amd64", ("" if variant == "v1" else variant)
    elif arch in ("aarch64", "arm64"):
        arch, variant = "arm64", ("" if variant in ("8", "v8") else variant)  # v8 is arm64's default
    elif arch == "armhf":
        arch, variant = "arm", "v7"
    elif arch == "armel":
        arch, variant = "arm", "v6"
    elif arch == "arm":
        variant = {"": "v7", "7": "v7", "5": "v5", "6": "v6", "8": "v8"}.get(variant, variant)
    return os_name, arch, variant


def _version(variant: str) -> int | None:
    number = variant[1:] if variant.startswith("v") else variant
    return int(number) if number.isascii() and number.isdigit() and len(number) < 4 else None


def _fallbacks(os_name: str, arch: str, variant: str) -> list[tuple[str, str, str]]:
    """containerd ``platformVector`` (simplified: no arm64 minor versions): best first."""
    vector = [(os_name, arch, variant)]
    if arch == "amd64":
        level = _version(variant)
        vector += [(os_name, "amd64", "" if v == 1 else f"v{v}") for v in range((level or 1) - 1, 0, -1)]
        vector.append((os_name, "386", ""))
    elif arch == "arm":
        level = _version(variant)
        if level is not None:
            vector += [(os_name, "arm", f"v{v}") for v in range(level - 1, 4, -1)]
    elif arch == "arm64":
        if variant.startswith("v9"):
            vector.append((os_name, "arm64", ""))  # v9.x can run v8 code
        vector += _fallbacks(os_name, "arm", "v8")  # 64-bit Arm can run 32-bit arm/v8 … v5
    return vector


def _is_attestation(entry: Mapping[str, Any], platform: Platform) -> bool:
    annotations = entry.get("annotations")
    kind = annotations.get("vnd.docker.reference.type") if isinstance(annotations, Mapping) else None
    return kind == "attestation-manifest" or (platform.os, platform.architecture) == ("unknown", "unknown")


def select_platform(manifests: Iterable[dict[str, Any]], wanted: Platform) -> dict[str, Any] | None:
    """The index entry to pull for ``wanted``, following containerd's ``platforms.Only``.

    * os, architecture and variant are normalised first (aarch64 = arm64,
      arm64 without variant = arm64/v8, arm without variant = arm/v7, …);
    * an exact match beats a compatible one (arm/v7 accepts v6, v5; amd64/v3
      accepts v2, v1; amd64 accepts 386; arm64 accepts arm/v8 … v5);
    * among equally good entries the one whose variant is written exactly as
      wanted wins, then the first in the list;
    * entries without a platform, buildx attestations (``unknown/unknown``,
      ``vnd.docker.reference.type: attestation-manifest``) never match;
    * ``os.version``/``os.features`` are ignored (Linux images).
    """
    vector = _fallbacks(*_normalize(wanted))
    best: tuple[int, int, int] | None = None
    chosen: dict[str, Any] | None = None
    for position, entry in enumerate(manifests):
        platform = platform_of(entry)
        if platform is None or _is_attestation(entry, platform):
            continue
        normalized = _normalize(platform)
        if normalized not in vector:
            continue
        exact = 0 if (platform.variant or "").lower() == (wanted.variant or "").lower() else 1
        rank = (vector.index(normalized), exact, position)
        if best is None or rank < best:
            best, chosen = rank, entry
    return chosen


def available_platforms(manifests: Iterable[Mapping[str, Any]]) -> list[str]:
    """The distinct platforms of an index, as ``os/arch[/variant]`` strings, attestations left out."""
    seen: list[str] = []
    for entry in manifests:
        platform = platform_of(entry)
        if platform is not None and not _is_attestation(entry, platform) and str(platform) not in seen:
            seen.append(str(platform))
    return seen
