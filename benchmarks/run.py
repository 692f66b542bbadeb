"""One command, one run: regexplore side by side with skopeo and python-dxf on the same registry.

    .venv/bin/pip install -e '.[test,bench]'      # once (scripts/test.sh installs the rest)
    .venv/bin/python -m benchmarks.run [--rounds 3] [--cases pull-big,copy-many] [--links loopback,25ms]
                                       [--pairs 10] [--write docs/performance.md]

It starts CNCF distribution (anonymous, loopback), generates the images (small
3 × 1 MiB, many 60 × 50 KiB, big 1 × 200 MiB, multi: a two-platform index), seeds
them with skopeo, then runs every case ROUNDS times over each link, alternating the
clients inside each round so drift hits all of them alike:

    pull:  regexplore trace pull (recording on)  → OCI layout
           the same command with recording off    → OCI layout (benchmarks/norec.py)
           skopeo copy docker:// → oci:  (as a user runs it, and isolated as the tests run it)
           python-dxf (manifest + config + layers to files)
    push:  regexplore trace push oci-layout → registry (recording on, and off: loopback)
           vs  skopeo copy oci: → docker://
    copy:  regexplore trace copy  vs  skopeo copy docker:// → docker://, two repositories of one registry

On loopback, PAIRS more runs of each case recorded and not follow, back to back: the
recorder's overhead is the median of the pairs' ratios (benchmarks/pairs.py).

Links: ``loopback`` talks to the registry directly; ``25ms`` goes through a
latency-adding TCP proxy (benchmarks/latency.py: every chunk forwarded RTT/2 after
it arrived, each way, no bandwidth limit), an ordinary internet link. Both
clients go through the same proxy.

Per case it reports median wall time, CPU time (user + system of the child) and
peak RSS, the ratios to skopeo (plain; the targets' judge) and to the isolated
skopeo, and from regexplore's own trace its exchanges and critical-path round
trips (benchmarks/critical.py), beside skopeo's, counted once from a run through
``regexplore proxy``. Then start-up (process start to first request byte),
--help, and render/load timings; it writes docs/performance.md.

Before measuring it byte-compiles the ``explorer`` and ``benchmarks`` packages,
as ``pip install`` of a wheel does: an editable install under
``PYTHONDONTWRITEBYTECODE=1`` would otherwise recompile every module from
source in every run, time that no installed regexplore pays.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from statistics import median
from typing import TypeVar

from benchmarks.clients import PY, clients, copy_command, environment, pull_command, push_command
from benchmarks.critical import critical_path
from benchmarks.latency import LatencyProxy
from benchmarks.measure import CommandFailed, Sample, Series, run
from benchmarks.pairs import pairs_wanted
from benchmarks.quiet import settle
from benchmarks.registry_log import phases, settled_size
from benchmarks.renders import forget
from benchmarks.report import CaseStats, report, write_page
from explorer.protocol.mediatypes import Platform
from explorer.oci.sample import SampleImage, build_image, build_sample

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.infra.registry import RunningRegistry, seed, start_registry  # noqa: E402

IMAGES = {
    "small": lambda: build_image([1 << 20] * 3, seed="bench-small"),
    "many": lambda: build_image([50 << 10] * 60, seed="bench-many"),
    "big": lambda: build_image([200 << 20], seed="bench-big"),
    "multi": lambda: build_sample([Platform("linux", "amd64"), Platform("linux", "arm64", "v8")], layers=3,
                                  seed="bench-multi"),
}
LINKS = {"loopback": 0.0, "25ms": 0.025}
#: numbers every push or copy of the whole run into a repository of its own (a repository that already
#: holds the blobs would turn the push into HEADs that find them); from the clock, so that runs of
#: several invocations against one registry (``benchmarks.instructions --host``) never meet either
NUMBERS = itertools.count(time.time_ns())
#: clients measured on loopback only: the isolated skopeo (the targets judge by the plain one; at 25 ms its
#: push-many alone takes about 19 s a run) and recording off (the recorder's overhead is a loopback target)
LOOPBACK_ONLY = ("skopeo-isolated", "regexplore-norec")
#: the recorder's overhead: these two run back to back, in pairs (``benchmarks/pairs.py``)
RECORDING_PAIR = ("regexplore", "regexplore-norec")


@contextmanager
def bench_registry(host: str | None, names: Iterable[str], work: Path) -> Iterator[str]:
    """``host`` when given (a registry that holds ``bench/<name>:1`` already, such as a profiling one),
    else the host of an anonymous registry started in ``work`` and seeded with ``names``, stopped after."""
    if host is not None:
        yield host
        return
    registry = start_registry("anonymous", work / "registry")
    try:
        for name in names:
            seed(registry, IMAGES[name](), f"bench/{name}", "1")
        yield registry.host
    finally:
        registry.stop()


def parse_cases(parser: argparse.ArgumentParser, text: str) -> list[str]:
    """``--cases`` (comma-separated) as a list; an unknown case is the parser's one error line (exit 2)."""
    cases = [case for case in text.split(",") if case]
    unknown = [case for case in cases
               if case.partition("-")[0] not in ("pull", "push", "copy") or case.partition("-")[2] not in IMAGES]
    if unknown or not cases:
        parser.error(f"unknown case {', '.join(unknown) or repr(text)}: pull-, push- or copy- and one of "
                     f"{', '.join(IMAGES)}")
    return cases


