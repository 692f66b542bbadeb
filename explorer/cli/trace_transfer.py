"""``regexplore trace pull|push|copy``: the operations that move images."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from explorer.cli.base import client_options, handle_errors, run_traced, trace_app
from explorer.cli.options import (
    credentials_from_flags,
    parse_image,
    body_cap,
    ChunkSizeOpt,
    default_output,
    host_platform,
    InsecureOpt,
    JobsOpt,
    KeepBodiesOpt,
    OutputOpt,
    parse_size,
    PasswordOpt,
    PasswordStdinOpt,
    PlainHttpOpt,
    PlatformOpt,
    QuietOpt,
    RetriesOpt,
    TimeoutOpt,
    user_pass,
    UsernameOpt,
)
from explorer.errors import UsageError
from explorer.printable import printable


@trace_app.command("pull")
@handle_errors
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
    timeout: TimeoutOpt = 30.0,
    quiet: QuietOpt = False,
    keep_bodies: KeepBodiesOpt = None,
) -> None:
    """Pull an image for real and record every exchange.

    Example: regexplore trace pull 127.0.0.1:5000/library/alpine:3.20 -o pull.trace.json
    """

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.protocol import mediatypes

        ref = parse_image(image)
        wanted = mediatypes.parse_platform(platform) if platform else host_platform()
        if oci_layout is not None:
            from explorer.ocilayout import OciLayoutWriter

            OciLayoutWriter.check_target(oci_layout)  # a bad --oci-layout is refused before any request
        options = client_options(username, password, password_stdin, plain_http, insecure, retries, timeout)
        if keep_bodies is not None:
            options.binary_cap = body_cap(keep_bodies)
            options.text_cap = max(options.text_cap, options.binary_cap)
        return str(ref), default_output("pull", ref.repository, ref.tag, ref.digest, ref.registry), options, (ref, wanted)

    def operate(session: Any, parsed: Any, progress: Any) -> list[str]:
        from explorer.flows.pull import pull

        ref, wanted = parsed
        client = session.client(ref.api_host)
        result = pull(client, ref, platform=wanted, layout=oci_layout, progress=progress, jobs=jobs)
        _warn_platform(ref, platform, wanted, result.image_platform)
        picked = f" ({result.platform})" if result.platform else ""
        lines = [f"pulled {ref}{picked}: manifest {result.manifest_digest}, {len(result.layers)} layers verified"]
        if oci_layout:
            lines.append(f"OCI layout: {oci_layout}")
        return lines

    run_traced("pull", output, quiet, prepare, operate)


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


def _warn_platform(ref: Any, asked: str | None, wanted: Any, declared: Any) -> None:
    """docker's warning when --platform names a platform a single-platform image is not built for."""
    from explorer.protocol import mediatypes

    if asked and declared is not None and not mediatypes.runs_on(declared, wanted):
        typer.echo(printable(f"warning: image {ref} was found but its platform ({declared}) does not match the "
                             f"specified platform ({wanted})"), err=True)


