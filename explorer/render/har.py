"""HAR 1.2 (HTTP Archive) from a trace: one page per operation, one entry per exchange.

Rule: pure. Built as a dict, written as JSON.

Mapping (formats.md §5):

* ``timings`` come from the recorder's connection phases: ``blocked``, ``connect``
  (which includes TLS, as in HAR), ``ssl``, ``send``, ``wait``, ``receive``; a phase
  that did not happen (a reused connection has no ``connect``) is ``-1``; ``dns`` is
  always ``-1`` (httpcore resolves inside connect); ``time`` is the sum of the
  non-negative phases other than ``ssl`` (already inside ``connect``), or the
  exchange's duration when no phase was observed;
* ``serverIPAddress`` is the connection's remote host, ``connection`` its local
  address (the client port tells connections apart);
* bodies: text as recorded (already redacted), small binary bodies recorded with
  ``binary_cap`` as base64; anything else is described in ``comment`` and the
  custom fields ``_sha256``/``_truncated`` (HAR allows custom fields starting with ``_``);
* an exchange that got no answer has ``status: 0`` and ``_error``, as browsers write it;
* the annotations ride along: ``comment`` = endpoint id + meaning, ``_step``, ``_endpoint``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from explorer.annotate import AnnotatedExchange, AnnotatedTrace
from explorer.protocol import urls
from explorer.render import jsontext
from explorer.render.base import RenderOptions
from explorer.trace import Body, iso_now

__all__ = ["log", "render"]

_PAGE = "page_1"


def _ms(value: float | None) -> float:
    return -1 if value is None else round(value, 3)


def _headers(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs]


def _cookies(pairs: list[tuple[str, str]], header: str) -> list[dict[str, str]]:
    out = []
    for key, value in pairs:
        if key.lower() != header:
            continue
        for part in value.split(";") if header == "cookie" else value.split(";")[:1]:
            cookie_name, sep, cookie_value = part.strip().partition("=")
            if sep:
                out.append({"name": cookie_name, "value": cookie_value})
    return out


def _body_note(body: Body) -> str:
    state = "truncated" if body.truncated and (body.text or body.base64) else "not recorded"
    return f"body {state}: {body.size} bytes, sha256 {body.sha256}"


def _content(body: Body | None, media_type: str | None) -> dict[str, object]:
    if body is None:
        return {"size": 0, "mimeType": media_type or ""}
    content: dict[str, object] = {"size": body.size, "mimeType": media_type or body.media_type or ""}
    if body.text is not None:
        content["text"] = body.text
    elif body.base64 is not None:
        content["text"], content["encoding"] = body.base64, "base64"
    if body.truncated or (body.size and body.text is None and body.base64 is None):
        content["comment"] = _body_note(body)
        content["_truncated"] = True
    content["_sha256"] = body.sha256
    return content


def _post_data(body: Body | None, media_type: str | None) -> dict[str, object] | None:
    if body is None or body.size == 0:
        return None
    data: dict[str, object] = {"mimeType": media_type or body.media_type or "application/octet-stream"}
    if body.text is not None and not body.truncated:
        data["text"] = body.text
        if "x-www-form-urlencoded" in str(data["mimeType"]):
            data["params"] = [{"name": k, "value": v} for k, v in parse_qsl(body.text, keep_blank_values=True)]
            del data["text"]
    else:  # HAR 1.2 has no postData.encoding: describe binary uploads instead of embedding them
        data["text"] = ""
        data["comment"] = _body_note(body)
    data["_sha256"] = body.sha256
    return data


def _timings(a: AnnotatedExchange) -> tuple[dict[str, float], float]:
    t = a.exchange.timings
    timings = {"blocked": _ms(t.blocked), "dns": -1, "connect": _ms(t.connect), "ssl": _ms(t.tls),
               "send": max(_ms(t.send), 0), "wait": max(_ms(t.wait), 0), "receive": max(_ms(t.receive), 0)}
    observed = [v for k, v in timings.items() if k != "ssl" and v >= 0]
    total = sum(observed)
    if not any(v > 0 for v in observed):  # nothing recorded (imported or replayed trace): keep the duration
        timings["wait"] = round(a.exchange.duration_ms, 3)
        total = timings["wait"] + max(timings["blocked"], 0) + max(timings["connect"], 0)
    return timings, round(total, 3)


def _entry(a: AnnotatedExchange) -> dict[str, object]:
    ex = a.exchange
    req, resp = ex.request, ex.response
    version = resp.http_version if resp else "HTTP/1.1"
    request = {
        "method": req.method, "url": req.url, "httpVersion": version,
        "cookies": _cookies(req.headers, "cookie"), "headers": _headers(req.headers),
        "queryString": [{"name": k, "value": v} for k, v in urls.query_pairs(req.url)],
        "headersSize": -1, "bodySize": req.body.size if req.body else 0,
    }
    post = _post_data(req.body, req.header("content-type"))
    if post is not None:
        request["postData"] = post
    if resp is None:
        response = {"status": 0, "statusText": "", "httpVersion": version, "cookies": [], "headers": [],
                    "content": {"size": 0, "mimeType": ""}, "redirectURL": "", "headersSize": -1, "bodySize": -1,
                    "_error": ex.error or "no response"}
    else:
        location = resp.header("location") if 300 <= resp.status < 400 else None
        response = {
            "status": resp.status, "statusText": resp.reason, "httpVersion": resp.http_version,
            "cookies": _cookies(resp.headers, "set-cookie"), "headers": _headers(resp.headers),
            "content": _content(resp.body, resp.header("content-type")),
            "redirectURL": urls.join(req.url, location) if location else "",
            "headersSize": -1, "bodySize": resp.body.size if resp.body else 0,
        }
        if ex.error:  # the body broke off after this response: why (as for no response)
            response["_error"] = ex.error
    timings, total = _timings(a)
    entry: dict[str, object] = {
        "pageref": _PAGE, "startedDateTime": ex.started, "time": total, "request": request, "response": response,
        "cache": {}, "timings": timings,
    }
    conn = ex.connection
    if conn is not None and conn.remote:
        entry["serverIPAddress"] = conn.remote.rpartition(":")[0].strip("[]")
    if conn is not None and conn.local:
        entry["connection"] = conn.local
    entry["comment"] = a.note or a.endpoint
    entry["_step"] = ex.step
    entry["_duration_ms"] = round(ex.duration_ms, 3)
    entry["_endpoint"] = a.endpoint_id
    entry["_why"] = a.why
    return entry


def log(annotated: AnnotatedTrace, options: RenderOptions | None = None) -> dict[str, object]:
    """The HAR document as a dict (``render`` is its JSON text)."""
    trace = annotated.trace
    summary = annotated.summary
    started = trace.exchanges[0].started if trace.exchanges else trace.created
    title = (options.title if options and options.title else None) or summary.title
    page = {"startedDateTime": started, "id": _PAGE, "title": title,
            "pageTimings": {"onContentLoad": -1, "onLoad": round(summary.wall_ms, 3)},
            "comment": f"{summary.line}; outcome {summary.outcome}" + (
                f": {summary.outcome_message}" if summary.outcome_message else "")}
    return {"log": {
        "version": "1.2",
        "creator": {"name": trace.tool.get("name", "regexplore"), "version": trace.tool.get("version", "0")},
        "pages": [page],
        "entries": [_entry(a) for a in annotated.exchanges],
        "comment": "recorded by regexplore; secrets were redacted before recording (`<redacted>`)",
        "_command": trace.command, "_operation": trace.operation, "_target": trace.target,
        "_created": trace.created or iso_now(),
    }}


def render(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    return jsontext.dumps(log(annotated, options), indent=1) + "\n"
