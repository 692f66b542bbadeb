"""The regexplore command line: a thin Typer shell over the library.

Rule 1: parse arguments, call the library, print. No protocol logic here.
Rule 2: heavy modules (httpx, flows, renderers) are imported inside the
commands, so ``regexplore --help`` and ``regexplore render`` start fast. Typer
builds every registered command on each call (about 30 ms for all of them), so
``main`` imports only the module of ``trace pull|push|copy`` when that is what it
runs, and runs an app holding that one command (``register``);
``explorer.cli.app`` is the whole CLI.
Rule 2b: ``trace pull|push|copy`` opens its registries' first connections on a thread, TLS
handshake included, before anything heavy is imported, typer included (``recording/preconnect.py``).
Rule 2c: the program (``run``: the console script, ``python -m explorer``) pauses the
garbage collector while ``trace pull|push|copy`` imports, freezes what start-up allocated
out of later collections when the operation starts (``resume_collector``), and freezes
everything at the exit of any command, whose shutdown then collects nothing: a process
of its own needs no collecting at its end.
Rule 2d: once its early connections are under way, a transfer imports httpcore, httpx and then its
operation here, near the bottom of the stack, not inside the command that typer calls. Python 3.11
keeps a thread's frames in 16 KiB chunks and unmaps a chunk as soon as the stack leaves it; httpx's
and httpcore's imports nest 10 levels deep, and under ours (the session, the client, the recorder,
the pools) and typer's and click's calls they went past a chunk's end and back about 290 times per
transfer: a ``mmap``, 4 page faults and a ``munmap`` each, about 26 us on this machine. From here,
theirs first: none (``strace -e mmap``).
Rule 3: errors users see are one line (``error: ...``) plus an optional
``hint: ...``; exit 2 for bad input, 1 for a failed operation, 130 for Ctrl-C;
tracebacks only with ``--debug``. Commands raise; ``cli/base.py`` handles errors
and signals in one place (parse errors: ``main`` below).
Rule 4: a trace command calls ``explorer.operations`` (the library) and prints.

Where each command lives ("one guess"):

    trace pull|push|copy                                   cli/trace_transfer.py
    trace tags|catalog|manifest|tag|delete|referrers       cli/trace_api.py
    show, render, export, import, explain                  cli/outputs.py
    export openapi, check, probe                           cli/spec.py
    diff                                                   cli/diff.py
    serve, demo                                            cli/builtin.py
    proxy                                                  cli/proxy.py
    shared options                                         cli/options.py, cli/connection.py (declared once)
    apps, errors and signals, the trace-command shape      cli/base.py
"""

from __future__ import annotations

import gc
import io
import itertools
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

__all__ = ["app", "main", "register", "resume_collector", "run"]

COMMAND_MODULES = ("outputs", "diff", "spec", "builtin", "proxy", "trace_transfer", "trace_api")  # help order
_ALONE = {("trace", "pull"): "trace_transfer", ("trace", "push"): "trace_transfer", ("trace", "copy"): "trace_transfer"}
_ROOT_FLAGS = ("--debug",)  # root options that take no value and end no parse


def register(argv: list[str] | None = None) -> typer.Typer:
    """The app with the commands ``argv`` may run: for ``trace pull|push|copy`` that command alone
    (its module only: nothing else on the start-up path of a transfer), else every command, in help order."""
    import importlib

    words = list(sys.argv[1:] if argv is None else argv)
    while words and words[0] in _ROOT_FLAGS:
        words.pop(0)
    alone = _ALONE.get(tuple(words[:2]))  # type: ignore[arg-type]
    for name in (alone,) if alone else COMMAND_MODULES:
        importlib.import_module(f"explorer.cli.{name}")  # importing registers the module's commands
    from explorer.cli.base import app, lone_trace_app

    return lone_trace_app(words[1]) if alone else app


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # the whole CLI (tests, docs): every command registered
        return register([])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_collector = {"paused": False}


