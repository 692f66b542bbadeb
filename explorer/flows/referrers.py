"""Referrers (OCI 1.1): list what refers to a manifest, and keep the tag-schema fallback up to date.

    ping
    list referrers          GET /v2/<name>/referrers/<digest>[?artifactType=], following Link;
                            404 = API unsupported → GET the index tagged sha256-<hex> instead
    update referrers tag    after pushing a manifest with a subject to a registry that did not
                            answer OCI-Subject: GET that index (404 = start empty), add the
                            descriptor, PUT it back (protocol.md §4.8); after deleting one:
                            GET /v2/<name>/referrers/<subject> (404 = no API), then GET that
                            index, drop the descriptor, PUT it back

Rule: a fallback tag that holds something other than an index means "no referrers"
when listing, and is an error when updating (we never overwrite foreign content).
"""

from __future__ import annotations

import json
from dataclasses import field
from typing import Any

from explorer.client.registry import RegistryClient
from explorer.errors import ManifestError, RegistryError
from explorer.flows.blobs import Descriptor
from explorer.protocol import digest as digests
from explorer.protocol import mediatypes
from explorer.records import record
from explorer.trace import Intent

__all__ = ["ReferrersResult", "list_referrers", "referrer_descriptor", "remove_from_referrers_tag",
           "update_referrers_tag"]

MAX_PAGES = 1000


@record
class ReferrersResult:
    subject: str
    referrers: list[Descriptor] = field(default_factory=list)
    via: str = "referrers API"  # or "tag sha256-<hex>"
    filters_applied: bool = False


def list_referrers(
    client: RegistryClient, repository: str, subject: str, *, context: str, artifact_type: str | None = None
) -> ReferrersResult:
    """The descriptors referring to ``subject``, by the API or by the fallback tag."""
    digests.validate(subject)
    result = ReferrersResult(subject)
    with client.step(Intent("ping")):
        client.ping()
    with client.step(Intent("referrers", repository=repository, digest=subject)):
        response = client.referrers(repository, subject, context=context, artifact_type=artifact_type)
        if response.status_code == 404:
            return _from_fallback_tag(client, repository, subject, result, context, artifact_type)
        result.filters_applied = "artifactType" in response.headers.get("oci-filters-applied", "")
        page, next_url = _manifests(response.content, context), client.next_page_url(response, context=context)
        result.referrers.extend(page)
        pages = 1
        while next_url and pages < MAX_PAGES:
            body, next_url = client.list_page(next_url, context=context)
            result.referrers.extend(_entries(body))
            pages += 1
    if artifact_type and not result.filters_applied:
        result.referrers = [r for r in result.referrers if r.get("artifactType") == artifact_type]
    return result


def _from_fallback_tag(
    client: RegistryClient,
    repository: str,
    subject: str,
    result: ReferrersResult,
    context: str,
    artifact_type: str | None,
) -> ReferrersResult:
    tag = digests.referrers_tag(subject)
    result.via = f"tag {tag}"
    index = _fetch_index(client, repository, tag, context)
    entries = _entries(index) if index is not None else []
    result.referrers = [e for e in entries if not artifact_type or e.get("artifactType") == artifact_type]
    return result


def update_referrers_tag(
    client: RegistryClient, repository: str, subject: Descriptor, referrer: Descriptor, *, context: str
) -> str:
    """Add ``referrer`` to the fallback index of ``subject``; returns the tag (unchanged when present)."""
    tag = digests.referrers_tag(subject["digest"])
    with client.step(Intent("push-manifest", repository=repository, item="tag")):
        index = _fetch_index(client, repository, tag, context, strict=True)
        if index is None:
            index = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": []}
        entries = _entries(index)
        if any(e.get("digest") == referrer["digest"] for e in entries):
            return tag
        index["manifests"] = [*entries, referrer]
        _put_index(client, repository, tag, index, context)
    return tag


def remove_from_referrers_tag(
    client: RegistryClient, repository: str, subject: str, referrer: str, *, context: str
) -> str | None:
    """Drop the deleted ``referrer`` from the fallback index of ``subject``; the tag, or None when unchanged.

    Only on a registry without the referrers API (which keeps its list itself);
    a tag that is absent or holds no index is left alone.
    """
    with client.step(Intent("push-manifest", repository=repository, item="tag")):
        if client.referrers(repository, subject, context=context).status_code != 404:
            return None
        tag = digests.referrers_tag(subject)
        index = _fetch_index(client, repository, tag, context)
        entries = _entries(index) if index is not None else []
        kept = [e for e in entries if e.get("digest") != referrer]
        if index is None or len(kept) == len(entries):
            return None
        index["manifests"] = kept
        _put_index(client, repository, tag, index, context)
    return tag


def referrer_descriptor(digest: str, media_type: str, data: bytes, parsed: dict[str, Any]) -> Descriptor:
    """The descriptor of a referring manifest: artifactType (else the config's media type) and annotations."""
    descriptor: Descriptor = {"mediaType": media_type, "digest": digest, "size": len(data)}
    artifact_type = parsed.get("artifactType")
    if not isinstance(artifact_type, str):
        config = parsed.get("config")
        artifact_type = config.get("mediaType") if isinstance(config, dict) else None
    if isinstance(artifact_type, str):
        descriptor["artifactType"] = artifact_type
    if isinstance(parsed.get("annotations"), dict):
        descriptor["annotations"] = parsed["annotations"]
    return descriptor


def _fetch_index(
    client: RegistryClient, repository: str, tag: str, context: str, *, strict: bool = False
) -> dict[str, Any] | None:
    """The index at ``tag``, or None when absent (or, unless ``strict``, not an index)."""
    try:
        manifest = client.get_manifest(repository, tag, context=f"{context} (referrers tag {tag})")
    except RegistryError as exc:
        if exc.status == 404:
            return None
        raise
    try:
        parsed = json.loads(manifest.data)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and mediatypes.is_index(manifest.media_type or parsed.get("mediaType")):
        return parsed
    if strict:
        raise ManifestError(
            f"tag {tag} of {context} holds something other than an image index; "
            "refusing to overwrite it with the referrers list"
        )
    return None


def _put_index(client: RegistryClient, repository: str, tag: str, index: dict[str, Any], context: str) -> None:
    """PUT the fallback ``index`` under ``tag`` (compact JSON, the OCI index media type)."""
    data = json.dumps(index, separators=(",", ":")).encode()
    client.put_manifest(repository, tag, data, mediatypes.OCI_INDEX, context=f"{context} (referrers tag {tag})")


def _manifests(data: bytes, context: str) -> list[Descriptor]:
    try:
        body = json.loads(data)
    except ValueError:
        raise ManifestError(f"the referrers list of {context} is not JSON") from None
    return _entries(body)


def _entries(body: Any) -> list[Descriptor]:
    manifests = body.get("manifests") if isinstance(body, dict) else None
    return [m for m in manifests if isinstance(m, dict)] if isinstance(manifests, list) else []
