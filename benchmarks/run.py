"""One command, one run: regexplore side by side with skopeo and python-dxf on the same registry.

    .venv/bin/pip install -e '.[test,bench]'      # once (scripts/test.sh installs the rest)
    .venv/bin/python -m benchmarks.run [--rounds 5] [--cases pull-big,push-many] [--write docs/performance.md]

It starts CNCF distribution (anonymous, loopback), generates the images
(small 3 × 1 MiB, many 60 × 50 KiB, big 1 × 200 MiB, multi: a two-platform
index), seeds them with skopeo, then runs every case ROUNDS times, alternating
the clients inside each round so drift hits all of them alike:

    pull:  regexplore trace pull (recording on)  → OCI layout
           the same command with recording off    → OCI layout (benchmarks/norec.py)
           skopeo copy docker:// → oci:
           python-dxf (manifest + config + layers to files)
    push:  regexplore trace push oci-layout → registry  vs  skopeo copy oci: → docker://

It reports median wall time, median CPU time (user + system of the child) and
peak RSS per case, the ratios to skopeo, then render/load/start-up timings,
and writes docs/performance.md with the machine description.

Before measuring it byte-compiles the ``explorer`` and ``benchmarks`` packages,
as ``pip install`` of a wheel does: an editable install under
``PYTHONDONTWRITEBYTECODE=1`` (as on the machine this was written on) would
otherwise recompile ~40 modules from source in every run, about 40 ms that no
installed regexplore pays.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.measure import CommandFailed, Series, run
from explorer.protocol.mediatypes import Platform
from explorer.sample import SampleImage, build_image, build_sample

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.infra.registry import RunningRegistry, seed, start_registry  # noqa: E402
from tests.infra.skopeo import skopeo_env  # noqa: E402

PY = sys.executable
IMAGES = {
    "small": lambda: build_image([1 << 20] * 3, seed="bench-small"),
    "many": lambda: build_image([50 << 10] * 60, seed="bench-many"),
    "big": lambda: build_image([200 << 20], seed="bench-big"),
    "multi": lambda: build_sample([Platform("linux", "amd64"), Platform("linux", "arm64", "v8")], layers=3,
                                  seed="bench-multi"),
}
PULL_CLIENTS = ("regexplore", "regexplore-norec", "skopeo", "python-dxf")
PUSH_CLIENTS = ("regexplore", "skopeo")
TARGETS = {  # case -> (client, maximum ratio of its median wall time to skopeo's)
    "pull-big": ("regexplore", 0.6),
    "pull-many": ("regexplore", 1.0),
    "push-big": ("regexplore", 1.0),
    "push-many": ("regexplore", 1.0),
}


def pull_command(client: str, registry: RunningRegistry, repo: str, out: Path) -> list[str]:
    image = f"{registry.host}/{repo}:1"
    pull_args = ["trace", "pull", image, "-q", "-o", str(out / "t.json"), "--platform", "linux/amd64",
                 "--oci-layout", str(out / "layout")]
    if client == "regexplore":
        return [PY, "-m", "explorer", *pull_args]
    if client == "regexplore-norec":  # the same command, recording off
        return [PY, "-m", "benchmarks.norec", *pull_args]
    if client == "skopeo":
        return ["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{image}", f"oci:{out / 'layout'}:1"]
    if client == "python-dxf":
        return [PY, "-m", "benchmarks.dxf_pull", registry.host, repo, "1", str(out / "blobs")]
    raise ValueError(client)


def push_command(client: str, registry: RunningRegistry, layout: Path, repo: str, out: Path) -> list[str]:
    dest = f"{registry.host}/{repo}:1"
    if client == "regexplore":
        return [PY, "-m", "explorer", "trace", "push", f"{layout}:1", dest, "-q", "-o", str(out / "t.json")]
    if client == "skopeo":
        return ["skopeo", "copy", "-q", "--dest-tls-verify=false", "--preserve-digests", f"oci:{layout}:1",
                f"docker://{dest}"]
    raise ValueError(client)


def measure_cases(registry: RunningRegistry, images: dict[str, SampleImage], cases: list[str], rounds: int,
                  work: Path) -> dict[str, dict[str, Series]]:
    results: dict[str, dict[str, Series]] = {c: {} for c in cases}
    layouts = {name: image.write_layout(work / "layouts" / name, "1") for name, image in images.items()}
    counter = 0
    for round_no in range(rounds):
        for case in cases:
            verb, name = case.split("-", 1)
            clients = PULL_CLIENTS if verb == "pull" else PUSH_CLIENTS
            order = clients if round_no % 2 == 0 else tuple(reversed(clients))
            for client in order:
                counter += 1
                out = work / "out" / f"{counter}"
                out.mkdir(parents=True)
                if verb == "pull":
                    argv = pull_command(client, registry, f"bench/{name}", out)
                else:
                    argv = push_command(client, registry, layouts[name], f"bench-push/{name}-{counter}", out)
                # a fresh HOME each run: skopeo's blob-info cache would turn later pushes into mounts
                home = work / "homes" / f"{counter}"
                home.mkdir(parents=True)
                env = skopeo_env(home)
                try:
                    sample = run(argv, env=env, cwd=str(REPO))
                except CommandFailed as exc:
                    print(f"  {case} {client}: FAILED {exc}", file=sys.stderr)
                    continue
                finally:
                    shutil.rmtree(out, ignore_errors=True)
                results[case].setdefault(client, Series()).add(sample)
                print(f"  round {round_no + 1} {case:10} {client:17} {sample.wall:6.3f} s", file=sys.stderr)
    return results


def side_timings(work: Path) -> list[tuple[str, float]]:
    """Start-up, trace load and render times (medians of several runs)."""
    from statistics import median

    from explorer import render, trace
    from tests.render.factory import case_big

    out = []
    walls = [run([PY, "-m", "explorer", "--help"], cwd=str(REPO)).wall for _ in range(7)]
    out.append(("regexplore --help (start-up)", median(walls)))
    big = case_big()
    path = trace.save(big, work / "big.trace.json")
    loads = []
    for _ in range(3):
        t = time.perf_counter()
        trace.load(path)
        loads.append(time.perf_counter() - t)
    out.append((f"load a {len(big.exchanges)}-exchange trace", median(loads)))
    for name in render.names():
        renderer = render.get(name)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            renderer.render(big, render.RenderOptions())
            times.append(time.perf_counter() - t)
        out.append((f"render {name} of {len(big.exchanges)} exchanges", median(times)))
    return out


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


def report(results: dict[str, dict[str, Series]], side: list[tuple[str, float]], rounds: int) -> str:
    lines = ["| case | client | median wall | median CPU | peak RSS | wall / skopeo | CPU / skopeo |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for case, by_client in results.items():
        base = by_client.get("skopeo")
        for client, series in by_client.items():
            ratio = f"{series.wall / base.wall:.2f}" if base and base.samples else "–"
            cpu_ratio = f"{series.cpu / base.cpu:.2f}" if base and base.samples and base.cpu else "–"
            lines.append(f"| {case} | {client} | {series.wall:.3f} s | {series.cpu:.3f} s | "
                         f"{series.rss_mib:.0f} MiB | {ratio} | {cpu_ratio} |")
    verdicts = ["", "| target | reached | measured |", "|---|---|---|"]
    for case, (client, limit) in TARGETS.items():
        by_client = results.get(case, {})
        if client in by_client and "skopeo" in by_client:
            ratio = by_client[client].wall / by_client["skopeo"].wall
            verdicts.append(f"| {case}: {client} ≤ {limit} × skopeo | {'yes' if ratio <= limit else 'NO'} | {ratio:.2f} |")
    for case in ("pull-big", "pull-many", "pull-small"):
        by_client = results.get(case, {})
        if "regexplore" in by_client and "regexplore-norec" in by_client:
            ratio = by_client["regexplore"].wall / by_client["regexplore-norec"].wall
            cpu = by_client["regexplore"].cpu / by_client["regexplore-norec"].cpu
            verdicts.append(f"| {case}: recording on / off ≤ 1.05 | {'yes' if ratio <= 1.05 else 'NO'} | "
                            f"{ratio:.2f} wall, {cpu:.2f} CPU |")
    for case in ("pull-big", "push-big"):
        series = results.get(case, {}).get("regexplore")
        if series:
            verdicts.append(f"| {case}: peak RSS ≤ 64 MiB | {'yes' if series.rss_mib <= 64 else 'NO'} | "
                            f"{series.rss_mib:.0f} MiB |")
    side_lines = ["", "| timing | median |", "|---|---:|"]
    for label, seconds in side:
        side_lines.append(f"| {label} | {seconds * 1000:.0f} ms |")
    for label, seconds in side:
        if label.startswith("render"):
            verdicts.append(f"| {label} ≤ 1 s | {'yes' if seconds <= 1 else 'NO'} | {seconds:.2f} s |")
        if label.startswith("regexplore --help"):
            verdicts.append(f"| --help ≤ 0.25 s | {'yes' if seconds <= 0.25 else 'NO'} | {seconds:.3f} s |")
    head = [f"{rounds} rounds, medians; CPU = user + system time of the child process; RSS = its peak.", ""]
    return "\n".join(head + lines + verdicts + side_lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", default="pull-small,pull-many,pull-big,pull-multi,push-small,push-many,push-big")
    parser.add_argument("--write", default=str(REPO / "docs" / "performance.md"),
                        help="Markdown file to write ('' for none)")
    args = parser.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    for package in ("explorer", "benchmarks"):  # as an installed wheel has them (see the module docstring)
        compileall.compile_dir(REPO / package, quiet=1)
    work = Path(tempfile.mkdtemp(prefix="regexplore-bench-"))
    print(f"work dir {work}", file=sys.stderr)
    registry = start_registry("anonymous", work / "registry")
    try:
        wanted = {c.split("-", 1)[1] for c in cases}
        images = {name: IMAGES[name]() for name in wanted}
        for name, image in images.items():
            seed(registry, image, f"bench/{name}", "1")
        results = measure_cases(registry, images, cases, args.rounds, work)
        side = side_timings(work)
    finally:
        registry.stop()
    text = report(results, side, args.rounds)
    print(text)
    if args.write:
        write_page(Path(args.write), text)
        print(f"wrote {args.write}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)


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


if __name__ == "__main__":
    main()
