"""The regexplore command line: a thin Typer shell over the library.

Rule 1: parse arguments, call the library, print. No protocol logic here.
Rule 2: heavy modules (httpx, flows, renderers) are imported inside the
commands, so ``regexplore --help`` and ``regexplore render`` start fast.
Rule 3: errors users see are one line (``error: ...``) plus an optional
``hint: ...``; exit 2 for bad input, 1 for a failed operation, 130 for Ctrl-C;
tracebacks only with ``--debug``.
"""

from __future__ import annotations

import functools
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from explorer.errors import ExplorerError, UsageError

__all__ = ["app", "main"]

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

_state = {"debug": False}


# --- shared options, declared once ------------------------------------------------
OutputOpt = Annotated[
    Path | None, typer.Option("-o", "--output", help="Trace file to write (default: <verb>-<repo>-<tag>.trace.json).")
]
UsernameOpt = Annotated[str | None, typer.Option("--username", "-u", help="Registry user name.")]
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password (or token) from standard input.")
]
PasswordOpt = Annotated[
    str | None, typer.Option("--password", help="Password on the command line (insecure: prefer --password-stdin).")
]
PlainHttpOpt = Annotated[
    bool, typer.Option("--plain-http", help="Use http:// (default: https, http only for loopback registries).")
]
InsecureOpt = Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
RetriesOpt = Annotated[int, typer.Option("--retries", min=0, max=10, help="Retries of transient failures.")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, max=32, help="Concurrent blob transfers.")]
TraceArg = typer.Argument(metavar="TRACE", help="A trace file written by `regexplore trace ...`.")
PlatformOpt = Annotated[
    str | None, typer.Option("--platform", help="os/arch[/variant] to pick from an index (default: this host's).")
]


