"""The Postman v2.1.0 shapes both collections build: URL objects, auth, scripts, and inert recorded text.

Rule: pure.

Postman fills ``{{name}}`` in URLs, headers, bodies and even variable values, so a recorded
``{{password}}`` would send the user's password wherever the recorded text goes. Recorded
text therefore passes through :func:`inert_url` (braces, spaces and control characters
percent-encoded: the same URL to a server) or :func:`inert_text` (every ``{{`` becomes
``{ {``) before a collection holds it; only our own variables keep their ``{{…}}``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from explorer.protocol import urls

__all__ = ["BASIC", "BEARER", "NOAUTH", "SCHEMA", "inert_text", "inert_url", "script", "url_object", "variables"]

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
BEARER: dict[str, Any] = {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]}
BASIC: dict[str, Any] = {"type": "basic", "basic": [{"key": "username", "value": "{{username}}", "type": "string"},
                                                    {"key": "password", "value": "{{password}}", "type": "string"}]}
NOAUTH: dict[str, Any] = {"type": "noauth"}

# what a URL may keep as it is: RFC 3986 reserved and unreserved characters and '%' (escapes stay escapes)
_URL_SAFE = "-._~:/?#[]@!$&'()*+,;=%"


def inert_text(text: str) -> str:
    """``text`` with no ``{{`` left for Postman to fill in (each becomes ``{ {``)."""
    while "{{" in text:
        text = text.replace("{{", "{ {")
    return text


def inert_header(text: str) -> str:
    """A recorded header name or value: inert, and only what HTTP may send (others percent-encoded, a lone
    surrogate as the bytes ``surrogatepass`` gives it: UTF-8 has none for it)."""
    return inert_text("".join(ch if ch == "\t" or " " <= ch <= "~" else quote(ch, safe="", errors="surrogatepass")
                              for ch in text))


def inert_url(url: str) -> str:
    """A recorded URL with braces, spaces, quotes, control and non-ASCII characters percent-encoded."""
    return quote(url, safe=_URL_SAFE, errors="surrogatepass")  # a lone surrogate: as in inert_header


def script(kind: str, lines: list[str]) -> dict[str, Any]:
    """A ``prerequest`` or ``test`` event."""
    return {"listen": kind, "script": {"type": "text/javascript", "exec": lines}}


def url_object(raw: str) -> dict[str, object]:
    """A Postman URL object whose parts agree with ``raw`` (``{{var}}`` hosts carry their scheme)."""
    head, _, query = raw.partition("?")
    out: dict[str, object] = {"raw": raw}
    if head.startswith("{{"):
        host, _, path = head.partition("}}")
        out["host"] = [host + "}}"]
    else:
        parts = urls.split(head)
        out["protocol"] = parts.scheme
        out["host"] = (parts.hostname or "").split(".")
        try:
            port = parts.port
        except ValueError:  # a recorded URL with a port that is no number: the raw URL says it all
            port = None
        if port:
            out["port"] = str(port)
        path = parts.path
    if path:
        out["path"] = path.lstrip("/").split("/")
    if query:
        out["query"] = [{"key": k, "value": v} for k, _, v in (item.partition("=") for item in query.split("&"))]
    return out


def variables(values: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    """Collection variables from (key, value, description); values are inert (Postman resolves nested ``{{…}}``)."""
    return [{"key": k, "value": inert_text(v), "type": "string", "description": d} for k, v, d in values]
