"""``regexplore check``: judge every exchange of a trace against the distribution spec.

Rule 1: pure.
The statuses and headers judged are the tables the OpenAPI document is built from
(``explorer/protocol/conformance.py``), so the document and the judge agree.
Rule 2: a finding is MUST (the spec is broken: exit 1), SHOULD or note; each
names its exchange, the spec version and section, and what was expected.

    from explorer.check import check, render_findings
    findings = check(trace)
    print(render_findings([("pull.trace.json", findings)], "table"))

Modules: ``rules.py`` (the rules), ``report.py`` (table, Markdown, JSON).
"""

from __future__ import annotations

from explorer.annotate import annotate
from explorer.check.report import FORMATS, render_findings
from explorer.check.rules import Finding, exchange_findings
from explorer.trace import Trace

__all__ = ["FORMATS", "Finding", "broken", "check", "render_findings"]


def check(trace: Trace) -> list[Finding]:
    """Every finding of every exchange, in exchange order."""
    context: dict[str, object] = {}
    findings: list[Finding] = []
    for item in annotate(trace).exchanges:
        findings.extend(exchange_findings(item, context))
    return findings


def broken(findings: list[Finding]) -> bool:
    """True when a MUST is broken (``regexplore check`` exits 1)."""
    return any(f.severity == "MUST" for f in findings)
