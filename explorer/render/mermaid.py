"""Mermaid ``sequenceDiagram`` → ``templates/mermaid.mmd.j2``.

Mermaid's lexer ends message text at ``#``, ``;`` and newlines, treats the
word ``end`` as a block end and HTML-ish ``<…>`` as markup, so every text goes
through :func:`escape` (decimal entity codes such as ``#59;``, which Mermaid
decodes before drawing; ``%`` too, so no ``%%{init}%%`` directive; control
characters removed). Participant ids are ``[A-Za-z0-9]+`` with the host in
the alias label. Mermaid refuses sources of 50,000 characters or more
(``maxTextSize``, fixed on GitHub), so :func:`render` collapses further —
first without notes, then with fewer arrows — and says what it left out.
"""

from __future__ import annotations

import re
from dataclasses import replace

from explorer.annotate import AnnotatedTrace
from explorer.printable import printable
from explorer.render import view
from explorer.render.base import RenderOptions, Templates

__all__ = ["MAX_TEXT_SIZE", "TEMPLATES", "escape", "render", "sequence"]

MAX_TEXT_SIZE = 50_000  # Mermaid's default maxTextSize; outputs stay strictly below it
GLYPHS = {"request": "->>", "response": "-->>", "lost": "-x"}
BANDS = ("rgba(66, 133, 244, 0.08)", "rgba(52, 168, 83, 0.08)")
LOOP_BAND = "rgba(251, 188, 4, 0.10)"

_ENTITIES = {"#": "#35;", ";": "#59;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;",
             "`": "#96;", "{": "#123;", "}": "#125;", "%": "#37;", "\\": "#92;"}
_SPECIAL = re.compile(r"[#;\"<>&`{}%\\]")
_END_WORD = re.compile(r"(?<![\w-])(e)(nd)(?![\w-])", re.IGNORECASE)
_WRAP = re.compile(r"^(no)?wrap:", re.IGNORECASE)


def escape(text: str) -> str:
    """``text`` safe inside any Mermaid label: specials as entity codes, ``end`` defused."""
    out = _SPECIAL.sub(lambda m: _ENTITIES[m.group(0)], " ".join(printable(text).split()))
    out = _END_WORD.sub(lambda m: f"#{ord(m.group(1))};{m.group(2)}", out)
    if _WRAP.match(out):
        out = f"#{ord(out[0])};" + out[1:]
    return out


TEMPLATES = Templates(mermaid=escape)


def _source(sequence: view.SequenceView, options: RenderOptions) -> str:
    return TEMPLATES.render(
        "mermaid.mmd.j2", view=sequence, markdown=options.markdown, glyphs=GLYPHS, bands=BANDS,
        loop_band=LOOP_BAND)


def sequence(annotated: AnnotatedTrace, options: RenderOptions) -> tuple[view.SequenceView, str]:
    """The view actually drawn and its source, cut down until shorter than :data:`MAX_TEXT_SIZE`."""
    settings = {"full": options.full, "timing": options.timing, "title": options.title}
    shown = view.build(annotated, notes=options.notes, **settings)
    text = _source(shown, options)
    if len(text) < MAX_TEXT_SIZE:
        return shown, text
    shown = view.build(annotated, notes=False, **settings)
    text = _source(shown, options)
    arrows = len(shown.arrows)
    reason = "to stay under Mermaid's 50,000-character limit; render svg or html to see them"
    while len(text) >= MAX_TEXT_SIZE and arrows > 2:
        arrows = max(2, min(arrows - 2, int(arrows * MAX_TEXT_SIZE * 0.9 / len(text))))
        shown = view.build(annotated, notes=False, max_arrows=arrows, budget_reason=reason, **settings)
        text = _source(shown, options)
    if len(text) >= MAX_TEXT_SIZE:  # e.g. thousands of hosts: no diagram fits, say so in one
        client = shown.lanes[0].id
        note = view.Event("gap", f"this trace ({len(annotated.exchanges)} exchanges, {len(shown.lanes) - 1} hosts) is"
                          f" too large for a Mermaid diagram; render svg or html instead", first=client, last=client)
        shown = replace(shown, lanes=shown.lanes[:1], events=(note,), left_out=len(annotated.exchanges))
        text = _source(shown, options)
    return shown, text


def render(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    """The diagram source, always shorter than :data:`MAX_TEXT_SIZE` characters."""
    return sequence(annotated, options)[1]
