"""benchmarks/registry_log.py: a run's wall split by the answers the real registry logged."""

import sys
import urllib.error
import urllib.request

import pytest

from benchmarks.measure import run
from benchmarks.registry_log import go_duration, phases, settled_size

CLIENT = """
import sys, time, urllib.error, urllib.request
time.sleep(0.3)
base = "http://" + sys.argv[1]
for path in ("/v2/", "/v2/some/repo/blobs/sha256:" + "0" * 64, "/v2/"):
    try:
        urllib.request.urlopen(urllib.request.Request(base + path, method="HEAD" if "blobs" in path else "GET"))
    except urllib.error.HTTPError:
        pass
time.sleep(0.2)
"""


@pytest.mark.parametrize("text, seconds", [("1.5s", 1.5), ("742.1ms", 0.7421), ("972.744µs", 972.744e-6),
                                           ("972.744us", 972.744e-6), ("1m2.5s", 62.5), ("1h0m0s", 3600.0),
                                           ("350ns", 350e-9)])
def test_go_durations_read_as_seconds(text, seconds):
    assert go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "12", "1.5 s", "1.5sx", "ms"])
def test_what_is_not_a_go_duration_is_refused(text):
    with pytest.raises(ValueError):
        go_duration(text)


def test_a_runs_wall_splits_into_its_start_its_requests_and_its_end(registry_anonymous):
    log = registry_anonymous.log_path
    try:  # an answer logged before the run (an error line, too) is not the run's
        urllib.request.urlopen(f"http://{registry_anonymous.host}/v2/nothing/manifests/x")
    except urllib.error.HTTPError:
        pass
    offset = 0  # from the log's start: the window, not the offset, keeps earlier answers out
    sample = run([sys.executable, "-c", CLIENT, registry_anonymous.host])
    seen = phases(log, offset, sample.began, sample.wall, settled=settled_size(log))
    assert seen is not None
    assert seen.requests == 3  # the GET, the HEAD answered 404 (logged "with error") and the GET
    assert 0.3 <= seen.before < sample.wall - 0.2
    assert 0.2 <= seen.after < sample.wall - 0.3
    assert seen.at_registry < 0.2
    assert seen.before + seen.at_registry + seen.after == pytest.approx(sample.wall, abs=0.01)


def test_a_run_the_registry_never_answered_has_no_phases(registry_anonymous):
    log = registry_anonymous.log_path
    offset = settled_size(log)
    sample = run([sys.executable, "-c", "pass"])
    assert phases(log, offset, sample.began, sample.wall, settled=settled_size(log)) is None


def test_the_page_shows_each_clients_split_and_its_time_at_the_registry_against_skopeos():
    from benchmarks.registry_log import Phases
    from benchmarks.report import CaseStats, report

    stats = CaseStats(phases={"regexplore": [Phases(0.26, 1.6, 0.016, 9), Phases(0.28, 1.7, 0.02, 9)],
                              "skopeo": [Phases(0.019, 1.75, 0.002, 11)]})
    page = report({"loopback": {"push-big": stats}}, [], 2)
    assert "| loopback | push-big | regexplore | 270 ms | 1.650 s | 18 ms | 0.94 | 9 |" in page
    assert "| loopback | push-big | skopeo | 19 ms | 1.750 s | 2 ms | 1.00 | 11 |" in page


def test_a_case_skopeo_answered_in_no_time_shows_no_ratio_rather_than_failing_the_page():
    from benchmarks.registry_log import Phases
    from benchmarks.report import CaseStats, report

    stats = CaseStats(phases={"regexplore": [Phases(0.2, 0.01, 0.01, 1)], "skopeo": [Phases(0.02, 0.0, 0.0, 1)]})
    assert "| loopback | pull-small | regexplore | 200 ms | 0.010 s | 10 ms | – | 1 |" in report(
        {"loopback": {"pull-small": stats}}, [], 1)
