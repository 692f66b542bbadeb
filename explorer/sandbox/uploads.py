"""Blob pushes: open (end-4a/4b), mount (end-11), chunk (end-5), close (end-6), status (end-13), cancel (end-14).

Rule 1: ``Content-Range`` is parsed by ``protocol/headers.parse_upload_range``.
Statuses and codes follow distribution 2.8 (see the
package docstring for where we differ on purpose).
Rule 2: ``Location`` is absolute, built on the Host the client used, and opaque:
``/v2/<name>/blobs/uploads/<uuid>?_state=<token>``. The token is distribution's
idea: HMAC-signed JSON of name, uuid, offset and start time. A Location
without ``_state``, with a forged one, or a stale one (its offset is not the
session's) is refused with 404 ``BLOB_UPLOAD_INVALID``, as distribution does
(which also cancels the session; we keep it). With
``RegistryOptions(upload_state=False)`` the Location is ``/v2/<name>/blobs/uploads/<uuid>``
as zot sends it: every Location of a session stays valid, so a chunk sent
again after its answer was lost gets 416 ``RANGE_INVALID`` (and the status GET
says where to resume) instead of 404.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from explorer.errors import DigestMismatch, InvalidDigest, MalformedHeader
from explorer.protocol import digest as digests
from explorer.protocol import headers as protocol_headers
from explorer.protocol.endpoints import Route
from explorer.protocol.reference import is_repository
from explorer.sandbox.blobs import checked_digest
from explorer.sandbox.storage import UploadSession
from explorer.sandbox.wsgi import ApiError, IncompleteBody, Request, Response

if TYPE_CHECKING:
    from explorer.sandbox.app import RegistryApp

__all__ = ["UploadState", "cancel_upload", "finish_upload", "patch_upload", "start_upload", "upload_status"]


class UploadState:
    """The signed ``_state`` query parameter of an upload Location."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def encode(self, session: UploadSession) -> str:
        started = datetime.fromtimestamp(session.started, timezone.utc).isoformat().replace("+00:00", "Z")
        payload = json.dumps({"Name": session.repository, "UUID": session.id, "Offset": session.size,
                              "StartedAt": started}, separators=(",", ":")).encode()
        mac = hmac.new(self.secret, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac + payload).decode("ascii")

    def decode(self, token: str) -> dict[str, Any] | None:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            return None
        mac, payload = raw[:32], raw[32:]
        if not hmac.compare_digest(mac, hmac.new(self.secret, payload, hashlib.sha256).digest()):
            return None
        try:
            state = json.loads(payload)
        except ValueError:
            return None
        return state if isinstance(state, dict) else None


def _location(registry: RegistryApp, request: Request, session: UploadSession) -> str:
    location = f"{request.base_url}/v2/{session.repository}/blobs/uploads/{quote(session.id)}"
    if not registry.options.upload_state:
        return location
    return f"{location}?{urlencode([('_state', registry.upload_state.encode(session))])}"


def _session_headers(registry: RegistryApp, request: Request, session: UploadSession) -> list[tuple[str, str]]:
    last = max(session.size - 1, 0)  # distribution: "0-0" for an empty session too
    return [("Location", _location(registry, request, session)), ("Range", f"0-{last}"),
            ("Docker-Upload-UUID", session.id)]


def _blob_created(request: Request, name: str, digest: str) -> Response:
    return Response(201, [("Location", f"{request.base_url}/v2/{name}/blobs/{digest}"),
                          ("Docker-Content-Digest", digest), ("Content-Length", "0")])


# --- POST /v2/<name>/blobs/uploads/ ------------------------------------------------------

