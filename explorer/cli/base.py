"""The CLI's shared machinery: the Typer apps, the ONE place errors and signals are handled, trace output.

Rule: errors users see are one line (``error: ...``) plus an optional
``hint: ...``; exit 2 for bad input, 1 for a failed operation, 130 for Ctrl-C,
143 for SIGTERM; tracebacks only with ``--debug``. Every command runs inside
:class:`HandledGroup.invoke`, which installs the signal handlers and turns every
exception into those lines: commands raise, they never catch.
"""

from __future__ import annotations

import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from explorer.errors import ExplorerError, Terminated
from explorer.printable import printable

__all__ = ["HandledGroup", "app", "lone_trace_app", "progress_bars", "report", "state", "trace_app", "traced_command"]

class HandledGroup(TyperGroup):
    """The root command group: every command runs inside :meth:`invoke`, errors and signals handled here."""

    def invoke(self, ctx: Any) -> Any:
        with _signals():
            try:
                return super().invoke(ctx)
            except (typer.TyperException, typer.Exit, typer.Abort):
                raise  # usage errors found by the parser, and exits: main() words them
            except ExplorerError as exc:
                if state["debug"]:
                    traceback.print_exc()
                typer.echo(printable(f"error: {exc.message}"), err=True)  # messages may quote a registry
                if exc.hint:
                    typer.echo(printable(f"hint: {exc.hint}"), err=True)
                for note in getattr(exc, "__notes__", ()):
                    typer.echo(printable(note), err=True)
                raise typer.Exit(exc.exit_code) from None
            except Terminated:
                typer.echo("error: terminated (SIGTERM)", err=True)
                raise typer.Exit(128 + signal.SIGTERM) from None
            except KeyboardInterrupt:
                typer.echo("error: interrupted", err=True)
                raise typer.Exit(130) from None
            except Exception as exc:
                if state["debug"]:
                    raise
                typer.echo(printable(f"error: internal error: {type(exc).__name__}: {exc}"), err=True)
                typer.echo("hint: rerun with --debug for the traceback, and please report it", err=True)
                raise typer.Exit(1) from None


@contextmanager
def _signals() -> Iterator[None]:
    """Ctrl-C interrupts even when started with SIGINT ignored (a background job of a non-interactive
    shell inherits SIG_IGN); SIGTERM stops a command as Ctrl-C does (``Terminated``), so a trace
    command writes its trace. Only on the main thread (tests run commands in threads too)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGINT, signal.default_int_handler), signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


state = {"debug": False}


def _print_version(value: bool) -> None:
    if value:
        from explorer import __version__

        typer.echo(f"regexplore {__version__}")
        raise typer.Exit(0)


def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit.")
    ] = False,
) -> None:
    state["debug"] = debug


def _apps() -> tuple[typer.Typer, typer.Typer]:
    """The root app and its ``trace`` group, without commands."""
    root = typer.Typer(
        name="regexplore",
        cls=HandledGroup,
        help="Make the Docker Registry HTTP API v2 / OCI distribution protocol visible: "
        "trace real pulls and pushes, then render and export the traces.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    trace = typer.Typer(
        help="Perform a real registry operation and record every HTTP exchange into a trace file.",
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    root.add_typer(trace, name="trace")
    root.callback()(_root)
    return root, trace


app, trace_app = _apps()  # the whole CLI: each command module registers its commands here when imported


def lone_trace_app(verb: str) -> typer.Typer:
    """An app with ``trace VERB`` alone (as registered in ``trace_app``), for a process that runs that command:
    typer builds the click command of every command an app holds on each call (pull, push and copy: 48
    parameters, about 3 ms of a transfer's start-up)."""
    root, trace = _apps()
    trace.registered_commands += [info for info in trace_app.registered_commands if info.name == verb]  # as registered
    return root


R = TypeVar("R")


@contextmanager
def progress_bars(quiet: bool) -> Iterator[Any]:
    """Bars on a terminal (rich, imported only then); silence when piped, redirected or ``--quiet``."""
    from explorer.cli.console import make_progress

    progress = make_progress(quiet)
    try:
        yield progress
    finally:
        close = getattr(progress, "close", None)
        if close is not None:
            close()


def traced_command(operation: Callable[..., R], *args: Any, connection: Any, quiet: bool,
                   progress: bool = False, **kwargs: Any) -> R:
    """Call a library operation as a ``trace`` command: the connection's credentials and options,
    this command line recorded in the trace, progress bars when ``progress``."""
    from explorer.cli import resume_collector

    resume_collector()
    with progress_bars(quiet or not progress) as bars:
        if progress:
            kwargs["progress"] = bars
        return operation(*args, credentials=connection.credentials, options=connection.options,
                         command=sys.argv[1:], **kwargs)


def report(result: Any, lines: Sequence[str], quiet: bool) -> None:
    """What a ``trace`` command prints: its lines, the exchange summary, where the trace went."""
    if quiet:
        return
    for line in lines:
        typer.echo(printable(line))  # summaries name tags, digests, platforms a registry sent
    typer.echo(result.summary())
    typer.echo(f"trace: {result.trace_file}")
