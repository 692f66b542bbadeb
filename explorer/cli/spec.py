"""``regexplore export openapi`` and ``regexplore check``: the spec as a document, and as a judge.

Rule: thin; the document is ``explorer.openapi``, the rules ``explorer.check``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from explorer.cli.base import app, handle_errors
from explorer.cli.options import TextOutputOpt
from explorer.errors import UsageError

__all__ = ["export_openapi"]


def _label(path: Path, taken: set[str]) -> str:
    stem = path.name.removesuffix(".trace.json").removesuffix(".json") or "trace"
    label, n = stem, 2
    if label in taken and path.parent.name:
        label = f"{path.parent.name}-{stem}"
    while label in taken:
        label, n = f"{stem}{n}", n + 1
    taken.add(label)
    return label


def export_openapi(trace_files: list[Path], output: str | None, all_endpoints: bool) -> None:
    """``export openapi [TRACE...] [-o api.json|api.yaml|api.html]``."""
    from explorer import openapi, render
    from explorer.trace import load

    if all_endpoints:
        raise UsageError("--all-endpoints belongs to `export postman`; `export openapi` always covers every endpoint",
                         "regexplore export openapi -o api.yaml")
    taken: set[str] = set()
    traces = [(_label(path, taken), load(path)) for path in trace_files]
    fmt = openapi.format_for(output)
    text = openapi.dumps(openapi.build(traces), fmt)
    written = render.write_output(text, output or "-")
    if written is not None:
        typer.echo(f"wrote openapi ({fmt}) to {written}", err=True)


@app.command("check")
@handle_errors
def check_traces(
    trace_files: Annotated[list[Path], typer.Argument(
        metavar="TRACE...", help="Trace files (or HAR captures, *.har) to judge.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table (default), markdown or json.")] = "table",
    output: TextOutputOpt = None,
) -> None:
    """Judge every exchange against the distribution spec: statuses allowed per endpoint, the headers a
    registry MUST send, digests against bodies, error bodies and codes, WWW-Authenticate, Link pagination,
    and the client side (token requests, Authorization sent to storage). Each finding: severity
    (MUST/SHOULD/note), exchange, spec version and section, what was expected.
    Exit 0 when no MUST is broken, 1 when one is, 2 on bad input.

    Example: regexplore check pull.trace.json push.trace.json --format markdown -o report.md
    """
    from explorer import check, render
    from explorer.trace import load

    if fmt not in check.FORMATS:
        raise UsageError(f"unknown --format {fmt!r}; choose from: {', '.join(check.FORMATS)}",
                         "regexplore check pull.trace.json --format json")
    results = []
    for path in trace_files:
        if path.suffix.lower() == ".har":
            from explorer import importers

            trace = importers.load("har", path)
        else:
            trace = load(path)
        results.append((str(path), check.check(trace)))
    written = render.write_output(check.render_findings(results, fmt), output or "-")
    if written is not None:
        typer.echo(f"wrote {fmt} findings to {written}", err=True)
    if any(check.broken(findings) for _, findings in results):
        raise typer.Exit(1)
