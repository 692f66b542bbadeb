"""Load, annotate and render every format of the 5,000-exchange test trace, medians: comparable across stops.

    PYTHONPATH=CHECKOUT .venv/bin/python -m benchmarks.renders [FORMAT ...] [--runs N]

Each render is timed as ``benchmarks/run.py`` (``side_timings``) times it, annotation included:
``operations.render(big, FORMAT)``, what ``regexplore render|export`` does between loading the trace
and writing its text (a checkout without it: ``renderer.render(annotate(big), RenderOptions())``,
which it did before), with the per-URL caches of ``protocol`` emptied
before each run (``forget``: a command renders a trace once, so a cache filled by an earlier run
would flatter it); wall and CPU (``time.process_time``) medians, CPU being the steadier on a shared
machine. Works before and after the format registry (where
renderers took a Trace and annotated it themselves) for mermaid.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def forget() -> None:
    """Empty the caches a render fills (URL parts, routes, endpoint matches): as in a fresh command."""
    from explorer.protocol import endpoints

    try:
        from explorer.protocol import urls
    except ImportError:  # before the URL caches
        urls = None
    cached = [endpoints.parse_route, endpoints.classify]
    if urls is not None:
        cached += [urls.split, urls.query_pairs, urls.query_params, urls.netloc, urls.join]
    for function in cached:
        getattr(function, "cache_clear", lambda: None)()


def _median(work: Callable[[], object], runs: int = 3) -> tuple[float, float]:
    """(wall, CPU) medians of ``runs`` calls of ``work``, each with empty caches."""
    walls, cpus = [], []
    for _ in range(runs):
        forget()
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _operations() -> Any:
    """``explorer.operations`` where it renders (``operations.render``), else None (an older checkout)."""
    try:
        from explorer import operations
    except ImportError:
        return None
    return operations if hasattr(operations, "render") else None


def main() -> None:
    from explorer import render, trace
    from explorer.annotate import annotate
    from tests.render.factory import case_big

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("formats", nargs="*", help="formats to render (default: every one)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    takes_annotated = hasattr(render, "FORMATS")
    names = args.formats or (render.names() if takes_annotated else ["mermaid"])
    big = case_big()
    path = trace.save(big, Path(tempfile.mkdtemp()) / "big.trace.json")
    print(f"{len(big.exchanges)} exchanges, medians of {args.runs}: wall / CPU")
    rows = [("load", lambda: trace.load(path)), ("annotate", lambda: annotate(big))]
    operations = _operations()
    for name in names:
        if operations is not None:  # what `regexplore render|export` does between loading and writing
            rows.append((name, lambda name=name: operations.render(big, name)))
            continue
        fmt = render.get(name)
        rows.append((name, lambda fmt=fmt: fmt.render(annotate(big) if takes_annotated else big,
                                                      render.RenderOptions())))
    for label, work in rows:
        wall, cpu = _median(work, args.runs)
        note = "  (annotate included)" if label not in ("load", "annotate") else ""
        print(f"{label:10s} {wall:.3f} s / {cpu:.3f} s{note}")


if __name__ == "__main__":
    main()