@contextmanager
def case_registry(host: str | None, cases: list[str], work: Path) -> Iterator[tuple[str, dict[str, Path]]]:
    """``bench_registry`` holding the images of ``cases`` (``pull-many``, ``push-many``, …), and the
    layouts their pushes push, written in ``work``: ``(host, layouts)``."""
    names = {case.split("-", 1)[1] for case in cases}
    layouts = {name: IMAGES[name]().write_layout(work / "layouts" / name, "1") for name in names
               if f"push-{name}" in cases}
    with bench_registry(host, sorted(names), work) as found:
        yield found, layouts


T = TypeVar("T")


def recorded_and_not(case: str, host: str, layouts: dict[str, Path], rounds: int, work: Path,
                     measure: Callable[[list[str]], T]) -> tuple[list[T], list[T]]:
    """``measure(argv)`` of ``case``'s recorded and unrecorded commands (``RECORDING_PAIR``), ``rounds`` times
    each, alternating which goes first; each run writes into a fresh ``work / "out"``: ``(on, off)``."""
    found: dict[str, list[T]] = {client: [] for client in RECORDING_PAIR}
    for round_no in range(rounds):
        for client in RECORDING_PAIR if round_no % 2 == 0 else reversed(RECORDING_PAIR):
            out = work / "out"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            found[client].append(measure(argv_for(client, case, host, layouts, out, next(NUMBERS))))
    return found[RECORDING_PAIR[0]], found[RECORDING_PAIR[1]]


def argv_for(client: str, case: str, host: str, layouts: dict[str, Path], out: Path, counter: int) -> list[str]:
    verb, name = case.split("-", 1)
    if verb == "pull":
        return pull_command(client, host, f"bench/{name}", out)
    if verb == "push":
        return push_command(client, host, layouts[name], f"bench-push/{name}-{counter}", out)
    return copy_command(client, host, f"bench/{name}", f"bench-copy/{name}-{counter}", out)