def _handle_errors(fn: F) -> F:
    """Turn ExplorerError into ``error:``/``hint:`` lines and the right exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ExplorerError as exc:
            if _state["debug"]:
                traceback.print_exc()
            typer.echo(f"error: {exc.message}", err=True)
            if exc.hint:
                typer.echo(f"hint: {exc.hint}", err=True)
            for note in getattr(exc, "__notes__", ()):
                typer.echo(note, err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("error: interrupted", err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if _state["debug"]:
                raise
            typer.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
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
    _state["debug"] = debug


# --- trace commands ------------------------------------------------------------------
def _credentials(username: str | None, password: str | None, password_stdin: bool) -> Any:
    from explorer.credentials import Credentials

    if password is not None and password_stdin:
        raise UsageError("--password and --password-stdin exclude each other", "use --password-stdin")
    if password_stdin:
        if username is None:
            raise UsageError("--password-stdin needs --username", "add --username USER")
        secret = sys.stdin.readline().rstrip("\r\n")
        if not secret:
            raise UsageError("no password on standard input", "pipe it in: echo \"$PW\" | regexplore ... --password-stdin")
        return Credentials(username=username, password=secret)
    if password is not None:
        if username is None:
            raise UsageError("--password needs --username", "add --username USER")
        typer.echo("warning: a password on the command line is insecure; use --password-stdin", err=True)
        return Credentials(username=username, password=password)
    if username is not None:
        raise UsageError("--username needs a password", "add --password-stdin and pipe the password in")
    return None


def _default_output(verb: str, repository: str, tag: str | None, digest: str | None) -> Path:
    label = tag or (digest.replace(":", "-")[:19] if digest else "latest")
    return Path(f"{verb}-{repository.replace('/', '_')}-{label}.trace.json")


def _run_traced(
    verb: str,
    raw_target: str,
    output: Path | None,
    quiet: bool,
    prepare: Callable[[], tuple[str, Path, Any, Any]],
    operate: Callable[[Any, Any, Any], list[str]],
) -> None:
    """The shape of every ``trace`` command.

    ``prepare()`` parses the arguments and returns (target, default output,
    client options, parsed arguments); ``operate(session, parsed, progress)``
    runs the flow and returns the summary lines. The trace is written whatever
    happens; bad arguments with an explicit ``-o`` still leave an (empty) trace.
    """
    from explorer.console import make_progress
    from explorer.session import TraceSession

    try:
        target, default_output, options, parsed = prepare()
    except UsageError as exc:
        if output is not None:
            TraceSession(verb, raw_target, output).fail_without_running(exc)
            exc.add_note(f"trace: {output}")
        raise
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
            typer.echo(line)
        typer.echo(f"{session.summary()}")
        typer.echo(f"trace: {session.saved}")


def _client_options(
    username: str | None, password: str | None, password_stdin: bool, plain_http: bool, insecure: bool, retries: int
) -> Any:
    from explorer.session import ClientOptions

    return ClientOptions(
        credentials=_credentials(username, password, password_stdin),
        plain_http=plain_http or None,
        insecure=insecure,
        retries=retries,
    )


@trace_app.command("pull")
@_handle_errors
def trace_pull(
    image: Annotated[
        str, typer.Argument(metavar="IMAGE", help="Image reference, e.g. 127.0.0.1:5000/library/alpine:3.20.")
    ],
    output: OutputOpt = None,
    platform: PlatformOpt = None,
    oci_layout: Annotated[
        Path | None, typer.Option("--oci-layout", help="Also write the image as an OCI image layout here.")
    ] = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    jobs: JobsOpt = 4,
    retries: RetriesOpt = 3,
    quiet: QuietOpt = False,
) -> None:
    """Pull an image for real and record every exchange.

    Example: regexplore trace pull 127.0.0.1:5000/library/alpine:3.20 -o pull.trace.json
    """

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.protocol import mediatypes, reference

        ref = reference.parse(image)
        wanted = mediatypes.parse_platform(platform) if platform else _host_platform()
        options = _client_options(username, password, password_stdin, plain_http, insecure, retries)
        return str(ref), _default_output("pull", ref.repository, ref.tag, ref.digest), options, (ref, wanted)

    def operate(session: Any, parsed: Any, progress: Any) -> list[str]:
        from explorer.flows.pull import pull

        ref, wanted = parsed
        client = session.client(ref.api_host)
        result = pull(client, ref, platform=wanted, layout=oci_layout, progress=progress, jobs=jobs)
        picked = f" ({result.platform})" if result.platform else ""
        lines = [f"pulled {ref}{picked}: manifest {result.manifest_digest}, {len(result.layers)} layers verified"]
        if oci_layout:
            lines.append(f"OCI layout: {oci_layout}")
        return lines

    _run_traced("pull", image, output, quiet, prepare, operate)


def _host_platform() -> Any:
    import platform as host

    from explorer.protocol import mediatypes

    return mediatypes.host_platform(host.system(), host.machine())


# --- reading traces ------------------------------------------------------------------
@app.command("show")
@_handle_errors
def show(
    trace_file: Annotated[Path, TraceArg],
) -> None:
    """Print a trace's exchanges as a table: #, step, method, path, status, size, time.

    Example: regexplore show pull.trace.json
    """
    from explorer.table import exchange_table
    from explorer.trace import load

    typer.echo(exchange_table(load(trace_file)), nl=False)


# --- rendering traces ------------------------------------------------------------------
@app.command("render")
@_handle_errors
def render_trace(
    fmt: Annotated[
        str, typer.Argument(metavar="FORMAT", help="swimlanes, mermaid, plantuml, svg or html.")
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
    from explorer import render
    from explorer.trace import load

    renderer = render.get(fmt)
    options = render.RenderOptions(notes=notes, full=full, timing=timing, markdown=markdown, link=link, title=title)
    text = renderer.render(load(trace_file), options)
    written = render.write_output(text, output or render.default_output(renderer, trace_file))
    if written is not None:
        typer.echo(f"wrote {fmt} to {written}", err=True)


# --- the built-in registry ------------------------------------------------------------
@app.command("serve")
@_handle_errors
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
        run_sandbox(port=port, auth=auth, redirect=redirect, storage=storage, echo=typer.echo, verbose=verbose)
    except OSError as exc:
        raise UsageError(
            f"cannot start the registry{f' on port {port}' if port else ''}: {exc.strerror or exc}",
            "choose another --port, or leave it out to get a free one",
        ) from None


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: usage errors become one ``error:`` line too (exit 2)."""
    import signal

    # Ctrl-C must interrupt even when started with SIGINT ignored (a background job of a
    # non-interactive shell inherits SIG_IGN): the trace commands save what they have.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = app(args=argv, prog_name="regexplore", standalone_mode=False)
    except typer.TyperException as exc:
        if isinstance(exc, typer.Abort):
            typer.echo("error: interrupted", err=True)
            sys.exit(130)
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "regexplore"
        typer.echo(f"error: {exc.format_message()}", err=True)
        typer.echo(f"hint: see `{where} --help`", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
