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

from benchmarks.measure import Series

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


def _ratio(series: Series, base: Series | None, attr: str = "wall") -> str:
    if not base or not base.samples or not getattr(base, attr):
        return "–"
    return f"{getattr(series, attr) / getattr(base, attr):.2f}"


def report(results: dict[str, dict[str, CaseStats]], side: list[tuple[str, float]], rounds: int) -> str:
    lines = ["| link | case | client | median wall | median CPU | peak RSS | wall / skopeo | CPU / skopeo "
             "| wall / skopeo-isolated |", "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    trips = ["", "| link | case | regexplore exchanges | regexplore round trips | skopeo exchanges "
             "| skopeo round trips |", "|---|---|---:|---:|---:|---:|"]
    verdicts = ["", "| target | reached | measured |", "|---|---|---|"]
    for link, by_case in results.items():
        for case, stats in by_case.items():
            base, isolated = stats.series.get("skopeo"), stats.series.get("skopeo-isolated")
            for client, series in stats.series.items():
                lines.append(f"| {link} | {case} | {client} | {series.wall:.3f} s | {series.cpu:.3f} s | "
                             f"{series.rss_mib:.0f} MiB | {_ratio(series, base)} | {_ratio(series, base, 'cpu')} | "
                             f"{_ratio(series, isolated)} |")
            ours = f"{median(stats.round_trips):.0f}" if stats.round_trips else "–"
            exchanges = f"{median(stats.exchanges):.0f}" if stats.exchanges else "–"
            trips.append(f"| {link} | {case} | {exchanges} | {ours} | {stats.skopeo_exchanges or '–'} | "
                         f"{stats.skopeo_round_trips or '–'} |")
            limit = TARGETS.get(link, {}).get(case)
            ours_series = stats.series.get("regexplore")
            if limit is not None and ours_series and base:
                ratio = ours_series.wall / base.wall
                verdicts.append(f"| {link} {case}: regexplore ≤ {limit} × skopeo | {'yes' if ratio <= limit else 'NO'} "
                                f"| {ratio:.2f} |")
            if stats.round_trips and stats.skopeo_round_trips and link != "loopback":
                fewer = median(stats.round_trips) <= stats.skopeo_round_trips
                verdicts.append(f"| {link} {case}: round trips ≤ skopeo's | {'yes' if fewer else 'NO'} | "
                                f"{median(stats.round_trips):.0f} vs {stats.skopeo_round_trips} |")
            norec = stats.series.get("regexplore-norec")
            if ours_series and norec and link == "loopback":
                ratio, cpu = ours_series.wall / norec.wall, ours_series.cpu / norec.cpu
                verdicts.append(f"| {case}: recording on / off ≤ 1.05 | {'yes' if ratio <= 1.05 else 'NO'} | "
                                f"{ratio:.2f} wall, {cpu:.2f} CPU |")
            if ours_series and case in ("pull-big", "push-big") and link == "loopback":
                verdicts.append(f"| {case}: peak RSS ≤ 64 MiB | {'yes' if ours_series.rss_mib <= 64 else 'NO'} | "
                                f"{ours_series.rss_mib:.0f} MiB |")
    side_lines = ["", "| timing | median |", "|---|---:|"]
    for label, seconds in side:
        side_lines.append(f"| {label} | {seconds * 1000:.0f} ms |")
        if label.startswith("render"):
            verdicts.append(f"| {label} ≤ 1 s | {'yes' if seconds <= 1 else 'NO'} | {seconds:.2f} s |")
        if label.startswith("regexplore --help"):
            verdicts.append(f"| --help ≤ 0.25 s | {'yes' if seconds <= 0.25 else 'NO'} | {seconds:.3f} s |")
        if label.startswith("trace pull: process start"):
            verdicts.append(f"| start-up to first request byte ≤ 100 ms | {'yes' if seconds <= 0.1 else 'NO'} | "
                            f"{seconds * 1000:.0f} ms |")
    head = [f"{rounds} rounds, medians; CPU = user + system time of the child process; RSS = its peak. "
            "Ratios are to plain `skopeo copy` run as a user runs it (root, its own HOME); "
            "`skopeo-isolated` is the tests' private-HOME variant.", ""]
    return "\n".join(head + lines + trips + verdicts + side_lines) + "\n"


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
        "Measured side by side in ONE run on one machine, over loopback, against the same CNCF distribution",
        "registry (anonymous). Every client writes what it pulls to disk (regexplore and skopeo an OCI",
        "layout, python-dxf one file per blob). Regenerate this page with:",
        "",
        "```sh",
        "scripts/test.sh --co -q >/dev/null   # installs the registry, skopeo and the venv",
        ".venv/bin/pip install -e '.[test,bench]'",
        ".venv/bin/python -m benchmarks.run",
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
        "## What bounds the targets not reached",
        "",
        "Profiled with cProfile and pyinstrument (`python -m pyinstrument -m explorer trace pull …`):",
        "",
        "- **Fixed start-up, about 0.13 s per command**: the interpreter, importing httpx (≈ 25 ms) and",
        "  typer (≈ 25 ms), building the Typer command (≈ 25 ms). skopeo is a Go binary that starts in",
        "  milliseconds, so every case that moves little data (small, multi, many) carries that cost;",
        "  `--help` itself stays far below its 0.25 s budget because it imports neither httpx nor flows.",
        "- **Big pulls**: every byte is hashed exactly once (the recorder's tap; the download borrows it,",
        "  the layout writer does not hash again), on a thread of its own for bodies of 8 MiB or more",
        "  (hashlib releases the GIL, so hashing overlaps receiving and writing). What remains is start-up",
        "  plus receiving and writing 200 MiB. The hash thread trades CPU for wall time: an A/B of the same",
        "  pull (7 runs each) gave 0.42 s wall / 0.50 s CPU threaded against 0.46 s / 0.45 s inline, so",
        "  recording on (threaded tap) and off (inline hash in the download) differ in CPU more than in wall.",
        "- **Big pushes are bound by start-up plus the registry**: the transfer itself is faster than skopeo's",
        "  (a monolithic PUT of 200 MiB: 0.50 s sending, as fast as distribution 2.8 takes it in, plus 0.14 s",
        "  while it finishes, against about 0.72 s for skopeo's streamed PATCH and PUT), but regexplore",
        "  starts about 0.13 s before its first request and skopeo 0.02 s. Measured alternating 6 times:",
        "  skopeo 0.75 s, regexplore 0.81 s monolithic (`--chunk-size 512MiB`), 0.82 s with the default",
        "  16 MiB chunks (13 PATCHes: the spec's chunked upload costs about 0.015 s more).",
        "- **Many small layers sit at the target, and swing around it between runs**: they are bound by",
        "  per-blob client CPU. With `--jobs 1` a 50 KiB blob costs about 3.8 ms of wall time, of which the",
        "  registry's answer is 1.3 ms (median `wait` in the trace timings) and about 2 ms is our CPU (httpx",
        "  and h11, the recorder, the layout file); the GIL serialises that part, so 4 jobs on 2 cores bring",
        "  60 blobs from 0.43 s to 0.35 s, not to a quarter (skopeo 0.30 s, python-dxf sequential 0.37 s, in",
        "  one quiet session before the bytecode fix, which took about 0.04 s off every regexplore run).",
        "  skopeo also fetches 6 layers at once (peers.md) to our default 4 (the issue's); `--jobs 6` did not",
        "  change the picture.",
        "- **Recording on vs off** differs by the per-exchange bookkeeping (redaction, timings, the trace",
        "  file): about 0.3 ms per exchange, visible only when exchanges are many and small.",
        "",
        "Wall times on a shared 2-core machine swing by ±20 % between runs; the CPU columns are steadier.",
        "",
    ]
    path.write_text("\n".join(body), encoding="utf-8")


