"""Compare one step of a flow as run against the sandbox and against distribution: hops, then what the CLI said.

Rule: ``compare_step`` returns problems as readable lines (empty = the same);
hops are compared after ``differences.reconcile`` applied the allowed
differences of that step to distribution's side, and nothing else.
What the CLI said is compared as facts that do not depend on the registry's
address or timing: exit code, the error code it named, the digests it printed
(in order) and the bare words it printed (tags, as a sorted list).
"""

from __future__ import annotations

import re
from itertools import zip_longest

from tests.faithful.differences import reconcile
from tests.faithful.hops import DIGEST, Hop, hops
from tests.faithful.targets import Traced

__all__ = ["compare_step", "error_code", "facts"]

ERROR_CODE = re.compile(r"\b[A-Z][A-Z_]{3,}\b")


def error_code(traced: Traced) -> str | None:
    """The first registry error code on the first line of stderr (``MANIFEST_UNKNOWN``), if any."""
    first = traced.stderr.splitlines()[0] if traced.stderr else ""
    found = ERROR_CODE.search(first)
    return found.group() if found else None


def facts(traced: Traced) -> dict[str, object]:
    lines = traced.stdout.splitlines()
    return {
        "exit code": traced.code,
        "error code": error_code(traced),
        "digests printed": DIGEST.findall(traced.stdout),
        "words printed": sorted(line for line in lines if line and " " not in line),
    }


def compare_step(flow: str, step: str, sandbox: Traced, distribution: Traced, *, token_auth: bool) -> list[str]:
    where = f"{flow} / {step}"
    ours, expected = hops(sandbox.trace), reconcile(flow, step, hops(distribution.trace), token_auth=token_auth)
    problems = []
    if len(ours) != len(expected) or not all(a.matches(b) for a, b in zip(ours, expected)):
        problems.append(f"{where}: hops differ (sandbox | distribution with the allowed differences applied)\n"
                        + _side_by_side(ours, expected))
    mine, theirs = facts(sandbox), facts(distribution)
    for key in mine:
        if mine[key] != theirs[key]:
            problems.append(f"{where}: {key}: sandbox {mine[key]!r}, distribution {theirs[key]!r}")
    return problems


def _side_by_side(left: list[Hop], right: list[Hop]) -> str:
    rows = []
    for a, b in zip_longest(left, right):
        same = a is not None and b is not None and a.matches(b)
        rows.append(f"  {'  ' if same else '!!'} {str(a or ''):58} | {b or ''}")
    return "\n".join(rows)
