"""What the spec requires of an answer, as data: statuses allowed, headers a registry must send.

Rule 1: the OpenAPI
document (``explorer/openapi``) and ``regexplore check`` (``explorer/check``)
are both built from these tables and from ``endpoints.ENDPOINTS``, so the
document and the judge cannot disagree.
Rule 2: every rule names where it comes from: ``version`` is the
distribution-spec version that makes it a rule (``v1.1.1``, ``main`` for the
unreleased text at 967efdc, ``docker`` for Docker's ``api.md`` / token docs,
``rfc9110``), and ``section`` the heading it sits under.

Statuses: the endpoint table lists success and failure codes; any endpoint may
also answer 401 (authentication), 403 (denied), 429 (rate limit) and 5xx
(protocol.md §1), a GET/HEAD may be redirected (OCI main: "registries may
redirect any request"), and a blob GET with ``Range`` may answer 206/416.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.protocol.digest import DIGEST_PATTERN
from explorer.protocol.endpoints import ENDPOINTS, Endpoint
from explorer.protocol.reference import REPOSITORY_PATTERN, TAG_PATTERN

__all__ = [
    "ANY_ENDPOINT_STATUSES",
    "DIGEST_PATTERN",
    "EXTRA_STATUSES",
    "HEADER_RULES",
    "HEADERS",
    "REDIRECT_STATUSES",
    "REPOSITORY_PATTERN",
    "RESPONSE_HEADERS",
    "SPEC_VERSIONS",
    "TAG_PATTERN",
    "HeaderRule",
    "allowed_statuses",
    "rules_for",
]

#: The spec versions rules are cited from.
SPEC_VERSIONS = {
    "v1.1.1": "OCI distribution-spec v1.1.1 (2025-01-23)",
    "main": "OCI distribution-spec main at 967efdc (unreleased)",
    "docker": "Docker Registry HTTP API v2 (distribution docs/content/spec/api.md, auth/token.md)",
    "rfc9110": "RFC 9110 HTTP Semantics",
}

#: Statuses any endpoint may answer, with the error code that explains them.
ANY_ENDPOINT_STATUSES: dict[int, str] = {
    401: "authentication required (UNAUTHORIZED); WWW-Authenticate says how",
    403: "access denied (DENIED)",
    429: "rate limited (TOOMANYREQUESTS); Retry-After SHOULD say when to come back",
}
#: Redirects a GET or HEAD may get (OCI main: registries may redirect any request).
REDIRECT_STATUSES: tuple[int, ...] = (301, 302, 303, 307, 308)
#: Statuses the table does not list but the spec text allows, per endpoint id.
EXTRA_STATUSES: dict[str, dict[int, str]] = {
    "end-2": {
        206: "partial content, answering a Range request (SHOULD support Range, RFC 9110 §14)",
        416: "the requested Range is not satisfiable",
        400: "the digest is malformed (DIGEST_INVALID; distribution)",
    },
    "end-3": {400: "the reference is not a valid tag or digest (distribution)"},
    "end-4a": {400: "the repository name is invalid (NAME_INVALID; distribution)"},
    "end-5": {400: "the chunk could not be accepted (distribution)"},
    "end-7": {400: "the manifest is invalid or references unknown blobs (MANIFEST_INVALID,"
                   " MANIFEST_BLOB_UNKNOWN)", 405: "pushes are disabled (UNSUPPORTED; distribution read-only mode)"},
    "end-8a": {400: "the n parameter is invalid (PAGINATION_NUMBER_INVALID; distribution)"},
    "end-8b": {400: "the n parameter is invalid (PAGINATION_NUMBER_INVALID; distribution)"},
}


def allowed_statuses(endpoint: Endpoint, method: str) -> dict[int, str]:
    """Every status the spec allows for ``method`` on ``endpoint``, each with a few words on why."""
    allowed: dict[int, str] = {}
    for status in endpoint.success:
        allowed[status] = "success"
    for status in endpoint.failure:
        allowed.setdefault(status, "failure listed in the endpoint table")
    allowed.update({s: why for s, why in EXTRA_STATUSES.get(endpoint.id, {}).items() if s not in allowed})
    for status, why in ANY_ENDPOINT_STATUSES.items():
        allowed.setdefault(status, why)
    if method.upper() in ("GET", "HEAD"):
        for status in REDIRECT_STATUSES:
            allowed.setdefault(status, "redirect (OCI main: registries may redirect any request; follow Location)")
    return allowed


@dataclass(frozen=True)
class HeaderRule:
    """A response header the registry must (or should) send on some answers of some endpoints."""

    header: str
    endpoints: tuple[str, ...]
    statuses: tuple[int, ...]
    level: str  # "MUST" | "SHOULD"
    version: str  # a key of SPEC_VERSIONS
    section: str
    expected: str  # one line: what was expected
    methods: tuple[str, ...] = ()  # empty: every method of the endpoint


_UPLOAD_OPENERS = ("end-4a", "end-4b", "end-4c", "end-11")

HEADER_RULES: tuple[HeaderRule, ...] = (
    HeaderRule("Docker-Content-Digest", ("end-3",), (200,), "MUST", "main", "Pulling manifests",
               "a manifest GET/HEAD 200 carries Docker-Content-Digest (MUST since main; SHOULD in v1.1.1)"),
    HeaderRule("Docker-Content-Digest", ("end-2",), (200,), "MUST", "main", "Pulling blobs",
               "a blob GET/HEAD 200 carries Docker-Content-Digest (MUST since main; SHOULD in v1.1.1)"),
    HeaderRule("Content-Length", ("end-2", "end-3"), (200,), "MUST", "v1.1.1",
               "Checking if content exists in the registry",
               "a HEAD 200 carries the size of the blob or manifest in Content-Length", ("HEAD",)),
    HeaderRule("Location", _UPLOAD_OPENERS, (202,), "MUST", "v1.1.1", "Pushing blobs (POST then PUT)",
               "a 202 opening an upload session carries Location: the URL to send the blob to"),
    HeaderRule("Location", ("end-4b", "end-4c", "end-11", "end-6"), (201,), "MUST", "v1.1.1", "Pushing blobs",
               "a 201 for a stored blob carries Location: the blob's URL"),
    HeaderRule("Location", ("end-5",), (202,), "MUST", "v1.1.1", "Pushing a blob in chunks",
               "a 202 for a chunk carries Location: where to send the next chunk"),
    HeaderRule("Range", ("end-5",), (202,), "MUST", "v1.1.1", "Pushing a blob in chunks",
               "a 202 for a chunk carries Range: 0-<end-of-range>"),
    HeaderRule("Range", ("end-13",), (204,), "MUST", "v1.1.1", "Pushing a blob in chunks",
               "an upload status 204 carries Range: 0-<end-of-range>"),
    HeaderRule("Location", ("end-13",), (204,), "MUST", "v1.1.1", "Pushing a blob in chunks",
               "an upload status 204 carries Location: the session's URL"),
    HeaderRule("Location", ("end-7", "end-7b"), (201,), "MUST", "v1.1.1", "Pushing Manifests",
               "a 201 for a stored manifest carries Location: the manifest's URL"),
    HeaderRule("Docker-Content-Digest", ("end-4b", "end-6", "end-7", "end-7b", "end-11"), (201,), "SHOULD",
               "v1.1.1", "Pushing blobs / Pushing Manifests",
               "a 201 names what was stored in Docker-Content-Digest"),
    HeaderRule("WWW-Authenticate", tuple(e.id for e in ENDPOINTS), (401,), "MUST", "rfc9110",
               "RFC 9110 §11.6.1 (401 Unauthorized)", "a 401 carries a WWW-Authenticate challenge"),
    HeaderRule("Retry-After", tuple(e.id for e in ENDPOINTS), (429,), "SHOULD", "v1.1.1", "Error Codes",
               "a 429 says when to retry in Retry-After"),
)


def rules_for(endpoint_id: str, method: str, status: int) -> list[HeaderRule]:
    """The header rules that apply to one answer."""
    method = method.upper()
    return [rule for rule in HEADER_RULES
            if endpoint_id in rule.endpoints and status in rule.statuses
            and (not rule.methods or method in rule.methods)]


#: The headers that matter, each with one line for documentation (protocol.md §2).
HEADERS: dict[str, str] = {
    "Docker-Content-Digest": "digest of the returned or stored content (manifest GET/HEAD: MUST since main)",
    "Docker-Distribution-API-Version": "registry/2.0 (clients SHOULD NOT rely on it)",
    "Location": "a URL, relative or absolute: the blob/manifest stored (201), the upload session to continue"
                " (202), or a redirect target (3xx); always use the latest one",
    "Range": "upload progress, 0-<last byte offset held>, inclusive (no bytes= prefix in the OCI spec)",
    "Content-Range": "request: the chunk's <start>-<end> (inclusive); 206 response: bytes <first>-<last>/<size>",
    "OCI-Chunk-Min-Length": "minimum size of every chunk but the last",
    "OCI-Subject": "the registry processed the manifest's subject (it has the referrers API)",
    "OCI-Filters-Applied": "which referrers filters were applied, e.g. artifactType",
    "OCI-Tag": "one value per tag accepted by a push with ?tag= (main)",
    "Link": "<url>; rel=\"next\": the next page (RFC 8288); no Link means the list is complete",
    "WWW-Authenticate": "the challenge: Bearer realm=\"…\",service=\"…\",scope=\"…\" or Basic realm=\"…\"",
    "Docker-Upload-UUID": "the upload session's id",
    "Retry-After": "seconds (or an HTTP date) to wait before retrying",
    "Content-Length": "the body's size; on HEAD, the size of the blob or manifest",
    "Warning": "299 - \"text\": show it, never act on it",
    "ratelimit-limit": "Docker Hub: pulls allowed per window, e.g. 100;w=21600",
    "ratelimit-remaining": "Docker Hub: pulls left in the window, e.g. 76;w=21600",
    "docker-ratelimit-source": "Docker Hub: who the limit is counted against (an IP or account id)",
}

#: Response headers worth knowing per endpoint id and status (for documents; the MUSTs are HEADER_RULES).
RESPONSE_HEADERS: dict[tuple[str, int], tuple[str, ...]] = {
    ("end-1", 200): ("Docker-Distribution-API-Version",),
    ("end-2", 200): ("Docker-Content-Digest", "Content-Length"),
    ("end-2", 206): ("Content-Range", "Content-Length"),
    ("end-3", 200): ("Docker-Content-Digest", "Content-Length", "ratelimit-limit", "ratelimit-remaining",
                     "docker-ratelimit-source"),
    ("end-4a", 202): ("Location", "Range", "Docker-Upload-UUID", "OCI-Chunk-Min-Length"),
    ("end-4b", 201): ("Location", "Docker-Content-Digest"),
    ("end-4b", 202): ("Location", "Range", "Docker-Upload-UUID", "OCI-Chunk-Min-Length"),
    ("end-4c", 202): ("Location", "Range", "Docker-Upload-UUID", "OCI-Chunk-Min-Length"),
    ("end-5", 202): ("Location", "Range", "Docker-Upload-UUID"),
    ("end-5", 416): ("Location", "Range"),
    ("end-6", 201): ("Location", "Docker-Content-Digest"),
    ("end-7", 201): ("Location", "Docker-Content-Digest", "OCI-Subject"),
    ("end-7b", 201): ("Location", "Docker-Content-Digest", "OCI-Subject", "OCI-Tag"),
    ("end-8a", 200): ("Link",),
    ("end-8b", 200): ("Link",),
    ("end-11", 201): ("Location", "Docker-Content-Digest"),
    ("end-11", 202): ("Location", "Range", "Docker-Upload-UUID", "OCI-Chunk-Min-Length"),
    ("end-12a", 200): ("Link", "OCI-Filters-Applied"),
    ("end-12b", 200): ("Link", "OCI-Filters-Applied"),
    ("end-13", 204): ("Location", "Range", "Docker-Upload-UUID"),
    ("catalog", 200): ("Link",),
}