def measure_cases(host: str, layouts: dict[str, Path], cases: list[str], rounds: int, work: Path,
                  label: str, link: LatencyProxy | None = None, registry_pid: int | None = None,
                  registry_log: Path | None = None) -> dict[str, CaseStats]:
    """Every case ROUNDS times; through a latency ``link``, also the TCP connections each run opened; with
    ``registry_pid``, the registry's CPU during each run; with ``registry_log``, where each run's wall went."""
    from explorer import trace as tracefile

    stats = {case: CaseStats() for case in cases}
    for round_no in range(rounds):
        for case in cases:
            verb = case.split("-", 1)[0]
            chosen = tuple(c for c in clients(verb) if link is None or c not in LOOPBACK_ONLY)
            order = chosen if round_no % 2 == 0 else tuple(reversed(chosen))
            this_round: dict[str, Sample] = {}
            for client in order:
                counter = next(NUMBERS)
                out = work / "out" / f"{counter}"
                out.mkdir(parents=True)
                home = work / "homes" / f"{counter}"
                home.mkdir(parents=True)
                argv = argv_for(client, case, host, layouts, out, counter)
                before = link.accepted if link is not None else 0
                # where to start reading: ``phases`` keeps only the answers inside this run's window, so a late
                # line of the run before needs no waiting for here
                offset = registry_log.stat().st_size if registry_log is not None else 0
                try:
                    sample = run(argv, env=environment(client, verb, home), cwd=str(REPO), server_pid=registry_pid)
                    seen = phases(registry_log, offset, sample.began, sample.wall,
                                  settled=settled_size(registry_log)) if registry_log is not None else None
                    if seen is not None:
                        stats[case].phases.setdefault(client, []).append(seen)
                    if link is not None:
                        stats[case].connections.setdefault(client, []).append(link.accepted - before)
                    if client == "regexplore":
                        recorded = tracefile.load(out / "t.json")
                        stats[case].exchanges.append(len(recorded.exchanges))
                        stats[case].round_trips.append(critical_path(recorded))
                except CommandFailed as exc:
                    print(f"  {label} {case} {client}: FAILED {exc}", file=sys.stderr)
                    continue
                finally:
                    shutil.rmtree(out, ignore_errors=True)
                stats[case].series.setdefault(client, Series()).add(sample)
                this_round[client] = sample
                print(f"  {label:8} round {round_no + 1} {case:10} {client:17} {sample.wall:6.3f} s", file=sys.stderr)
            if RECORDING_PAIR[0] in this_round and RECORDING_PAIR[1] in this_round:  # run next to each other
                stats[case].recording_pairs.append((this_round[RECORDING_PAIR[0]], this_round[RECORDING_PAIR[1]]))
    return stats


def recording_pairs(host: str, layouts: dict[str, Path], cases: list[str], pairs: int, work: Path,
                    stats: dict[str, CaseStats]) -> None:
    """At least ``pairs`` more runs of each case recorded and not, back to back (``benchmarks/pairs.py``), the
    order alternating from pair to pair, more for a quick case (``pairs_wanted``, from the rounds' medians);
    they join the pairs of the rounds in ``stats[case].recording_pairs``."""
    if pairs <= 0:  # --pairs 0: the rounds' pairs only
        return
    wanted = {}
    for case in cases:
        if RECORDING_PAIR[1] in clients(case.split("-", 1)[0]):
            series = [stats[case].series.get(client) for client in RECORDING_PAIR]
            seconds = sum(s.wall for s in series if s is not None and s.samples) if all(series) else None
            wanted[case] = pairs_wanted(seconds, pairs)
    for number in range(max(wanted.values(), default=0)):
        for case in cases:
            verb = case.split("-", 1)[0]
            if number >= wanted.get(case, 0):
                continue
            order = RECORDING_PAIR if number % 2 == 0 else RECORDING_PAIR[::-1]
            pair: dict[str, Sample] = {}
            for client in order:
                counter = next(NUMBERS)
                out = work / "pairs" / f"{counter}"
                out.mkdir(parents=True)
                try:
                    pair[client] = run(argv_for(client, case, host, layouts, out, counter),
                                       env=environment(client, verb, out), cwd=str(REPO))
                except CommandFailed as exc:
                    print(f"  pair {number + 1} {case} {client}: FAILED {exc}", file=sys.stderr)
                finally:
                    shutil.rmtree(out, ignore_errors=True)
            if len(pair) == 2:
                on, off = pair[RECORDING_PAIR[0]], pair[RECORDING_PAIR[1]]
                stats[case].recording_pairs.append((on, off))
                print(f"  pair {number + 1:2} {case:10} on {on.wall:6.3f} s, off {off.wall:6.3f} s", file=sys.stderr)


