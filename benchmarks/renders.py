"""Load, annotate and render mermaid of the 5,000-exchange test trace, median of 3: comparable across stops.

    PYTHONPATH=CHECKOUT .venv/bin/python -m benchmarks.renders   (run from CHECKOUT; works before and
    after the format registry, where renderers took a Trace and annotated it themselves)
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _median(work: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return sorted(times)[runs // 2]


def main() -> None:
    from explorer import render, trace
    from explorer.annotate import annotate
    from tests.render.factory import case_big

    big = case_big()
    path = trace.save(big, Path(tempfile.mkdtemp()) / "big.trace.json")
    mermaid = render.get("mermaid")
    takes_annotated = hasattr(render, "FORMATS")
    print(f"{len(big.exchanges)} exchanges")
    print(f"load      {_median(lambda: trace.load(path)):.3f} s")
    print(f"annotate  {_median(lambda: annotate(big)):.3f} s")
    print(f"mermaid   {_median(lambda: mermaid.render(annotate(big) if takes_annotated else big, render.RenderOptions())):.3f} s"
          "  (annotate included)")


if __name__ == "__main__":
    main()
