"""The registry error codes as data, and lenient parsing of ``{"errors": [...]}`` bodies.

Rule 1: an error body is untrusted and optional: any 4xx/5xx may carry any
body (HTML from a proxy, plain text, nothing). ``parse_error_body`` never
raises; what it cannot read gives ``[]`` and the caller falls back to the
status line.
Rule 2: ``detail`` is ANY JSON (strings, ``{"digest": …}``, Docker Hub's
lists). The OCI Go types declare it a string; we do not copy that.
Unknown codes are kept as written: codes are only ever added.

Sources: OCI distribution-spec v1.1.1 "Error Codes" (code-1 … code-14);
the HTTP statuses are the ones distribution attaches in
``registry/api/errcode/register.go`` and ``registry/api/v2/errors.go``
(the spec binds none); legacy Docker codes from protocol.md §7.2.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus

__all__ = ["ERROR_CODES", "TRANSIENT_STATUSES", "ErrorCode", "ErrorDetail", "lookup", "parse_error_body", "summarize"]

# statuses that mean "try the same request again later" (RFC 9110: 408, 429, 5xx but 501/505+);
# a client retries them, whether from a registry or its token server
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ErrorCode:
    """One known error code; ``oci_id`` is None for Docker-only or legacy codes."""

    oci_id: str | None  # "code-7"
    code: str  # "MANIFEST_UNKNOWN"
    meaning: str
    status: int  # what distribution answers with


ERROR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode("code-1", "BLOB_UNKNOWN", "blob unknown to registry", 404),
    ErrorCode("code-2", "BLOB_UPLOAD_INVALID", "blob upload invalid: it failed and cannot continue", 404),
    ErrorCode("code-3", "BLOB_UPLOAD_UNKNOWN", "upload unknown: cancelled, expired or never started", 404),
    ErrorCode("code-4", "DIGEST_INVALID", "provided digest did not match the content (or is malformed)", 400),
    ErrorCode("code-5", "MANIFEST_BLOB_UNKNOWN", "manifest references a blob the registry lacks", 400),
    ErrorCode("code-6", "MANIFEST_INVALID", "manifest invalid: it failed validation", 400),
    ErrorCode("code-7", "MANIFEST_UNKNOWN", "manifest unknown: no such tag or digest in the repository", 404),
    ErrorCode("code-8", "NAME_INVALID", "invalid repository name", 400),
    ErrorCode("code-9", "NAME_UNKNOWN", "repository name not known to registry", 404),
    ErrorCode("code-10", "SIZE_INVALID", "provided length did not match content length", 400),
    ErrorCode("code-11", "UNAUTHORIZED", "authentication required", 401),
    ErrorCode("code-12", "DENIED", "requested access to the resource is denied", 403),
    ErrorCode("code-13", "UNSUPPORTED", "the operation is unsupported (or disabled) on this registry", 405),
    ErrorCode("code-14", "TOOMANYREQUESTS", "too many requests: rate limited", 429),
    # Docker / legacy codes (OCI: optional, do not depend on them)
    ErrorCode(None, "MANIFEST_UNVERIFIED", "schema1 manifest signature failed verification", 400),
    ErrorCode(None, "TAG_INVALID", "schema1 manifest tag does not match the URL's tag", 400),
    ErrorCode(None, "PAGINATION_NUMBER_INVALID", "invalid number of results requested (n)", 400),
    ErrorCode(None, "RANGE_INVALID", "invalid content range: chunk out of order or malformed", 416),
    ErrorCode(None, "UNAVAILABLE", "service unavailable", 503),
    ErrorCode(None, "UNKNOWN", "unknown error", 500),
)

_BY_CODE = {error.code: error for error in ERROR_CODES}


def lookup(code: str) -> ErrorCode | None:
    """The table row for ``code`` (case-insensitive), or None for a code we do not know."""
    return _BY_CODE.get(code.strip().upper())


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of an error body: ``code`` as sent (``UNKNOWN`` if missing), message, any-JSON detail."""

    code: str
    message: str
    detail: object = None

    @property
    def known(self) -> ErrorCode | None:
        return lookup(self.code)


_NOT_JSON_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")


def parse_error_body(body: bytes | str | None, content_type: str | None = None) -> list[ErrorDetail]:
    """The errors of a registry error body; ``[]`` for no body, non-JSON, HTML or another shape.

    Never raises. The Content-Type is only used to skip HTML/XML pages; a JSON
    envelope sent as ``text/plain`` is still read (registries get this wrong).
    """
    if not body:
        return []
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in _NOT_JSON_TYPES:
        return []
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return []
    entries = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return []
    found = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        code, message = entry.get("code"), entry.get("message")
        found.append(ErrorDetail(
            code=code if isinstance(code, str) and code else "UNKNOWN",
            message=message if isinstance(message, str) else "",
            detail=entry.get("detail"),
        ))
    return found


def summarize(errors: Sequence[ErrorDetail], status: int, reason: str = "") -> str:
    """One line: ``MANIFEST_UNKNOWN: manifest unknown (+2 more)``, or ``HTTP 503 Service Unavailable``."""
    if not errors:
        if not reason:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = ""
        return " ".join(part for part in (f"HTTP {status}", _one_line(reason)) if part)
    first = errors[0]
    message = _one_line(first.message)
    line = f"{_one_line(first.code, 60)}: {message}" if message else _one_line(first.code, 60)
    return line + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")


def _one_line(text: str, limit: int = 200) -> str:
    """Whitespace (newlines included) collapsed, control characters dropped, cut at ``limit``."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
