"""The one sequence model every diagram renderer draws: lanes, arrows, notes, sections, loops.

Rule 1: pure; imports ``explorer.annotate`` and the standard library only.
Rule 2: all the thinking happens here. Templates get a flat list of
:class:`Event` s (open a section or loop, an arrow, a note, a gap, close) and
only loop over it and print, each in its own syntax and escaping.

Collapsing (unless ``options.full``):

* a *loop run* is a stretch of exchanges whose step labels carry the same
  counter family (``fetch layer 1/60`` … ``fetch layer 60/60``; also
  ``check layer i/n`` interleaved with ``upload layer i/n``). Its iterations
  are grouped by *shape* (the kinds of exchange they consist of); the first
  iteration of each shape is shown with "N more layers like this", and any
  iteration holding a failed or unusual exchange is always shown;
* inside what is shown, a run of three or more repeats of the same one to
  three kinds of exchange (40 PATCHes, 60 redirect + download pairs) shows the
  first repeat only.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from explorer.annotate import AnnotatedExchange, AnnotatedTrace, Summary, human_duration, one_line

__all__ = ["Arrow", "Event", "Lane", "SequenceView", "build"]

_NOUNS = {"end-5": "chunks", "end-2": "blobs", "end-3": "manifests", "end-8": "pages",
          "Token request": "tokens", "Redirect to storage": "downloads"}


@dataclass(frozen=True)
class Lane:
    id: str  # safe identifier [A-Za-z0-9]+
    role: str  # "Registry 2"
    host: str  # "localhost:5000" ("" for the client)

    @property
    def lines(self) -> tuple[str, ...]:
        """The header's lines: role, then host."""
        return (self.role, self.host) if self.host else (self.role,)


@dataclass(frozen=True)
class Arrow:
    exchange: int  # the exchange's number in the trace (1-based)
    source: str  # lane id
    target: str  # lane id
    text: str  # one line, unescaped
    response: bool  # a dashed answer arrow
    lost: bool  # a request that got no answer (connection failed)
    unusual: bool  # failed or unexpected: drawn in a warning colour

    @property
    def style(self) -> str:
        """``request``, ``response`` or ``lost``: each format maps it to its own arrow glyph."""
        return "lost" if self.lost else "response" if self.response else "request"


@dataclass(frozen=True)
class Event:
    """One thing to print, in order. ``kind`` is one of:

    ``section`` (a step begins: ``text`` is its label), ``loop`` (a collapsed
    repetition begins: ``text`` like "for each of 60 layers"), ``end`` (closes
    the innermost open section or loop; ``closes`` says which), ``arrow``,
    ``note`` (over lanes ``first``..``last``) and ``gap`` (what was left out).
    """

    kind: str
    text: str = ""
    arrow: Arrow | None = None
    first: str = ""
    last: str = ""
    depth: int = 0
    band: int = 0  # alternates 0/1 between top-level sections
    closes: str = ""
    anchor: str = ""  # "step-3" for sections and loops
    exchanges: tuple[int, ...] = ()  # exchange numbers an arrow, gap or note stands for

    @property
    def over(self) -> tuple[str, ...]:
        """The lanes a note or gap spans: one id, or first and last."""
        return (self.first,) if self.first == self.last else (self.first, self.last)

    @property
    def lines(self) -> list[str]:
        """``text`` wrapped for notes (about 64 characters a line)."""
        return textwrap.wrap(self.text, 64, break_long_words=True, break_on_hyphens=False) or [""]


@dataclass(frozen=True)
class SequenceView:
    title: str
    summary: Summary
    lanes: tuple[Lane, ...]
    events: tuple[Event, ...]
    exchanges: dict[int, AnnotatedExchange] = field(repr=False)  # every exchange by number
    collapsed: int = 0  # exchanges hidden by collapsing
    left_out: int = 0  # exchanges dropped to respect a size budget

    @property
    def arrows(self) -> list[Arrow]:
        return [e.arrow for e in self.events if e.arrow is not None]

    @property
    def shown(self) -> list[AnnotatedExchange]:
        """The exchanges that have arrows, in order."""
        numbers = sorted({a.exchange for a in self.arrows})
        return [self.exchanges[n] for n in numbers]

    @property
    def steps(self) -> list[Event]:
        return [e for e in self.events if e.kind in ("section", "loop")]


# --- grouping ----------------------------------------------------------------------------------


@dataclass
class _Run:
    key: tuple[object, ...] | None
    items: list[AnnotatedExchange]


