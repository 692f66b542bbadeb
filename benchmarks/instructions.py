"""The recorder's cost in instructions: ``trace pull`` or ``push`` with recording on and off, under valgrind.

    .venv/bin/python -m benchmarks.instructions [--host HOST] [--cases pull-small,pull-many,push-many] [--rounds 2]

Times on this 2-core VM swing by 10-20 % from one run to the next, more than the recorder costs,
so a page run's on/off ratio of medians says little about the recorder. ``valgrind --tool=callgrind``
counts the user-space instructions of every thread of the command instead: the same command gives
the same count within a few tenths of a percent. Both commands are the benchmark's own
(``benchmarks.clients.pull_command``: ``python -m explorer``, and ``benchmarks.norec`` for recording
off), each run ``--rounds`` times, alternating. What the count leaves out is the kernel's share
(system calls, page faults), and the cost of an instruction, which is not the same everywhere.
sha256 above all: valgrind hides the CPU's SHA extensions, so OpenSSL hashes in software, about
29 instructions a byte, where this CPU takes under 2 cycles; a push's recorder hashes every request
body (recording off hashes nothing), and a good part of its extra count is that (push-many: 92 M
of ~250 M, the sha256 of its 3 MB: about 2 ms on this CPU). A pull hashes as much on and off (a
verified download borrows the recorder's sha256). A command runs about 50 times slower under valgrind.
Without ``--host`` a registry is started and seeded as ``benchmarks.run`` does; push cases push the
page's layouts, written here, each run to a repository of its own.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

from benchmarks.run import REPO, case_registry, parse_cases, recorded_and_not


def instructions(argv: list[str], work: Path) -> int:
    """User-space instructions of ``argv`` and every thread it starts (callgrind's ``summary``)."""
    out = work / "callgrind.out"
    done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
                          cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"error: {' '.join(argv[2:5])} failed under valgrind (exit {done.returncode})")
    summary = next(line for line in out.read_text().splitlines() if line.startswith("summary:"))
    return int(summary.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", help="a registry holding bench/<name>:1 already")
    parser.add_argument("--cases", default="pull-small,pull-many")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    cases = parse_cases(parser, args.cases)
    if shutil.which("valgrind") is None:
        raise SystemExit("error: valgrind is not installed\nhint: apt-get install valgrind")
    work = Path(tempfile.mkdtemp(prefix="regexplore-instructions-"))
    try:
        with case_registry(args.host, cases, work) as (host, layouts):
            _count(cases, host, layouts, args.rounds, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _count(cases: list[str], host: str, layouts: dict[str, Path], rounds: int, work: Path) -> None:
    print("| case | recording on | recording off | on / off |\n|---|---:|---:|---:|")
    for case in cases:
        counted = recorded_and_not(case, host, layouts, rounds, work, lambda argv: instructions(argv, work))
        on, off = map(median, counted)
        print(f"| {case} | {on / 1e6:,.1f} M | {off / 1e6:,.1f} M | {on / off:.3f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
