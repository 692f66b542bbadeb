"""Inspect a manifest: HEAD (digest, size, type without the body) then GET, verified.

Steps: ``ping``, ``fetch manifest`` (both the HEAD and the GET).

Rule: the manifest is verified against the digest it was asked by and against
``Docker-Content-Digest``; its bytes are returned exactly as served.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.client.registry import Manifest, RegistryClient
from explorer.flows.pull import checked_media_type, verify_manifest
from explorer.protocol import headers
from explorer.protocol.reference import Reference
from explorer.trace import Intent

__all__ = ["Inspected", "inspect_manifest"]


@dataclass
class Inspected:
    manifest: Manifest
    media_type: str
    head_digest: str | None  # Docker-Content-Digest of the HEAD
    head_size: int | None


def inspect_manifest(client: RegistryClient, ref: Reference) -> Inspected:
    """HEAD then GET ``ref``'s manifest (by tag or digest), verified."""
    context = str(ref)
    with client.step(Intent("ping")):
        client.ping()
    with client.step(Intent("fetch-manifest", repository=ref.repository, digest=ref.digest, item="manifest")):
        head = client.head_manifest(ref.repository, ref.reference, context=context)
        manifest = client.get_manifest(ref.repository, ref.reference, context=context)
    verify_manifest(manifest, ref.digest, context)
    media = checked_media_type(manifest, manifest.parsed(), context)
    head_digest = head.headers.get("docker-content-digest") if head is not None else None
    length = headers.parse_content_length(head.headers.get("content-length")) if head is not None else None
    return Inspected(manifest, media, head_digest, length)
