"""Golden-file machinery: which traces, which outputs, how they are scrubbed and compared.

Cases are the synthetic traces of ``factory.CASES`` plus every
``recordings/**/*.trace.json`` (named ``rec-<dir>-<stem>``), so real recordings get
goldens as soon as they are committed. Expected outputs live in
``tests/render/golden/<case>.<variant><extension>``; see ``golden/README.md``.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from pathlib import Path

from explorer import trace as trace_io
from explorer.render import RenderOptions
from explorer.trace import Trace
from tests.render import factory

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
REPO = HERE.parents[1]
ACTUAL = REPO / "tests" / "actual" / "render"  # failing outputs land here (git-ignored)
RECORDINGS = REPO / "recordings"
REGOLD = bool(os.environ.get("REGEXPLORE_REGOLD"))

#: variant name → (format, options); "" is the default rendering of each format.
VARIANTS: dict[str, tuple[str, RenderOptions]] = {
    "swimlanes": ("swimlanes", RenderOptions()),
    "mermaid": ("mermaid", RenderOptions()),
    "plantuml": ("plantuml", RenderOptions()),
    "svg": ("svg", RenderOptions()),
    "html": ("html", RenderOptions()),
}
#: extra variants, for a few cases only: (case, variant label, format, options)
EXTRA: list[tuple[str, str, str, RenderOptions]] = [
    ("pull_token", "full-timing", "mermaid", RenderOptions(full=True, timing=True, notes=False, markdown=True)),
    ("pull_token", "link", "swimlanes", RenderOptions(link=True)),
    ("push_chunked", "full", "swimlanes", RenderOptions(full=True)),
    ("push_chunked", "full", "svg", RenderOptions(full=True, timing=True)),
]

# volatile values of real recordings: durations, timestamps, tool versions
SCRUBS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"), "<timestamp>"),
    (re.compile(r"(?<![\w.])\d+(?:\.\d+)? (?:ms|s|min)\b"), "<time>"),
    (re.compile(r"regexplore \d+\.\d+\.\d+\S*"), "regexplore <version>"),
]


def cases() -> dict[str, Callable[[], Trace]]:
    """Every golden case: synthetic ones, then each committed recording."""
    found: dict[str, Callable[[], Trace]] = dict(factory.CASES)
    for path in sorted(RECORDINGS.rglob("*.trace.json")):
        name = "rec-" + str(path.relative_to(RECORDINGS)).removesuffix(".trace.json").replace("/", "-")
        found[name] = lambda path=path: trace_io.load(path)
    return found


def extension(fmt: str) -> str:
    from explorer import render

    return render.get(fmt).extension


def outputs() -> list[tuple[str, str, str, RenderOptions]]:
    """(golden file name, case, format, options) for every golden output."""
    out = []
    for case in cases():
        for fmt, options in VARIANTS.values():
            out.append((f"{case}{extension(fmt)}", case, fmt, options))
    for case, label, fmt, options in EXTRA:
        out.append((f"{case}.{label}{extension(fmt)}", case, fmt, options))
    return out


def scrub(text: str) -> str:
    for pattern, replacement in SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def compare(name: str, actual: str, directory: Path = GOLDEN) -> None:
    """Assert ``actual`` (scrubbed) equals ``<directory>/<name>``; with REGEXPLORE_REGOLD=1, rewrite it.

    ``directory`` defaults to ``tests/render/golden``; other suites keep their own (``tests/render/golden-exports``).
    """
    expected_path = directory / name
    actual = scrub(actual)
    if REGOLD:
        expected_path.write_text(actual, encoding="utf-8")
        return
    if not expected_path.exists():
        raise AssertionError(f"no golden file {expected_path}; create it with "
                             f"REGEXPLORE_REGOLD=1 .venv/bin/python -m pytest {directory.parent.relative_to(REPO)}")
    expected = expected_path.read_text(encoding="utf-8")
    if actual != expected:
        ACTUAL.mkdir(parents=True, exist_ok=True)
        (ACTUAL / name).write_text(actual, encoding="utf-8")
        diff = "".join(list(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            f"{directory.name}/{name}", f"actual/{name}"))[:80])
        raise AssertionError(f"{name} differs from its golden file (actual output in {ACTUAL / name}; "
                             f"if the change is intended, regenerate: see tests/render/golden/README.md)\n{diff}")
