"""``regexplore trace pull|push|copy``: the operations that move images.

No ``from __future__ import annotations`` here: typer reads these signatures at run time, and
annotations evaluated at import (compiled in the module's bytecode) spare a transfer's start-up
compiling each one from a string (``@connection_options``: ~1.5 ms for the three commands).
"""

from pathlib import Path
from typing import Annotated, Any

import typer

from explorer.cli.base import report, trace_app, traced_command
from explorer.cli.connection import CONNECTION, Connection, connection_options
from explorer.cli.options import (
    body_cap,
    ChunkSizeOpt,
    credentials_from_flags,
    image_output,
    KeepBodiesOpt,
    OutputOpt,
    parse_size,
    PlatformOpt,
    QuietOpt,
    user_pass,
)
from explorer.errors import UsageError
from explorer.printable import printable


@trace_app.command("pull")
@connection_options(jobs=True)
def trace_pull(
    image: Annotated[
        str, typer.Argument(metavar="IMAGE", help="Image reference, e.g. 127.0.0.1:5000/library/alpine:3.20.")
    ],
    output: OutputOpt = None,
    platform: PlatformOpt = None,
    oci_layout: Annotated[
        Path | None, typer.Option("--oci-layout", help="Also write the image as an OCI image layout here.")
    ] = None,
    connection: Connection = CONNECTION,
    quiet: QuietOpt = False,
    keep_bodies: KeepBodiesOpt = None,
) -> None:
    """Pull an image for real and record every exchange.

    Example: regexplore trace pull 127.0.0.1:5000/library/alpine:3.20 -o pull.trace.json
    """
    from explorer import operations

    cap = body_cap(keep_bodies) if keep_bodies is not None else None
    pulled = traced_command(operations.pull, image, platform=platform, layout=oci_layout, keep_bodies=cap,
                            trace_file=output or image_output("pull", image),
                            connection=connection, quiet=quiet, progress=True)
    for warning in pulled.warnings:
        typer.echo(printable(f"warning: {warning}"), err=True)
    picked = f" ({pulled.platform})" if pulled.platform else ""
    lines = [f"pulled {pulled.reference}{picked}: manifest {pulled.digest}, {pulled.layers} layers verified"]
    report(pulled, lines + ([f"OCI layout: {oci_layout}"] if oci_layout else []), quiet)


def side_credentials(side: str, username: str | None, password_stdin: bool, creds: str | None) -> Any:
    """One side's credentials for ``trace copy``: ``--SIDE-username`` + ``--SIDE-password-stdin``, or ``--SIDE-creds``."""
    if creds is not None:
        if username is not None or password_stdin:
            raise UsageError(f"--{side}-creds and --{side}-username exclude each other",
                             f"use --{side}-username with --{side}-password-stdin")
        typer.echo(f"warning: --{side}-creds puts the password on the command line, visible to other local users; "
                   f"use --{side}-username with --{side}-password-stdin, or docker login", err=True)
        return user_pass(creds, f"--{side}-creds")
    if password_stdin and username is None:
        raise UsageError(f"--{side}-password-stdin needs --{side}-username", f"add --{side}-username USER")
    if username is not None and not password_stdin:
        raise UsageError(f"--{side}-username needs a password",
                         f"add --{side}-password-stdin and pipe the password in")
    return credentials_from_flags(username, None, password_stdin) if username is not None else None


