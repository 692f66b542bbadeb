"""The one sequence model every diagram renderer draws: lanes, arrows, notes, sections, loops.

Rule 1: pure.
Rule 2: all the thinking happens here. Templates get a flat list of
:class:`Event` s (open a section or loop, an arrow, a note, a gap, close) and
only loop over it and print, each in its own syntax and escaping.

Rule 3: grouping reads the exchanges' intents (``AnnotatedExchange.intent``),
never their step labels.

Transfers: a stretch of exchanges that belong to blob transfers (the intent's
``transfer`` id: one blob's HEAD → POST → PATCH… → PUT, or GET 307 → storage
GET, with its token request and retries) is drawn transfer by transfer, each
whole and in protocol order, ordered config → layers by index → id, so the
drawing is the same whatever order concurrent threads started in. Transfers
that overlapped in time go into a ``par`` block, one branch each (or one
branch per collapsed loop); a single collapsed loop of concurrent transfers
gets a note saying they ran concurrently.

Collapsing (unless ``options.full``):

* the transfers of one kind of item (layers) form a loop whose iterations are
  whole transfers; iterations are grouped by *shape* (the kinds of exchange
  they consist of); the first of each shape is shown with "N more layers like
  this (exchanges …)", and any iteration holding a failed or unusual exchange
  is always shown. Outside transfers, counted steps (pages of a listing) do
  the same;
* inside what is shown, a run of three or more repeats of the same one to
  three kinds of exchange (40 PATCHes, 60 redirect + download pairs) shows the
  first repeat only.

Numbers: every arrow and note carries the trace's exchange id; a gap lists
exactly the exchanges it stands for (ranges never span a drawn one).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from explorer.annotate import AnnotatedExchange, AnnotatedTrace, Summary, human_duration, one_line
from explorer.render.grouping import (Run, Transfer, at_once, iterations, overlapping, plural, repeats, runs,
                                      segments, shape, span, transfers_of)

__all__ = ["Arrow", "Event", "Lane", "SequenceView", "build"]

BLOCKS = ("section", "loop", "par")  # events that open a block closed by an ``end``
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
    exchange: int  # the exchange's number (its id in the trace)
    source: str  # lane id
    target: str  # lane id
    text: str  # one line, unescaped
    response: bool  # a dashed answer arrow
    lost: bool  # a request that got no answer (connection failed)
    unusual: bool  # failed or unexpected: drawn in a warning colour

    @property
    def numbered(self) -> str:
        """``4 · GET /v2/``: the text after the exchange's number, as every text format prints it."""
        return f"{self.exchange} · {self.text}"

    @property
    def style(self) -> str:
        """``request``, ``response`` or ``lost``: each format maps it to its own arrow glyph."""
        return "lost" if self.lost else "response" if self.response else "request"


EventKind = Literal["section", "loop", "par", "and", "end", "arrow", "note", "gap"]


