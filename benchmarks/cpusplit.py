"""Where the recorder's CPU goes: ``trace pull`` or ``push`` with recording on and off, sampled by ``perf``.

    .venv/bin/python -m benchmarks.cpusplit [--host HOST] [--cases push-many,pull-many] [--runs 8] [--top 15]

``benchmarks.instructions`` counts how much more the recorded command does; this says in what: each
command runs ``--runs`` times (alternating on and off, the benchmark's own commands, byte-compiled as
a page run has them) under ``perf record -e cpu-clock`` (every thread, the kernel's share included),
and the samples are summed per shared object (the interpreter, the kernel, libcrypto's sha256, the JSON
encoder, libc) and per C function, then shown as milliseconds of CPU per run, on and off. Python's own
functions are not visible to ``perf`` before Python 3.12: the recorder's Python code is all in
``_PyEval_EvalFrameDefault`` and the allocator, the collector's share in ``gc_collect_main`` and
its ``visit_*`` callbacks. A sample is 0.2 ms (5 kHz); 8 runs resolve about a millisecond a run.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks.run import REPO, case_registry, parse_cases, recorded_and_not

FREQUENCY = 5000  # samples a second of CPU: one is 0.2 ms


def samples(report: str) -> Counter[tuple[str, str]]:
    """Samples per (shared object, symbol) in ``perf report --stdio -F sample,dso,sym`` text."""
    found: Counter[tuple[str, str]] = Counter()
    for line in report.splitlines():
        words = line.split()
        if len(words) < 3 or not words[0].isdigit():  # a comment, a call graph's line
            continue
        symbol = " ".join(words[3:]) if words[2].startswith("[") and len(words) > 3 else " ".join(words[2:])
        found[(words[1], symbol)] += int(words[0])
    return found


def split_table(on: Counter[tuple[str, str]], off: Counter[tuple[str, str]], runs: int, top: int) -> str:
    """Milliseconds a run on and off, per shared object and per symbol: the ``top`` of each that grew most."""
    ms = 1000 / FREQUENCY / runs

    def rows(a: Counter[str], b: Counter[str], limit: int) -> list[str]:
        keys = sorted(set(a) | set(b), key=lambda k: (b[k] - a[k], k))[:limit]
        return [f"| {k} | {a[k] * ms:.1f} | {b[k] * ms:.1f} | {(a[k] - b[k]) * ms:+.1f} |" for k in keys]

    def by_object(c: Counter[tuple[str, str]]) -> Counter[str]:
        out: Counter[str] = Counter()
        for (dso, _symbol), n in c.items():
            out[dso] += n
        return out

    def by_symbol(c: Counter[tuple[str, str]]) -> Counter[str]:
        return Counter({f"{dso} `{symbol}`": n for (dso, symbol), n in c.items()})

    head = "| {} | on, ms a run | off, ms a run | on − off |\n|---|---:|---:|---:|"
    total = f"| all | {sum(on.values()) * ms:.1f} | {sum(off.values()) * ms:.1f} | " \
            f"{(sum(on.values()) - sum(off.values())) * ms:+.1f} |"
    return "\n".join([head.format("shared object"), total, *rows(by_object(on), by_object(off), top), "",
                      head.format("function"), *rows(by_symbol(on), by_symbol(off), top)])


def record(argv: list[str], work: Path) -> Counter[tuple[str, str]]:
    data = work / "perf.data"
    done = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(FREQUENCY), "-o", str(data), "--",
                           *argv], cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"error: {' '.join(argv[2:5])} failed under perf (exit {done.returncode}): "
                         f"{done.stderr.strip()[-300:]}")
    report = subprocess.run(["perf", "report", "-q", "--stdio", "-i", str(data), "--sort", "dso,sym",
                             "-F", "sample,dso,sym"], capture_output=True, text=True, check=True).stdout
    return samples(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", help="a registry holding bench/<name>:1 already")
    parser.add_argument("--cases", default="push-many,pull-many")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--top", type=int, default=15,
                        help="shared objects and functions shown per case (those that grew most)")
    args = parser.parse_args()
    cases = parse_cases(parser, args.cases)
    if shutil.which("perf") is None:
        raise SystemExit("error: perf is not installed\nhint: apt-get install linux-perf")
    for package in ("explorer", "benchmarks"):  # as a page run has them (benchmarks/run.py)
        compileall.compile_dir(REPO / package, quiet=1)
    work = Path(tempfile.mkdtemp(prefix="regexplore-cpusplit-"))
    try:
        with case_registry(args.host, cases, work) as (host, layouts):
            for case in cases:
                on, off = recorded_and_not(case, host, layouts, args.runs, work, lambda argv: record(argv, work))
                print(f"## {case}: recording on and off, {args.runs} runs each\n", flush=True)
                print(split_table(sum(on, Counter()), sum(off, Counter()), args.runs, args.top) + "\n", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
