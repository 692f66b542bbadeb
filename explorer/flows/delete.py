"""Delete a manifest by digest (end-9), and its entry in a referrers fallback tag.

Steps: ``ping``, ``inspect manifest`` (GET: does it refer to a subject?), ``delete
manifest``, and for a manifest with a ``subject``: ``update referrers tag`` (on a
registry without the referrers API the client keeps the ``sha256-<hex>`` index, so
it drops the deleted descriptor from it: distribution-spec, deleting manifests).

Rule: only a digest is accepted: distribution 2.8 answers a DELETE by tag with
400 DIGEST_INVALID, and deleting by digest removes every tag naming it.
"""

from __future__ import annotations

import json

from explorer.client.registry import RegistryClient
from explorer.errors import UsageError
from explorer.flows.referrers import remove_from_referrers_tag
from explorer.protocol import digest as digests
from explorer.protocol.reference import Reference
from explorer.trace import Intent

__all__ = ["delete_manifest"]


def delete_manifest(client: RegistryClient, ref: Reference) -> str | None:
    """DELETE the manifest ``ref`` names by digest (its tags go with it); the referrers tag updated, or None."""
    if ref.digest is None:
        raise UsageError(
            f"{ref} names no digest; delete takes IMAGE@sha256:…",
            f"find the digest with `regexplore trace manifest {ref}`",
        )
    context = str(ref)
    client.expect_scopes(f"repository:{ref.repository}:pull,delete")
    with client.step(Intent("ping")):
        client.ping()
    with client.step(Intent("fetch-manifest", repository=ref.repository, digest=ref.digest, item="manifest"),
                     label="inspect manifest"):
        subject = _subject(client.get_manifest(ref.repository, ref.digest, context=context).data)
    with client.step(Intent("delete", repository=ref.repository, digest=ref.digest, item="manifest")):
        client.delete_manifest(ref.repository, ref.digest, context=context)
    if subject is None:
        return None
    return remove_from_referrers_tag(client, ref.repository, subject, ref.digest, context=context)


def _subject(data: bytes) -> str | None:
    """The digest of the manifest's ``subject``, when it has a well-formed one."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    subject = parsed.get("subject") if isinstance(parsed, dict) else None
    digest = subject.get("digest") if isinstance(subject, dict) else None
    return digest if isinstance(digest, str) and digests.is_valid(digest) else None
