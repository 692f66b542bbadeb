"""Every table redaction decides by: the one home of what is harmless and what is secret, by name.

Rule: names are compared in lower case. Request headers, query parameters, form
fields and token-response fields are redacted by ALLOWLIST (a value stays only
when its name is listed here). Response headers and JSON fields are redacted by
name when the name is a known secret or, unknown, contains one of
``SECRET_NAME_PARTS``; their values are also judged by shape (``shapes.py``).
Importers and the recorder use these tables through ``explorer.recording.redact`` only.
"""

from __future__ import annotations

__all__ = [
    "COOKIE_ATTRIBUTES", "FORM_ALLOWLIST", "HARMLESS_JSON_FIELDS", "HARMLESS_REQUEST_HEADERS",
    "HARMLESS_RESPONSE_HEADERS", "QUERY_ALLOWLIST", "SCHEME_HEADERS", "SECRET_NAME_PARTS", "SECRET_OPTIONS",
    "TOKEN_RESPONSE_FIELDS", "TOKEN_RESPONSE_MARKERS", "URL_HEADERS", "secret_name",
]

#: an unknown header or JSON field whose name contains one of these is secret (X-Vault-Token, session_key, …)
SECRET_NAME_PARTS = ("token", "key", "secret", "auth", "session", "cookie", "password", "signature", "api")

#: headers whose value is (or holds) a URL that may be signed: kept, with the URL redacted like any URL
URL_HEADERS = frozenset({"location", "content-location", "referer", "link"})

#: headers whose scheme word teaches (``Bearer <redacted>``); the credential after it never stays
SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})

#: request headers whose values stay; every other request header keeps its name, its value is ``<redacted>``
HARMLESS_REQUEST_HEADERS = frozenset({
    "accept", "accept-encoding", "accept-language", "cache-control", "connection", "content-encoding",
    "content-length", "content-range", "content-type", "date", "docker-content-digest",
    "docker-distribution-api-version", "expect", "host", "if-match", "if-modified-since", "if-none-match",
    "if-range", "if-unmodified-since", "keep-alive", "origin", "pragma", "priority", "range", "te",
    "transfer-encoding", "upgrade", "user-agent", "via",
    # browsers' (HAR captures)
    "dnt", "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "sec-fetch-user", "sec-ch-ua",
    "sec-ch-ua-mobile", "sec-ch-ua-platform", "upgrade-insecure-requests",
    *URL_HEADERS,  # redacted as URLs
})

#: response headers whose values stay as they are (or as URLs), though some names contain a secret word
HARMLESS_RESPONSE_HEADERS = frozenset({
    "www-authenticate", "proxy-authenticate", "docker-distribution-api-version", "docker-content-digest",
    "docker-upload-uuid", "oci-subject", "oci-filters-applied", "oci-chunk-min-length", "content-type",
    "content-length", "content-range", "content-encoding", "range", "accept-ranges", "etag", "date",
    "last-modified", "cache-control", "expires", "age", "vary", "connection", "keep-alive",
    "transfer-encoding", "server", "x-content-type-options", "strict-transport-security",
    "access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers",
    "access-control-expose-headers", "access-control-max-age", "retry-after", "via",
    *URL_HEADERS,  # redacted as URLs
})

#: JSON fields whose values stay verbatim (no name or shape rule): the protocol's vocabulary that would
#: otherwise look secret (``data`` is base64, ``org.opencontainers.image.authors`` contains "auth")
HARMLESS_JSON_FIELDS = frozenset({
    "schemaversion", "mediatype", "artifacttype", "digest", "size", "data", "urls", "annotations",
    "config", "layers", "manifests", "blobsum", "fslayers", "subject", "platform", "architecture", "os",
    "variant", "name", "tag", "tags", "repositories", "errors", "code", "message", "detail",
    "expires_in", "issued_at", "scope", "service", "token_type", "authors", "author",
    "org.opencontainers.image.authors", "docker-content-digest",
})

#: a JSON body holding one of these fields is a token response: only ``TOKEN_RESPONSE_FIELDS`` stay in it
TOKEN_RESPONSE_MARKERS = frozenset({"token", "access_token", "refresh_token", "id_token"})
TOKEN_RESPONSE_FIELDS = frozenset({"expires_in", "issued_at", "scope", "service", "token_type"})

#: query parameters that teach the protocol and carry no secret (as crane does); others become ``<redacted>``
QUERY_ALLOWLIST = frozenset({
    "scope", "service", "account", "mount", "from", "digest", "digest-algorithm", "n", "last",
    "artifacttype", "tag", "ns", "client_id", "offline_token", "x-amz-algorithm", "x-amz-date",
    "x-amz-expires", "x-amz-signedheaders", "expires",
})

#: form fields (application/x-www-form-urlencoded) whose values stay; others become ``<redacted>``
FORM_ALLOWLIST = frozenset({"grant_type", "service", "scope", "client_id", "access_type", "username", "account"})

#: ``Set-Cookie`` attributes (kept); every other ``name=value`` in a cookie header is a cookie (redacted)
COOKIE_ATTRIBUTES = frozenset({
    "path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "priority", "partitioned", "version",
    "comment",
})

#: command-line options whose value is a secret
SECRET_OPTIONS = ("--password", "--pass", "--token", "--identity-token", "--creds", "--dest-creds", "--src-creds")


def secret_name(name: str) -> bool:
    """Whether a header or JSON field name says its value is secret (contains one of ``SECRET_NAME_PARTS``)."""
    lname = name.lower()
    return any(part in lname for part in SECRET_NAME_PARTS)
