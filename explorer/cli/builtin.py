"""``regexplore serve|demo``: the built-in registry, in the foreground or as the offline demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from explorer.cli.base import app
from explorer.cli.options import (
    QuietOpt,
)
from explorer.errors import UsageError
from explorer.printable import printable


# --- the built-in registry ------------------------------------------------------------
@app.command("demo")
def demo(
    outdir: Annotated[
        Path, typer.Argument(metavar="[OUTDIR]", help="Where to write traces, renders and exports.")
    ] = Path("regexplore-demo"),
    quiet: QuietOpt = False,
) -> None:
    """Trace push, push again, pull, copy and tags on the built-in registry, offline, and render everything.

    Example: regexplore demo ./regexplore-demo && open ./regexplore-demo/index.html
    """
    from explorer.cli.console import make_progress
    from explorer.demo import run_demo

    progress = make_progress(quiet)
    echo = (lambda line: None) if quiet else typer.echo
    try:
        result = run_demo(outdir, echo=echo, progress=progress)
    finally:
        close = getattr(progress, "close", None)
        if close is not None:
            close()
    files = sum(len(step.outputs) for step in result.steps) + 1
    if not quiet:
        typer.echo(f"wrote {files} files to {result.outdir} in {result.seconds:.1f} s")
        typer.echo(f"open first: {result.index}  (then a step's .html viewer: click any arrow)")


@app.command("serve")
def serve(
    port: Annotated[int | None, typer.Option("--port", "-p", min=1, max=65535, help="Registry port (default: a free one).")] = None,
    auth: Annotated[str, typer.Option("--auth", metavar="none|basic|token", help="How clients must authenticate.")] = "none",
    redirect: Annotated[
        bool, typer.Option("--redirect", help="Answer blob GETs with 307 to a second origin (a CDN stand-in).")
    ] = False,
    storage: Annotated[
        Path | None, typer.Option("--storage", help="Keep the registry's content in this directory (default: temporary).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print one line per request.")] = False,
) -> None:
    """Run the built-in OCI registry on loopback until Ctrl-C, printing the URLs and credentials to use.

    Example: regexplore serve --auth token --redirect
    """
    from explorer.sandbox import AUTH_MODES, serve as run_sandbox

    if auth not in AUTH_MODES:
        raise UsageError(f"unknown --auth {auth!r}; choose from: {', '.join(AUTH_MODES)}")
    try:
        run_sandbox(port=port, auth=auth, redirect=redirect, storage=storage,
                    echo=lambda line: typer.echo(printable(line)), verbose=verbose)  # --verbose prints clients' paths
    except OSError as exc:
        raise UsageError(
            f"cannot start the registry{f' on port {port}' if port else ''}: {exc.strerror or exc}",
            "choose another --port, or leave it out to get a free one",
        ) from None
