"""One self-contained HTML page → ``templates/html.html.j2``: the SVG diagram, a step list, details.

Rule: the page loads nothing from anywhere (no CDN, no fonts) and
works from ``file://``: inline SVG (``svg.layout``), inline CSS, a little
inline JS, and the exchanges' details as JSON in a ``<script
type="application/json">`` (Jinja2's ``tojson`` escapes ``<``, ``>``, ``&``).
The JS only ever sets ``textContent``, so recorded text cannot inject markup.
Every recorded value the page shows passes ``printable``: the header's
``created``, ``command``, outcome and tool on one line, every string of the
details and the step list with their line breaks and tabs (``printable_lines``);
no other control character or escape sequence reaches the page.

Clicking an arrow (or ``#x=3`` in the URL) shows that exchange: request line
and headers, response status and headers, the body preview or description,
timings, and the annotation with the spec endpoint id. Up/down arrow keys
walk ALL exchanges in drawing order. When repetitions were collapsed the page
also holds the full drawing (ids prefixed ``full-``): clicking a "… N more
like this" line, or walking to an exchange that is not drawn, expands it.
Above :data:`EXPAND_LIMIT` exchanges the page stays small instead (the drawn
exchanges only; the page says to render with ``--full``).
"""

from __future__ import annotations

from typing import Any

from explorer.annotate import AnnotatedExchange, AnnotatedTrace, human_duration, human_size
from explorer.printable import printable, printable_lines
from explorer.render import svg, view
from explorer.render.base import RenderOptions
from explorer.trace import Body

__all__ = ["render"]

PREVIEW = 4000  # characters of a kept text body shown in the panel
EXPAND_LIMIT = 1000  # exchanges up to which the page carries every exchange and the full drawing


def _body(body: Body | None) -> dict[str, Any] | None:
    if body is None:
        return None
    described = {
        "size": human_size(body.size) + ("" if body.size < 1000 else f" ({body.size:,} bytes)"),
        "sha256": body.sha256, "media_type": body.media_type or "",
        "complete": body.complete, "truncated": body.truncated,
    }
    if body.text is not None:
        cut = len(body.text) > PREVIEW
        described["preview"] = body.text[:PREVIEW] + ("\n…" if cut else "")
    elif body.base64 is not None:
        described["preview"] = f"(binary, {len(body.base64)} characters of base64 kept)"
    return described


def _shown(value: Any) -> Any:
    """``value`` with every string made printable; line breaks and tabs stay (``textContent`` shows them as such)."""
    if isinstance(value, str):
        return printable_lines(value)
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shown(v) for v in value]
    return value


def _details(a: AnnotatedExchange) -> dict[str, Any]:
    return _shown(_raw_details(a))  # type: ignore[no-any-return]


def _raw_details(a: AnnotatedExchange) -> dict[str, Any]:
    ex = a.exchange
    resp = ex.response
    timings = {k: v for k, v in ex.timings.to_dict().items() if v is not None}
    return {
        "number": a.number,
        "step": ex.step or "",
        "started": ex.started,
        "duration": human_duration(ex.duration_ms),
        "participant": f"{a.participant.role} {a.participant.host}".strip(),
        "endpoint": f"{a.endpoint_id} · {a.endpoint}" if a.endpoint_id else a.endpoint,
        "meaning": a.meaning,
        "why": a.why,
        "labels": [a.request_label, a.response_label],
        "errors": [e.line for e in a.errors],
        "request": {"line": f"{ex.request.method} {ex.request.url}", "headers": ex.request.headers,
                    "body": _body(ex.request.body)},
        "response": None if resp is None else {
            "line": f"{resp.http_version} {resp.status} {resp.reason}".strip(), "headers": resp.headers,
            "body": _body(resp.body)},
        "error": ex.error,
        "timings": {k: f"{v:.1f} ms" for k, v in timings.items()},
        "connection": ex.connection.to_dict() if ex.connection else None,
    }


def _steps(sequence: view.SequenceView) -> list[dict[str, Any]]:
    """The side list: every section and loop with the first exchange drawn inside it."""
    out: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    for ev in sequence.events:
        if ev.kind in ("section", "loop"):
            item = {"anchor": ev.anchor, "text": ev.text, "depth": ev.depth, "kind": ev.kind, "exchange": 0}
            out.append(item)
            pending.append(item)
        elif ev.kind == "arrow" and ev.arrow is not None:
            for item in pending:
                item["exchange"] = ev.arrow.exchange
            pending = []
    return out


def render(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    trace = annotated.trace
    settings = {"notes": options.notes, "timing": options.timing, "title": options.title}
    sequence = view.build(annotated, full=options.full, **settings)  # type: ignore[arg-type]
    drawing = svg.layout(sequence)
    expanded = None
    carried = annotated.exchanges
    order = sequence.order
    if sequence.collapsed and len(carried) <= EXPAND_LIMIT:
        every = view.build(annotated, full=True, **settings)  # type: ignore[arg-type]
        expanded = svg.layout(every, prefix="full-")
        order = every.order
    elif sequence.collapsed:  # too many to carry: the drawn ones only
        carried = tuple(sequence.shown)
        order = [a.number for a in carried]
    summary = annotated.summary
    return svg.TEMPLATES.render(
        "html.html.j2", d=drawing, expanded=expanded, standalone=False,
        summary={"line": printable(summary.line), "outcome": printable(summary.outcome),
                 "outcome_message": printable(summary.outcome_message or "")},
        title=printable(sequence.title), steps=_shown(_steps(sequence)),
        details={str(a.number): _details(a) for a in carried}, order=order,
        command=printable(" ".join(trace.command)), created=printable(trace.created or ""),
        tool=printable(f"{trace.tool.get('name', 'regexplore')} {trace.tool.get('version', '')}".strip()))
