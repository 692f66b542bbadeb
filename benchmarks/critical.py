"""Round trips on the critical path of a trace: the longest chain of exchanges each of which
started only after the previous one had ended (requests that had to wait for an answer).

Rule: stdlib + ``explorer.trace``; works on any trace (ours, or another client's through
``regexplore proxy``).
"""

from __future__ import annotations

from datetime import datetime

from explorer.trace import Trace

__all__ = ["critical_path"]

SLACK_MS = 0.5  # start times are recorded to the millisecond


def critical_path(trace: Trace) -> int:
    spans = []
    for ex in trace.exchanges:
        start = datetime.fromisoformat(ex.started.replace("Z", "+00:00")).timestamp() * 1000
        spans.append((start, start + ex.duration_ms))
    spans.sort()
    chain: list[int] = []
    for i, (start, _end) in enumerate(spans):
        before = [chain[j] for j in range(i) if spans[j][1] <= start + SLACK_MS]
        chain.append(1 + max(before, default=0))
    return max(chain, default=0)
