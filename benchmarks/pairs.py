"""Recording on / off as paired runs: the recorder's overhead, as the median of per-pair ratios.

Rule: stdlib only. A page run's five rounds cannot resolve 5 %: on the benchmark machine one
command's wall time varies by ±20 % from run to run, and a ratio of two medians of five takes
that spread whole (run 8 of the page said 1.18 for pull-big; 11 alternations measured 0.97).
A pair is the recorded command and the unrecorded one run back to back, in alternating order,
so that what drifts over minutes (the machine, the registry's storage) hits both halves alike;
the ratio of each pair's two times, over many pairs, is what the verdict judges.

The median's 95 % confidence interval is shown beside it (distribution-free: the order statistics
that a binomial count of ratios below the true median keeps inside 95 % of the time), so that a
verdict of 1.05 against a limit of 1.05 reads as what it is: a tie the pairs did not resolve.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.measure import Sample

__all__ = ["BUDGET", "PairedRatio", "median_interval", "paired_ratio", "pairs_wanted"]

#: seconds of pairs each case gets at least: a short command varies most (a 0.15 s pull by ±10 % and
#: more), so it runs more pairs, fixed before measuring, never chosen by what they show (20 s: with 10 s,
#: pull-many's 21 pairs left its median's interval as wide as their middle half, 0.96–1.15 in run 10)
BUDGET = 20.0


@dataclass(frozen=True)
class PairedRatio:
    """The median of per-pair ratios, its 95 % confidence interval and the middle half of the ratios
    (quartiles), over ``pairs`` pairs."""

    median: float
    low: float  # first quartile
    high: float  # third quartile
    pairs: int
    ci_low: float  # the median's 95 % confidence interval (the min–max under 6 pairs)
    ci_high: float

    def text(self, what: str) -> str:
        interval = "95 % CI" if self.pairs >= 6 else "range"
        return (f"{self.median:.2f} {what} ({interval} {self.ci_low:.2f}–{self.ci_high:.2f}, "
                f"middle half {self.low:.2f}–{self.high:.2f})")


def paired_ratio(pairs: Sequence[tuple[Sample, Sample]], attr: str = "wall") -> PairedRatio | None:
    """``on / off`` of ``attr`` (``wall`` or ``cpu``) in each ``(on, off)`` pair, summarised; None
    without a pair whose ``off`` took any time."""
    ratios = sorted(getattr(on, attr) / getattr(off, attr) for on, off in pairs if getattr(off, attr) > 0)
    if not ratios:
        return None
    if len(ratios) == 1:
        return PairedRatio(ratios[0], ratios[0], ratios[0], 1, ratios[0], ratios[0])
    low, mid, high = statistics.quantiles(ratios, n=4, method="inclusive")
    ci_low, ci_high = median_interval(ratios)
    return PairedRatio(mid, low, high, len(ratios), ci_low, ci_high)


def median_interval(ordered: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """The distribution-free confidence interval of the median of ``ordered`` (sorted): its ``k``-th
    smallest and ``k``-th largest values, ``k`` the largest for which a Binomial(n, ½) count falls
    below ``k`` on either side with a probability of at most ``1 - confidence`` together; with too few
    values for any such ``k`` (under 6 at 95 %), the smallest and the largest."""
    n = len(ordered)
    k, tail = 1, 1 / 2**n  # tail: P(count <= k - 1), what the k-th smallest leaves out below the median
    while k < n and 2 * (tail + math.comb(n, k) / 2**n) <= 1 - confidence:  # the next k still holds
        tail += math.comb(n, k) / 2**n
        k += 1
    return ordered[k - 1], ordered[n - k]


def pairs_wanted(pair_seconds: float | None, at_least: int, budget: float = BUDGET) -> int:
    """How many more pairs a case runs: ``at_least``, or as many as fill ``budget`` seconds when one pair
    (the recorded and the unrecorded command, ``pair_seconds`` together) is quicker."""
    if not pair_seconds or pair_seconds <= 0:
        return at_least
    return max(at_least, math.ceil(budget / pair_seconds))
