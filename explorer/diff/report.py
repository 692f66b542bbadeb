"""A comparison as text (a terminal), Markdown (an issue or a PR) or HTML (two diagrams side by side).

Rule 1: every value from a trace is untrusted: terminal text has its control
characters removed (``one_line``), Markdown table cells are escaped, HTML goes
through Jinja's autoescaping and the diagrams are our own SVG renders.
"""

from __future__ import annotations

import html

from explorer.annotate import one_line
from explorer.diff.align import Comparison, Difference, Totals
from explorer.units import human_duration, human_size

__all__ = ["as_html", "as_markdown", "as_text"]

_TITLES = {
    "https-probe": "https probe on one side only", "only-in-a": "only in A", "only-in-b": "only in B",
    "status": "different status", "headers": "different headers", "header-values": "different header values",
    "body-size": "different body size", "order": "different order of phases", "timings": "different timing",
}


def _totals_rows(comparison: Comparison) -> list[tuple[str, str, str]]:
    assert comparison.totals is not None
    a, b = comparison.totals

    def rt(t: Totals) -> str:
        return "—" if t.round_trips_before_first_blob is None else str(t.round_trips_before_first_blob)

    return [
        ("exchanges", str(a.exchanges), str(b.exchanges)),
        ("round trips before the first blob", rt(a), rt(b)),
        ("bytes down", human_size(a.bytes_down), human_size(b.bytes_down)),
        ("bytes up", human_size(a.bytes_up), human_size(b.bytes_up)),
        ("wall time", human_duration(a.wall_ms), human_duration(b.wall_ms)),
        ("phases", " → ".join(comparison.phases[0]), " → ".join(comparison.phases[1])),
    ]


def _numbers(d: Difference) -> str:
    a, b = d.numbers
    return f"{'#' + str(a) if a else '–'} / {'#' + str(b) if b else '–'}"


def _verdict(comparison: Comparison, kept: list[Difference]) -> str:
    if not kept:
        return f"the flows match ({comparison.pairs} exchanges paired)"
    return f"{len(kept)} difference{'s' if len(kept) != 1 else ''} ({comparison.pairs} exchanges paired)"


def as_text(comparison: Comparison, names: tuple[str, str], ignore: frozenset[str]) -> str:
    kept = comparison.kept(ignore)
    lines = [one_line(f"A: {names[0]} — {comparison.a.summary.title}"),
             one_line(f"B: {names[1]} — {comparison.b.summary.title}"), ""]
    width = max(len(r[0]) for r in _totals_rows(comparison))
    lines += [one_line(f"{label:<{width}}  A: {a}   B: {b}", 400) for label, a, b in _totals_rows(comparison)]
    lines.append("")
    for d in kept:
        lines.append(one_line(f"{_TITLES[d.kind]:<26} {_numbers(d):<13} {d.what}"
                              + (f": {d.a or '—'} vs {d.b or '—'}" if d.kind not in ("only-in-a", "only-in-b",
                                                                                     "https-probe") else ""), 400))
    lines.append(_verdict(comparison, kept))
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    flat = one_line(text, 400)
    for char in "\\`*_[]<>|#!":
        flat = flat.replace(char, "\\" + char)
    return flat


def as_markdown(comparison: Comparison, names: tuple[str, str], ignore: frozenset[str],
                diagrams: tuple[str, str] | None = None) -> str:
    kept = comparison.kept(ignore)
    out = [f"# {_md(names[0])} vs {_md(names[1])}", "", f"**{_md(_verdict(comparison, kept))}**", "",
           "| | A | B |", "| --- | --- | --- |"]
    out += [f"| {_md(label)} | {_md(a)} | {_md(b)} |" for label, a, b in _totals_rows(comparison)]
    if kept:
        out += ["", "| difference | exchanges (A / B) | what | A | B |", "| --- | --- | --- | --- | --- |"]
        out += [f"| {_TITLES[d.kind]} | {_md(_numbers(d))} | {_md(d.what)} | {_md(d.a)} | {_md(d.b)} |" for d in kept]
    if diagrams:
        for label, diagram in zip(("A", "B"), diagrams):
            out += ["", f"## {label}", "", "```mermaid", diagram.rstrip("\n"), "```"]
    return "\n".join(out) + "\n"


def as_html(comparison: Comparison, names: tuple[str, str], ignore: frozenset[str],
            svgs: tuple[str, str]) -> str:
    """A self-contained page: the differences (highlighted) and the two SVG diagrams side by side."""
    kept = comparison.kept(ignore)
    e = html.escape
    flagged_a = {d.numbers[0] for d in kept if d.numbers[0]}
    flagged_b = {d.numbers[1] for d in kept if d.numbers[1]}
    rows = "".join(f"<tr class='{e(d.kind)}'><td>{e(_TITLES[d.kind])}</td><td>{e(_numbers(d))}</td>"
                   f"<td>{e(one_line(d.what))}</td><td>{e(one_line(d.a))}</td><td>{e(one_line(d.b))}</td></tr>"
                   for d in kept)
    totals = "".join(f"<tr><th>{e(label)}</th><td>{e(one_line(a))}</td><td>{e(one_line(b))}</td></tr>"
                     for label, a, b in _totals_rows(comparison))
    flagged = (f"<p class='flag'>Differing exchanges: A {e(', '.join(f'#{n}' for n in sorted(flagged_a)) or '—')}; "
               f"B {e(', '.join(f'#{n}' for n in sorted(flagged_b)) or '—')}</p>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{e(one_line(names[0]))} vs {e(one_line(names[1]))}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }} td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}
tr.only-in-a td, tr.only-in-b td, tr.status td {{ background: #fde8e8; }}
tr.headers td, tr.header-values td, tr.body-size td, tr.order td {{ background: #fff6d6; }}
.side {{ display: flex; gap: 1em; align-items: flex-start; }} .side > div {{ flex: 1; overflow: auto; border: 1px solid #ddd; }}
.verdict {{ font-weight: bold; }} .flag {{ color: #a00; }}
</style></head><body>
<h1>{e(one_line(names[0]))} <small>vs</small> {e(one_line(names[1]))}</h1>
<p class="verdict">{e(_verdict(comparison, kept))}</p>
<table><tr><th></th><th>A</th><th>B</th></tr>{totals}</table>
{"<table><tr><th>difference</th><th>exchanges (A / B)</th><th>what</th><th>A</th><th>B</th></tr>" + rows + "</table>" if kept else ""}
{flagged}
<div class="side"><div><h2>A</h2>{svgs[0]}</div><div><h2>B</h2>{svgs[1]}</div></div>
</body></html>
"""
