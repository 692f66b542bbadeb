"""``regexplore diff A B``: how two flows differ, aligned by meaning (exit codes as diff(1))."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from explorer.cli.base import app
from explorer.errors import UsageError

FORMATS = ("text", "markdown", "html")


@app.command("diff")
def diff(
    trace_a: Annotated[Path, typer.Argument(metavar="A", help="A trace file (yours, a proxy's, an import).")],
    trace_b: Annotated[Path, typer.Argument(metavar="B", help="The trace to compare it with.")],
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="text|markdown|html",
                                     help="Output format (html: the two diagrams side by side).")] = "text",
    output: Annotated[str | None, typer.Option("-o", "--output", help="File to write; '-' for stdout (the default).")] = None,
    ignore: Annotated[str, typer.Option(
        "--ignore", metavar="CLASSES",
        help="Comma-separated classes of differences to ignore: https-probe, only-in-a, only-in-b, status, "
             "headers, header-values, body-size, order, timings.")] = "",
) -> None:
    """Compare two flows by meaning (step, endpoint, repository, blob), not by position.

    Exit 0 when the flows match, 1 when they differ, 2 on bad input.

    Example: regexplore diff skopeo-pull.trace.json pull.trace.json --ignore timings,header-values
    """
    from explorer.annotate import annotate
    from explorer.diff import CLASSES
    from explorer.diff.align import compare_annotated
    from explorer.diff.report import as_html, as_markdown, as_text
    from explorer.render import write_output
    from explorer.trace import load

    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {fmt!r}; choose from: {', '.join(FORMATS)}")
    ignored = frozenset(part.strip() for part in ignore.split(",") if part.strip())
    unknown = sorted(ignored - set(CLASSES))
    if unknown:
        raise UsageError(f"unknown --ignore class {', '.join(map(repr, unknown))}; choose from: {', '.join(CLASSES)}")
    a, b = annotate(load(trace_a)), annotate(load(trace_b))
    comparison = compare_annotated(a, b)
    names = (trace_a.name, trace_b.name)
    if fmt == "text":
        text = as_text(comparison, names, ignored)
    elif fmt == "markdown":
        from explorer import render

        mermaid = render.get("mermaid")
        diagrams = (mermaid.render(a, render.RenderOptions()), mermaid.render(b, render.RenderOptions()))
        text = as_markdown(comparison, names, ignored, diagrams)
    else:
        from explorer import render

        svg = render.get("svg")
        text = as_html(comparison, names, ignored,
                       (svg.render(a, render.RenderOptions()), svg.render(b, render.RenderOptions())))
    written = write_output(text, output)
    if written is not None:
        typer.echo(f"wrote {written}", err=True)
    if not comparison.same(ignored):
        raise typer.Exit(1)
