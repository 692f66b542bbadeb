"""How exchanges group for drawing: blob transfers, counted runs, repeated shapes, and the spans gaps name.

Rule: pure. Used
by ``view.py``, which turns these groups into events. Nothing here reads a
step label: groups come from the exchanges' intents and kinds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from explorer.annotate import AnnotatedExchange

__all__ = ["MAX_RANGES", "Run", "Transfer", "at_once", "iterations", "overlapping", "plural", "repeats", "runs",
           "segments", "shape", "span", "transfers_of"]


# --- grouping ----------------------------------------------------------------------------------


@dataclass
class Run:
    key: tuple[object, ...] | None
    items: list[AnnotatedExchange]


def loop_key(a: AnnotatedExchange) -> tuple[object, ...] | None:
    c = a.counter
    if c is None:
        return None
    return ("n", c.noun, c.total) if c.total is not None else ("f", a.family)


def runs(exchanges: Iterable[AnnotatedExchange]) -> list[Run]:
    """Consecutive exchanges (outside transfers: pages of a listing) with the same loop key."""
    runs: list[Run] = []
    for a in exchanges:
        key = loop_key(a)
        if not runs or key != runs[-1].key:
            runs.append(Run(key, []))
        runs[-1].items.append(a)
    return runs


def iterations(run: Run) -> list[list[AnnotatedExchange]]:
    by_index: dict[int, list[AnnotatedExchange]] = {}
    for a in run.items:
        assert a.counter is not None
        by_index.setdefault(a.counter.index, []).append(a)
    return sorted(by_index.values(), key=lambda it: it[0].number)


def shape(items: Sequence[AnnotatedExchange]) -> tuple[str, ...]:
    kinds: list[str] = []
    for a in items:
        k = f"{a.family}|{a.kind}"
        if not kinds or kinds[-1] != k:
            kinds.append(k)
    return tuple(kinds)


def repeats(items: Sequence[AnnotatedExchange]) -> list[tuple[int, int, int]]:
    """(start, period, count) of runs where 1–3 kinds repeat 3+ times with nothing unusual."""
    found: list[tuple[int, int, int]] = []
    i = 0
    while i < len(items):
        best = (1, 1)
        for period in (1, 2, 3):
            block = [a.kind for a in items[i:i + period]]
            if len(block) < period or any(a.unusual for a in items[i:i + period]):
                continue
            count = 1
            while True:
                nxt = items[i + count * period:i + (count + 1) * period]
                if len(nxt) < period or [a.kind for a in nxt] != block or any(a.unusual for a in nxt):
                    break
                count += 1
            if count >= 3 and count * period > best[0] * best[1]:
                best = (period, count)
        if best[1] >= 3:
            found.append((i, best[0], best[1]))
            i += best[0] * best[1]
        else:
            i += 1
    return found


def plural(noun: str) -> str:
    if not noun:
        return "items"
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"


MAX_RANGES = 6  # ranges listed in a "… N more (exchanges a–b, c–d)" note


def span(numbers: Sequence[int]) -> str:
    """``exchange 4`` or ``exchanges 5–7, 9–12``: only the numbers given, never one between them."""
    ordered = sorted(set(numbers))
    if len(ordered) == 1:
        return f"exchange {ordered[0]}"
    ranges: list[list[int]] = []
    for n in ordered:
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1][1] = n
        else:
            ranges.append([n, n])
    parts = [f"{a}–{b}" if b > a else str(a) for a, b in ranges]
    if len(parts) > MAX_RANGES:
        rest = sum(b - a + 1 for a, b in ranges[MAX_RANGES - 1:])
        parts = [*parts[:MAX_RANGES - 1], f"{rest} more"]
    return "exchanges " + ", ".join(parts)


# --- transfers: every blob's exchanges together, concurrency shown ------------------------------


@dataclass
class Transfer:
    """The exchanges of one blob (one ``transfer`` id) inside a stretch, in protocol (start) order."""

    id: str
    items: list[AnnotatedExchange]

    @property
    def noun(self) -> str:
        return self.items[0].intent.item or "blob"

    @property
    def key(self) -> tuple[int, int, str]:
        """Drawing order, the same whatever order the threads happened to start in."""
        intent = self.items[0].intent
        rank = {"config": 0, "layer": 1}.get(intent.item or "", 2)
        if rank == 2:  # an unknown blob (no manifest in the trace says what it is): where it started
            return rank, self.items[0].number, self.id
        index = min((a.intent.index for a in self.items if a.intent.index is not None), default=0)
        return rank, index, self.id

    @property
    def span(self) -> tuple[float, float]:
        """Start and end in ms; the end 1 ms early: start times are recorded to the millisecond."""
        starts = [_start_ms(a) for a in self.items]
        ends = [s + a.exchange.duration_ms for s, a in zip(starts, self.items)]
        return min(starts), max(min(starts), max(ends) - 1.0)


def _start_ms(a: AnnotatedExchange) -> float:
    try:
        return datetime.fromisoformat(a.exchange.started.replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return float(a.number)


def segments(exchanges: Sequence[AnnotatedExchange]) -> list[tuple[bool, list[AnnotatedExchange]]]:
    """Stretches of exchanges that belong to transfers, and the stretches between them."""
    out: list[tuple[bool, list[AnnotatedExchange]]] = []
    for a in exchanges:
        moving = a.transfer is not None
        if not out or out[-1][0] != moving:
            out.append((moving, []))
        out[-1][1].append(a)
    return out


def transfers_of(items: Sequence[AnnotatedExchange]) -> list[Transfer]:
    by_id: dict[str, Transfer] = {}
    for a in items:
        assert a.transfer is not None
        by_id.setdefault(a.transfer, Transfer(a.transfer, [])).items.append(a)
    return sorted(by_id.values(), key=lambda t: t.key)


def at_once(transfers: Sequence[Transfer]) -> int:
    """The most transfers that were in flight at the same moment."""
    spans = [t.span for t in transfers]  # each worked out once: it parses every exchange's start time
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda edge: (edge[0], edge[1]))
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def overlapping(units: Sequence[Sequence[Transfer]]) -> list[list[Sequence[Transfer]]]:
    """Units (a transfer, or the transfers of one loop) in clusters whose time spans overlap.

    Clusters come in the order they started (a pull's config, then its layers);
    inside one, units keep the order given. Spans are facts of the trace, so the
    result does not depend on the order the exchanges were listed in.
    """
    each = [[t.span for t in unit] for unit in units]  # each span worked out once
    spans = [(min(s for s, _ in unit), max(e for _, e in unit)) for unit in each]
    clusters: list[list[int]] = []
    end = 0.0
    for i in sorted(range(len(units)), key=lambda i: (spans[i][0], i)):
        if clusters and spans[i][0] < end:
            clusters[-1].append(i)
            end = max(end, spans[i][1])
        else:
            clusters.append([i])
            end = spans[i][1]
    return [[units[i] for i in sorted(cluster)] for cluster in clusters]
