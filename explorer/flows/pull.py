"""Pull: ping → manifest (index → platform manifest) → config → layers, every digest verified.

Steps as they appear in traces: ``ping``, ``resolve tag`` (or ``fetch manifest``
when pulling by digest), ``fetch manifest <platform>`` after an index,
``fetch config``, ``fetch layer i/n``. The config and the layers are fetched
concurrently (``jobs``, the config first) over the client's one connection pool;
manifests stay ordered.
"""

from __future__ import annotations

import json
from dataclasses import field
from functools import partial
from pathlib import Path
from typing import Any

from explorer.client.registry import Manifest, RegistryClient
from explorer.errors import DigestMismatch, ManifestError, NoMatchingPlatform
from explorer.flows.blobs import Transfers, check_descriptor, fetch_blob, fetch_blob_bytes
from explorer.oci.layout import OciLayoutWriter
from explorer.flows.progress import NullProgress, Progress
from explorer.protocol import digest as digests
from explorer.protocol import mediatypes
from explorer.protocol.mediatypes import Platform
from explorer.protocol.reference import Reference
from explorer.records import record
from explorer.trace import Intent

__all__ = ["PullResult", "checked_media_type", "pull", "resolve_image", "verify_manifest"]


@record
class PullResult:
    reference: Reference
    manifest_digest: str
    media_type: str
    platform: Platform | None = None  # the index entry picked; None for a single-platform image
    index_digest: str | None = None
    image_platform: Platform | None = None  # what a single-platform image's config declares
    config_digest: str | None = None
    layers: list[dict[str, Any]] = field(default_factory=list)
    bytes_downloaded: int = 0
    layout: Path | None = None


class ResolvedImage:
    """The platform manifest of an image (after index selection), with what led to it."""

    __slots__ = ("manifest", "parsed", "platform", "index")  # a plain class: a dataclass costs start-up ~0.4 ms

    def __init__(self, manifest: Manifest, parsed: dict[str, Any], platform: Platform | None,
                 index: Manifest | None) -> None:
        self.manifest = manifest
        self.parsed = parsed
        self.platform = platform
        self.index = index


def verify_manifest(manifest: Manifest, expected: str | None, context: str) -> None:
    """By digest: the body must hash to it. By tag: Docker-Content-Digest, when sent, must match."""
    if expected is not None:
        algorithm, _ = digests.require_verifiable(expected)
        actual = digests.compute(manifest.data, algorithm)
        if actual != expected:
            raise DigestMismatch(
                f"manifest of {context} hashes to {digests.short(actual)}, not the requested {expected}",
                "the registry served different content than asked for",
            )
    if manifest.header_digest and digests.is_valid(manifest.header_digest):
        algorithm = manifest.header_digest.split(":", 1)[0]
        if algorithm in ("sha256", "sha512"):
            actual = digests.compute(manifest.data, algorithm)
            if actual != manifest.header_digest:
                raise DigestMismatch(
                    f"manifest of {context}: Docker-Content-Digest says {manifest.header_digest} "
                    f"but the body hashes to {actual}"
                )


def checked_media_type(manifest: Manifest, parsed: dict[str, Any], context: str) -> str:
    """The manifest's media type, refusing a Content-Type/mediaType conflict, schema 1 and non-manifests."""
    declared = parsed.get("mediaType")
    media = manifest.media_type or (declared if isinstance(declared, str) else "")
    if isinstance(declared, str) and declared and manifest.media_type and declared != manifest.media_type:
        raise ManifestError(
            f"manifest of {context} says mediaType {declared} but was served as {manifest.media_type}"
        )
    if mediatypes.is_schema1(media) or parsed.get("schemaVersion") == 1:
        raise ManifestError(
            f"{context} is a Docker schema 1 manifest, which regexplore does not support",
            "schema 1 is deprecated; push the image again with a current docker/buildkit",
        )
    if not mediatypes.is_manifest(media):
        raise ManifestError(f"{context}: unexpected manifest media type {media or '(none)'}")
    return media


