"""Manifests: end-3 (GET/HEAD), end-7 (PUT), end-9 (DELETE) and the referrers API (end-12a/b).

Rule: the registry stores the exact bytes it was sent, under the digest of
those bytes. A PUT is checked the way distribution checks it: a manifest media
type in ``Content-Type`` (no schema1), JSON, ``schemaVersion`` 2, a body
``mediaType`` equal to ``Content-Type``, well-formed descriptors, and every
referenced blob (config, layers) or child manifest (index) present IN THIS
repository; each missing one is its own ``MANIFEST_BLOB_UNKNOWN`` entry. A
``subject`` need not exist; it is indexed for the referrers API and echoed in
``OCI-Subject``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from explorer.errors import InvalidDigest, InvalidReference
from explorer.protocol import digest as digests
from explorer.protocol import mediatypes, reference
from explorer.protocol.endpoints import Route
from explorer.sandbox.blobs import checked_digest
from explorer.sandbox.wsgi import ApiError, BodyTooLarge, IncompleteBody, Request, Response, json_response

if TYPE_CHECKING:
    from explorer.sandbox.app import RegistryApp

__all__ = ["delete_manifest", "get_manifest", "list_referrers", "put_manifest"]

# A manifest of this type can be answered when Accept lists none of the stored type but one of these.
_ANY = ("*/*", "application/*")


def _is_tag(text: str) -> bool:
    try:
        reference.validate_tag(text)
    except InvalidReference:
        return False
    return True


def _resolve(registry: RegistryApp, name: str, ref: str) -> str:
    """The digest a tag or digest reference names in the repository; 404 MANIFEST_UNKNOWN if none."""
    if ":" in ref:
        digest = checked_digest(ref)
        if registry.storage.manifest_media_type(name, digest) is None:
            raise ApiError("MANIFEST_UNKNOWN", {"Name": name, "Revision": digest})
        return digest
    found = registry.storage.resolve_tag(name, ref) if _is_tag(ref) else None
    if found is None:
        raise ApiError("MANIFEST_UNKNOWN", {"Tag": ref})
    return found


def get_manifest(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-3, GET and HEAD: the stored bytes, their media type and digest."""
    name = str(route.name)
    digest = _resolve(registry, name, str(route.reference))
    stored = registry.storage.read_manifest(name, digest)
    if stored is None:
        raise ApiError("MANIFEST_UNKNOWN", {"Name": name, "Revision": digest})
    media_type, data = stored
    accepted = _accepted(request)
    if accepted and media_type not in accepted and not any(kind in accepted for kind in _ANY):
        raise ApiError("MANIFEST_UNKNOWN",
                       f"{mediatypes.describe(media_type)} found, but the Accept header does not list {media_type}")
    etag = f'"{digest}"'
    headers = [("Content-Type", media_type), ("Docker-Content-Digest", digest), ("Etag", etag)]
    wanted = request.header("If-None-Match")
    if wanted and etag in [tag.strip() for tag in wanted.split(",")]:
        return Response(304, headers)
    return Response(200, [*headers, ("Content-Length", str(len(data)))], data)


def _accepted(request: Request) -> set[str]:
    values = [request.header("Accept") or ""]
    return {mediatypes.base(part) for value in values for part in value.split(",") if part.strip()}


