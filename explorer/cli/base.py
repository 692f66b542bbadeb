"""The CLI's shared machinery: the Typer apps, error handling, and the shape of every trace command.

Rule: errors users see are one line (``error: ...``) plus an optional
``hint: ...``; exit 2 for bad input, 1 for a failed operation, 130 for Ctrl-C;
tracebacks only with ``--debug``.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from explorer.cli.options import credentials_from_flags
from explorer.errors import ExplorerError
from explorer.printable import printable

__all__ = ["app", "client_options", "handle_errors", "run_traced", "state", "trace_app"]

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="regexplore",
    help="Make the Docker Registry HTTP API v2 / OCI distribution protocol visible: "
    "trace real pulls and pushes, then render and export the traces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
trace_app = typer.Typer(
    help="Perform a real registry operation and record every HTTP exchange into a trace file.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(trace_app, name="trace")

state = {"debug": False}


def handle_errors(fn: F) -> F:
    """Turn ExplorerError into ``error:``/``hint:`` lines and the right exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ExplorerError as exc:
            if state["debug"]:
                traceback.print_exc()
            typer.echo(printable(f"error: {exc.message}"), err=True)  # messages may quote a registry
            if exc.hint:
                typer.echo(printable(f"hint: {exc.hint}"), err=True)
            for note in getattr(exc, "__notes__", ()):
                typer.echo(printable(note), err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("error: interrupted", err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if state["debug"]:
                raise
            typer.echo(printable(f"error: internal error: {type(exc).__name__}: {exc}"), err=True)
            typer.echo("hint: rerun with --debug for the traceback, and please report it", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _print_version(value: bool) -> None:
    if value:
        from explorer import __version__

        typer.echo(f"regexplore {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit.")
    ] = False,
) -> None:
    state["debug"] = debug


def run_traced(
    verb: str,
    output: Path | None,
    quiet: bool,
    prepare: Callable[[], tuple[str, Path, Any, Any]],
    operate: Callable[[Any, Any, Any], list[str]],
) -> None:
    """The shape of every ``trace`` command.

    ``prepare()`` parses the arguments and returns (target, default output,
    client options, parsed arguments); ``operate(session, parsed, progress)``
    runs the flow and returns the summary lines. Once a request may be sent the
    trace is written whatever happens; bad arguments (exit 2) write no file.
    """
    from explorer.console import make_progress
    from explorer.session import TraceSession

    target, default_output, options, parsed = prepare()  # a UsageError (exit 2) sent nothing: no trace file
    session = TraceSession(verb, target, output or default_output, options=options)
    progress = make_progress(quiet)
    try:
        with session.running():
            lines = operate(session, parsed, progress)
    except ExplorerError as exc:
        if session.saved:
            exc.add_note(f"trace of the failed {verb}: {session.saved}")
        raise
    finally:
        close = getattr(progress, "close", None)
        if close is not None:
            close()
    if not quiet:
        for line in lines:
            typer.echo(printable(line))  # summaries name tags, digests, platforms a registry sent
        typer.echo(f"{session.summary()}")
        typer.echo(f"trace: {session.saved}")


def client_options(
    username: str | None, password: str | None, password_stdin: bool, plain_http: bool, insecure: bool, retries: int,
    timeout: float = 30.0,
) -> Any:
    from explorer.session import ClientOptions

    return ClientOptions(
        credentials=credentials_from_flags(username, password, password_stdin),
        plain_http=plain_http or None,
        insecure=insecure,
        retries=retries,
        timeout=timeout,
        debug_log=state["debug"],
    )