def skopeo_round_trips(host: str, layouts: dict[str, Path], cases: list[str], work: Path,
                       stats: dict[str, CaseStats]) -> None:
    """skopeo's exchanges and critical path, from one run of each case through ``regexplore proxy``."""
    from explorer.proxy import ProxyOptions, RecordingProxy

    for case in cases:
        proxy = RecordingProxy(ProxyOptions(upstream=f"http://{host}"))
        out = work / "proxied" / case
        out.mkdir(parents=True)
        with proxy.running():
            argv = argv_for("skopeo", case, proxy.url.split("://", 1)[1], layouts, out, next(NUMBERS))
            try:
                run(argv, env=environment("skopeo", case.split("-", 1)[0], out), cwd=str(REPO))
            except CommandFailed as exc:
                print(f"  proxied skopeo {case}: FAILED {exc}", file=sys.stderr)
                continue
        stats[case].skopeo_exchanges = len(proxy.trace.exchanges)
        stats[case].skopeo_round_trips = critical_path(proxy.trace)


def first_request_byte(rounds: int = 10, *, http: bool = False) -> float:
    """Median seconds from starting ``regexplore trace pull -q`` to the first byte it sends.

    A loopback listener timestamps the first byte it receives (the https probe's TLS hello,
    sent while the command still imports: ``recording/preconnect.py``) and then closes, so the
    rest of the command fails at once; the start is taken in this parent just before ``Popen``.
    ``http``: to the first byte of its first HTTP request instead (``GET /v2/``, sent by httpx
    over plain http once the probe told): the listener closes each connection that begins with a
    TLS hello and timestamps the first that does not.
    """
    walls = []
    for _ in range(rounds):
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        arrived: list[float] = []

        def read(conn: socket.socket) -> None:
            first = conn.recv(1)
            if first and not (http and first == b"\x16"):  # 0x16: a TLS handshake record
                arrived.append(time.perf_counter())
                _stop(listener)  # what follows is refused: the command ends now
            conn.close()

        def accept() -> None:
            while not arrived:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=read, args=(conn,), daemon=True).start()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        started = time.perf_counter()
        subprocess.run([PY, "-m", "explorer", "trace", "pull", f"127.0.0.1:{port}/x:1", "-q", "--retries", "0",
                        "-o", os.devnull], capture_output=True, cwd=str(REPO), check=False, timeout=60)
        _stop(listener)
        thread.join(timeout=5)
        if arrived:
            walls.append(arrived[0] - started)
    return median(walls) if walls else float("nan")


def _stop(listener: socket.socket) -> None:
    """Close ``listener``, waking the thread blocked in its ``accept`` (closing alone does not, on Linux:
    each round then waited out its join's 5 s)."""
    try:
        listener.shutdown(socket.SHUT_RDWR)
    except OSError:  # closed already
        pass
    listener.close()


#: what the start-up is made of: ``python -c CODE``, median wall of 10 each, interleaved
STARTUP_PARTS = {
    "python -c pass (the interpreter)": "pass",
    "import httpx, httpcore (theirs)": "import httpx, httpcore",
    "import typer, httpx, httpcore (theirs)": "import typer, httpx, httpcore",
    "import what trace pull imports (theirs + ours)":
        "import explorer.cli.trace_transfer, explorer.operations.images, explorer.client.session, explorer.cli.console, httpcore",
}


def startup_parts(rounds: int = 10) -> list[tuple[str, float]]:
    walls: dict[str, list[float]] = {label: [] for label in STARTUP_PARTS}
    for _ in range(rounds):
        for label, code in STARTUP_PARTS.items():
            walls[label].append(run([PY, "-c", code], cwd=str(REPO)).wall)
    return [(label, median(values)) for label, values in walls.items()]