def start_upload(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-11 mount, end-4b single-request upload, or end-4a: a new session."""
    name = str(route.name)
    mount, source = request.arg("mount"), request.arg("from")
    if mount is not None:
        if source and digests.is_valid(mount) and _mountable(registry, source, mount):
            registry.storage.link_blob(name, mount)
            return _blob_created(request, name, mount)
        # not mountable: an ordinary session, as distribution does (202)
    elif request.arg("digest") is not None and registry.options.monolithic_post:
        digest = checked_digest(request.arg("digest"))
        try:
            registry.storage.store_blob(name, request.body_blocks(), digest)
        except DigestMismatch:
            raise ApiError("DIGEST_INVALID", {"Digest": digest}) from None
        except IncompleteBody as error:
            raise ApiError("SIZE_INVALID", str(error)) from None
        return _blob_created(request, name, digest)
    session = registry.storage.start_upload(name)
    headers = [*_session_headers(registry, request, session), ("Content-Length", "0")]
    if registry.options.chunk_min_length:
        headers.append(("OCI-Chunk-Min-Length", str(registry.options.chunk_min_length)))
    return Response(202, headers)


def _mountable(registry: RegistryApp, source: str, digest: str) -> bool:
    if not is_repository(source):
        return False
    try:
        return registry.storage.blob_size(source, digest) is not None
    except InvalidDigest:  # valid grammar, but an algorithm we do not store
        return False


# --- the session: /v2/<name>/blobs/uploads/<uuid> ---------------------------------------

def _session(registry: RegistryApp, request: Request, route: Route) -> tuple[UploadSession, int | None]:
    """The session the URL names, and the offset its ``_state`` claims (None without ``upload_state``).

    Like distribution: no ``_state`` or a forged one is 404 ``BLOB_UPLOAD_INVALID``
    (so a client that rebuilds the URL, or replaces its query to add ``digest=``,
    fails here as it would there); a signed state of a finished, cancelled or
    unknown session is 404 ``BLOB_UPLOAD_UNKNOWN``. Without ``upload_state`` the
    UUID alone names the session.
    """
    claimed = None
    if registry.options.upload_state:
        state_token = request.arg("_state")
        state = registry.upload_state.decode(state_token) if state_token else None
        if state is None or state.get("UUID") != route.reference or state.get("Name") != route.name \
                or not isinstance(state.get("Offset"), int):
            raise ApiError("BLOB_UPLOAD_INVALID",
                           "the upload URL lacks the _state this registry signed: use the Location it sent, "
                           "keeping its query (add digest= with &)")
        claimed = int(state["Offset"])
    session = registry.storage.upload(str(route.reference))
    if session is None or session.repository != route.name:
        raise ApiError("BLOB_UPLOAD_UNKNOWN")
    return session, claimed


def _check_offset(session: UploadSession, offset: int | None) -> None:
    """Refuse a stale Location (one whose ``_state`` claims another offset); call with ``session.lock`` held."""
    if offset is not None and offset != session.size:
        raise ApiError("BLOB_UPLOAD_INVALID",
                       f"stale upload location: it is at offset {offset}, the upload holds {session.size} bytes;"
                       " use the Location of the latest response")


def _append_body(registry: RegistryApp, request: Request, session: UploadSession) -> None:
    """Append the request body, checking ``Content-Range`` (416) and its length (SIZE_INVALID)."""
    content_range = request.header("Content-Range")
    expected: int | None = request.content_length
    if content_range:
        try:
            start, end = protocol_headers.parse_upload_range(content_range)
        except MalformedHeader:
            raise _range_invalid(registry, request, session, f"malformed Content-Range {content_range!r}") from None
        if start != session.size:
            raise _range_invalid(registry, request, session,
                                 f"chunk starts at {start}, the upload holds {session.size} bytes")
        if expected is not None and expected != end - start + 1:
            raise ApiError("SIZE_INVALID", f"Content-Length {expected} does not match Content-Range {content_range}")
        expected = end - start + 1
    mark = registry.storage.mark(session)
    try:
        added = registry.storage.append(session, request.body_blocks())
    except IncompleteBody as error:
        registry.storage.rollback(session, mark)
        raise ApiError("SIZE_INVALID", str(error)) from None
    if expected is not None and added != expected:
        registry.storage.rollback(session, mark)
        raise ApiError("SIZE_INVALID", f"received {added} bytes, expected {expected}")


def _range_invalid(registry: RegistryApp, request: Request, session: UploadSession, why: str) -> ApiError:
    return ApiError("RANGE_INVALID", why, headers=_session_headers(registry, request, session))


def patch_upload(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-5: one chunk, or (no Content-Range) a streamed body, appended to the session."""
    session, offset = _session(registry, request, route)
    with session.lock:
        _check_offset(session, offset)
        _append_body(registry, request, session)
        return Response(202, [*_session_headers(registry, request, session), ("Content-Length", "0")])


def finish_upload(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-6: optional last chunk, then verify the digest and make the blob pullable."""
    session, offset = _session(registry, request, route)
    wanted = request.args("digest")
    digest = checked_digest(wanted[0] if wanted else None)
    if any(other != digest for other in wanted[1:]):
        raise ApiError("DIGEST_INVALID", "several different digest parameters")
    with session.lock:
        _check_offset(session, offset)
        if request.has_body:
            _append_body(registry, request, session)
        try:
            registry.storage.finish_upload(session, digest)
        except DigestMismatch:
            raise ApiError("DIGEST_INVALID", {"Digest": digest}) from None
    return _blob_created(request, str(route.name), digest)


def upload_status(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-13: 204 with the current ``Range`` and a fresh ``Location``."""
    session, offset = _session(registry, request, route)
    with session.lock:
        _check_offset(session, offset)
        return Response(204, _session_headers(registry, request, session))


def cancel_upload(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-14: forget the session (204)."""
    session, _offset = _session(registry, request, route)
    registry.storage.cancel_upload(session.id)
    return Response(204, [("Docker-Upload-UUID", session.id)])