@trace_app.command("push")
@connection_options(jobs=True)
def trace_push(
    source: Annotated[
        str, typer.Argument(metavar="SOURCE", help="OCI image layout DIR[:TAG]; with --sample, the destination.")
    ],
    dest: Annotated[
        str | None, typer.Argument(metavar="DEST", help="Where to push, e.g. 127.0.0.1:5000/team/app:1.0.")
    ] = None,
    output: OutputOpt = None,
    sample: Annotated[bool, typer.Option("--sample", help="Push a small generated image instead of a layout.")] = False,
    sample_platforms: Annotated[
        str | None,
        typer.Option("--sample-platforms", help="With --sample: comma-separated platforms; two or more make an index."),
    ] = None,
    chunk_size: ChunkSizeOpt = "256MiB",
    mount_from: Annotated[
        str | None,
        typer.Option("--mount-from", help="Repository of the same registry to mount blobs from (POST ?mount=&from=)."),
    ] = None,
    connection: Connection = CONNECTION,
    quiet: QuietOpt = False,
) -> None:
    """Push an image for real and record every exchange: HEAD-then-skip, mounts, uploads, manifests.

    SOURCE is an OCI image layout (DIR or DIR:TAG, as `skopeo copy ... oci:DIR:TAG`
    writes it); everything in it is checked before the first request.

    Example: regexplore trace push ./app-layout:1.0 127.0.0.1:5000/team/app:1.0

    Example: regexplore trace push --sample --sample-platforms linux/amd64,linux/arm64 127.0.0.1:5000/demo/hello:1
    """
    from explorer import operations

    if sample and dest is not None:
        raise UsageError("--sample takes only DEST", "regexplore trace push --sample HOST/REPO:TAG")
    if not sample and dest is None:
        raise UsageError("push needs SOURCE and DEST",
                         "give an OCI layout DIR[:TAG] and a destination, or --sample DEST")
    if sample_platforms and not sample:
        raise UsageError("--sample-platforms needs --sample")
    target = source if sample else dest
    assert target is not None
    chunk = parse_size(chunk_size)
    image: Any = source
    if sample:
        names = sample_platforms.split(",") if sample_platforms else []
        image = operations.build_sample([name.strip() for name in names])
    pushed = traced_command(operations.push, image, target, chunk_size=chunk, mount_from=mount_from,
                            trace_file=output or image_output("push", target),
                            connection=connection, quiet=quiet, progress=True)
    report(pushed, [f"pushed {pushed.reference}: {pushed.counts()}",
                    *(f"referrers fallback tag updated: {tag}" for tag in pushed.referrers_tags)], quiet)


@trace_app.command("copy")
@connection_options(credentials=False, jobs=True)
def trace_copy(
    src: Annotated[str, typer.Argument(metavar="SRC", help="Image to copy, e.g. 127.0.0.1:5000/team/app:1.0.")],
    dest: Annotated[str, typer.Argument(metavar="DEST", help="Where to put it, e.g. 127.0.0.1:6000/mirror/app:1.0.")],
    output: OutputOpt = None,
    platform: PlatformOpt = None,
    all_platforms: Annotated[
        bool, typer.Option("--all-platforms", help="Copy every platform of an index, and the index itself.")
    ] = False,
    chunk_size: ChunkSizeOpt = "256MiB",
    src_username: Annotated[
        str | None, typer.Option("--src-username", help="User name for the source (default: the Docker config).")
    ] = None,
    src_password_stdin: Annotated[
        bool, typer.Option("--src-password-stdin", help="Read the source's password from standard input.")
    ] = False,
    dest_username: Annotated[
        str | None, typer.Option("--dest-username", help="User name for the destination (default: the Docker config).")
    ] = None,
    dest_password_stdin: Annotated[
        bool, typer.Option("--dest-password-stdin", help="Read the destination's password from standard input.")
    ] = False,
    src_creds: Annotated[
        str | None, typer.Option("--src-creds", help="USER:PASSWORD for the source (insecure: on the command line).")
    ] = None,
    dest_creds: Annotated[
        str | None, typer.Option("--dest-creds", help="USER:PASSWORD for the destination (insecure: on the command line).")
    ] = None,
    connection: Connection = CONNECTION,
    quiet: QuietOpt = False,
) -> None:
    """Copy an image between repositories or registries (pull-tag-push), blobs streamed, never on disk.

    Within one registry, blobs are mounted from the source repository. Credentials
    per registry: the Docker config (`docker login`) for each side, or
    --src-username/--dest-username with --src-password-stdin or --dest-password-stdin
    (one side at a time: standard input holds one password). --src-creds/--dest-creds
    USER:PASSWORD, as in skopeo, still work but show the password to other local users.

    Example: echo "$PW" | regexplore trace copy 127.0.0.1:5000/team/app:1.0 127.0.0.1:6000/mirror/app:1.0 --dest-username alice --dest-password-stdin
    """
    from explorer import operations

    if src_password_stdin and dest_password_stdin:
        raise UsageError("--src-password-stdin and --dest-password-stdin exclude each other: standard input "
                         "holds one password", "`docker login` to the other registry: its Docker config is read")
    src_login = side_credentials("src", src_username, src_password_stdin, src_creds)
    dest_login = side_credentials("dest", dest_username, dest_password_stdin, dest_creds)
    copied = traced_command(operations.copy, src, dest, platform=platform, all_platforms=all_platforms,
                            chunk_size=parse_size(chunk_size), source_credentials=src_login,
                            destination_credentials=dest_login, trace_file=output or image_output("copy", dest),
                            connection=connection, quiet=quiet, progress=True)
    picked = f" ({copied.platform})" if copied.platform else ""
    report(copied, [f"copied {copied.source}{picked} to {copied.reference}: {copied.counts('copied')}"], quiet)
