"""vcrpy cassette → trace: someone's recorded test traffic, shown as a registry conversation.

Rule: PyYAML is loaded for YAML cassettes only (vcrpy's
``serializer="json"`` cassettes need nothing). Loading is ``limits.load_yaml``: PyYAML's
safe loader (a cassette is data, and vcrpy itself refuses ``!!python/object`` tags since
8.2.1) with the nesting depth and the expansion of aliases capped (no alias bomb).

Shapes read: vcrpy ≥ 1.0 ``{"interactions": [{"request": {method, uri, body, headers},
"response": {status: {code, message}, headers, body: {string}}}], "version": 1}``
and the pre-6.0 httpx response shape ``{status_code, headers, content}``. Header
values are lists (vcrpy) or strings. Bodies are text, bytes (``!!binary``) or null.
Cassettes carry no times: every exchange starts at the import time, duration 0.
"""

from __future__ import annotations

import json
from typing import Any

from explorer.errors import TraceFormatError
from explorer.importers import limits
from explorer.importers.redacting import CaptureRedactor, Message, Record
from explorer.trace import Trace, iso_now

__all__ = ["parse"]


def _load(text: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return limits.load_json(text, "cassette")
        except ValueError as exc:
            raise TraceFormatError(f"not a cassette (bad JSON: {exc})") from None
    return limits.load_yaml(text, "cassette")


def _headers(data: Any) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return []
    out = []
    for key, values in data.items():
        for value in values if isinstance(values, list) else [values]:
            out.append((str(key), str(value)))
    return out


def _bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace")  # a lone surrogate: its escape, as for HAR
    raise TraceFormatError("a body is neither text nor bytes")


def _message(headers: list[tuple[str, str]], body: Any) -> Message:
    content = _bytes(body)
    media = next((v for k, v in headers if k.lower() == "content-type"), None)
    return Message(headers, content, len(content) if content is not None else None, media)


def _record(item: Any, started: str) -> Record:
    if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
        raise TraceFormatError("an interaction has no request")
    req, resp = item["request"], item.get("response")
    if not isinstance(req.get("uri"), str) or not isinstance(req.get("method"), str):
        raise TraceFormatError("an interaction's request has no method and uri")
    resp = resp if isinstance(resp, dict) else {}
    resp_headers = _headers(resp.get("headers"))
    if "status_code" in resp:  # httpx cassettes written before vcrpy 6.0
        code, message, body = resp.get("status_code"), "", resp.get("content")
    else:
        status = resp.get("status") if isinstance(resp.get("status"), dict) else {}
        code, message = status.get("code"), status.get("message") or ""
        body = resp.get("body", {}).get("string") if isinstance(resp.get("body"), dict) else resp.get("body")
    if not isinstance(code, int) or not 100 <= code <= 599:
        raise TraceFormatError(f"an interaction has no valid status code ({code!r})")
    req_headers = _headers(req.get("headers"))
    return Record(method=req["method"], url=req["uri"], request=_message(req_headers, req.get("body")), status=code,
                  reason=str(message), response=_message(resp_headers, body), started=started)


def parse(text: str, *, source: str = "cassette.yaml", binary_cap: int = 0) -> Trace:
    data = _load(text)
    if isinstance(data, list):
        raise TraceFormatError("a cassette from before vcrpy 1.0", "re-record it, or run vcrpy's migration script")
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise TraceFormatError("not a vcrpy cassette (no interactions list)", "pass a cassette .yaml or .json")
    started = iso_now()
    records = [_record(item, started) for item in data["interactions"]]
    redactor = CaptureRedactor(binary_cap=binary_cap)
    redactor.learn(records)
    trace = Trace(command=["regexplore", "import", "cassette", source], created=started)
    trace.exchanges = [redactor.exchange(n, r) for n, r in enumerate(records, start=1)]
    return trace
