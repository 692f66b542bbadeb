"""What one blob GET costs regexplore, in-process: Python calls (cProfile) and CPU, by layer.

    .venv/bin/python -m benchmarks.perblob [--host HOST] [--rounds 10] [--no-record]

Each round downloads the 60 layers of ``bench/many`` (50 KiB each) with ``fetch_blob``
into a fresh OCI layout, one after the other, through one traced session (recording on
unless ``--no-record``): the per-blob work of a pull without its start-up, its threads
or its manifest. Call counts hardly depend on the machine's load (a body that arrives in
two reads instead of one costs a few more), unlike CPU and wall times on a shared machine:
compare them between branches (``PYTHONPATH=<other tree>``). Without
``--host`` a registry is started and seeded as ``benchmarks.run`` does.

Layers: every call is counted under the innermost regexplore module on the stack
(``client``, ``recorder``, ``download + layout``, ``protocol``), except calls made inside
httpx, httpcore and h11, which are theirs whoever called them.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from functools import partial
from pathlib import Path
from statistics import median
from types import FrameType
from typing import Any

from benchmarks.run import REPO, bench_registry

sys.path.insert(0, str(REPO))

from explorer.client.session import ClientOptions, TraceSession  # noqa: E402
from explorer.flows.blobs import fetch_blob  # noqa: E402
from explorer.oci.layout import OciLayoutWriter  # noqa: E402

_LIBRARIES = ("/httpx/", "/httpcore/", "/h11/")
_OURS = (("recording/pools", "client"), ("recording/sockets", "client"), ("recording/connections", "client"),
         ("recording/", "recorder"), ("client/", "client"), ("flows/", "download + layout"),
         ("oci/", "download + layout"), ("atomic", "download + layout"), ("protocol/", "protocol"))


def _layer(frame: FrameType | None, event: str) -> str:
    if event == "call" and frame is not None and any(lib in frame.f_code.co_filename for lib in _LIBRARIES):
        return "httpx, httpcore, h11"
    while frame is not None:
        name = frame.f_code.co_filename
        if any(lib in name for lib in _LIBRARIES):
            return "httpx, httpcore, h11"
        if "/explorer/" in name:
            path = name.split("/explorer/", 1)[1]
            return next((layer for prefix, layer in _OURS if path.startswith(prefix)), "other of ours")
        frame = frame.f_back
    return "outside"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", help="a registry holding bench/many:1 (default: start one)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-record", dest="record", action="store_false")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="regexplore-perblob-"))
    try:
        with bench_registry(args.host, ["many"], work) as host:
            session = TraceSession("pull", "bench/many", None, options=ClientOptions(record=args.record))
            with session.running():
                client = session.client(host)
                client.ping()
                layers = client.get_manifest("bench/many", "1", context="bench/many:1").parsed()["layers"]
                counts, cpu = _measure(client, layers, work, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    gets = len(layers) * args.rounds
    total = sum(counts.values())
    print(f"{gets} blob GETs of 50 KiB, recording {'on' if args.record else 'off'}: "
          f"{total / gets:,.0f} calls per GET, CPU {cpu * 1e6:,.0f} us per GET (median of {args.rounds} rounds)")
    for layer, n in counts.most_common():
        print(f"  {n / gets:7,.0f}  {layer}")


def _measure(client: Any, layers: list[dict[str, Any]], work: Path, rounds: int) -> tuple[Counter[str], float]:
    def one_round(n: int) -> None:
        writer = OciLayoutWriter(work / "layouts" / str(n))
        sink = partial(writer.blob_writer, verify=False)
        for desc in layers:
            fetch_blob(client, "bench/many", desc, what="layer", context="bench/many:1", open_sink=sink)

    one_round(-1)  # warm: connections, caches
    times = []
    for n in range(rounds):
        started = time.process_time()
        one_round(n)
        times.append((time.process_time() - started) / len(layers))
    counts: Counter[str] = Counter()

    def count(frame: FrameType, event: str, arg: object) -> None:
        if event in ("call", "c_call"):
            counts[_layer(frame, event)] += 1

    for n in range(rounds):  # the events cProfile counts: calls of Python functions and of builtins
        sys.setprofile(count)
        try:
            one_round(rounds + n)
        finally:
            sys.setprofile(None)
    return counts, median(times)


if __name__ == "__main__":
    main()
