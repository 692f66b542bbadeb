"""Read a trace as a short signature of (method, endpoint id or host role, status) for assertions."""

from __future__ import annotations

from urllib.parse import urlsplit

from explorer.protocol.endpoints import classify
from explorer.trace import Exchange, Trace


def hop_kind(ex: Exchange) -> str:
    """``end-N`` for registry endpoints, ``token`` for the token realm, ``storage`` for anything else."""
    match = classify(ex.request.method, ex.request.url)
    if match is not None:
        return match.endpoint.id
    query = urlsplit(ex.request.url).query
    if "service=" in query or "scope=" in query or ex.step == "authenticate":
        return "token"
    return "storage"


def signature(trace: Trace) -> list[tuple[str, str, int | None]]:
    return [
        (ex.request.method, hop_kind(ex), ex.response.status if ex.response else None)
        for ex in trace.exchanges
    ]


def step_hops(trace: Trace, step: str) -> list[tuple[str, str, int | None]]:
    """``signature`` of the exchanges of one step."""
    return [hop for ex, hop in zip(trace.exchanges, signature(trace)) if ex.step == step]
