"""HAR 1.2 → trace: captures of docker/podman/skopeo traffic by mitmproxy or a browser, or our own HARs.

Mapping, the inverse of ``explorer/render/har.py``: entries → exchanges in
``startedDateTime`` order; ``timings`` → trace timings (``-1`` → null; ``ssl`` → ``tls``);
``serverIPAddress`` + the URL's port → ``connection.remote``, ``connection`` →
``connection.local``; ``content.text`` (``encoding: base64`` decoded) → the body;
``status: 0`` → an exchange without response (``_error`` or "no response"); a response's
``_error`` (ours: its body broke off) → the exchange's error beside it. Our
own custom fields come back: ``_step``, ``_sha256``, ``log._operation``/``_target``.
Bodies a HAR leaves out (or that we marked ``_truncated``) are described by their stated
size and ``_sha256``; without one the sha256 is unknown and that of the empty string is
written, with ``truncated`` set (trace format 1 has no "unknown" hash).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from explorer.errors import TraceFormatError
from explorer.importers import limits
from explorer.importers.redacting import CaptureRedactor, Message, Record
from explorer.trace import Connection, Timings, Trace, iso_now, iso_time

__all__ = ["parse"]


def _time(value: Any) -> str:
    if not isinstance(value, str):
        raise TraceFormatError("an entry has no startedDateTime")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TraceFormatError(f"startedDateTime {value!r} is not ISO-8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return iso_time(moment)


def _ms(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)


def _headers(items: Any) -> list[tuple[str, str]]:
    if not isinstance(items, list):
        return []
    return [(str(h.get("name", "")), str(h.get("value", ""))) for h in items if isinstance(h, dict) and h.get("name")]


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def _str(value: Any) -> str | None:
    """A HAR field that must be a string: anything else counts as absent."""
    return value if isinstance(value, str) else None


def _content(content: Any, headers: list[tuple[str, str]], stated: Any) -> Message:
    content = content if isinstance(content, dict) else {}
    text = content.get("text")
    data: bytes | None = None
    if isinstance(text, str) and not content.get("_truncated"):
        if content.get("encoding") == "base64":
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise TraceFormatError("a body says encoding base64 but is not base64") from None
        else:
            data = text.encode("utf-8", "backslashreplace")  # a lone surrogate (JSON may escape one): its escape
    size = content.get("size")
    if not isinstance(size, int) or size < 0:
        size = stated if isinstance(stated, int) and stated >= 0 else None
    media = _str(content.get("mimeType")) or _first(headers, "content-type") or None
    sha = _str(content.get("_sha256"))
    truncated = bool(content.get("_truncated")) if sha else None  # our own HAR says; others: from the sizes
    return Message(headers, data, size, media, sha, truncated)


def _post_data(post: Any, headers: list[tuple[str, str]], stated: Any) -> Message:
    if not isinstance(post, dict):
        size = stated if isinstance(stated, int) and stated > 0 else None
        return Message(headers, None if size else b"", size)
    text = _str(post.get("text"))
    if not text and isinstance(post.get("params"), list):
        from urllib.parse import urlencode

        params = [p for p in post["params"] if isinstance(p, dict)]
        text = urlencode([(str(p.get("name", "")), str(p.get("value", ""))) for p in params])
    media = _str(post.get("mimeType")) or _first(headers, "content-type")
    size = stated if isinstance(stated, int) and stated >= 0 else None
    sha = _str(post.get("_sha256"))
    if not text and size:  # a binary upload HAR 1.2 cannot carry: described only
        return Message(headers, None, size, media, sha)
    return Message(headers, (text or "").encode("utf-8", "backslashreplace"), size, media, sha)


def _record(entry: Any) -> Record:
    if not isinstance(entry, dict):
        raise TraceFormatError("an entry is not an object")
    req, resp = entry.get("request"), entry.get("response")
    if not isinstance(req, dict) or not isinstance(req.get("url"), str) or not isinstance(req.get("method"), str):
        raise TraceFormatError("an entry has no request method and url")
    resp = resp if isinstance(resp, dict) else {}
    req_headers, resp_headers = _headers(req.get("headers")), _headers(resp.get("headers"))
    status = resp.get("status")
    status = status if isinstance(status, int) and 100 <= status <= 599 else None
    t = entry.get("timings") if isinstance(entry.get("timings"), dict) else {}
    connect = _ms(t.get("connect"))
    remote = entry.get("serverIPAddress")
    connection = None
    if isinstance(remote, str) and remote:
        parts = urlsplit(req["url"])
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
        host = f"[{remote}]" if ":" in remote else remote
        local = entry.get("connection")
        connection = Connection(local=str(local) if local is not None else None,
                                remote=f"{host}:{port}" if port else host, reused=connect is None)
    version = str(resp.get("httpVersion") or req.get("httpVersion") or "HTTP/1.1")
    return Record(
        method=req["method"], url=req["url"], request=_post_data(req.get("postData"), req_headers, req.get("bodySize")),
        status=status, reason=str(resp.get("statusText") or ""),
        http_version=version.upper() if version.lower().startswith("http/") else version,
        response=_content(resp.get("content"), resp_headers, resp.get("bodySize")),
        error=str(resp.get("_error") or entry.get("_error") or "no response (status 0)") if status is None
        else str(resp["_error"]) if resp.get("_error") else None,  # ours: the body broke off after the response
        started=_time(entry.get("startedDateTime")), duration_ms=_ms(entry.get("_duration_ms")) or _ms(entry.get("time")) or 0.0,
        step=entry.get("_step") if isinstance(entry.get("_step"), str) else None,
        timings=Timings(blocked=_ms(t.get("blocked")), connect=connect, tls=_ms(t.get("ssl")),
                        send=_ms(t.get("send")), wait=_ms(t.get("wait")), receive=_ms(t.get("receive"))),
        connection=connection,
    )


def parse(text: str, *, source: str = "capture.har", binary_cap: int = 0) -> Trace:
    try:
        data = limits.load_json(text, "HAR file")
    except ValueError as exc:
        raise TraceFormatError(f"not a HAR file (not JSON: {exc})", "pass a .har file") from None
    log = data.get("log") if isinstance(data, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise TraceFormatError("not a HAR file (no log.entries)", "pass a .har file")
    records = sorted((_record(e) for e in log["entries"]), key=lambda r: r.started)
    redactor = CaptureRedactor(binary_cap=binary_cap)
    redactor.learn(records)
    operation = log.get("_operation") if isinstance(log.get("_operation"), str) else None
    target = log.get("_target") if isinstance(log.get("_target"), str) else None
    created = records[0].started if records else iso_now()
    trace = Trace(command=["regexplore", "import", "har", source], operation=operation,
                  target=redactor.secrets.scrub(target) if target else None, created=created)
    trace.exchanges = [redactor.exchange(n, r) for n, r in enumerate(records, start=1)]
    return trace
