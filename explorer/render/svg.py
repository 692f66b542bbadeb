"""A sequence diagram drawn by our own code → ``templates/svg.svg.j2``: no JavaScript, no network, no fonts.

:func:`layout` turns the shared :class:`~explorer.render.view.SequenceView`
into plain shapes with coordinates (lanes with headers, step bands, loop
frames, arrows with labels, notes, gaps); the template only prints them, with
Jinja2 autoescaping (``*.svg.j2``), so any text is valid XML. Labels use a
monospace font stack, so widths can be estimated from character counts.
Every arrow is a ``<g class="arrow …" id="x3-req" data-exchange="3">``; the
HTML viewer (``html.py``) inlines the same drawing and makes those clickable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.annotate import AnnotatedTrace
from explorer.printable import printable
from explorer.render import view
from explorer.render.base import RenderOptions, Templates

__all__ = ["TEMPLATES", "Drawing", "drawing", "layout", "render"]

#: also the HTML page's environment (``html.html.j2`` includes ``svg.svg.j2``); no filters of its own:
#: both are autoescaped
TEMPLATES = Templates()

CHAR = 7.2  # width of one 12px monospace character
MAX_LABEL = 90  # characters shown on an arrow (the full text is in its <title>)
MARGIN, BADGE = 24, 30
HEADER_TOP, HEADER_H = 64, 44
ROW, NOTE_LINE, BLOCK_HEAD, BLOCK_END = 32, 16, 22, 8
INSET = 8  # nesting indent of bands and frames


@dataclass
class LaneShape:
    id: str
    lines: tuple[str, ...]
    x: float
    width: float


@dataclass
class ArrowShape:
    id: str
    classes: str
    exchange: int
    x1: float
    x2: float
    y: float
    head: str  # path data of the arrowhead (a cross for a lost request)
    label: str
    label_x: float
    full: str
    number: str  # shown in the badge of request arrows ("" for responses)


@dataclass
class BoxShape:
    kind: str  # band-0, band-1, loop, par, sep (a dashed line between par branches), note, gap
    x: float
    y: float
    width: float
    height: float
    label: str = ""
    lines: list[str] = field(default_factory=list)
    anchor: str = ""
    exchanges: str = ""  # space-separated numbers (gaps and notes)


@dataclass
class Drawing:
    prefix: str  # "" or "full-": ids stay unique when the HTML viewer holds two drawings
    title: str
    subtitle: str
    width: float
    height: float
    lanes: list[LaneShape]
    boxes: list[BoxShape]  # bands and frames first (drawn below), notes and gaps after
    arrows: list[ArrowShape]
    bottom: float  # where lifelines end


def _text_width(text: str) -> float:
    return len(text) * CHAR


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _gaps(seq: view.SequenceView, widths: list[float]) -> list[float]:
    """Distance between neighbouring lanes: wide enough for the longest label between them."""
    index = {lane.id: i for i, lane in enumerate(seq.lanes)}
    gaps = [max(160.0, (widths[i] + widths[i + 1]) / 2 + 24) for i in range(len(seq.lanes) - 1)]
    spans = []
    for ev in seq.events:
        if ev.arrow is not None:
            a, b = sorted((index[ev.arrow.source], index[ev.arrow.target]))
            spans.append((a, b, _text_width(_short(ev.arrow.text)) + 40))
    for a, b, need in sorted(spans, key=lambda s: s[1] - s[0]):
        have = sum(gaps[a:b])
        if b > a and have < need:
            gaps[b - 1] += need - have
    return gaps


def layout(seq: view.SequenceView, prefix: str = "") -> Drawing:
    """Coordinates for everything in ``seq``; every id starts with ``prefix``."""
    widths = [max(_text_width(line) for line in lane.lines) + 24 for lane in seq.lanes]
    gaps = _gaps(seq, widths)
    xs = [MARGIN + BADGE + widths[0] / 2]
    for gap in gaps:
        xs.append(xs[-1] + gap)
    x_of = {lane.id: x for lane, x in zip(seq.lanes, xs)}
    left, right = MARGIN, xs[-1] + widths[-1] / 2
    lanes = [LaneShape(lane.id, lane.lines, x, w) for lane, x, w in zip(seq.lanes, xs, widths)]
    boxes: list[BoxShape] = []
    overlays: list[BoxShape] = []
    arrows: list[ArrowShape] = []
    open_blocks: list[BoxShape] = []
    y = HEADER_TOP + HEADER_H + 16
    for ev in seq.events:
        inset = INSET * len(open_blocks)
        if ev.kind in ("section", "loop", "par"):
            kind = f"band-{ev.band}" if ev.kind == "section" else ev.kind
            box = BoxShape(kind, left + inset, y, 0, 0, label=ev.text, anchor=prefix + ev.anchor)
            boxes.append(box)
            open_blocks.append(box)
            y += BLOCK_HEAD
        elif ev.kind == "and":
            y += 4
            boxes.append(BoxShape("sep", left + INSET * (len(open_blocks) - 1), y, 0, 0))
            y += 8
        elif ev.kind == "end":
            box = open_blocks.pop()
            y += BLOCK_END
            box.height = y - box.y
            y += 4
        elif ev.kind == "arrow" and ev.arrow is not None:
            arrows.append(_arrow(ev.arrow, x_of, y + 20, prefix))  # label above the line
            y += ROW
        elif ev.kind in ("note", "gap"):
            lines = ev.lines if ev.kind == "note" else ["… " + ev.text]
            x1 = x_of[ev.first] + (12 if ev.kind == "note" else 0)
            width = max(x_of[ev.last] - x1 - (12 if ev.kind == "note" else 0),
                        max(_text_width(line) for line in lines) + 16)
            height = NOTE_LINE * len(lines) + 10
            overlays.append(BoxShape(ev.kind, x1, y + 2, width, height, lines=lines,
                                     exchanges=" ".join(map(str, ev.exchanges))))
            right = max(right, x1 + width)
            y += height + 8
    right += 8
    for box in boxes:
        box.width = right - box.x - (box.x - left)
    s = seq.summary
    subtitle = s.line + (f" · outcome: {s.outcome}" if s.outcome != "ok" else "")
    if seq.collapsed or seq.left_out:
        subtitle += f" · {seq.collapsed + seq.left_out} repeated exchanges collapsed (render with --full to draw all)"
    return Drawing(prefix=prefix, title=printable(seq.title), subtitle=printable(subtitle),
                   width=round(right + MARGIN), height=round(y + 24),
                   lanes=lanes, boxes=boxes + overlays, arrows=arrows, bottom=y + 8)


def _arrow(arrow: view.Arrow, x_of: dict[str, float], y: float, prefix: str) -> ArrowShape:
    x1, x2 = x_of[arrow.source], x_of[arrow.target]
    direction = 1 if x2 >= x1 else -1
    tip = x2 - direction * 1
    if arrow.lost:
        head = f"M{tip - 5},{y - 5} L{tip + 5},{y + 5} M{tip - 5},{y + 5} L{tip + 5},{y - 5}"
    else:
        head = f"M{tip},{y} L{tip - direction * 9},{y - 4.5} L{tip - direction * 9},{y + 4.5} Z"
    classes = " ".join(c for c in ("arrow", arrow.style, "unusual" if arrow.unusual else "") if c)
    suffix = "res" if arrow.response else "req"
    return ArrowShape(
        id=f"{prefix}x{arrow.exchange}-{suffix}", classes=classes, exchange=arrow.exchange, x1=x1, x2=x2, y=y,
        head=head, label=_short(arrow.text), label_x=min(x1, x2) + 10, full=arrow.text,
        number="" if arrow.response else str(arrow.exchange))


def drawing(annotated: AnnotatedTrace, options: RenderOptions) -> Drawing:
    sequence = view.build(annotated, notes=options.notes, full=options.full, timing=options.timing,
                          title=options.title)
    return layout(sequence)


def render(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    return TEMPLATES.render("svg.svg.j2", d=drawing(annotated, options), standalone=True)