def run() -> None:
    """The regexplore program: ``main`` in a process of its own (see Rule 2c)."""
    words = [w for w in sys.argv[1:] if w not in _ROOT_FLAGS]
    if isinstance(sys.stdout, io.TextIOWrapper):  # as stderr: a lone surrogate (a hostile JSON's ``\\ud800``)
        sys.stdout.reconfigure(errors="backslashreplace")  # is printed as that escape, not raised at the print
    if tuple(words[:2]) in _ALONE:  # a transfer: its operation resumes the collector (``cli/base.py``)
        gc.disable()
        _collector["paused"] = True
    try:
        main()
    finally:
        gc.freeze()  # the interpreter's shutdown collections have nothing left to traverse


def resume_collector() -> None:
    """Start-up is over (an operation starts): what it allocated (modules, classes: long-lived)
    leaves the collector's generations for good, and the collector runs again."""
    if _collector["paused"]:
        _collector["paused"] = False
        gc.freeze()
        gc.enable()


def _preconnect(words: list[str]) -> bool:
    """``trace pull|push|copy``: the first connections to each registry the command names are opened,
    and their TLS handshakes made, while typer, httpx and the rest import: a loopback registry's https
    probe (no CA: its TLS hello) and http's, an https registry's verified handshake (``--insecure``:
    TCP only). Only the words right after the verb are read, and only images: an option before them,
    or a bad image, and nothing is opened (the command reports what is wrong). True: they were begun."""
    if tuple(words[:2]) not in _ALONE or {"-h", "--help"} & {*words}:
        return False
    from explorer.errors import ExplorerError
    from explorer.protocol.reference import is_loopback, parse
    from explorer.recording import preconnect, tls

    given = list(itertools.takewhile(lambda w: not w.startswith("-"), [w for w in words[2:] if w != "--sample"]))
    images = {"pull": given[:1], "copy": given[:2], "push": given[:1] if "--sample" in words else given[1:2]}
    insecure = "--insecure" in words  # the pool's context is made by httpx: only its TCP handshake here
    addresses: list[tuple[str, int, str | None]] = []
    for image in images[words[1]]:
        try:
            host = parse(image).api_host
        except ExplorerError:
            return False
        name, port = host.rsplit(":", 1) if ":" in host and not host.endswith("]") else (host, "")
        name = name.strip("[]").lower()
        if "--plain-http" in words:
            wanted = [(name, int(port or 80), None)]
        elif is_loopback(host):  # https probe first, then http (schemes.py)
            wanted = [(name, int(port or 443), None if insecure else tls.PROBE), (name, int(port or 80), None)]
        else:
            wanted = [(name, int(port or 443), None if insecure else tls.VERIFIED)]
        if wanted[0] not in addresses:  # a copy within one registry: its connections, once
            addresses += wanted
    preconnect.start(addresses)
    return True


def _import_operation() -> None:
    """What a transfer runs, imported near the bottom of the stack, httpcore and httpx first (Rule 2d)."""
    import httpcore  # noqa: F401
    import httpx  # noqa: F401

    import explorer.operations.images  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: usage errors become one ``error:`` line too (exit 2)."""
    words = list(sys.argv[1:] if argv is None else argv)
    if _preconnect([w for w in words if w not in _ROOT_FLAGS]):
        _import_operation()
    import typer

    try:
        code = register(argv)(args=argv, prog_name="regexplore", standalone_mode=False)
    except typer.TyperException as exc:
        if isinstance(exc, typer.Abort):
            typer.echo("error: interrupted", err=True)
            sys.exit(130)
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "regexplore"
        typer.echo(f"error: {exc.format_message()}", err=True)
        typer.echo(f"hint: see `{where} --help`", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    finally:
        from explorer.recording import preconnect

        preconnect.discard()
    sys.exit(code if isinstance(code, int) else 0)
