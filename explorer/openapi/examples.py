"""Recorded exchanges as named OpenAPI examples: parameter values, response headers and bodies.

Rule 1: pure.
Rule 2: every value is untrusted data. It is redacted again here (a hand-made or
imported trace may not have been), control characters are dropped from the
one-line summaries, and values only ever land in JSON/YAML string or object
positions: the document's serializer encodes them, no value is ever a key of
anything but an example name we build from numbers and a cleaned label.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from explorer.openapi.paths import openapi_path
from explorer.protocol.endpoints import classify
from explorer.recording.redact import redact_header_value, redact_request_headers, redact_response_headers, redact_text, redact_url
from explorer.trace import Exchange, Trace

__all__ = ["add_examples", "example_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def example_name(label: str, exchange_id: int) -> str:
    """``pull`` and 3 → ``pull-3`` (only ``[A-Za-z0-9._-]``, as component keys must be)."""
    clean = _UNSAFE.sub("-", label).strip("-")[:40] or "trace"
    return f"{clean}-{exchange_id}"


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _body_value(exchange: Exchange) -> Any:
    body = exchange.response.body if exchange.response else None
    if body is None or body.text is None:
        return None
    text = redact_text(body.text, body.media_type)
    if not body.truncated:
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            pass
    return text


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A component reference replaced by a copy of what it names (so examples can be added to it)."""
    return copy.deepcopy(_target(document, node)) if "$ref" in node else node


def _target(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """What a component reference names (the same object, to be added to), or the node itself."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


_Found = tuple[dict[str, Any], dict[str, Any], dict[str, str]]  # path item, operation, path parameter values


def _operation_for(document: dict[str, Any], exchange: Exchange) -> _Found | None:
    """The operation an exchange performed, and the path parameter values it used."""
    request = exchange.request
    match = classify(request.method, request.url)
    if match is None:
        query = urlsplit(request.url).query
        if request.method in ("GET", "POST") and ("service=" in query or "scope=" in query):
            item = document["paths"].get("/token", {})
            token = item.get(request.method.lower())
            return (item, token, {}) if token else None
        return None
    path, _ = openapi_path(match.endpoint)
    item = document["paths"].get(path, {})
    operation = item.get(request.method.lower())
    if operation is None:
        return None
    values = {"name": match.name or ""}
    if "{reference}" in path:
        values["reference"] = match.reference or ""
    if "{digest}" in path:
        values["digest"] = match.reference or ""
    return item, operation, values


def _request_value(param: dict[str, Any], values: dict[str, str], request: Any) -> str | None:
    """The value a recorded request gave a parameter (path, query or header), redacted."""
    where, key = param.get("in"), param.get("name", "")
    if where == "path":
        return values.get(key)
    if where == "header":
        value = request.header(key)
        return redact_header_value(key, value, request=True) if value is not None else None
    if where == "query":
        found = [v for k, v in parse_qsl(urlsplit(redact_url(request.url)).query, keep_blank_values=True) if k == key]
        return found[0] if found else None
    return None


def add_examples(document: dict[str, Any], label: str, trace: Trace) -> int:
    """Add each exchange of ``trace`` as an example named ``<label>-<id>``; the number added."""
    added = 0
    for exchange in trace.exchanges:
        found = _operation_for(document, exchange)
        if found is None or exchange.response is None:
            continue
        item, operation, values = found
        name = example_name(label, exchange.id)
        request, response = exchange.request, exchange.response
        url = redact_url(request.url)
        summary = _one_line(f"{label} #{exchange.id}: {request.method} {urlsplit(url).path} → {response.status}")
        for param in [*item.get("parameters", []), *operation.get("parameters", [])]:
            param = _target(document, param)
            value = _request_value(param, values, request)
            if value:
                param.pop("example", None)  # example and examples exclude each other; the recorded ones win
                param.setdefault("examples", {})[name] = {"summary": summary, "value": value}
        responses = operation["responses"]
        key = str(response.status) if str(response.status) in responses else "default"
        entry = responses[key] = _resolve(document, responses[key])
        recorded = redact_response_headers(response.headers)
        headers = entry.get("headers", {})
        for header_name in headers:
            value = next((v for n, v in recorded if n.lower() == header_name.lower()), None)
            if value is not None:
                header = headers[header_name] = _resolve(document, headers[header_name])
                header.setdefault("examples", {})[name] = {"summary": summary, "value": value}
        content_type = (response.header("content-type") or "").split(";", 1)[0].strip().lower()
        body = _body_value(exchange)
        if body is not None and request.method != "HEAD":
            media = entry.setdefault("content", {}).setdefault(content_type or "application/octet-stream", {})
            media.setdefault("examples", {})[name] = {
                "summary": summary, "value": body,
                "x-request": {"method": request.method, "url": url,
                              "headers": [list(h) for h in redact_request_headers(request.headers)]},
                "x-response-headers": [list(h) for h in recorded],
            }
        added += 1
    return added
