"""Recording on / off as paired runs: the recorder's overhead, as the median of per-pair ratios.

Rule: stdlib only. A page run's five rounds cannot resolve 5 %: on the benchmark machine one
command's wall time varies by ±20 % from run to run, and a ratio of two medians of five takes
that spread whole (run 8 of the page said 1.18 for pull-big; 11 alternations measured 0.97).
A pair is the recorded command and the unrecorded one run back to back, in alternating order,
so that what drifts over minutes (the machine, the registry's storage) hits both halves alike;
the ratio of each pair's two times, over many pairs, is what the verdict judges.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.measure import Sample

__all__ = ["BUDGET", "PairedRatio", "paired_ratio", "pairs_wanted"]

#: seconds of pairs each case gets at least: a short command varies most (a 0.15 s pull by ±10 % and
#: more), so it runs more pairs, fixed before measuring, never chosen by what they show
BUDGET = 10.0


@dataclass(frozen=True)
class PairedRatio:
    """The median of per-pair ratios and the middle half of them (quartiles), over ``pairs`` pairs."""

    median: float
    low: float  # first quartile
    high: float  # third quartile
    pairs: int

    def text(self, what: str) -> str:
        return f"{self.median:.2f} {what} (middle half {self.low:.2f}–{self.high:.2f})"


def paired_ratio(pairs: Sequence[tuple[Sample, Sample]], attr: str = "wall") -> PairedRatio | None:
    """``on / off`` of ``attr`` (``wall`` or ``cpu``) in each ``(on, off)`` pair, summarised; None
    without a pair whose ``off`` took any time."""
    ratios = sorted(getattr(on, attr) / getattr(off, attr) for on, off in pairs if getattr(off, attr) > 0)
    if not ratios:
        return None
    if len(ratios) == 1:
        return PairedRatio(ratios[0], ratios[0], ratios[0], 1)
    low, mid, high = statistics.quantiles(ratios, n=4, method="inclusive")
    return PairedRatio(mid, low, high, len(ratios))


def pairs_wanted(pair_seconds: float | None, at_least: int, budget: float = BUDGET) -> int:
    """How many more pairs a case runs: ``at_least``, or as many as fill ``budget`` seconds when one pair
    (the recorded and the unrecorded command, ``pair_seconds`` together) is quicker."""
    if not pair_seconds or pair_seconds <= 0:
        return at_least
    return max(at_least, math.ceil(budget / pair_seconds))
