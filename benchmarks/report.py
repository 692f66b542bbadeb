"""The benchmark's tables and docs/performance.md.

Rule: stdlib only (plus the measured series); what each number means is said in the page.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from benchmarks.measure import Sample, Series
from benchmarks.pairs import paired_ratio
from benchmarks.registry_log import Phases

__all__ = ["TARGETS", "CaseStats", "report", "write_page"]

#: link -> case -> maximum ratio of regexplore's median wall time to plain skopeo's
TARGETS = {
    "loopback": {"pull-big": 0.6, "pull-many": 1.0, "push-big": 1.0, "push-many": 1.0},
    "25ms": {"pull-small": 1.5, "pull-many": 1.0, "push-many": 1.0, "copy-many": 1.0},
}


@dataclass
class CaseStats:
    series: dict[str, Series] = field(default_factory=dict)
    exchanges: list[int] = field(default_factory=list)  # regexplore's, per run
    round_trips: list[int] = field(default_factory=list)  # regexplore's critical path, per run
    skopeo_exchanges: int | None = None  # from one run through regexplore proxy
    skopeo_round_trips: int | None = None
    connections: dict[str, list[int]] = field(default_factory=dict)  # client -> TCP connections per run (25 ms)
    recording_pairs: list[tuple[Sample, Sample]] = field(default_factory=list)  # (on, off) run back to back
    phases: dict[str, list[Phases]] = field(default_factory=dict)  # client -> where each run's wall went


#: skopeo's https probe of a loopback registry is a TLS hello that ``regexplore proxy`` (plain http) never
#: sees as an exchange; the latency proxy counts its connection (skopeo opens one connection more than it
#: makes exchanges). Our probe is an exchange of our trace, so it is added to skopeo's count to compare like with like.
SKOPEO_UNSEEN_PROBE = 1


def _spread(series: Series) -> str:
    walls = [s.wall for s in series.samples]
    return f"{min(walls):.3f}–{max(walls):.3f}"


def _per_run(ours: Series, base: Series) -> list[float]:
    """The ratio in each run (clients alternate inside a run, so run i of both belong together)."""
    return [a.wall / b.wall for a, b in zip(ours.samples, base.samples) if b.wall]


def _ratio(series: Series, base: Series | None, attr: str = "wall") -> str:
    if not base or not base.samples or not getattr(base, attr):
        return "–"
    return f"{getattr(series, attr) / getattr(base, attr):.2f}"


def report(results: dict[str, dict[str, CaseStats]], side: list[tuple[str, float]], rounds: int,
           took: float | None = None, machine_state: str | None = None) -> str:
    lines = ["| link | case | client | median wall | wall min–max | median CPU | registry CPU | peak RSS "
             "| wall / skopeo | CPU / skopeo | wall / skopeo-isolated | TCP connections |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    trips = ["", "| link | case | regexplore exchanges | regexplore round trips | skopeo exchanges "
             "| skopeo round trips (+ probe) |", "|---|---|---:|---:|---:|---:|"]
    verdicts = ["", "| target | reached (median) | median | every run | per run |", "|---|---|---|---|---|"]
    for link, by_case in results.items():
        for case, stats in by_case.items():
            base, isolated = stats.series.get("skopeo"), stats.series.get("skopeo-isolated")
            for client, series in stats.series.items():
                conns = stats.connections.get(client)
                server = f"{series.server_cpu:.3f} s" if series.server_cpu is not None else "–"
                lines.append(f"| {link} | {case} | {client} | {series.wall:.3f} s | {_spread(series)} s | "
                             f"{series.cpu:.3f} s | {server} | {series.rss_mib:.0f} MiB | {_ratio(series, base)} | "
                             f"{_ratio(series, base, 'cpu')} | {_ratio(series, isolated)} | "
                             f"{f'{median(conns):.0f}' if conns else '–'} |")
            ours = f"{median(stats.round_trips):.0f}" if stats.round_trips else "–"
            exchanges = f"{median(stats.exchanges):.0f}" if stats.exchanges else "–"
            theirs = (f"{stats.skopeo_round_trips} (+{SKOPEO_UNSEEN_PROBE})" if stats.skopeo_round_trips else "–")
            trips.append(f"| {link} | {case} | {exchanges} | {ours} | {stats.skopeo_exchanges or '–'} | {theirs} |")
            limit = TARGETS.get(link, {}).get(case)
            ours_series = stats.series.get("regexplore")
            if limit is not None and ours_series and base:
                ratio = ours_series.wall / base.wall
                each = _per_run(ours_series, base)
                verdicts.append(f"| {link} {case}: regexplore ≤ {limit} × skopeo | {'yes' if ratio <= limit else 'NO'} "
                                f"| {ratio:.2f} | {'yes' if each and max(each) <= limit else 'NO'} | "
                                f"{', '.join(f'{r:.2f}' for r in each)} |")
            if stats.round_trips and stats.skopeo_round_trips:
                skopeo_trips = stats.skopeo_round_trips + SKOPEO_UNSEEN_PROBE
                fewer = median(stats.round_trips) <= skopeo_trips
                verdicts.append(f"| {link} {case}: round trips ≤ skopeo's | {'yes' if fewer else 'NO'} | "
                                f"{median(stats.round_trips):.0f} vs {skopeo_trips} | | |")
            wall, cpu = paired_ratio(stats.recording_pairs), paired_ratio(stats.recording_pairs, "cpu")
            if wall is not None and cpu is not None and link == "loopback":
                verdicts.append(f"| {case}: recording on / off ≤ 1.05 (wall; median of {wall.pairs} pairs) | "
                                f"{'yes' if wall.median <= 1.05 else 'NO'} | {wall.text('wall')}, {cpu.text('CPU')} "
                                f"| | |")
            if ours_series and case in ("pull-big", "push-big") and link == "loopback":
                verdicts.append(f"| {case}: peak RSS ≤ 64 MiB | {'yes' if ours_series.rss_mib <= 64 else 'NO'} | "
                                f"{ours_series.rss_mib:.0f} MiB | | |")
    side_lines = _phase_lines(results) + ["", "| timing | median |", "|---|---:|"]
    for label, seconds in side:
        side_lines.append(f"| {label} | {seconds * 1000:.0f} ms |")
        if label.startswith("render"):
            verdicts.append(f"| {label} ≤ 1 s | {'yes' if seconds <= 1 else 'NO'} | {seconds:.2f} s | | |")
        if label.startswith("regexplore --help"):
            verdicts.append(f"| --help ≤ 0.25 s | {'yes' if seconds <= 0.25 else 'NO'} | {seconds:.3f} s | | |")
        if label == "trace pull: process start → first request byte":
            verdicts.append(f"| start-up to first request byte ≤ 100 ms | {'yes' if seconds <= 0.1 else 'NO'} | "
                            f"{seconds * 1000:.0f} ms | | |")
        if label.startswith("trace pull: process start → first HTTP request"):  # no target: said, not judged
            verdicts.append(f"| start-up to first HTTP request (plain http, after the probe; no target) | — | "
                            f"{seconds * 1000:.0f} ms | | |")
    head = [f"{rounds} runs of every case and client (clients alternating inside each run), medians and the "
            "min–max spread; CPU = user + system time of the child process; registry CPU = what the registry "
            "process spent during the same run (the two share this machine's cores); RSS = the child's peak. "
            "Ratios are to plain `skopeo copy` run as a user runs it (root, its own HOME); "
            "`skopeo-isolated` is the tests' private-HOME variant (loopback only). TCP connections: accepted "
            "by the 25 ms link's proxy per run. Round trips: the critical path of the trace (requests that "
            "had to wait for an earlier answer), skopeo's from one run through `regexplore proxy`, which does "
            f"not see its https probe (+{SKOPEO_UNSEEN_PROBE}). Recording on / off: the recorded and the "
            "unrecorded command run back to back in pairs (each round's, and more after the rounds), and the "
            "verdict takes the median of the pairs' ratios, shown with its 95 % confidence interval and the "
            "middle half of the ratios (`benchmarks/pairs.py`: a ratio of two medians of five rounds cannot "
            "resolve 5 % here; an interval across 1.05 is a tie the pairs did not resolve). Start → first request, "
            "at the registry, last answer → exit: each run's wall split by the answers the registry logged "
            "(`benchmarks/registry_log.py`): before its first request, from it to the last answer, and after; on "
            "the 25 ms link the latency proxy stands between, so what it still forwards after the registry's last "
            "answer (most of a big blob) counts as after.", ""]
    if took is not None:
        head += [f"This run took {took / 60:.1f} min." + (f" {machine_state}" if machine_state else ""), ""]
    return "\n".join(head + lines + trips + verdicts + side_lines) + "\n"


def _phase_lines(results: dict[str, dict[str, CaseStats]]) -> list[str]:
    """Where each client's wall went, from the registry's log (``benchmarks/registry_log.py``), medians."""
    lines = ["", "| link | case | client | start → first request | at the registry | last answer → exit | "
             "at the registry / skopeo's | requests |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for link, by_case in results.items():
        for case, stats in by_case.items():
            theirs = stats.phases.get("skopeo")
            base = median(p.at_registry for p in theirs) if theirs else 0.0
            for client, seen in stats.phases.items():
                at = median(p.at_registry for p in seen)
                ratio = f"{at / base:.2f}" if base else "–"
                lines.append(f"| {link} | {case} | {client} | {median(p.before for p in seen) * 1000:.0f} ms | "
                             f"{at:.3f} s | {median(p.after for p in seen) * 1000:.0f} ms | {ratio} | "
                             f"{median(p.requests for p in seen):.0f} |")
    return lines if len(lines) > 3 else []


def machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for argv in (["skopeo", "--version"], ["docker-registry", "--version"]):
        try:
            versions.append(subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip())
        except OSError:
            versions.append(f"{argv[0]}: not found")
    try:
        from importlib.metadata import version

        dxf = f"python-dxf {version('python-dxf')}"
    except Exception:
        dxf = "python-dxf not installed"
    return [
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, Python {platform.python_version()}",
        *versions,
        dxf,
    ]


def write_page(path: Path, table: str) -> None:
    body = [
        "# Performance",
        "",
        "Measured side by side in ONE benchmark run on one machine, against the same CNCF distribution",
        "registry (anonymous), over two links: `loopback` (direct) and `25ms` (through the latency proxy of",
        "`benchmarks/latency.py`: every chunk forwarded 12.5 ms after it arrived, each way, and a new",
        "connection's handshake costs one round trip). Every client writes what it pulls to disk",
        "(regexplore and skopeo an OCI layout, python-dxf one file per blob). Regenerate this page with:",
        "",
        "```sh",
        "scripts/test.sh --co -q >/dev/null   # installs the registry, skopeo and the venv",
        ".venv/bin/pip install -e '.[test,bench]'",
        ".venv/bin/python -m benchmarks.run      # all cases, both links, 5 runs; the page says how long it took",
        "```",
        "",
        "The run byte-compiles `explorer` first, as `pip install` of a wheel does: this machine sets",
        "`PYTHONDONTWRITEBYTECODE=1`, under which the editable install recompiled about 40 modules from",
        "source in every command (about 40 ms of each regexplore start-up before this was found).",
        "",
        "## Machine",
        "",
        *[f"- {line}" for line in machine()],
        "",
        "## Results",
        "",
        table,
        (Path(__file__).with_name("findings.md")).read_text(encoding="utf-8"),
    ]
    path.write_text("\n".join(body), encoding="utf-8")