def put_manifest(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-7: validate, check references, store, move the tag; 201 with Location and digest."""
    name, ref = str(route.name), str(route.reference)
    by_digest = ":" in ref
    if by_digest:
        checked_digest(ref)
    elif not _is_tag(ref):
        raise ApiError("TAG_INVALID", {"Tag": ref})
    try:
        data = request.read_body(registry.options.max_manifest_size)
    except BodyTooLarge:
        raise ApiError("MANIFEST_INVALID", f"manifest larger than {registry.options.max_manifest_size} bytes",
                       status=413) from None
    except IncompleteBody as error:
        raise ApiError("SIZE_INVALID", str(error)) from None
    media_type = mediatypes.base(request.header("Content-Type"))
    document = _parse(data, media_type)
    digest = digests.compute(data, ref.partition(":")[0] if by_digest else "sha256")
    if by_digest and digest != ref:
        raise ApiError("DIGEST_INVALID", {"Digest": ref, "Computed": digest})
    missing = _missing_references(registry, name, document, media_type)
    if missing:
        raise ApiError("MANIFEST_BLOB_UNKNOWN", missing[0], more=[("MANIFEST_BLOB_UNKNOWN", d) for d in missing[1:]])
    subject = _subject(document)
    registry.storage.put_manifest(name, digest, media_type, data, tag=None if by_digest else ref, subject=subject)
    headers = [("Location", f"{request.base_url}/v2/{name}/manifests/{digest}"),
               ("Docker-Content-Digest", digest), ("Content-Length", "0")]
    if subject is not None:
        headers.append(("OCI-Subject", subject))
    return Response(201, headers)


def _parse(data: bytes, media_type: str) -> dict[str, Any]:
    if not mediatypes.is_manifest(media_type):
        raise ApiError("MANIFEST_INVALID",
                       f"Content-Type {media_type or '(none)'!r} is not a manifest media type this registry stores")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise ApiError("MANIFEST_INVALID", f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ApiError("MANIFEST_INVALID", "a manifest is a JSON object")
    if document.get("schemaVersion") != 2:
        raise ApiError("MANIFEST_INVALID", "schemaVersion must be 2")
    declared = document.get("mediaType")
    if declared is not None and declared != media_type:
        raise ApiError("MANIFEST_INVALID", f"mediaType {declared!r} does not match Content-Type {media_type!r}")
    return document


def _descriptor(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("mediaType"), str) \
            or not isinstance(value.get("size"), int) or not digests.is_valid(str(value.get("digest", ""))):
        raise ApiError("MANIFEST_INVALID", f"{where} is not a descriptor (mediaType, digest, size)")
    return value


def _descriptors(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = document.get(key)
    if not isinstance(items, list):
        raise ApiError("MANIFEST_INVALID", f"{key} must be a list of descriptors")
    return [_descriptor(item, f"{key}[{index}]") for index, item in enumerate(items)]


def _missing_references(registry: RegistryApp, name: str, document: dict[str, Any], media_type: str) -> list[str]:
    """Digests the manifest references that the repository lacks, in manifest order."""
    missing: list[str] = []
    if mediatypes.is_index(media_type):
        for child in _descriptors(document, "manifests"):
            if not _has(lambda d: registry.storage.manifest_media_type(name, d) is not None, child["digest"]):
                missing.append(child["digest"])
        return missing
    blobs = [_descriptor(document.get("config"), "config"), *_descriptors(document, "layers")]
    for blob in blobs:
        if blob.get("urls") and blob["mediaType"] == mediatypes.DOCKER_FOREIGN_LAYER:
            continue  # foreign layers are pulled from their urls, never pushed
        if not _has(lambda d: registry.storage.blob_size(name, d) is not None, blob["digest"]):
            missing.append(blob["digest"])
    return missing


def _has(test: Any, digest: str) -> bool:
    try:
        return bool(test(digest))
    except InvalidDigest:  # a valid digest of an algorithm we do not store: we cannot have it
        return False


def _subject(document: dict[str, Any]) -> str | None:
    subject = document.get("subject")
    if subject is None:
        return None
    descriptor = _descriptor(subject, "subject")
    return str(descriptor["digest"]) if digests.is_valid(descriptor["digest"]) and _verifiable(descriptor) else None


def _verifiable(descriptor: dict[str, Any]) -> bool:
    return descriptor["digest"].partition(":")[0] in digests.VERIFIABLE_ALGORITHMS


def delete_manifest(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-9: by digest, delete the manifest and its tags; by tag, remove only the tag. 202."""
    if not registry.options.delete_enabled:
        raise ApiError("UNSUPPORTED", "deletes are disabled on this registry")
    name, ref = str(route.name), str(route.reference)
    if ":" not in ref:
        if not _is_tag(ref) or not registry.storage.untag(name, ref):
            raise ApiError("MANIFEST_UNKNOWN", {"Tag": ref})
        return Response(202, [("Content-Length", "0")])
    digest = checked_digest(ref)
    stored = registry.storage.read_manifest(name, digest)
    if stored is None:
        raise ApiError("MANIFEST_UNKNOWN", {"Name": name, "Revision": digest})
    try:
        subject = _subject(json.loads(stored[1]))
    except (ValueError, ApiError):
        subject = None
    registry.storage.delete_manifest(name, digest, subject)
    return Response(202, [("Content-Length", "0")])


def list_referrers(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-12a/b: an OCI index of the manifests whose subject is the digest, optionally filtered."""
    name, subject = str(route.name), checked_digest(route.reference)
    wanted = request.arg("artifactType")
    found = []
    for digest in registry.storage.referrers(name, subject):
        stored = registry.storage.read_manifest(name, digest)
        if stored is None:
            continue
        media_type, data = stored
        try:
            document = json.loads(data)
        except ValueError:
            continue
        descriptor: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": len(data)}
        config = document.get("config") if isinstance(document.get("config"), dict) else {}
        artifact_type = document.get("artifactType") or config.get("mediaType")
        if artifact_type:
            descriptor["artifactType"] = artifact_type
        if isinstance(document.get("annotations"), dict):
            descriptor["annotations"] = document["annotations"]
        if wanted is None or descriptor.get("artifactType") == wanted:
            found.append(descriptor)
    index = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": found}
    response = json_response(200, index)
    response.headers[0] = ("Content-Type", mediatypes.OCI_INDEX)
    if wanted is not None:
        response.headers.append(("OCI-Filters-Applied", "artifactType"))
    return response
