"""What a transfer's imports cost from deep in the stack, against from its bottom (``explorer/cli`` Rule 2d).

    .venv/bin/python -m benchmarks.frames [--rounds 21] [--depth 40]

Python 3.11 keeps a thread's frames in 16 KiB chunks and frees a chunk as soon as the stack leaves
it. Each round runs two fresh processes, in alternating order: one imports what ``trace pull``
imports (the client session, the pull operation) from a stack ``--depth`` calls deep, as they were
imported inside the command typer calls; the other imports httpcore, httpx and then the same, from
the bottom, as ``main`` now does. It prints their CPU (``time.process_time``) and, when ``strace``
is installed, how many 16 KiB chunks each mapped (``mmap``) once.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

from benchmarks.run import REPO

CHILD = r"""
import gc, sys, time
gc.disable()  # as explorer.cli.run keeps it off while a transfer imports

def deep(n):
    if n:
        return deep(n - 1)
    import explorer.client.session, explorer.operations.images  # noqa: E401, F401

t = time.process_time()
if sys.argv[1] == "deep":
    deep(int(sys.argv[2]))
else:
    import httpcore, httpx  # noqa: E401, F401
    import explorer.client.session, explorer.operations.images  # noqa: E401, F401
print(time.process_time() - t)
"""

_CHUNK = "mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS"


def cpu(how: str, depth: int) -> float:
    done = subprocess.run([sys.executable, "-c", CHILD, how, str(depth)], cwd=REPO, capture_output=True,
                          text=True, check=True)
    return float(done.stdout)


def chunks(how: str, depth: int, work: Path) -> int:
    out = work / f"strace-{how}"
    subprocess.run(["strace", "-f", "-e", "trace=mmap", "-o", str(out), sys.executable, "-c", CHILD, how,
                    str(depth)], cwd=REPO, capture_output=True, check=True)
    return out.read_text().count(_CHUNK)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--depth", type=int, default=40, help="calls below the deep imports (default 40)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"deep": [], "bottom": []}
    for round_no in range(args.rounds):
        for how in times if round_no % 2 == 0 else reversed(times):
            times[how].append(cpu(how, args.depth))
    paired = median(d - b for d, b in zip(times["deep"], times["bottom"]))
    for how, those in times.items():
        print(f"{how:6}  CPU median {median(those) * 1000:6.1f} ms  best {min(those) * 1000:6.1f} ms")
    print(f"deep - bottom, paired by round: median {paired * 1000:.1f} ms ({args.rounds} rounds)")
    if shutil.which("strace"):
        with tempfile.TemporaryDirectory() as work:
            print("16 KiB chunks mapped: " + ", ".join(f"{how} {chunks(how, args.depth, Path(work))}" for how in times))


if __name__ == "__main__":
    main()
