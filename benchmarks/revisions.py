"""Git revisions of regexplore side by side with skopeo: an A/B of a change against main.

    .venv/bin/python -m benchmarks.revisions [--rounds 15] [--case pull-big] [--host HOST] [--norec] main HEAD

Every revision is exported (``git archive``) and byte-compiled into a folder of its own and
run from there (the current folder comes first on ``sys.path``), with this venv. Every round
runs each revision and skopeo once, in alternating order, so that the ratios compare runs
made moments apart on a shared machine; the table gives medians, the spread, the ratio of
each run to the skopeo run of its round (median and worst), CPU (user + system) and peak RSS.
``--host`` uses a registry that already holds ``bench/<name>:1`` (the profiling registry);
without it one is started and seeded as ``benchmarks.run`` does. ``--norec`` also runs each
revision with recording off (``benchmarks.norec``, the client ``REV norec``): the recorder's
cost by difference, alternated within each round.
"""

from __future__ import annotations

import argparse
import compileall
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from statistics import median

from benchmarks.clients import environment
from benchmarks.measure import Series, run
from benchmarks.run import NUMBERS, REPO, argv_for, case_registry, parse_cases


def export(revision: str, into: Path) -> Path:
    """The source tree of ``revision``, byte-compiled, in a folder of ``into``."""
    folder = into / revision.replace("/", "_")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    compileall.compile_dir(str(folder / "explorer"), quiet=1)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revisions", nargs="+", help="git revisions (branches, tags, commits)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--case", default="pull-big",
                        help="a case of benchmarks.run (pull-big, push-many, copy-many...)")
    parser.add_argument("--host", help="a registry holding bench/<name>:1 already")
    parser.add_argument("--norec", action="store_true", help="also each revision with recording off")
    args = parser.parse_args()
    parse_cases(parser, args.case.replace(",", " "))  # one case ("a,b" is one unknown case)
    work = Path(tempfile.mkdtemp(prefix="regexplore-revisions-"))
    try:
        trees = {revision: export(revision, work / "trees") for revision in args.revisions}
        with case_registry(args.host, [args.case], work) as (host, layouts):
            series, ratios, unrecorded = _alternate(args, trees, host, layouts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.case}, {args.rounds} rounds, alternating, medians\n")
    print("| client | wall | wall min–max | CPU | peak RSS | wall / skopeo | worst run / skopeo |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for client, s in series.items():
        walls_ = [sample.wall for sample in s.samples]
        ratio = f"{median(ratios[client]):.2f} | {max(ratios[client]):.2f}" if client in ratios else "1.00 | –"
        print(f"| {client} | {s.wall:.3f} s | {min(walls_):.3f}–{max(walls_):.3f} s | {s.cpu:.3f} s | "
              f"{s.rss_mib:.0f} MiB | {ratio} |")
    for revision in trees:
        print(f"\n{revision}: per-run ratios " + " ".join(f"{r:.2f}" for r in ratios[revision]))
    for client, revision in unrecorded.items():  # the recorder's cost: recorded over unrecorded, same revision
        print(f"\n{revision}: recording on / off {series[revision].wall / series[client].wall:.3f} wall, "
              f"{series[revision].cpu / series[client].cpu:.3f} CPU")


def _alternate(args: argparse.Namespace, trees: dict[str, Path], host: str, layouts: dict[str, Path],
               work: Path) -> tuple[dict[str, Series], dict[str, list[float]], dict[str, str]]:
    """Every round: each revision (and, with ``--norec``, each unrecorded) and skopeo once, in alternating
    order. Returns the series per client, each run's ratio to its round's skopeo run, and the unrecorded
    clients (name -> revision)."""
    unrecorded = {f"{revision} norec": revision for revision in trees} if args.norec else {}
    series = {client: Series() for client in [*trees, *unrecorded, "skopeo"]}
    ratios: dict[str, list[float]] = {client: [] for client in series if client != "skopeo"}
    for round_no in range(args.rounds):
        clients = list(series) if round_no % 2 == 0 else list(reversed(series))
        walls = {}
        for client in clients:
            out = work / "out"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            real = "skopeo" if client == "skopeo" else "regexplore-norec" if client in unrecorded else "regexplore"
            argv = argv_for(real, args.case, host, layouts, out, next(NUMBERS))  # a push: a repository of its own
            sample = run(argv, env=environment(real, args.case.partition("-")[0], out),
                         cwd=str(REPO if client == "skopeo" else trees[unrecorded.get(client, client)]))
            series[client].add(sample)
            walls[client] = sample.wall
        for client, those in ratios.items():
            those.append(walls[client] / walls["skopeo"])
        print(f"  round {round_no + 1}: " + "  ".join(f"{c} {walls[c]:.3f} s" for c in series), file=sys.stderr)
    return series, ratios, unrecorded


if __name__ == "__main__":
    main()
