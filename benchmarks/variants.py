"""Variants of regexplore's options side by side with skopeo, back to back in one process.

    .venv/bin/python -m benchmarks.variants [--rtt 0.025] [--rounds 5] [--cases pull-many,push-many,copy-many]
                                            [--variant j4="--jobs 4" --variant j8="--jobs 8" ...]

For choosing a default (``--jobs``) on a shared machine: every round runs each variant
and skopeo once per case, in alternating order, through the latency proxy of
``benchmarks/latency.py``, and the table gives median wall and CPU time, the ratio to
skopeo, and the TCP connections each run opened (the proxy's accepts: keep-alive at work).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from statistics import median

from benchmarks.clients import environment
from benchmarks.latency import LatencyProxy
from benchmarks.measure import Series, run
from benchmarks.run import IMAGES, REPO, argv_for
from tests.infra.registry import seed, start_registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtt", type=float, default=0.025, help="round-trip time the proxy adds (s); 0: direct")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", default="pull-many,push-many,copy-many")
    parser.add_argument("--variant", action="append", default=[],
                        help='LABEL="extra regexplore options", e.g. j8="--jobs 8" (repeatable)')
    args = parser.parse_args()
    variants = dict(v.split("=", 1) for v in args.variant) or {"j4": "--jobs 4", "j6": "--jobs 6", "j8": "--jobs 8"}
    cases = [c for c in args.cases.split(",") if c]
    work = Path(tempfile.mkdtemp(prefix="regexplore-variants-"))
    registry = start_registry("anonymous", work / "registry")
    series: dict[tuple[str, str], Series] = {}
    connections: dict[tuple[str, str], list[int]] = {}
    try:
        names = {c.split("-", 1)[1] for c in cases}
        images = {name: IMAGES[name]() for name in names}
        for name, image in images.items():
            seed(registry, image, f"bench/{name}", "1")
        layouts = {name: image.write_layout(work / "layouts" / name, "1") for name, image in images.items()}
        port = int(registry.host.rsplit(":", 1)[1])
        with LatencyProxy("127.0.0.1", port, rtt=args.rtt) as link:
            host = link.host if args.rtt else registry.host
            counter = 0
            for round_no in range(args.rounds):
                for case in cases:
                    verb = case.split("-", 1)[0]
                    clients = [*variants, "skopeo"]
                    for client in clients if round_no % 2 == 0 else reversed(clients):
                        counter += 1
                        out = work / "out" / str(counter)
                        out.mkdir(parents=True)
                        real = "skopeo" if client == "skopeo" else "regexplore"
                        argv = argv_for(real, case, host, layouts, out, counter)
                        if real == "regexplore":
                            argv += shlex.split(variants[client])
                        before = link.accepted
                        sample = run(argv, env=environment(real, verb, out), cwd=str(REPO))
                        connections.setdefault((case, client), []).append(link.accepted - before)
                        series.setdefault((case, client), Series()).add(sample)
                        shutil.rmtree(out, ignore_errors=True)
                        print(f"  round {round_no + 1} {case:10} {client:8} {sample.wall:6.3f} s "
                              f"{connections[case, client][-1]} connections", file=sys.stderr)
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"RTT {args.rtt * 1000:.0f} ms, {args.rounds} rounds, medians\n")
    print("| case | client | options | wall | CPU | wall / skopeo | TCP connections |")
    print("|---|---|---|---:|---:|---:|---:|")
    for case in cases:
        base = series[case, "skopeo"].wall
        for client in [*variants, "skopeo"]:
            s = series[case, client]
            print(f"| {case} | {client} | {variants.get(client, '')} | {s.wall:.3f} s | {s.cpu:.3f} s | "
                  f"{s.wall / base:.2f} | {median(connections[case, client]):.0f} |")


if __name__ == "__main__":
    main()
