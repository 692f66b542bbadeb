"""Command-line options declared once, and the parsing of the values they carry.

Rule: option types and argument parsing only; no command here. The connection
options reach commands through ``cli/connection.py``'s ``@connection_options``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from explorer.errors import UsageError

# --- shared options, declared once ------------------------------------------------
OutputOpt = Annotated[
    Path | None,
    typer.Option("-o", "--output", help="Trace file to write (default: <verb>-[<registry>-]<repo>-<tag>.trace.json, "
                 "no registry part for Docker Hub)."),
]
UsernameOpt = Annotated[str | None, typer.Option("--username", "-u", help="Registry user name.")]
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password (or token) from standard input.")
]
PasswordOpt = Annotated[
    str | None, typer.Option("--password", help="Password on the command line (insecure: prefer --password-stdin).")
]
PlainHttpOpt = Annotated[
    bool, typer.Option("--plain-http", help="Use http://, no https probe (default: https; loopback registries: https first, then http if they do not speak TLS).")
]
InsecureOpt = Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
RetriesOpt = Annotated[int, typer.Option("--retries", min=0, max=10, help="Retries of transient failures.")]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout", min=1, max=3600, metavar="SECONDS",
        help="A connection silent (or dripping under 1 KiB) for this long fails its request, which is retried.",
    ),
]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, max=32, help="Concurrent blob transfers.")]
TraceArg = typer.Argument(metavar="TRACE", help="A trace file written by `regexplore trace ...`.")
PlatformOpt = Annotated[
    str | None, typer.Option("--platform", help="os/arch[/variant] to pick from an index (default: this host's).")
]
ChunkSizeOpt = Annotated[
    str,
    typer.Option(
        "--chunk-size",
        help="Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size "
        "(e.g. 16MiB, 512KiB, 4096).",
    ),
]
PageSizeOpt = Annotated[
    int | None,
    typer.Option("-n", "--page-size", min=0, help="Entries per page (n=); the registry's default otherwise."),
]
KeepBodiesOpt = Annotated[
    str | None,
    typer.Option("--keep-bodies", metavar="SIZE", help="Keep bodies up to SIZE (e.g. 10MiB) in the trace, blobs "
                 "included, so `export cassette` can replay them (default: text bodies only)."),
]


TextOutputOpt = Annotated[str | None, typer.Option("-o", "--output", help="File to write; '-' for stdout (the default).")]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Title (default: from the trace).")]


def credentials_from_flags(username: str | None, password: str | None, password_stdin: bool) -> Any:
    from explorer.client.credentials import Credentials

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


def _registry_part(registry: str | None) -> str:
    """``127.0.0.1_5000-`` (so pulls of one repository from two registries do not collide); "" for Docker Hub."""
    if not registry or registry == "docker.io":
        return ""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", registry).strip("_") + "-"


def default_output(verb: str, repository: str, tag: str | None, digest: str | None,
                   registry: str | None = None) -> Path:
    label = tag or (digest.replace(":", "-")[:19] if digest else "latest")
    return Path(f"{verb}-{_registry_part(registry)}{repository.replace('/', '_')}-{label}.trace.json")


def image_output(verb: str, image: str, tag: str | None = None) -> Path:
    """The default trace file of a command on ``image`` (``tag``: the new tag of ``trace tag``)."""
    from explorer.protocol import reference

    ref = reference.parse(image)
    return default_output(verb, ref.repository, tag or ref.tag, ref.digest, ref.registry)


def named_output(verb: str, name: str, registry: str | None = None) -> Path:
    return Path(f"{verb}-{_registry_part(registry)}{name.replace('/', '_').replace(':', '_')}.trace.json")


def parse_size(text: str) -> int:
    """``16MiB``, ``512KiB``, ``1M``, ``4096`` → bytes (binary units)."""
    found = re.fullmatch(r"\s*([0-9]{1,15})\s*([KMG]?)(i?B)?\s*", text, re.IGNORECASE)
    if found is None or int(found.group(1)) == 0:
        raise UsageError(f"--chunk-size {text!r} is not a size", "give bytes or a size like 512KiB, 16MiB")
    return int(found.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[found.group(2).upper()]


def body_cap(text: str) -> int:
    try:
        return parse_size(text)
    except UsageError:
        raise UsageError(f"--keep-bodies {text!r} is not a size", "give bytes or a size like 512KiB, 10MiB") from None


def user_pass(value: str, option: str) -> Any:
    from explorer.client.credentials import Credentials

    username, colon, password = value.partition(":")
    if not colon or not username or not password:
        raise UsageError(f"{option} takes USER:PASSWORD", f"e.g. {option} alice:\"$PW\", or use `docker login`")
    return Credentials(username=username, password=password, source=option)
