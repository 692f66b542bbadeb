"""benchmarks/pairs.py and the page's recording verdict: the median of paired on / off ratios."""

from benchmarks.measure import Sample, Series
from benchmarks.pairs import paired_ratio
from benchmarks.report import CaseStats, report


def pair(on: float, off: float, on_cpu: float | None = None, off_cpu: float | None = None) -> tuple[Sample, Sample]:
    return (Sample(wall=on, cpu=on if on_cpu is None else on_cpu, rss_mib=30.0),
            Sample(wall=off, cpu=off if off_cpu is None else off_cpu, rss_mib=30.0))


def test_the_ratio_is_taken_in_each_pair_then_the_median_and_the_middle_half_of_them():
    # the machine drifts between pairs (0.2 s to 0.6 s), the recorder costs 3 % in each
    pairs = [pair(0.206, 0.2), pair(0.618, 0.6), pair(0.309, 0.3), pair(0.412, 0.4), pair(0.2575, 0.25)]
    wall = paired_ratio(pairs)
    assert wall is not None and wall.pairs == 5
    assert round(wall.median, 6) == round(wall.low, 6) == round(wall.high, 6) == 1.03
    spread = paired_ratio([pair(1.2, 1.0), pair(0.9, 1.0), pair(1.0, 1.0), pair(1.1, 1.0), pair(1.0, 1.0)])
    assert spread is not None
    assert (round(spread.low, 6), round(spread.median, 6), round(spread.high, 6)) == (1.0, 1.0, 1.1)
    assert spread.text("wall") == "1.00 wall (range 0.90–1.20, middle half 1.00–1.10)"  # too few for a 95 % CI


def test_cpu_is_paired_apart_from_wall_and_no_pair_gives_no_ratio():
    cpu = paired_ratio([pair(1.0, 1.0, 1.3, 1.0), pair(1.0, 1.0, 1.1, 1.0), pair(1.0, 1.0, 1.2, 1.0)], "cpu")
    assert cpu is not None and round(cpu.median, 6) == 1.2
    assert paired_ratio([]) is None
    assert paired_ratio([pair(0.1, 0.0)]) is None  # an "off" that took no time says nothing
    one = paired_ratio([pair(1.1, 1.0)])
    assert one is not None and one.pairs == 1 and round(one.median, 6) == 1.1


def test_the_page_judges_the_recorder_by_the_paired_median_not_by_the_ratio_of_medians():
    stats = CaseStats()
    # five rounds whose medians alone would say 1.20 (0.6 s against 0.5 s) ...
    stats.series["regexplore"] = Series([Sample(w, w, 30.0) for w in (0.6, 0.6, 0.6, 0.3, 0.3)])
    stats.series["regexplore-norec"] = Series([Sample(w, w, 30.0) for w in (0.5, 0.5, 0.7, 0.7, 0.3)])
    # ... while each back-to-back pair says 2 % or less
    stats.recording_pairs = [pair(0.51, 0.5), pair(0.612, 0.6), pair(0.3, 0.3), pair(0.71, 0.7), pair(0.408, 0.4)]
    text = report({"loopback": {"pull-small": stats}}, [], 5)
    line = next(row for row in text.splitlines() if "recording on / off" in row)
    assert line.startswith("| pull-small: recording on / off ≤ 1.05 (wall; median of 5 pairs) | yes | 1.02 wall")
    stats.recording_pairs = [pair(0.6, 0.5), pair(0.7, 0.6), pair(0.36, 0.3)]
    text = report({"loopback": {"pull-small": stats}}, [], 5)
    line = next(row for row in text.splitlines() if "recording on / off" in row)
    assert "| NO | 1.20 wall (range 1.17–1.20, middle half 1.18–1.20)" in line  # 1.2, 1.17, 1.2


def test_a_quick_case_runs_more_pairs_and_a_slow_one_the_least_asked():
    from benchmarks.pairs import pairs_wanted

    assert pairs_wanted(0.3, 10) == 67  # a 0.15 s pull: 20 s of pairs
    assert pairs_wanted(2.1, 10) == 10  # a push of 200 MiB: the least asked
    assert pairs_wanted(None, 10) == 10 and pairs_wanted(0.0, 3) == 3  # no rounds measured it
    assert pairs_wanted(0.5, 0, budget=0.0) == 0  # --pairs 0 and no budget: none


def test_the_median_is_shown_with_its_95_percent_confidence_interval():
    from benchmarks.pairs import median_interval

    # the order statistics of the textbook tables: ranks 2 and 9 of 10, 6 and 16 of 21, 40 and 61 of 100
    assert median_interval(list(range(1, 11))) == (2, 9)
    assert median_interval(list(range(1, 22))) == (6, 16)
    assert median_interval(list(range(1, 101))) == (40, 61)
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0]) == (1.0, 5.0)  # no 95 % interval under 6: all of them
    # 21 pairs around 1.05: the verdict's median, and an interval wide enough to say it is unresolved
    ratios = [0.93, 0.95, 0.96, 0.97, 0.99, 1.0, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07, 1.08, 1.09, 1.1,
              1.12, 1.14, 1.15, 1.17, 1.2]
    wall = paired_ratio([pair(r, 1.0) for r in ratios])
    assert wall is not None and wall.pairs == 21
    assert wall.text("wall") == "1.05 wall (95 % CI 1.00–1.10, middle half 1.00–1.10)"