def _loop_key(a: AnnotatedExchange) -> tuple[object, ...] | None:
    c = a.counter
    if c is None:
        return None
    return ("n", c.noun, c.total) if c.total is not None else ("f", a.family)


def _runs(exchanges: Iterable[AnnotatedExchange]) -> list[_Run]:
    """Consecutive exchanges with the same loop key (counter noun and total, or step family).

    Families sharing a counter stay together (``check layer 2/5``, ``upload layer 2/5``,
    ``layer 3/5 already present, skipped``), so concurrent flows that interleave
    them still collapse into one loop whose iterations are the counter values.
    """
    runs: list[_Run] = []
    for a in exchanges:
        key = _loop_key(a)
        if not runs or key != runs[-1].key:
            runs.append(_Run(key, []))
        runs[-1].items.append(a)
    return runs


def _iterations(run: _Run) -> list[list[AnnotatedExchange]]:
    by_index: dict[int, list[AnnotatedExchange]] = {}
    for a in run.items:
        assert a.counter is not None
        by_index.setdefault(a.counter.index, []).append(a)
    return sorted(by_index.values(), key=lambda it: it[0].number)


def _shape(items: Sequence[AnnotatedExchange]) -> tuple[str, ...]:
    kinds: list[str] = []
    for a in items:
        k = f"{a.family}|{a.kind}"
        if not kinds or kinds[-1] != k:
            kinds.append(k)
    return tuple(kinds)


def _repeats(items: Sequence[AnnotatedExchange]) -> list[tuple[int, int, int]]:
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


def _plural(noun: str) -> str:
    if not noun:
        return "items"
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"


def _span(numbers: Sequence[int]) -> str:
    return f"exchange {numbers[0]}" if len(numbers) == 1 else f"exchanges {min(numbers)}–{max(numbers)}"


# --- building events -----------------------------------------------------------------------------


class _Builder:
    def __init__(self, annotated: AnnotatedTrace, notes: bool, timing: bool, full: bool) -> None:
        self.notes, self.timing, self.full = notes, timing, full
        self.first = annotated.participants[0].id
        self.last = annotated.participants[-1].id
        self.events: list[Event] = []
        self.depth = 0
        self.band = 0
        self.anchors = 0
        self.noted: set[str] = set()
        self.collapsed = 0

    def open(self, kind: str, text: str) -> None:
        if kind == "section":
            self.band = 1 - self.band
        self.anchors += 1
        self.events.append(Event(kind, one_line(text, 120), first=self.first, last=self.last, depth=self.depth,
                                 band=self.band, anchor=f"step-{self.anchors}"))
        self.depth += 1

    def close(self, kind: str) -> None:
        self.depth -= 1
        self.events.append(Event("end", closes=kind, depth=self.depth, band=self.band))

    def gap(self, text: str, numbers: Sequence[int]) -> None:
        self.collapsed += len(numbers)
        self.events.append(Event("gap", text, first=self.first, last=self.last, depth=self.depth,
                                 band=self.band, exchanges=tuple(numbers)))

    def exchange(self, a: AnnotatedExchange) -> None:
        src, dst = self.first, a.participant.id
        took = f" · {human_duration(a.exchange.duration_ms)}" if self.timing else ""
        n = (a.number,)
        if a.failed:
            text = f"{a.request_label} {a.response_label}{took}"
            self.events.append(Event("arrow", arrow=Arrow(a.number, src, dst, text, False, True, True),
                                     depth=self.depth, band=self.band, exchanges=n))
        else:
            for text, response in ((a.request_label, False), (a.response_label + took, True)):
                s, d = (dst, src) if response else (src, dst)
                self.events.append(Event("arrow", arrow=Arrow(a.number, s, d, text, response, False, a.unusual),
                                         depth=self.depth, band=self.band, exchanges=n))
        if not self.notes:
            return
        lines = [] if a.note in self.noted or not a.note else [a.note]
        self.noted.add(a.note)
        lines += [e.line for e in a.errors]
        for line in lines:
            self.events.append(Event("note", line, first=src, last=dst, depth=self.depth,
                                     band=self.band, exchanges=n))

    def sequence(self, items: Sequence[AnnotatedExchange]) -> None:
        """Exchanges of one stretch, with short repeats collapsed."""
        repeats = {} if self.full else {start: (p, c) for start, p, c in _repeats(items)}
        i = 0
        while i < len(items):
            if i not in repeats:
                self.exchange(items[i])
                i += 1
                continue
            period, count = repeats[i]
            head = items[i]
            noun = _NOUNS.get(head.endpoint_id or head.endpoint, "requests") if period == 1 else "rounds"
            self.open("loop", f"for each of {count} {noun}")
            for a in items[i:i + period]:
                self.exchange(a)
            hidden = [a.number for a in items[i + period:i + period * count]]
            self.gap(f"{count - 1} more {noun} like this ({_span(hidden)})", hidden)
            self.close("loop")
            i += period * count

    def steps(self, items: Sequence[AnnotatedExchange]) -> None:
        """Exchanges in sections by step label (consecutive equal labels form one section)."""
        start = 0
        for end in range(1, len(items) + 1):
            if end < len(items) and items[end].step == items[start].step:
                continue
            label = items[start].step
            if label is not None:
                self.open("section", label)
            self.sequence(items[start:end])
            if label is not None:
                self.close("section")
            start = end

    def loop(self, run: _Run) -> None:
        iterations = _iterations(run)
        if self.full or len(iterations) < 2:
            self.steps(run.items)
            return
        noun = _plural(run.items[0].counter.noun if run.items[0].counter else "")
        groups: dict[tuple[str, ...], list[list[AnnotatedExchange]]] = {}
        for it in iterations:
            groups.setdefault(_shape(it), []).append(it)
        shown = {id(g[0]) for g in groups.values()}
        shown |= {id(it) for it in iterations if any(a.unusual for a in it)}
        self.open("loop", f"for each of {len(iterations)} {noun}")
        for it in iterations:
            if id(it) not in shown:
                continue
            self.steps(it)
            group = groups[_shape(it)]
            if group[0] is it:
                hidden = [a.number for other in group if id(other) not in shown for a in other]
                n = sum(1 for other in group if id(other) not in shown)
                if n:
                    self.gap(f"{n} more {noun if n > 1 else noun.rstrip('s')} like this ({_span(hidden)})",
                             hidden)
        self.close("loop")


