"""Two traces aligned by meaning, and every way they differ.

Rule 1: pure: traces in (through ``annotate``), differences out. No files, no clock.
Rule 2: exchanges are paired by what they are FOR, never by position: a key of
(role, method, endpoint, repository, subject, challenged), where the subject is the
blob or manifest digest (or tag), the token scope, or the blob a storage hop serves.
The n-th exchange of a key in A pairs with the n-th of that key in B; the rest are
only in A or only in B. So concurrency, retries and an extra ping never shift the
pairs, and two runs of the same flow align however their threads interleaved.
Rule 3: every difference has a class, so ``--ignore`` can drop a whole class:
``https-probe``, ``only-in-a``/``only-in-b`` (exchanges), ``status``, ``headers``
(a header present on one side only, or another ``Authorization`` scheme),
``header-values``, ``body-size``, ``order`` (of the coarse phases) and ``timings``.
Token responses' sizes are not compared: a token differs in every run.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal, get_args
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from explorer.annotate import AnnotatedExchange, AnnotatedTrace, annotate
from explorer.protocol.endpoints import classify
from explorer.trace import Trace

__all__ = ["CLASSES", "Comparison", "Difference", "Totals", "compare"]

DifferenceClass = Literal["https-probe", "only-in-a", "only-in-b", "status", "headers", "header-values", "body-size",
                          "order", "timings"]
CLASSES: tuple[str, ...] = get_args(DifferenceClass)
COMPARED_HEADERS = ("Accept", "Range", "Content-Type", "Content-Range", "Authorization")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PHASES = {  # endpoint id → coarse phase, in protocol order
    "end-1": "ping", "end-3": "manifests", "end-2": "blobs", "end-4a": "uploads", "end-4b": "uploads",
    "end-4c": "uploads", "end-5": "uploads", "end-6": "uploads", "end-11": "uploads", "end-7": "push manifests",
    "end-7b": "push manifests", "end-8a": "tags", "end-8b": "tags", "catalog": "catalog", "end-12a": "referrers",
    "end-12b": "referrers", "end-9": "delete", "end-10": "delete", "end-13": "uploads", "end-14": "uploads",
}

Key = tuple[str, str, str, str, str, bool]


@dataclass(frozen=True)
class Difference:
    kind: DifferenceClass
    what: str  # the key in words: "GET manifest team/app:1.0", "token repository:team/app:pull"
    a: str  # A's side in a few words ("" when absent)
    b: str
    numbers: tuple[int | None, int | None] = (None, None)  # exchange numbers in A and B


@dataclass(frozen=True)
class Totals:
    exchanges: int
    round_trips_before_first_blob: int | None
    bytes_down: int
    bytes_up: int
    wall_ms: float


@dataclass
class Comparison:
    a: AnnotatedTrace
    b: AnnotatedTrace
    differences: list[Difference] = field(default_factory=list)
    totals: tuple[Totals, Totals] | None = None
    phases: tuple[list[str], list[str]] = ([], [])
    pairs: int = 0

    def kept(self, ignore: frozenset[str]) -> list[Difference]:
        return [d for d in self.differences if d.kind not in ignore]

    def same(self, ignore: frozenset[str] = frozenset()) -> bool:
        return not self.kept(ignore)


def compare(a: Trace, b: Trace) -> Comparison:
    """Align ``a`` and ``b`` by meaning and list every difference (see the module docstring)."""
    return compare_annotated(annotate(a), annotate(b))


def compare_annotated(left: AnnotatedTrace, right: AnnotatedTrace) -> Comparison:
    """:func:`compare` for traces already annotated (the CLI draws them from the same annotation)."""
    result = Comparison(left, right)
    keyed_a, keyed_b = _keyed(left), _keyed(right)
    for key in sorted(set(keyed_a) | set(keyed_b), key=lambda k: _first_number(k, keyed_a, keyed_b)):
        xs, ys = keyed_a.get(key, []), keyed_b.get(key, [])
        for x, y in zip(xs, ys):
            result.pairs += 1
            result.differences += _pair(key, x, y)
        for x in xs[len(ys):]:
            result.differences.append(_alone(key, x, "a"))
        for y in ys[len(xs):]:
            result.differences.append(_alone(key, y, "b"))
    result.phases = (_phases(left), _phases(right))
    if result.phases[0] != result.phases[1]:
        result.differences.append(Difference("order", "phases", " → ".join(result.phases[0]),
                                             " → ".join(result.phases[1])))
    result.totals = (_totals(left), _totals(right))
    wall_a, wall_b = result.totals[0].wall_ms, result.totals[1].wall_ms
    if abs(wall_a - wall_b) >= 1:
        result.differences.append(Difference("timings", "wall time", f"{wall_a:.0f} ms", f"{wall_b:.0f} ms"))
    return result


# --- keys ---------------------------------------------------------------------------------
def _keyed(trace: AnnotatedTrace) -> dict[Key, list[AnnotatedExchange]]:
    probes = _https_probes(trace)
    out: dict[Key, list[AnnotatedExchange]] = defaultdict(list)
    for ax in trace.exchanges:
        out[_key(ax, ax.number in probes)].append(ax)
    return out


def _key(ax: AnnotatedExchange, probe: bool) -> Key:
    request = ax.exchange.request
    role = str(ax.participant.role).split()[0].lower()
    status = ax.exchange.response.status if ax.exchange.response else None
    challenged = status == 401
    if probe:
        return ("probe", request.method, "https-probe", "", urlsplit(request.url).netloc, False)
    parts = urlsplit(request.url)
    query = dict(parse_qsl(parts.query))
    if ax.endpoint_id is not None:
        match = classify(request.method, request.url)
        repository = match.name if match else ""
        subject = query.get("digest") or query.get("mount") or (match.reference if match else "") or ""
        if ax.endpoint_id in ("end-5", "end-6") and not query.get("digest"):
            subject = ""  # an upload URL's id differs in every run
        return (role, request.method, ax.endpoint_id, repository or "", subject, challenged)
    if "scope" in parts.query or "service" in parts.query or role == "auth":
        scopes = " ".join(sorted(v for k, v in parse_qsl(parts.query) if k == "scope"))
        return ("auth", request.method, "token", "", scopes, challenged)
    found = _HEX64.search(parts.path)
    return (role, request.method, "storage" if role == "storage" else "other",
            "", f"sha256:{found.group()}" if found else parts.path, challenged)


def _https_probes(trace: AnnotatedTrace) -> set[int]:
    """Failed https attempts to a host that was then spoken to over plain http."""
    plain = {urlsplit(ax.exchange.request.url).netloc for ax in trace.exchanges
             if ax.exchange.request.url.startswith("http://") and ax.exchange.response is not None}
    return {ax.number for ax in trace.exchanges
            if ax.exchange.response is None and ax.exchange.request.url.startswith("https://")
            and urlsplit(ax.exchange.request.url).netloc in plain}


def _first_number(key: Key, *sides: dict[Key, list[AnnotatedExchange]]) -> tuple[int, Key]:
    """Order of the report: by the first exchange of the key on either side, then by the key (stable)."""
    firsts = [side[key][0].number for side in sides if key in side]
    return (min(firsts), key)


def _describe(key: Key) -> str:
    role, method, endpoint, repository, subject, challenged = key
    if endpoint == "https-probe":
        return f"https probe of {subject}"
    if endpoint == "token":
        return f"{method} token {subject or '(no scope)'}" + (" → 401" if challenged else "")
    where = f" {repository}" if repository else ""
    what = f" {_short(subject)}" if subject else ""
    return f"{method} {endpoint}{where}{what}" + (" (challenged)" if challenged else "")


def _short(subject: str) -> str:
    return subject[:19] + "…" if subject.startswith("sha256:") and len(subject) > 19 else subject


# --- pairs ------------------------------------------------------------------------------
def _alone(key: Key, ax: AnnotatedExchange, side: str) -> Difference:
    kind = "https-probe" if key[2] == "https-probe" else f"only-in-{side}"
    text = _brief(ax)
    return Difference(kind, _describe(key), text if side == "a" else "", text if side == "b" else "",
                      (ax.number, None) if side == "a" else (None, ax.number))


def _brief(ax: AnnotatedExchange) -> str:
    response = ax.exchange.response
    return f"#{ax.number} {response.status if response else 'no response'}"


def _pair(key: Key, x: AnnotatedExchange, y: AnnotatedExchange) -> list[Difference]:
    what, numbers = _describe(key), (x.number, y.number)
    out = []
    sx, sy = x.exchange.response, y.exchange.response
    status_x, status_y = (sx.status if sx else None), (sy.status if sy else None)
    if status_x != status_y:
        out.append(Difference("status", what, str(status_x), str(status_y), numbers))
    for name in COMPARED_HEADERS:
        vx, vy = x.exchange.request.header(name), y.exchange.request.header(name)
        if name == "Authorization":
            vx, vy = (vx.split()[0] if vx else None), (vy.split()[0] if vy else None)
            if vx != vy:
                out.append(Difference("headers", f"{what}: Authorization scheme", vx or "none", vy or "none", numbers))
        elif (vx is None) != (vy is None):
            out.append(Difference("headers", f"{what}: {name}", vx or "absent", vy or "absent", numbers))
        elif vx != vy:
            out.append(Difference("header-values", f"{what}: {name}", vx or "", vy or "", numbers))
    if key[0] != "auth":
        size_x = sx.body.size if sx and sx.body else 0
        size_y = sy.body.size if sy and sy.body else 0
        if size_x != size_y:
            out.append(Difference("body-size", what, f"{size_x} B", f"{size_y} B", numbers))
    return out


# --- the whole ----------------------------------------------------------------------------
def _phases(trace: AnnotatedTrace) -> list[str]:
    seen: list[str] = []
    for ax in trace.exchanges:
        phase = _PHASES.get(ax.endpoint_id or "", "blobs" if str(ax.participant.role).lower().startswith("storage")
                            else "")
        if phase and phase not in seen:
            seen.append(phase)
    return seen


def _totals(trace: AnnotatedTrace) -> Totals:
    def moment(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000

    blobs = [ax for ax in trace.exchanges if ax.endpoint_id == "end-2" and ax.exchange.request.method == "GET"]
    before = None
    if blobs:
        try:
            start = moment(blobs[0].exchange.started)
            before = sum(1 for ax in trace.exchanges
                         if moment(ax.exchange.started) + ax.exchange.duration_ms <= start + 0.5)
        except ValueError:
            before = None
    s = trace.summary
    return Totals(s.exchanges, before, s.bytes_down, s.bytes_up, s.wall_ms)