@dataclass(frozen=True)
class Event:
    """One thing to print, in order. ``kind`` is one of:

    ``section`` (a step begins: ``text`` is its label), ``loop`` (a collapsed
    repetition begins: ``text`` like "for each of 60 layers"), ``par`` (blob
    transfers that ran concurrently begin: the first branch; ``text`` says so),
    ``and`` (the next branch of that ``par``), ``end`` (closes the innermost
    open section, loop or par; ``closes`` says which), ``arrow``, ``note``
    (over lanes ``first``..``last``) and ``gap`` (what was left out).
    A format without a parallel construct prints ``par`` as a note and ignores
    ``and``: the transfers then read one after another, which the note says.
    """

    kind: EventKind
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

    @property
    def order(self) -> list[int]:
        """Every exchange number in drawing order: drawn ones where drawn, collapsed ones where their gap is."""
        return list(dict.fromkeys(n for e in self.events if e.kind in ("arrow", "gap") for n in e.exchanges))


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

    def branch(self) -> None:
        """The next branch of the innermost ``par`` (Mermaid ``and``, PlantUML ``else``)."""
        self.events.append(Event("and", first=self.first, last=self.last, depth=self.depth - 1, band=self.band))

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
        found = {} if self.full else {start: (p, c) for start, p, c in repeats(items)}
        i = 0
        while i < len(items):
            if i not in found:
                self.exchange(items[i])
                i += 1
                continue
            period, count = found[i]
            head = items[i]
            noun = _NOUNS.get(head.endpoint_id or head.endpoint, "requests") if period == 1 else "rounds"
            self.open("loop", f"for each of {count} {noun}")
            for a in items[i:i + period]:
                self.exchange(a)
            hidden = [a.number for a in items[i + period:i + period * count]]
            self.gap(f"{count - 1} more {noun} like this ({span(hidden)})", hidden)
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

    def loop(self, run: Run) -> None:
        """A run of counted steps outside transfers (pages of a listing): one iteration per counter value."""
        rounds = iterations(run)
        if self.full or len(rounds) < 2:
            self.steps(run.items)
            return
        noun = plural(run.items[0].counter.noun if run.items[0].counter else "")
        self.collapse(rounds, noun, self.steps)

    def collapse(self, iterations: Sequence[Sequence[AnnotatedExchange]], noun: str,
                 draw: Callable[[Sequence[AnnotatedExchange]], None]) -> None:
        """``for each of N <noun>``: the first iteration of each shape, every unusual one, and what was left out."""
        groups: dict[tuple[str, ...], list[Sequence[AnnotatedExchange]]] = {}
        for it in iterations:
            groups.setdefault(shape(it), []).append(it)
        shown = {id(g[0]) for g in groups.values()}
        shown |= {id(it) for it in iterations if any(a.unusual for a in it)}
        self.open("loop", f"for each of {len(iterations)} {noun}")
        for it in iterations:
            if id(it) not in shown:
                continue
            draw(it)
            group = groups[shape(it)]
            if group[0] is it:
                hidden = [a.number for other in group if id(other) not in shown for a in other]
                n = sum(1 for other in group if id(other) not in shown)
                if n:
                    self.gap(f"{n} more {noun if n > 1 else noun.rstrip('s')} like this ({span(hidden)})",
                             hidden)
        self.close("loop")

    def stretch(self, items: Sequence[AnnotatedExchange]) -> None:
        """Blob transfers: each drawn whole, in protocol order; those that overlapped in time in a ``par``.

        Transfers are ordered config, then layers by index, then by id: the
        order does not depend on which thread started first. Same-noun
        transfers (the layers) collapse into one loop unless ``full``.
        """
        transfers = transfers_of(items)
        units: list[list[Transfer]] = []  # a unit: one transfer, or the transfers of one collapsed loop
        by_noun: dict[str, list[Transfer]] = {}
        for t in transfers:
            by_noun.setdefault(t.noun, []).append(t)
        for group in by_noun.values():
            if self.full or len(group) < 2:
                units.extend([t] for t in group)
            else:
                units.append(group)
        for cluster in overlapping(units):  # units that overlapped in time: one par, a branch each
            flat = [t for unit in cluster for t in unit]
            most = at_once(flat)
            parallel = len(cluster) > 1
            if parallel:
                self.open("par", f"{len(flat)} blob transfers ran concurrently, up to {most} at a time; "
                                 "each is drawn whole")
            elif most > 1:
                self.events.append(Event("note", f"these {len(flat)} transfers ran concurrently, up to {most} "
                                         "at a time; each is drawn whole, one after another",
                                         first=self.first, last=self.last, depth=self.depth, band=self.band))
            for n, unit in enumerate(cluster):
                if n:
                    self.branch()
                if len(unit) == 1:
                    self.steps(unit[0].items)
                else:
                    self.collapse([t.items for t in unit], plural(unit[0].noun), self.steps)
            if parallel:
                self.close("par")


def _truncate(events: list[Event], max_arrows: int) -> tuple[list[Event], set[int]]:
    """Keep events up to ``max_arrows`` arrows and close the blocks left open; → (events, exchanges covered)."""
    kept: list[Event] = []
    open_kinds: list[str] = []
    arrows = 0
    last: int | None = None
    covered: set[int] = set()
    for ev in events:
        if ev.kind == "arrow":
            if arrows >= max_arrows and ev.exchanges[0] != last:  # never split an exchange
                break
            arrows += 1
            last = ev.exchanges[0]
        kept.append(ev)
        covered.update(ev.exchanges)
        if ev.kind in BLOCKS:
            open_kinds.append(ev.kind)
        elif ev.kind == "end":
            open_kinds.pop()
    while kept and (kept[-1].kind in BLOCKS or kept[-1].kind == "and"):  # no empty blocks or branches
        if kept.pop().kind != "and":
            open_kinds.pop()
    while open_kinds:
        kind = open_kinds.pop()
        kept.append(Event("end", closes=kind, depth=len(open_kinds)))
    return kept, covered


def build(annotated: AnnotatedTrace, *, notes: bool = True, full: bool = False, timing: bool = False,
          title: str | None = None, max_arrows: int | None = None, budget_reason: str = "") -> SequenceView:
    """The sequence model of an annotated trace; ``max_arrows`` cuts it (saying so) for size limits."""
    b = _Builder(annotated, notes=notes, timing=timing, full=full)
    for moving, items in segments(annotated.exchanges):
        if moving:
            b.stretch(items)
            continue
        for run in runs(items):
            if run.key is None:
                b.steps(run.items)
            else:
                b.loop(run)
    events = b.events
    left_out = 0
    if max_arrows is not None and sum(e.kind == "arrow" for e in events) > max_arrows:
        events, covered = _truncate(events, max_arrows)
        rest = [a.number for a in annotated.exchanges if a.number not in covered]
        left_out = len(rest)
        why = f" {budget_reason}" if budget_reason else ""
        unusual = sum(a.unusual for a in annotated.exchanges if a.number not in covered)
        worry = f", {unusual} of them failed or unusual" if unusual else ""
        events.append(Event("gap", f"{left_out} more exchanges left out ({span(rest)}{worry}){why}",
                            first=b.first, last=b.last, exchanges=tuple(rest)))
    lanes = tuple(Lane(p.id, p.role, p.host) for p in annotated.participants)
    exchanges = {a.number: a for a in annotated.exchanges}
    return SequenceView(title=title or annotated.summary.title, summary=annotated.summary, lanes=lanes,
                        events=tuple(events), exchanges=exchanges, collapsed=b.collapsed, left_out=left_out)