def _truncate(events: list[Event], max_arrows: int) -> tuple[list[Event], int]:
    """Keep events up to ``max_arrows`` arrows and close the blocks left open; → (events, last shown)."""
    kept: list[Event] = []
    open_kinds: list[str] = []
    arrows = last_shown = 0
    for ev in events:
        if ev.kind == "arrow":
            if arrows >= max_arrows and ev.exchanges[0] != last_shown:  # never split an exchange
                break
            arrows += 1
            last_shown = max(last_shown, ev.exchanges[0])
        kept.append(ev)
        if ev.kind in ("section", "loop"):
            open_kinds.append(ev.kind)
        elif ev.kind == "end":
            open_kinds.pop()
    while kept and kept[-1].kind in ("section", "loop"):  # no empty blocks
        kept.pop()
        open_kinds.pop()
    while open_kinds:
        kind = open_kinds.pop()
        kept.append(Event("end", closes=kind, depth=len(open_kinds)))
    return kept, last_shown


def build(annotated: AnnotatedTrace, *, notes: bool = True, full: bool = False, timing: bool = False,
          title: str | None = None, max_arrows: int | None = None, budget_reason: str = "") -> SequenceView:
    """The sequence model of an annotated trace; ``max_arrows`` cuts it (saying so) for size limits."""
    b = _Builder(annotated, notes=notes, timing=timing, full=full)
    for run in _runs(annotated.exchanges):
        if run.key is None:
            b.steps(run.items)
        else:
            b.loop(run)
    events = b.events
    left_out = 0
    if max_arrows is not None and sum(e.kind == "arrow" for e in events) > max_arrows:
        events, last_shown = _truncate(events, max_arrows)
        rest = [a.number for a in annotated.exchanges if a.number > last_shown]
        left_out = len(rest)
        why = f" {budget_reason}" if budget_reason else ""
        unusual = sum(a.unusual for a in annotated.exchanges if a.number > last_shown)
        worry = f", {unusual} of them failed or unusual" if unusual else ""
        events.append(Event("gap", f"{left_out} more exchanges left out ({_span(rest)}{worry}){why}",
                            first=b.first, last=b.last, exchanges=tuple(rest)))
    lanes = tuple(Lane(p.id, p.role, p.host) for p in annotated.participants)
    exchanges = {a.number: a for a in annotated.exchanges}
    return SequenceView(title=title or annotated.summary.title, summary=annotated.summary, lanes=lanes,
                        events=tuple(events), exchanges=exchanges, collapsed=b.collapsed, left_out=left_out)
