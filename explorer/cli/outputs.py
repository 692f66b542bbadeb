"""``regexplore show|render|export|import|explain``: everything that reads a trace (or a capture)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from explorer.cli.base import app
from explorer.cli.options import (
    body_cap,
    KeepBodiesOpt,
    TextOutputOpt,
    TitleOpt,
    TraceArg,
)
from explorer.errors import UsageError
from explorer.printable import printable


# --- reading traces ------------------------------------------------------------------
@app.command("show")
def show(
    trace_file: Annotated[Path, TraceArg],
) -> None:
    """Print a trace's exchanges as a table: #, step, method, path, status, size, time.

    Example: regexplore show pull.trace.json
    """
    from explorer.annotate import step_labels
    from explorer.cli.table import exchange_table
    from explorer.trace import load

    trace = load(trace_file)
    typer.echo(exchange_table(trace, step_labels(trace)), nl=False)


# --- rendering traces ------------------------------------------------------------------
@app.command("render")
def render_trace(
    fmt: Annotated[
        str, typer.Argument(metavar="FORMAT", help="swimlanes, mermaid, plantuml, svg, html or markdown.")
    ],
    trace_file: Annotated[Path, TraceArg],
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", help="File to write; '-' for stdout (default: stdout for text, TRACE.<ext> for svg/html)."),
    ] = None,
    notes: Annotated[bool, typer.Option("--notes/--no-notes", help="Show endpoint ids and meanings as notes.")] = True,
    full: Annotated[bool, typer.Option("--full", help="Show every exchange instead of collapsing repetitions.")] = False,
    timing: Annotated[bool, typer.Option("--timing", help="Add durations to the labels.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Mermaid/PlantUML: wrap in a Markdown code fence.")] = False,
    link: Annotated[bool, typer.Option("--link", help="swimlanes: print a swimlanes.io link to the diagram.")] = False,
    title: Annotated[str | None, typer.Option("--title", help="Diagram title (default: from the trace).")] = None,
) -> None:
    """Draw a trace as a sequence diagram (text formats print to stdout).

    Example: regexplore render mermaid pull.trace.json --markdown -o pull.md
    """
    from explorer import operations, render

    drawn = operations.render(trace_file, fmt, notes=notes, full=full, timing=timing, markdown=markdown, link=link,
                              title=title)
    written = render.write_output(drawn.text, output or render.default_output(render.get(fmt), trace_file))
    if written is not None:
        typer.echo(f"wrote {fmt} to {written}", err=True)


# --- exports, imports and teaching pages ------------------------------------------------


@app.command("export")
def export(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="postman, har, curl, python, cassette or openapi.")],
    trace_files: Annotated[
        list[Path] | None,
        typer.Argument(metavar="[TRACE...]", help="A trace file (none with --all-endpoints; openapi: any number)."),
    ] = None,
    output: TextOutputOpt = None,
    all_endpoints: Annotated[
        bool, typer.Option("--all-endpoints", help="postman: every registry endpoint as a runnable tour, no trace.")
    ] = False,
    title: TitleOpt = None,
) -> None:
    """Turn a trace into what other tools run: a Postman collection, a HAR file, a curl or Python script
    that does the same requests again, or a vcrpy cassette; or the whole registry API as OpenAPI 3.1
    (-o api.json, api.yaml or api.html for a browsable offline page), with the traces' exchanges as examples.

    Example: regexplore export postman pull.trace.json -o pull.postman_collection.json
    """
    if fmt == "openapi":
        from explorer.cli.spec import export_openapi

        return export_openapi(trace_files or [], output, all_endpoints)
    if trace_files is not None and len(trace_files) > 1:
        raise UsageError(f"export {fmt} takes one TRACE", f"regexplore export {fmt} pull.trace.json")
    trace_file = trace_files[0] if trace_files else None
    from explorer import operations, render

    exported = render.get_export(fmt)
    if all_endpoints:
        if fmt != "postman" or trace_file is not None:
            raise UsageError("--all-endpoints belongs to `export postman` and takes no TRACE",
                             "regexplore export postman --all-endpoints -o api.json")
        from explorer.render.postman import all_endpoints as tour

        text = tour(render.RenderOptions(title=title))
    else:
        if trace_file is None:
            raise UsageError(f"export {fmt} needs a TRACE", f"regexplore export {fmt} pull.trace.json")
        result = operations.export(trace_file, fmt, title=title)
        for warning in result.warnings:
            typer.echo(printable(f"warning: {warning}"), err=True)
        text = result.text
    written = exported.write(text, output or "-")
    if written is not None:
        typer.echo(f"wrote {fmt} to {written}", err=True)


@app.command("import")
def import_capture(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="har or cassette.")],
    source: Annotated[
        Path, typer.Argument(metavar="FILE", help="A HAR file (mitmproxy, a browser, regexplore) or a vcrpy cassette.")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Trace file to write (default: FILE.trace.json).")
    ] = None,
    keep_bodies: KeepBodiesOpt = None,
) -> None:
    """Read a HAR file or a vcrpy cassette as a trace, redacted as a recording would be, to render or export.

    Example: regexplore import har docker-pull.har -o docker-pull.trace.json
    """
    from explorer import importers
    from explorer.trace import save

    trace = importers.load(fmt, source, binary_cap=body_cap(keep_bodies) if keep_bodies is not None else 0)
    written = save(trace, output or importers.default_output(source))
    typer.echo(f"imported {len(trace.exchanges)} exchanges from {source}")
    typer.echo(f"trace: {written}")


@app.command("explain")
def explain(
    trace_file: Annotated[Path, TraceArg],
    output: TextOutputOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Explain every exchange instead of one of each repetition.")] = False,
    title: TitleOpt = None,
) -> None:
    """Explain a trace step by step as Markdown a newcomer learns from (the same as `render markdown`).

    Example: regexplore explain pull.trace.json -o pull.md
    """
    from explorer import render
    from explorer.annotate import annotate
    from explorer.trace import load

    text = render.get("markdown").render(annotate(load(trace_file)), render.RenderOptions(full=full, title=title))
    written = render.write_output(text, output or "-")
    if written is not None:
        typer.echo(f"wrote markdown to {written}", err=True)
