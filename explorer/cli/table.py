"""The plain-text exchange table of ``regexplore show``: #, step, method, path, status, size, time.

Rule: reads a Trace, returns text; no httpx, no rich, so it is
fast and pipes cleanly. Every cell goes through ``printable``: a trace's values
may carry terminal control sequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from explorer.printable import printable
from explorer.protocol.ratelimit import last_rate_limit, rate_limit
from explorer.trace import Exchange, Trace
from explorer.units import human_size

__all__ = ["exchange_table"]

_COLUMNS = ("#", "step", "method", "path", "status", "size", "time")
_MAX_PATH = 64


def exchange_table(trace: Trace, steps: Sequence[str | None] | None = None) -> str:
    """The table; ``steps`` replaces the recorded labels (``annotate.step_labels``: imports have none)."""
    registry = _registry_netloc(trace)
    labels = list(steps) if steps is not None else [ex.step for ex in trace.exchanges]
    rows = [tuple(printable(c) for c in _row(ex, registry, step)) for ex, step in zip(trace.exchanges, labels)]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(_COLUMNS)]
    right = {0, 4, 5, 6}

    def fmt(cells: tuple[str, ...]) -> str:
        out = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(out).rstrip()

    lines = [fmt(_COLUMNS)] + [fmt(r) for r in rows]
    head = f"{trace.operation or 'trace'} {trace.target or ''}".rstrip()
    outcome = trace.outcome.status if trace.outcome.status == "ok" else f"{trace.outcome.status}: {trace.outcome.message}"
    title = printable(f"{head} — {len(trace.exchanges)} exchanges, {outcome}")
    return title + "\n" + "\n".join(lines) + "\n" + _rate_limits(trace)


def _rate_limits(trace: Trace) -> str:
    """Docker Hub's rate-limit headers per exchange, and what is left at the end; "" when none was sent."""
    answers = [ex.response.headers for ex in trace.exchanges if ex.response is not None]
    rows = [(ex.id, rate_limit(ex.response.headers)) for ex in trace.exchanges if ex.response is not None]
    shown = [f"{number:>3}  {limit.line()}" for number, limit in rows if limit is not None]
    last = last_rate_limit(answers)
    if last is None:
        return ""
    lines = [printable(line) for line in shown] + [printable(f"left at the end: {last.line()}")]
    return "rate limit (ratelimit-* headers):\n" + "\n".join(lines) + "\n"


def _registry_netloc(trace: Trace) -> str | None:
    for ex in trace.exchanges:
        parts = urlsplit(ex.request.url)
        if parts.path.startswith("/v2"):
            return parts.netloc
    return None


def _row(ex: Exchange, registry: str | None, step: str | None) -> tuple[str, ...]:
    parts = urlsplit(ex.request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.netloc != registry:
        path = f"{parts.netloc}{path}"
    if len(path) > _MAX_PATH:
        path = path[: _MAX_PATH - 1] + "…"
    if ex.response is None:
        status, size = "ERR", "-"
    else:
        status = str(ex.response.status)
        size = human_size(ex.response.body.size) if ex.response.body else "0"
    return (str(ex.id), step or "", ex.request.method, path, status, size, f"{ex.duration_ms:.1f} ms")
