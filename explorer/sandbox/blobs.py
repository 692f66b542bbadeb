"""Blob pulls and deletes: end-2 (GET/HEAD, maybe 307 to the CDN) and end-10 (DELETE).

Rule 1: the CDN is reached only through the app's ``redirector``.
Rule 2: answers as distribution 2.8 does: ``Accept-Ranges``, ``Cache-Control:
max-age=31536000``, ``Docker-Content-Digest``, ``Etag: "<digest>"``; a digest
outside the grammar is 400 ``DIGEST_INVALID``; a blob the repository lacks is
404 ``BLOB_UNKNOWN`` (even when another repository has it); with redirects on,
GET and HEAD of a present blob are ``307`` with ``Location`` on the CDN origin
(distribution's redirect middleware sends no digest header there either).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.errors import InvalidDigest
from explorer.protocol import digest as digests
from explorer.protocol import mediatypes
from explorer.protocol.endpoints import Route
from explorer.sandbox.byteranges import serve_file
from explorer.sandbox.wsgi import ApiError, Request, Response

if TYPE_CHECKING:
    from explorer.sandbox.app import RegistryApp

__all__ = ["checked_digest", "delete_blob", "get_blob"]


def checked_digest(text: str | None) -> str:
    """A digest from a URL, valid and of an algorithm we store; 400 DIGEST_INVALID otherwise."""
    if not text:
        raise ApiError("DIGEST_INVALID", "digest missing")
    try:
        digests.require_verifiable(text)
    except InvalidDigest as error:
        raise ApiError("DIGEST_INVALID", str(error)) from None
    return text


def get_blob(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-2, GET and HEAD."""
    name, digest = str(route.name), checked_digest(route.reference)
    size = registry.storage.blob_size(name, digest)
    if size is None:
        raise ApiError("BLOB_UNKNOWN", digest)
    if registry.redirector is not None:
        return Response(307, [("Content-Type", mediatypes.OCTET_STREAM),
                              ("Location", registry.redirector.location(digest)), ("Content-Length", "0")])
    path = registry.storage.blob_path(digest)
    headers = [("Cache-Control", "max-age=31536000"), ("Content-Type", mediatypes.OCTET_STREAM),
               ("Docker-Content-Digest", digest)]
    return serve_file(request, lambda: open(path, "rb"), size, headers, etag=f'"{digest}"')


def delete_blob(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-10: the repository forgets the blob (202); 404 BLOB_UNKNOWN if it did not have it."""
    if not registry.options.delete_enabled:
        raise ApiError("UNSUPPORTED", "deletes are disabled on this registry")
    name, digest = str(route.name), checked_digest(route.reference)
    if not registry.storage.unlink_blob(name, digest):
        raise ApiError("BLOB_UNKNOWN", digest)
    return Response(202, [("Content-Length", "0")])