def resolve_image(
    client: RegistryClient, ref: Reference, platform: Platform, *, context: str
) -> ResolvedImage:
    """Fetch the manifest named by ``ref``; if it is an index, fetch the ``platform`` child by digest."""
    with client.step(Intent("resolve" if ref.digest is None else "fetch-manifest", repository=ref.repository,
                            digest=ref.digest, item="manifest")):
        top = client.get_manifest(ref.repository, ref.reference, context=context)
    verify_manifest(top, ref.digest, context)
    parsed = top.parsed()
    media = checked_media_type(top, parsed, context)
    if not mediatypes.is_index(media):
        return ResolvedImage(top, parsed, None, None)

    entries = parsed.get("manifests")
    if not isinstance(entries, list):
        raise ManifestError(f"index of {context} has no manifests list")
    chosen = mediatypes.select_platform(entries, platform)
    if chosen is None:
        available = ", ".join(mediatypes.available_platforms(entries)) or "none"
        raise NoMatchingPlatform(
            f"{context} has no image for {platform}; available: {available}",
            "choose one with --platform",
        )
    child_digest, _size = check_descriptor(chosen, f"manifest for {platform}")
    picked = mediatypes.platform_of(chosen) or platform
    with client.step(Intent("fetch-manifest", repository=ref.repository, digest=child_digest, item="manifest",
                            platform=str(picked))):
        child = client.get_manifest(ref.repository, child_digest, context=f"{context} ({platform})")
    verify_manifest(child, child_digest, f"{context} ({platform})")
    child_parsed = child.parsed()
    child_media = checked_media_type(child, child_parsed, context)
    if mediatypes.is_index(child_media):
        raise ManifestError(f"{context}: nested indexes are not supported for pull")
    return ResolvedImage(child, child_parsed, picked, top)


def pull(
    client: RegistryClient,
    ref: Reference,
    *,
    platform: Platform,
    layout: Path | None = None,
    progress: Progress | None = None,
    jobs: int = 8,
) -> PullResult:
    """Pull ``ref`` completely: every blob downloaded and verified, kept only with ``layout``."""
    progress = progress or NullProgress()
    context = str(ref)
    with client.step(Intent("ping")):
        client.ping()
    image = resolve_image(client, ref, platform, context=context)
    config_desc = image.parsed.get("config")
    layers = image.parsed.get("layers")
    if not isinstance(layers, list):
        raise ManifestError(f"manifest of {context} has no layers list")
    check_descriptor(config_desc, "config")
    for i, layer in enumerate(layers, 1):
        check_descriptor(layer, f"layer {i}/{len(layers)}")

    writer = OciLayoutWriter(layout) if layout is not None else None
    # fetch_blob verifies every digest before the writer commits: hash once, not twice
    open_sink = partial(writer.blob_writer, verify=False) if writer is not None else None
    config_digest = config_desc["digest"]
    configs: list[bytes] = []
    transfers = Transfers(jobs)

    def fetch_layer(item: tuple[int, dict[str, Any]]) -> int:
        i, desc = item
        if i == 0:  # the config, a transfer among the layers: no round trip of its own on the critical path
            with client.step(Intent("fetch-config", repository=ref.repository, digest=config_digest, item="config",
                                    transfer=config_digest)):
                configs.append(fetch_blob_bytes(client, ref.repository, config_desc, what="config", context=context))
            if writer is not None:  # stored in its lane, while the layers still arrive: not after the last one
                writer.write_blob(configs[0], config_digest)
                writer.write_blob(image.manifest.data, image.manifest.digest)
            return len(configs[0])
        label = f"layer {i}/{len(layers)}"
        with client.step(Intent("fetch-layer", repository=ref.repository, digest=desc["digest"], item="layer",
                                index=i, total=len(layers), transfer=desc["digest"])):
            return fetch_blob(
                client, ref.repository, desc, what=label, context=context, open_sink=open_sink, progress=progress,
                transfers=transfers,
            )

    total = sum(transfers.map(fetch_layer, [(0, config_desc), *enumerate(layers, 1)]))
    config = configs[0]

    if writer is not None:
        root = {
            "mediaType": image.manifest.media_type or image.parsed.get("mediaType"),
            "digest": image.manifest.digest,
            "size": len(image.manifest.data),
        }
        if image.platform is not None:
            root["platform"] = _platform_json(image.platform)
        writer.add_manifest(root, ref.tag if ref.digest is None else (ref.tag or None))
        writer.finish()

    return PullResult(
        reference=ref,
        manifest_digest=image.manifest.digest,
        media_type=image.manifest.media_type,
        platform=image.platform,
        index_digest=image.index.digest if image.index else None,
        config_digest=config_desc["digest"],
        layers=layers,
        bytes_downloaded=total,
        layout=layout,
        image_platform=_declared_platform(config) if image.index is None else None,
    )


def _declared_platform(config: bytes) -> Platform | None:
    try:
        return mediatypes.config_platform(json.loads(config))
    except ValueError:  # a config that is not JSON is the image's business, not the pull's
        return None


def _platform_json(platform: Platform) -> dict[str, str]:
    out = {"architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        out["variant"] = platform.variant
    return out

