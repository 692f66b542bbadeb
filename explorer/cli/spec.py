"""``regexplore export openapi``, ``check`` and ``probe``: the spec as a document, as a judge, as an experiment.

Rule: thin; the document is ``explorer.openapi``, the rules ``explorer.check``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from explorer.cli.base import app, traced_command
from explorer.cli.connection import CONNECTION, Connection, connection_options
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


@app.command("probe")
@connection_options()
def probe_registries(
    registries: Annotated[list[str], typer.Argument(
        metavar="REGISTRY...", help="Registry host[:port]; two or more are compared side by side.")],
    repository: Annotated[str, typer.Option(
        "--repository", help="Where the scratch repository goes: NAME/probe-<random>.")] = "regexplore",
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON document on stdout.")] = False,
    output: TextOutputOpt = None,
    connection: Connection = CONNECTION,
) -> None:
    """Find out what a registry supports by trying it in a scratch repository, cleaned up afterwards:
    referrers API, mounts, chunked and monolithic uploads, deletes, pagination, catalog, Range, redirects, auth.
    Each registry's probe is traced (probe-HOST.trace.json, with probe-HOST.html to see the proof).

    Example: regexplore probe 127.0.0.1:5000 --json
    """
    from explorer import operations, render
    from explorer.flows.probe import report
    from explorer.protocol import reference

    reference.validate_repository(repository)
    hosts = [reference.parse_registry(r) for r in registries]  # every one checked before the first is probed
    results, viewers = [], []
    for host in hosts:
        stem = "probe-" + "".join(c if c.isalnum() else "-" for c in host)
        typer.echo(f"probing {host} …", err=True)
        probed = traced_command(operations.probe, host, repository=repository, trace_file=Path(f"{stem}.trace.json"),
                                connection=connection, quiet=True)
        results.append(probed.result)
        viewer = operations.render(probed.trace, "html", f"{stem}.html").file
        viewers.append(viewer.name if viewer else f"{stem}.html")
        typer.echo(f"trace: {probed.trace_file} (see {viewers[-1]})", err=True)
    if as_json:
        document = results[0].to_dict() if len(results) == 1 else {"registries": [r.to_dict() for r in results]}
        text = json.dumps(document, indent=2) + "\n"
    else:
        text = report(results, viewers, markdown=bool(output and output.endswith(".md")))
    written = render.write_output(text, output or "-")
    if written is not None:
        typer.echo(f"wrote the probe report to {written}", err=True)
