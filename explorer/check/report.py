"""The findings of ``regexplore check`` as a table, Markdown or JSON.

Rule: pure. Values in findings are one line
already; Markdown cells escape ``|``, ``\\``, backticks and HTML-significant characters.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explorer.check.rules import Finding

__all__ = ["FORMATS", "render_findings"]

FORMATS = ("table", "markdown", "json")
_COLUMNS = ("#", "severity", "section", "expected", "found")
_ORDER = {"MUST": 0, "SHOULD": 1, "note": 2}


def _counts(findings: list[Finding]) -> str:
    counts = {level: sum(1 for f in findings if f.severity == level) for level in _ORDER}
    return ", ".join(f"{n} {level}" for level, n in counts.items())


def _row(finding: Finding) -> tuple[str, ...]:
    return (str(finding.exchange), finding.severity, finding.section, finding.expected, finding.found)


def _table(results: list[tuple[str, list[Finding]]]) -> str:
    out = []
    for name, findings in results:
        verdict = "FAIL" if any(f.severity == "MUST" for f in findings) else "ok"
        out.append(f"{name}: {verdict} ({_counts(findings)})")
        if not findings:
            continue
        rows = [_row(f) for f in findings]
        widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(_COLUMNS)]
        for cells in (_COLUMNS, *rows):
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    for a, b in (("\\", "\\\\"), ("|", "\\|"), ("`", "\\`"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"),
                 ("*", "\\*"), ("_", "\\_"), ("[", "\\["), ("]", "\\]")):
        text = text.replace(a, b)
    return text


def _markdown(results: list[tuple[str, list[Finding]]]) -> str:
    out = []
    for name, findings in results:
        verdict = "FAIL" if any(f.severity == "MUST" for f in findings) else "ok"
        out.append(f"## {_cell(name)}: {verdict}\n\n{_counts(findings)}\n")
        if findings:
            out.append("| " + " | ".join(_COLUMNS) + " |")
            out.append("|" + "---|" * len(_COLUMNS))
            out += ["| " + " | ".join(_cell(c) for c in _row(f)) + " |" for f in findings]
            out.append("")
    return "\n".join(out) + "\n"


def render_findings(results: list[tuple[str, list[Finding]]], fmt: str = "table") -> str:
    """``[(trace name, findings), …]`` as ``table``, ``markdown`` or ``json``."""
    if fmt == "json":
        return json.dumps({"traces": [{"trace": name, "broken": any(f.severity == "MUST" for f in findings),
                                       "findings": [f.to_dict() for f in findings]}
                                      for name, findings in results]}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return _markdown(results)
    return _table(results)