def side_timings(work: Path) -> list[tuple[str, float]]:
    """Start-up, trace load and render times (medians of several runs)."""
    from explorer import operations, render, trace
    from tests.render.factory import case_big

    out = [("trace pull: process start → first request byte", first_request_byte()),
           ("trace pull: process start → first HTTP request (GET /v2/)", first_request_byte(http=True)),
           *startup_parts()]
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
        times = []
        for _ in range(3):
            forget()  # the URL caches of an earlier run would flatter this one
            t = time.perf_counter()
            operations.render(big, name)  # what `regexplore render|export` does between loading and writing
            times.append(time.perf_counter() - t)
        out.append((f"render {name} of {len(big.exchanges)} exchanges", median(times)))
    for name in render.names():  # the whole command, as a user runs it: start-up, load, annotate, render, write
        verb = "export" if name in render.names("export") else "render"
        walls = [run([PY, "-m", "explorer", verb, name, str(path), "-o", str(work / f"big.{name}.out")],
                     cwd=str(REPO)).wall for _ in range(3)]
        out.append((f"regexplore {verb} {name} of {len(big.exchanges)} exchanges (whole command)", median(walls)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of every case and client (medians, spread)")
    parser.add_argument("--cases", default="pull-small,pull-many,pull-big,pull-multi,push-small,push-many,push-big,"
                                            "copy-many")
    parser.add_argument("--links", default="loopback,25ms", help=f"comma-separated: {', '.join(LINKS)}")
    parser.add_argument("--pairs", type=int, default=10,
                        help="more runs of each case recorded and not, back to back (loopback), for the "
                             "recorder's overhead, at least (a quick case runs as many as fill 20 s): judged "
                             "over these and the rounds' pairs")
    parser.add_argument("--write", default=str(REPO / "docs" / "performance.md"),
                        help="Markdown file to write ('' for none)")
    args = parser.parse_args()
    began = time.perf_counter()
    cases = parse_cases(parser, args.cases)
    links = [link for link in args.links.split(",") if link]
    unknown = [link for link in links if link not in LINKS]
    if unknown:
        parser.error(f"unknown link {', '.join(unknown)}; choose from {', '.join(LINKS)}")
    for package in ("explorer", "benchmarks"):  # as an installed wheel has them (see the module docstring)
        compileall.compile_dir(REPO / package, quiet=1)
    settled = settle()
    print(settled.line(), file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="regexplore-bench-"))
    print(f"work dir {work}", file=sys.stderr)
    registry = start_registry("anonymous", work / "registry")
    results: dict[str, dict[str, CaseStats]] = {}
    try:
        wanted = {c.split("-", 1)[1] for c in cases}
        images: dict[str, SampleImage] = {name: IMAGES[name]() for name in wanted}
        for name, image in images.items():
            seed(registry, image, f"bench/{name}", "1")
        layouts = {name: image.write_layout(work / "layouts" / name, "1") for name, image in images.items()}
        for link in links:
            with ExitStack() as stack:
                host, proxy = registry.host, None
                if LINKS[link]:
                    port = int(registry.host.rsplit(":", 1)[1])
                    proxy = stack.enter_context(LatencyProxy("127.0.0.1", port, rtt=LINKS[link]))
                    host = proxy.host
                results[link] = measure_cases(host, layouts, cases, args.rounds, work / link, link, proxy,
                                               registry.process.pid, registry.log_path)
                if proxy is None:
                    recording_pairs(host, layouts, cases, args.pairs, work / link, results[link])
                skopeo_round_trips(host, layouts, cases, work / link, results[link])
        side = side_timings(work)
    finally:
        registry.stop()
    text = report(results, side, args.rounds, time.perf_counter() - began, settled.line())
    print(text)
    if args.write:
        write_page(Path(args.write), text)
        print(f"wrote {args.write}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
