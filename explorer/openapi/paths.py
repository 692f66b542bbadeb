"""The ``paths`` of the OpenAPI document, derived row by row from the spec's endpoint table.

Rule: pure. One
OpenAPI operation is one (path, method); the spec's a/b/c rows that differ only
by query (end-4a/4b/4c/11, end-7/7b, end-8a/8b, end-12a/12b) share one
operation, which lists each spec id in ``x-oci-endpoints``.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import parse_qsl

from explorer.openapi.components import ERROR_MEDIA_TYPE, _parameters, error_response_ref
from explorer.protocol import conformance, mediatypes
from explorer.protocol.endpoints import ENDPOINTS, Endpoint

__all__ = ["UPLOAD_PATH", "operations", "openapi_path", "paths"]

UPLOAD_PATH = "/v2/{name}/blobs/uploads/{reference}"
_UPLOAD_NOTE = (
    "**The upload URL is opaque.** It is modelled here as `" + UPLOAD_PATH + "` (distribution's form), but a client"
    " MUST follow the `Location` of the previous answer (relative or absolute, maybe on another host, maybe with a"
    " query such as `_state=` to keep) and never build it."
)
# query parameter name in the table → key in components/parameters
_QUERY_KEYS = {"digest": "digest-query", "digest-algorithm": "digest-algorithm", "mount": "mount",
               "from": "from", "n": "n", "last": "last", "artifactType": "artifactType", "tag": "tag"}


def openapi_path(endpoint: Endpoint) -> tuple[str, list[str]]:
    """``/v2/<name>/manifests/<digest>?tag=<tag>`` → (``/v2/{name}/manifests/{reference}``, ``["tag"]``)."""
    raw = endpoint.path.replace("<blob-push-location>", "/v2/<name>/blobs/uploads/<session>")
    path, _, query = raw.partition("?")
    path = re.sub(r"/manifests/<[^>]+>", "/manifests/<reference>", path)
    path = path.replace("<session>", "<reference>")
    path = re.sub(r"<([^>]+)>", r"{\1}", path)
    return path, [name for name, _ in parse_qsl(query, keep_blank_values=True)]


def operations() -> dict[tuple[str, str], list[Endpoint]]:
    """(OpenAPI path, method) → the table rows it serves, in table order."""
    grouped: dict[tuple[str, str], list[Endpoint]] = {}
    for endpoint in ENDPOINTS:
        path, _ = openapi_path(endpoint)
        for method in endpoint.methods:
            grouped.setdefault((path, method), []).append(endpoint)
    return grouped


def _path_parameters(path: str) -> list[dict[str, Any]]:
    """References to the shared path parameters: examples added to one serve every path."""
    out = []
    for name in re.findall(r"{([^}]+)}", path):
        key = "session" if path == UPLOAD_PATH and name == "reference" else name
        out.append({"$ref": f"#/components/parameters/{key}"})
    return out


def _operation_parameters(path: str, method: str, rows: list[Endpoint]) -> list[dict[str, Any]]:
    params = _parameters()
    out: list[dict[str, Any]] = []  # the path parameters are the path item's
    seen: set[str] = set()
    for row in rows:
        _, query = openapi_path(row)
        for name in query:
            if name in seen:
                continue
            seen.add(name)
            param = copy.deepcopy(params[_QUERY_KEYS[name]])
            param["description"] += f" ({row.id})"
            if len(rows) == 1:  # the only row of this operation: its query is required (end-6's digest)
                param["required"] = True
            out.append(param)
    ids = {row.id for row in rows}
    if "end-3" in ids:
        out.append(copy.deepcopy(params["Accept"]))
    if "end-2" in ids and method == "GET":
        out.append(copy.deepcopy(params["Range"]))
    if "end-5" in ids or "end-6" in ids:
        out.append(copy.deepcopy(params["Content-Range"]))
    return out


def _request_body(method: str, rows: list[Endpoint]) -> dict[str, Any] | None:
    ids = {row.id for row in rows}
    if ids & {"end-7", "end-7b"}:
        types = sorted(mediatypes.MANIFEST_TYPES)
        return {"required": True,
                "description": "The manifest's exact bytes; Content-Type MUST be its `mediaType`.",
                "content": {t: {"schema": {"$ref": "#/components/schemas/Manifest"}} for t in types}}
    if ids & {"end-5", "end-6", "end-4b"}:
        return {"required": "end-5" in ids, "description": "Blob bytes (the chunk, the last chunk or the whole blob).",
                "content": {mediatypes.OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}}}
    return None


_SUCCESS_CONTENT: dict[str, dict[str, Any]] = {
    "end-1": {"application/json": {"schema": {"type": "object"}}},
    "end-2": {mediatypes.OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
    "end-3": {t: {"schema": {"$ref": "#/components/schemas/Manifest"}} for t in sorted(mediatypes.MANIFEST_TYPES)},
    "end-8a": {"application/json": {"schema": {"$ref": "#/components/schemas/TagList"}}},
    "end-8b": {"application/json": {"schema": {"$ref": "#/components/schemas/TagList"}}},
    "end-12a": {mediatypes.OCI_INDEX: {"schema": {"$ref": "#/components/schemas/ReferrersIndex"}}},
    "end-12b": {mediatypes.OCI_INDEX: {"schema": {"$ref": "#/components/schemas/ReferrersIndex"}}},
    "catalog": {"application/json": {"schema": {"$ref": "#/components/schemas/Catalog"}}},
}


def _response(status: int, why: str, method: str, rows: list[Endpoint]) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    for row in rows:
        names = list(conformance.RESPONSE_HEADERS.get((row.id, status), ()))
        rules = conformance.rules_for(row.id, method, status)
        names += [rule.header for rule in rules if rule.header not in names]
        for header in names:
            must = [r for r in rules if r.header == header and r.level == "MUST"]
            if must:
                headers[header] = {"description": f"{conformance.HEADERS.get(header, header)}. MUST ("
                                   + "; ".join(f"{r.section}, {r.version}" for r in must) + ").",
                                   "required": True, "schema": {"type": "string"}}
            else:
                headers.setdefault(header, {"$ref": f"#/components/headers/{header}"})
    if status in conformance.REDIRECT_STATUSES:
        headers["Location"] = {"$ref": "#/components/headers/Location"}
    response: dict[str, Any] = {"description": f"{status}: {why}."}
    if headers:
        response["headers"] = headers
    if method != "HEAD" and status in (200, 206):
        for row in rows:
            if row.id in _SUCCESS_CONTENT:
                response["content"] = copy.deepcopy(_SUCCESS_CONTENT[row.id])
                break
    return response


def _responses(method: str, rows: list[Endpoint]) -> dict[str, Any]:
    allowed: dict[int, str] = {}
    for row in rows:
        for status, why in conformance.allowed_statuses(row, method).items():
            allowed.setdefault(status, why)
    out: dict[str, Any] = {}
    for status in sorted(allowed):
        why = allowed[status]
        shared = error_response_ref(status) if status >= 400 else None
        if shared is not None and method != "HEAD":
            out[str(status)] = shared
        else:
            out[str(status)] = _response(status, why, method, rows)
    out["default"] = {"description": "Any other answer, 5xx above all: the body may be the error envelope, an"
                                     " HTML page from a proxy, or nothing.",
                      "content": {ERROR_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    return out


_SOURCES = {"oci": "OCI v1.1.1", "oci-main": "OCI main, unreleased", "docker": "Docker extension"}


def _operation(path: str, method: str, rows: list[Endpoint]) -> dict[str, Any]:
    ids = [row.id for row in rows]
    head = rows[0]
    lines = [f"- **{row.id}** `{row.path}` ({_SOURCES[row.source]}): {row.meaning}" for row in rows]
    if path == UPLOAD_PATH:
        lines.append("")
        lines.append(_UPLOAD_NOTE)
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_{'_'.join(i.replace('-', '') for i in ids)}",
        "summary": f"{head.title}{' (headers only)' if method == 'HEAD' else ''} ({', '.join(ids)})",
        "description": "\n".join(lines),
        "tags": [head.category],
        "x-oci-endpoints": [{"id": row.id, "path": row.path, "source": row.source,
                             "success": list(row.success), "failure": list(row.failure)} for row in rows],
        "parameters": _operation_parameters(path, method, rows),
        "responses": _responses(method, rows),
    }
    body = _request_body(method, rows)
    if body is not None:
        operation["requestBody"] = body
    return operation


def paths() -> dict[str, dict[str, Any]]:
    """Every table row as an OpenAPI operation under its ``/v2/…`` path."""
    out: dict[str, dict[str, Any]] = {}
    for (path, method), rows in operations().items():
        item = out.setdefault(path, {})
        if "{" in path and "parameters" not in item:
            item["parameters"] = _path_parameters(path)
        item[method.lower()] = _operation(path, method, rows)
    if UPLOAD_PATH in out:
        out[UPLOAD_PATH]["description"] = _UPLOAD_NOTE
    return out
