"""The reusable parts of the OpenAPI document: parameters, schemas, error responses, security, token server.

Rule: pure. Every
enum, pattern and status comes from a protocol table (error codes, media
types, the grammars of reference.py and digest.py), never typed again here.
"""

from __future__ import annotations

from typing import Any

from explorer.protocol import conformance, errorcodes, mediatypes

__all__ = ["ERROR_MEDIA_TYPE", "components", "error_response_ref", "parameter_ref", "token_path"]

ERROR_MEDIA_TYPE = "application/json"

_NAME_DESCRIPTION = (
    "The repository name, e.g. `library/alpine`. It MAY contain `/` (one or more path components), which an "
    "OpenAPI path parameter cannot express: send it as-is, slashes unescaped, so "
    "`/v2/team/app/manifests/1.0` names repository `team/app`. Grammar (distribution/reference "
    f"remote-name): `{conformance.REPOSITORY_PATTERN}`, at most 255 characters. A server splits the path at "
    "the LAST `/manifests/`, `/blobs/`, `/tags/list` or `/referrers/`."
)


def _anchored(pattern: str) -> str:
    return f"^{pattern}$"


def _parameters() -> dict[str, Any]:
    name_schema = {"type": "string", "pattern": _anchored(conformance.REPOSITORY_PATTERN), "maxLength": 255}
    digest_schema = {"type": "string", "pattern": _anchored(conformance.DIGEST_PATTERN)}
    reference_schema = {"type": "string", "pattern": _anchored(
        f"(?:{conformance.TAG_PATTERN})|(?:{conformance.DIGEST_PATTERN})")}
    return {
        "name": {"name": "name", "in": "path", "required": True, "description": _NAME_DESCRIPTION,
                 "schema": name_schema, "example": "library/alpine",
                 "x-regexplore-pattern-note": "path parameters cannot hold '/'; the repository name can"},
        "reference": {"name": "reference", "in": "path", "required": True,
                      "description": f"A tag (`{conformance.TAG_PATTERN}`) or a digest "
                                     f"(`{conformance.DIGEST_PATTERN}`).",
                      "schema": reference_schema, "example": "latest"},
        "digest": {"name": "digest", "in": "path", "required": True,
                   "description": f"A content digest, `algorithm:encoded` (`{conformance.DIGEST_PATTERN}`).",
                   "schema": digest_schema,
                   "example": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        "session": {"name": "reference", "in": "path", "required": True,
                    "description": "The upload session's part of the opaque URL the registry gave in `Location`"
                                   " (distribution: a UUID). Never build it: follow `Location`.",
                    "schema": {"type": "string"}, "example": "7e0ab8a1-5c8b-4f5a-9f61-0a4b3c2d1e0f"},
        "digest-query": {"name": "digest", "in": "query", "description": "The digest of the whole blob.",
                         "schema": digest_schema},
        "digest-algorithm": {"name": "digest-algorithm", "in": "query",
                             "description": "The algorithm the upload will be verified with (main, end-4c).",
                             "schema": {"type": "string", "example": "sha512"}},
        "mount": {"name": "mount", "in": "query", "description": "The digest of a blob to mount (end-11).",
                  "schema": digest_schema},
        "from": {"name": "from", "in": "query",
                 "description": "The repository to mount the blob from (end-11); same grammar as `name`.",
                 "schema": name_schema},
        "n": {"name": "n", "in": "query", "description": "At most this many results per page.",
              "schema": {"type": "integer", "minimum": 0}},
        "last": {"name": "last", "in": "query",
                 "description": "Start strictly after this tag or repository name (lexical order).",
                 "schema": {"type": "string"}},
        "artifactType": {"name": "artifactType", "in": "query",
                         "description": "Only referrers of this artifact type (end-12b); "
                                        "`OCI-Filters-Applied` says whether the filter was applied.",
                         "schema": {"type": "string"}},
        "tag": {"name": "tag", "in": "query", "description": "Tags to set on a manifest pushed by digest"
                " (main, end-7b); repeat the parameter for several.",
                "schema": {"type": "array", "items": {"type": "string", "pattern": _anchored(conformance.TAG_PATTERN)}},
                "style": "form", "explode": True},
        "Accept": {"name": "Accept", "in": "header",
                   "description": "The manifest media types the client can read, best first.",
                   "schema": {"type": "string", "example": ", ".join(mediatypes.MANIFEST_ACCEPT)}},
        "Range": {"name": "Range", "in": "header", "description": "Part of the blob: `bytes=<start>-[<end>]`"
                  " (RFC 9110 §14; registries SHOULD support it).", "schema": {"type": "string"},
                  "example": "bytes=0-"},
        "Content-Range": {"name": "Content-Range", "in": "header",
                          "description": "The chunk's `<start>-<end>`, inclusive, no `bytes ` prefix;"
                                         " chunks MUST be sent in order.",
                          "schema": {"type": "string", "pattern": "^[0-9]+-[0-9]+$"}},
    }


def parameter_ref(key: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{key}"}


def _schemas() -> dict[str, Any]:
    codes = [error.code for error in errorcodes.ERROR_CODES]
    return {
        "ErrorCode": {
            "type": "string", "enum": codes,
            "description": "OCI codes code-1 … code-14, then Docker's legacy codes (clients must not depend on"
                           " those): " + "; ".join(f"`{e.code}` ({e.oci_id or 'docker'}): {e.meaning}"
                                                   for e in errorcodes.ERROR_CODES),
        },
        "Error": {
            "type": "object", "required": ["code"],
            "properties": {"code": {"$ref": "#/components/schemas/ErrorCode"},
                           "message": {"type": "string"},
                           "detail": {"description": "Any JSON: a string, an object, a list."}},
        },
        "ErrorBody": {
            "type": "object", "required": ["errors"],
            "properties": {"errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}}},
        },
        "TagList": {"type": "object", "required": ["name", "tags"],
                    "properties": {"name": {"type": "string"},
                                   "tags": {"type": ["array", "null"], "items": {"type": "string"}}}},
        "Catalog": {"type": "object", "required": ["repositories"],
                    "properties": {"repositories": {"type": "array", "items": {"type": "string"}}}},
        "Descriptor": {"type": "object", "required": ["mediaType", "digest", "size"],
                       "properties": {"mediaType": {"type": "string"},
                                      "digest": {"type": "string", "pattern": _anchored(conformance.DIGEST_PATTERN)},
                                      "size": {"type": "integer", "minimum": 0},
                                      "artifactType": {"type": "string"},
                                      "annotations": {"type": "object",
                                                      "additionalProperties": {"type": "string"}}}},
        "Manifest": {"type": "object", "required": ["schemaVersion"],
                     "description": "An image manifest or an index; `mediaType` names which.",
                     "properties": {"schemaVersion": {"const": 2}, "mediaType": {"type": "string"},
                                    "config": {"$ref": "#/components/schemas/Descriptor"},
                                    "layers": {"type": "array", "items": {"$ref": "#/components/schemas/Descriptor"}},
                                    "manifests": {"type": "array",
                                                  "items": {"$ref": "#/components/schemas/Descriptor"}},
                                    "subject": {"$ref": "#/components/schemas/Descriptor"}}},
        "ReferrersIndex": {"type": "object", "required": ["schemaVersion", "mediaType", "manifests"],
                           "properties": {"schemaVersion": {"const": 2}, "mediaType": {"const": mediatypes.OCI_INDEX},
                                          "manifests": {"type": "array",
                                                        "items": {"$ref": "#/components/schemas/Descriptor"}}}},
        "TokenResponse": {"type": "object",
                          "properties": {"token": {"type": "string"}, "access_token": {"type": "string"},
                                         "expires_in": {"type": "integer"},
                                         "issued_at": {"type": "string", "format": "date-time"},
                                         "refresh_token": {"type": "string"}}},
    }


def _headers() -> dict[str, Any]:
    out = {}
    for header, meaning in conformance.HEADERS.items():
        schema: dict[str, Any] = {"type": "string"}
        if header == "Docker-Content-Digest":
            schema["pattern"] = _anchored(conformance.DIGEST_PATTERN)
        if header in ("Content-Length", "OCI-Chunk-Min-Length"):
            schema = {"type": "integer", "minimum": 0}
        out[header] = {"description": meaning, "schema": schema}
    return out


def _error_responses() -> dict[str, Any]:
    """One shared response per error status: the error body, and the codes that come with it."""
    by_status: dict[int, list[str]] = {}
    for error in errorcodes.ERROR_CODES:
        by_status.setdefault(error.status, []).append(error.code)
    statuses = sorted({*by_status, *conformance.ANY_ENDPOINT_STATUSES, 413, 414, 431, 416})
    out = {}
    for status in statuses:
        codes = by_status.get(status, [])
        response: dict[str, Any] = {
            "description": (f"Error; usual codes: {', '.join(codes)}." if codes else "Error.")
            + " The body, when there is one, is the error envelope (any 4xx/5xx may also carry none).",
            "content": {ERROR_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"$ref": "#/components/headers/WWW-Authenticate"}}
        if status == 429:
            response["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
        out[f"Error{status}"] = response
    return out


def error_response_ref(status: int) -> dict[str, str] | None:
    key = f"Error{status}"
    return {"$ref": f"#/components/responses/{key}"} if key in _error_responses() else None


_TOKEN_FLOW = (
    "Anonymous request → `401` with `WWW-Authenticate: Bearer realm=\"…\",service=\"…\",scope=\"…\"` → "
    "`GET <realm>?service=…&scope=…` (with Basic credentials, or none for anonymous pulls) → "
    "`{\"token\": …}` → the request again with `Authorization: Bearer <token>`. The token is sent only to the"
    " registry, never to a host a `Location`, `Link` or redirect names."
)


def security_schemes() -> dict[str, Any]:
    return {
        "basic": {"type": "http", "scheme": "basic",
                  "description": "htpasswd-style registries: the 401's `WWW-Authenticate: Basic realm=…` asks for it."},
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "registry token (often a JWT)",
                   "description": "Docker token authentication: " + _TOKEN_FLOW},
    }


def token_path() -> dict[str, Any]:
    """The Docker token endpoint, on its own server (the challenge's ``realm``)."""
    query = [
        {"name": "service", "in": "query", "required": True, "schema": {"type": "string"},
         "description": "The challenge's `service`, e.g. `registry.docker.io`."},
        {"name": "scope", "in": "query", "schema": {"type": "array", "items": {"type": "string"}},
         "style": "form", "explode": True,
         "description": "`repository:<name>:pull,push` (repeat for several); the challenge's `scope`."},
        {"name": "account", "in": "query", "schema": {"type": "string"}, "description": "The user name, if any."},
        {"name": "offline_token", "in": "query", "schema": {"type": "boolean"}},
        {"name": "client_id", "in": "query", "schema": {"type": "string"}},
    ]
    ok = {"description": "A token for the scopes granted.",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}}}
    return {
        "servers": [{"url": "https://auth.docker.io",
                     "description": "Docker Hub's token server. Elsewhere the URL is the 401 challenge's `realm`"
                                    " (any host, any path): never guess it."}],
        "get": {"operationId": "getToken", "tags": ["token"], "summary": "Get a registry token (Docker token auth)",
                "description": _TOKEN_FLOW, "parameters": query, "security": [{}, {"basic": []}],
                "responses": {"200": ok, "401": {"description": "Bad credentials."}}},
        "post": {"operationId": "postToken", "tags": ["token"], "summary": "Get a registry token (OAuth2 form)",
                 "description": "auth/oauth.md: form-encoded `grant_type=password|refresh_token`; a 404 means the"
                                " server only does GET.",
                 "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                     "type": "object", "required": ["grant_type", "service", "client_id"],
                     "properties": {"grant_type": {"enum": ["password", "refresh_token"]},
                                    "service": {"type": "string"}, "client_id": {"type": "string"},
                                    "scope": {"type": "string"}, "username": {"type": "string"},
                                    "password": {"type": "string"}, "refresh_token": {"type": "string"},
                                    "access_type": {"enum": ["online", "offline"]}}}}}},
                 "responses": {"200": ok, "404": {"description": "Only GET is supported: fall back to it."}}},
    }


def components() -> dict[str, Any]:
    return {
        "parameters": _parameters(),
        "schemas": _schemas(),
        "headers": _headers(),
        "responses": _error_responses(),
        "securitySchemes": security_schemes(),
    }
