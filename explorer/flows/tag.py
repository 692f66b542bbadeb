"""Retag: put an existing manifest under another tag of the same repository, moving no blob.

Steps: ``ping``, ``fetch manifest`` (GET by the source reference), ``push manifest``
(HEAD the new tag, PUT unless it already names that digest).

Rule: the exact bytes are PUT with the media type they were served with, so
the digest does not change.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.client.registry import RegistryClient
from explorer.flows.images import ManifestPlan
from explorer.flows.pull import checked_media_type, verify_manifest
from explorer.flows.push import push_manifest
from explorer.protocol.reference import Reference
from explorer.trace import Intent

__all__ = ["Retagged", "retag"]


@dataclass
class Retagged:
    source: Reference
    dest: Reference
    digest: str
    pushed: bool  # False: the new tag already pointed at this digest


def retag(client: RegistryClient, ref: Reference, new_tag: str) -> Retagged:
    """Put ``ref``'s manifest under ``new_tag`` in the same repository (exact bytes, same digest)."""
    context = str(ref)
    dest = ref.with_tag(new_tag)
    client.expect_scopes(f"repository:{ref.repository}:pull,push")  # one token for the fetch and the push
    with client.step(Intent("ping")):
        client.ping()
    with client.step(Intent("fetch-manifest", repository=ref.repository, digest=ref.digest, item="manifest")):
        manifest = client.get_manifest(ref.repository, ref.reference, context=context)
    verify_manifest(manifest, ref.digest, context)
    parsed = manifest.parsed()
    media = checked_media_type(manifest, parsed, context)
    plan = ManifestPlan(manifest.digest, media, manifest.data, parsed, new_tag, "push manifest")
    pushed, _referrers_tag = push_manifest(client, dest, plan, context=str(dest))
    return Retagged(ref, dest, manifest.digest, pushed)
