"""A trace as comparable hops: ``signature(trace)`` plus, for registry hops, the digests and error codes seen.

Rule: ``(method, kind, status)`` is exactly ``tests.infra.traces.signature`` —
auth round trips and redirect hops included, nothing normalised away.
Digests (named in the URL, answered in ``Docker-Content-Digest``) and error
codes (of ``{"errors": [...]}`` bodies) are read from registry hops only: the
token server and the blob storage are stand-ins of our own on both sides, not
the registries under comparison.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from explorer.protocol.errorcodes import parse_error_body
from explorer.trace import Exchange, Trace
from tests.infra.traces import signature

__all__ = ["ANY", "Hop", "hops"]

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
ANY: tuple[str, ...] = ("*",)  # digests/errors of a hop a named difference rewrote: not compared


@dataclass(frozen=True)
class Hop:
    method: str
    kind: str  # end-N, catalog, token, storage
    status: int | None
    digests: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def signature(self) -> tuple[str, str, int | None]:
        return self.method, self.kind, self.status

    def matches(self, other: Hop) -> bool:
        """Same signature, and the same digests and errors unless either side is ``ANY``."""
        if self.signature != other.signature:
            return False
        return all(mine == ANY or theirs == ANY or mine == theirs
                   for mine, theirs in ((self.digests, other.digests), (self.errors, other.errors)))

    def __str__(self) -> str:
        extra = " ".join([*(d[7:19] for d in self.digests), *self.errors])
        return f"{self.method} {self.kind} {self.status}" + (f" [{extra}]" if extra else "")


def hops(trace: Trace) -> list[Hop]:
    out = []
    for (method, kind, status), exchange in zip(signature(trace), trace.exchanges):
        if kind in ("token", "storage"):
            out.append(Hop(method, kind, status))
        else:
            out.append(Hop(method, kind, status, _digests(exchange), _errors(exchange)))
    return out


def _digests(exchange: Exchange) -> tuple[str, ...]:
    named = DIGEST.findall(unquote(exchange.request.url))
    answered = exchange.response.header("docker-content-digest") if exchange.response else None
    return (*named, *([answered] if answered else []))


def _errors(exchange: Exchange) -> tuple[str, ...]:
    response = exchange.response
    if response is None or response.status < 400 or response.body is None or response.body.text is None:
        return ()
    return tuple(error.code for error in parse_error_body(response.body.text, response.body.media_type))
