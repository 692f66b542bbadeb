"""Deterministic generated images: tiny real ones, big fake ones, OCI 1.1 artifacts.

Rules: every build with the same arguments gives
byte-identical blobs and manifests, on any machine and Python version: tar headers
are fixed (USTAR, mtime/uid/gid/uname fixed), gzip streams are built by hand with a
fixed header and stored (level 0) deflate blocks, which zlib and zlib-ng encode
identically. Big blobs are produced lazily, chunk by chunk, never held in memory.

    image = build_sample()                       # linux/amd64, 3 layers
    image.root                                   # descriptor of the manifest (or index)
    for descriptor, chunks in image.iter_blobs(): ...
    image.write_layout(Path("layout"), "1.0")
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from explorer.protocol import digest as digests
from explorer.protocol import mediatypes
from explorer.protocol.mediatypes import Platform

__all__ = [
    "SampleBlob",
    "SampleImage",
    "build_artifact",
    "build_image",
    "build_sample",
]

FIXED_CREATED = "2024-01-01T00:00:00Z"
FIXED_MTIME = 1704067200  # 2024-01-01T00:00:00Z
BLOCK_SIZE = 1024 * 1024
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, mtime 0, OS unknown


@dataclass(frozen=True)
class SampleBlob:
    """One non-manifest blob: its descriptor and a way to produce its bytes."""

    descriptor: dict[str, Any]
    data: bytes | None = None
    produce: Callable[[], Iterator[bytes]] | None = None

    @property
    def digest(self) -> str:
        return str(self.descriptor["digest"])

    @property
    def size(self) -> int:
        return int(self.descriptor["size"])

    def chunks(self) -> Iterator[bytes]:
        if self.data is not None:
            return iter((self.data,))
        assert self.produce is not None
        return self.produce()

    def read(self) -> bytes:
        return self.data if self.data is not None else b"".join(self.chunks())


@dataclass(frozen=True)
class SampleImage:
    """A generated image: root descriptor, exact manifest bytes, lazily produced blobs.

    ``manifests`` maps digest → exact bytes of every manifest and index;
    ``blobs`` maps digest → ``SampleBlob`` for configs and layers;
    ``platforms`` maps "os/arch[/variant]" → that platform's manifest digest.
    """

    root: dict[str, Any]
    manifests: dict[str, bytes]
    blobs: dict[str, SampleBlob]
    platforms: dict[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return str(self.root["digest"])

    @property
    def is_index(self) -> bool:
        return bool(self.root["mediaType"] == mediatypes.OCI_INDEX)

    def manifest(self, digest: str | None = None) -> dict[str, Any]:
        """The parsed manifest (or index) ``digest``; the root when omitted."""
        parsed: dict[str, Any] = json.loads(self.manifests[digest or self.digest])
        return parsed

    def iter_blobs(self) -> Iterator[tuple[dict[str, Any], Iterator[bytes]]]:
        """(descriptor, chunk iterator) of every config and layer; manifests excluded."""
        for blob in self.blobs.values():
            yield blob.descriptor, blob.chunks()

    def blob_chunks(self, digest: str) -> Iterator[bytes]:
        return self.blobs[digest].chunks()

    def blob_bytes(self, digest: str) -> bytes:
        """Bytes of a blob or manifest (joins the chunks of a big layer: mind the memory)."""
        if digest in self.manifests:
            return self.manifests[digest]
        return self.blobs[digest].read()

    def all_digests(self) -> set[str]:
        return set(self.manifests) | set(self.blobs)

    def write_layout(self, directory: str | Path, tag: str | None = None) -> Path:
        """Write (or extend) an OCI image layout holding this image, named ``tag``."""
        from explorer.oci.layout import OciLayoutWriter

        with OciLayoutWriter(directory) as layout:
            for descriptor, chunks in self.iter_blobs():
                with layout.blob_writer(descriptor["digest"], descriptor["size"]) as blob:
                    if not blob.exists:
                        for chunk in chunks:
                            blob.write(chunk)
            for digest, data in self.manifests.items():
                layout.write_blob(data, digest)
            layout.add_manifest(self.root, tag)
        return Path(directory)


def build_sample(
    platforms: Sequence[Platform | str] | None = None,
    layers: int = 3,
    seed: str = "regexplore",
) -> SampleImage:
    """A tiny valid image; with two or more platforms (``"linux/arm64/v8"`` or ``Platform``), one manifest
    each under an OCI index."""
    chosen = [p if isinstance(p, Platform) else mediatypes.parse_platform(p) for p in platforms or ()] \
        or [Platform(os="linux", architecture="amd64", variant=None)]
    blobs: dict[str, SampleBlob] = {}
    manifests: dict[str, bytes] = {}
    roots: dict[str, dict[str, Any]] = {}
    for platform in chosen:
        name = str(platform)
        layer_pairs = []
        for number in range(1, layers + 1):
            content = _layer_text(seed, name, number, layers)
            tar = _tar_one_file(f"regexplore/layer-{number}.txt", content)
            layer_pairs.append((_gzip_stored(tar), digests.compute(tar)))
        descriptor = _image(platform, layer_pairs, seed, blobs, manifests)
        roots[name] = descriptor
    if len(chosen) == 1:
        (name, root), = roots.items()
        return SampleImage(root=root, manifests=manifests, blobs=blobs, platforms={name: root["digest"]})
    entries = [{**d, "platform": _platform_json(p)} for p, d in zip(chosen, roots.values())]
    index = _json_bytes({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": entries})
    root = _descriptor(mediatypes.OCI_INDEX, index)
    manifests[root["digest"]] = index
    return SampleImage(
        root=root,
        manifests=manifests,
        blobs=blobs,
        platforms={name: d["digest"] for name, d in roots.items()},
    )


def build_image(
    layer_sizes: Sequence[int],
    seed: str,
    platform: Platform | None = None,
) -> SampleImage:
    """An image with layers of the given sizes of deterministic pseudo-random bytes.

    The bytes are not a real tar+gzip (registries do not look); each layer's blob
    is produced lazily in 1 MiB chunks, so a 200 MiB image costs only its hashing.
    """
    chosen = platform or Platform(os="linux", architecture="amd64", variant=None)
    blobs: dict[str, SampleBlob] = {}
    manifests: dict[str, bytes] = {}
    layer_descriptors = []
    diff_ids = []
    for number, size in enumerate(layer_sizes, start=1):
        layer_digest = _pseudo_random_digest(seed, number, size)
        descriptor = {"mediaType": mediatypes.OCI_LAYER_GZIP, "digest": layer_digest, "size": size}
        produce = _pseudo_random_producer(seed, number, size)
        blobs.setdefault(layer_digest, SampleBlob(descriptor, produce=produce))
        layer_descriptors.append(descriptor)
        diff_ids.append(layer_digest)
    root = _finish_image(chosen, layer_descriptors, diff_ids, seed, blobs, manifests)
    return SampleImage(root=root, manifests=manifests, blobs=blobs, platforms={str(chosen): root["digest"]})


def build_artifact(
    subject: dict[str, Any],
    artifact_type: str,
    payload: bytes,
    payload_media_type: str = "application/octet-stream",
) -> SampleImage:
    """An OCI 1.1 artifact: image manifest with empty config, one payload layer, a subject."""
    empty = b"{}"
    config = {"mediaType": mediatypes.OCI_EMPTY, "digest": digests.compute(empty), "size": len(empty)}
    layer = {"mediaType": payload_media_type, "digest": digests.compute(payload), "size": len(payload)}
    subject_descriptor = {key: subject[key] for key in ("mediaType", "digest", "size")}
    manifest = _json_bytes(
        {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": config,
            "layers": [layer],
            "subject": subject_descriptor,
            "annotations": {"org.opencontainers.image.created": FIXED_CREATED},
        }
    )
    root = {**_descriptor(mediatypes.OCI_MANIFEST, manifest), "artifactType": artifact_type}
    blobs = {
        config["digest"]: SampleBlob(config, data=empty),
        layer["digest"]: SampleBlob(layer, data=payload),
    }
    return SampleImage(root=root, manifests={root["digest"]: manifest}, blobs=blobs)


# -- building blocks ---------------------------------------------------------------


def _image(
    platform: Platform,
    layer_pairs: list[tuple[bytes, str]],
    seed: str,
    blobs: dict[str, SampleBlob],
    manifests: dict[str, bytes],
) -> dict[str, Any]:
    layer_descriptors = []
    for compressed, _diff_id in layer_pairs:
        descriptor = _descriptor(mediatypes.OCI_LAYER_GZIP, compressed)
        blobs.setdefault(descriptor["digest"], SampleBlob(descriptor, data=compressed))
        layer_descriptors.append(descriptor)
    diff_ids = [diff_id for _compressed, diff_id in layer_pairs]
    return _finish_image(platform, layer_descriptors, diff_ids, seed, blobs, manifests)


def _finish_image(
    platform: Platform,
    layer_descriptors: list[dict[str, Any]],
    diff_ids: list[str],
    seed: str,
    blobs: dict[str, SampleBlob],
    manifests: dict[str, bytes],
) -> dict[str, Any]:
    config_json: dict[str, Any] = {
        "created": FIXED_CREATED,
        "architecture": platform.architecture,
        "os": platform.os,
    }
    if platform.variant:
        config_json["variant"] = platform.variant
    config_json["config"] = {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": ["/bin/sh"],
        "Labels": {"org.opencontainers.image.title": f"regexplore sample ({seed})"},
    }
    config_json["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    config_json["history"] = [
        {"created": FIXED_CREATED, "created_by": f"regexplore sample layer {n}"}
        for n in range(1, len(diff_ids) + 1)
    ]
    config = _json_bytes(config_json)
    config_descriptor = _descriptor(mediatypes.OCI_CONFIG, config)
    blobs.setdefault(config_descriptor["digest"], SampleBlob(config_descriptor, data=config))
    manifest = _json_bytes(
        {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": config_descriptor,
            "layers": layer_descriptors,
        }
    )
    descriptor = _descriptor(mediatypes.OCI_MANIFEST, manifest)
    manifests[descriptor["digest"]] = manifest
    return descriptor


def _descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digests.compute(data), "size": len(data)}


def _json_bytes(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _platform_json(platform: Platform) -> dict[str, str]:
    result = {"architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        result["variant"] = platform.variant
    return result


def _layer_text(seed: str, platform: str, number: int, total: int) -> bytes:
    line = f"regexplore sample {seed}: layer {number} of {total} for {platform}\n"
    return (line * 4).encode("utf-8")


def _tar_one_file(name: str, content: bytes) -> bytes:
    """A USTAR archive with one regular file and fixed metadata."""
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mtime = FIXED_MTIME
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        archive.addfile(info, io.BytesIO(content))
    return out.getvalue()


def _gzip_stored(data: bytes) -> bytes:
    """gzip with a fixed header and stored (level 0) deflate: identical bytes everywhere."""
    compressor = zlib.compressobj(0, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data) + compressor.flush()
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return _GZIP_HEADER + body + trailer


@lru_cache(maxsize=4)
def _random_block(seed: str) -> bytes:
    return hashlib.shake_256(f"regexplore block {seed}".encode()).digest(BLOCK_SIZE)


def _layer_prefix(seed: str, number: int, size: int) -> bytes:
    return hashlib.sha512(f"regexplore layer {seed} {number} {size}".encode()).digest()


def _pseudo_random_producer(seed: str, number: int, size: int) -> Callable[[], Iterator[bytes]]:
    def produce() -> Iterator[bytes]:
        prefix = _layer_prefix(seed, number, size)[:size]
        yield prefix
        block = _random_block(seed)
        remaining = size - len(prefix)
        while remaining >= len(block):
            yield block
            remaining -= len(block)
        if remaining:
            yield block[:remaining]

    return produce


@lru_cache(maxsize=1024)
def _pseudo_random_digest(seed: str, number: int, size: int) -> str:
    hasher = hashlib.sha256()
    for chunk in _pseudo_random_producer(seed, number, size)():
        hasher.update(chunk)
    return f"sha256:{hasher.hexdigest()}"