@trace_app.command("push")
@handle_errors
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
    chunk_size: ChunkSizeOpt = "16MiB",
    mount_from: Annotated[
        str | None,
        typer.Option("--mount-from", help="Repository of the same registry to mount blobs from (POST ?mount=&from=)."),
    ] = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    jobs: JobsOpt = 4,
    retries: RetriesOpt = 3,
    timeout: TimeoutOpt = 30.0,
    quiet: QuietOpt = False,
) -> None:
    """Push an image for real and record every exchange: HEAD-then-skip, mounts, uploads, manifests.

    SOURCE is an OCI image layout (DIR or DIR:TAG, as `skopeo copy ... oci:DIR:TAG`
    writes it); everything in it is checked before the first request.

    Example: regexplore trace push ./app-layout:1.0 127.0.0.1:5000/team/app:1.0

    Example: regexplore trace push --sample --sample-platforms linux/amd64,linux/arm64 127.0.0.1:5000/demo/hello:1
    """

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.flows.images import LayoutImage, SampleSource, plan_push
        from explorer.ocilayout import OciLayout, parse_layout_source
        from explorer.protocol import mediatypes, reference

        if sample and dest is not None:
            raise UsageError("--sample takes only DEST", "regexplore trace push --sample HOST/REPO:TAG")
        if not sample and dest is None:
            raise UsageError(
                "push needs SOURCE and DEST", "give an OCI layout DIR[:TAG] and a destination, or --sample DEST"
            )
        if sample_platforms and not sample:
            raise UsageError("--sample-platforms needs --sample")
        ref = parse_image(source if sample else dest)  # type: ignore[arg-type]
        chunk = parse_size(chunk_size)
        if mount_from is not None:
            reference.validate_repository(mount_from)
        if sample:
            from explorer.sample import build_sample

            names = sample_platforms.split(",") if sample_platforms else []
            image = SampleSource(build_sample([mediatypes.parse_platform(name.strip()) for name in names] or None))
            plans = plan_push(image, ref.reference)
        else:
            directory, tag = parse_layout_source(source)
            image = LayoutImage(OciLayout(directory), tag)
            plans = image.plan(ref.reference)
        if ref.digest is not None and ref.digest != plans[-1].digest:
            raise UsageError(f"{ref} names digest {ref.digest}, but the image is {plans[-1].digest}", "push by tag")
        options = client_options(username, password, password_stdin, plain_http, insecure, retries, timeout)
        default = default_output("push", ref.repository, ref.tag, ref.digest, ref.registry)
        return str(ref), default, options, (ref, image, plans, chunk)

    def operate(session: Any, parsed: Any, progress: Any) -> list[str]:
        from explorer.flows.push import push_plans

        ref, image, plans, chunk = parsed
        client = session.client(ref.api_host)
        result = push_plans(
            client, ref, image, plans, chunk_size=chunk, mount_from=mount_from, jobs=jobs, progress=progress
        )
        lines = [f"pushed {ref}: {result.summary()}"]
        lines += [f"referrers fallback tag updated: {tag}" for tag in result.referrers_tags]
        return lines

    run_traced("push", output, quiet, prepare, operate)


@trace_app.command("copy")
@handle_errors
def trace_copy(
    src: Annotated[str, typer.Argument(metavar="SRC", help="Image to copy, e.g. 127.0.0.1:5000/team/app:1.0.")],
    dest: Annotated[str, typer.Argument(metavar="DEST", help="Where to put it, e.g. 127.0.0.1:6000/mirror/app:1.0.")],
    output: OutputOpt = None,
    platform: PlatformOpt = None,
    all_platforms: Annotated[
        bool, typer.Option("--all-platforms", help="Copy every platform of an index, and the index itself.")
    ] = False,
    chunk_size: ChunkSizeOpt = "16MiB",
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
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    jobs: JobsOpt = 4,
    retries: RetriesOpt = 3,
    timeout: TimeoutOpt = 30.0,
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

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.protocol import mediatypes

        source, target = parse_image(src), parse_image(dest)
        if platform and all_platforms:
            raise UsageError("--platform and --all-platforms exclude each other")
        wanted = mediatypes.parse_platform(platform) if platform else host_platform()
        if src_password_stdin and dest_password_stdin:
            raise UsageError("--src-password-stdin and --dest-password-stdin exclude each other: standard input "
                             "holds one password", "`docker login` to the other registry: its Docker config is read")
        src_login = side_credentials("src", src_username, src_password_stdin, src_creds)
        dest_login = side_credentials("dest", dest_username, dest_password_stdin, dest_creds)
        per_host = {}
        if src_login is not None:
            per_host[source.api_host] = src_login
        if dest_login is not None:
            if source.api_host == target.api_host and src_login is not None and \
                    (src_login.username, src_login.password) != (dest_login.username, dest_login.password):
                raise UsageError("a copy within one registry uses one identity", "give only the --dest-… credentials")
            per_host[target.api_host] = dest_login
        options = client_options(None, None, False, plain_http, insecure, retries, timeout)
        options.host_credentials = per_host
        default = default_output("copy", target.repository, target.tag, target.digest, target.registry)
        return f"{source} -> {target}", default, options, (source, target, wanted, parse_size(chunk_size))

    def operate(session: Any, parsed: Any, progress: Any) -> list[str]:
        from explorer.flows.copy import copy_image

        source, target, wanted, chunk = parsed
        source_client = session.client(source.api_host)
        dest_client = source_client if target.api_host == source.api_host else session.client(target.api_host)
        result = copy_image(
            source_client, source, dest_client, target, platform=wanted, all_platforms=all_platforms,
            chunk_size=chunk, jobs=jobs, progress=progress,
        )
        picked = f" ({result.platform})" if result.platform else ""
        return [f"copied {source}{picked} to {target}: {result.push.summary('copied')}"]

    run_traced("copy", output, quiet, prepare, operate)
