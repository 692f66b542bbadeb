"""The OpenAPI document as one browsable, offline, self-contained HTML page.

Rule 1: pure; the view model is built here, ``templates/openapi.html.j2`` only loops
and prints (autoescaped). No script at all, no external resource: a
Content-Security-Policy of ``default-src 'none'`` forbids any, so nothing a
recorded value holds can run or load anything.
Rule 2: descriptions are ours and use two bits of Markdown (```code``` and
``**strong**``); they are escaped first, then those two are turned into tags.
Example values (recorded, untrusted) are only ever shown escaped, in ``<pre>``,
and without control characters (``printable``: no escape sequence reaches a reader
who copies them to a terminal).
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup, escape

from explorer.printable import printable, printable_lines
from explorer.protocol import errorcodes
from explorer.render.base import Templates

__all__ = ["page_model", "render_page"]

TEMPLATES = Templates()  # the page uses no filter of its own (autoescaped: *.html.j2)

_VERBS = ("get", "head", "put", "post", "patch", "delete")
_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")


def _text(markdown: str | None) -> Markup:
    """Our descriptions: escaped, then `code`, **strong** and line breaks as HTML."""
    out = str(escape(markdown or ""))
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _STRONG.sub(r"<strong>\1</strong>", out)
    return Markup(out.replace("\n", "<br>"))


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _schema_text(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = schema.get("type", "")
    kind = " | ".join(kind) if isinstance(kind, list) else kind
    if kind == "array" and isinstance(schema.get("items"), dict):
        kind = f"array of {_schema_text(schema['items']) or 'any'}"
    pattern = schema.get("pattern")
    return f"{kind} matching {pattern}" if pattern else kind


def _examples(holder: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for name, example in (holder.get("examples") or {}).items():
        value = example.get("value")
        text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
        out.append({"name": printable(name), "summary": printable(example.get("summary", "")),
                    "value": printable_lines(text)})
    return out


def _parameter(document: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    param = _resolve(document, raw)
    return {"name": param["name"], "where": param["in"], "required": bool(param.get("required")),
            "description": _text(param.get("description")), "schema": _schema_text(param.get("schema")),
            "examples": _examples(param)}


def _response(document: dict[str, Any], status: str, raw: dict[str, Any]) -> dict[str, Any]:
    response = _resolve(document, raw)
    headers = []
    examples = []
    for name, header in (response.get("headers") or {}).items():
        header = _resolve(document, header)
        headers.append({"name": name, "required": bool(header.get("required")),
                        "description": _text(header.get("description"))})
    content = []
    for media_type, media in (response.get("content") or {}).items():
        content.append({"type": media_type, "schema": _schema_text(media.get("schema"))})
        examples += [{**e, "type": media_type} for e in _examples(media)]
    return {"status": status, "description": _text(response.get("description")), "headers": headers,
            "content": content, "examples": examples}


def page_model(document: dict[str, Any]) -> dict[str, Any]:
    """What the template prints: sections by tag, operations, error codes, schemas."""
    sections: dict[str, list[dict[str, Any]]] = {tag["name"]: [] for tag in document.get("tags", [])}
    for path, item in document["paths"].items():
        shared = [_parameter(document, p) for p in item.get("parameters", [])]
        for verb in _VERBS:
            if verb not in item:
                continue
            operation = item[verb]
            servers = item.get("servers") or operation.get("servers") or []
            sections.setdefault(operation["tags"][0], []).append({
                "anchor": operation["operationId"], "method": verb.upper(), "path": path,
                "summary": operation.get("summary", ""), "description": _text(operation.get("description")),
                "server": servers[0]["url"] if servers else "",
                "server_note": _text(servers[0].get("description")) if servers else "",
                "parameters": shared + [_parameter(document, p) for p in operation.get("parameters", [])],
                "body": [t for t in (operation.get("requestBody") or {}).get("content", {})],
                "responses": [_response(document, status, r) for status, r in operation["responses"].items()],
            })
    schemas = document["components"]["schemas"]
    return {
        "title": printable(document["info"]["title"]),
        "version": document["info"]["version"],
        "description": _text(document["info"].get("description")),
        "server": document["servers"][0]["url"],
        "sections": [{"tag": tag, "operations": ops} for tag, ops in sections.items() if ops],
        "error_codes": [{"id": e.oci_id or "docker", "code": e.code, "meaning": e.meaning, "status": e.status}
                        for e in errorcodes.ERROR_CODES],
        "schemas": [{"name": name, "json": json.dumps(schema, indent=2, ensure_ascii=False)}
                    for name, schema in schemas.items() if name != "ErrorCode"],
        "security": [{"name": name, "scheme": s.get("scheme", ""), "description": _text(s.get("description"))}
                     for name, s in document["components"]["securitySchemes"].items()],
    }


def render_page(document: dict[str, Any]) -> str:
    return TEMPLATES.render("openapi.html.j2", page=page_model(document))
