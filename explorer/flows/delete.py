"""Delete a manifest by digest (end-9).

Steps: ``ping``, ``delete manifest``.

Rule: only a digest is accepted: distribution 2.8 answers a DELETE by tag with
400 DIGEST_INVALID, and deleting by digest removes every tag naming it.
"""

from __future__ import annotations

from explorer.client import RegistryClient
from explorer.errors import UsageError
from explorer.protocol.reference import Reference

__all__ = ["delete_manifest"]


def delete_manifest(client: RegistryClient, ref: Reference) -> None:
    """DELETE the manifest ``ref`` names by digest (its tags go with it)."""
    if ref.digest is None:
        raise UsageError(
            f"{ref} names no digest; delete takes IMAGE@sha256:…",
            f"find the digest with `regexplore trace manifest {ref}`",
        )
    with client.step("ping"):
        client.ping()
    with client.step("delete manifest"):
        client.delete_manifest(ref.repository, ref.digest, context=str(ref))
