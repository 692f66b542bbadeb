"""``regexplore trace pull|push|copy``: the operations that move images."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from explorer.cli.base import client_options, handle_errors, run_traced, trace_app
from explorer.cli.options import (
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
        options = client_options(username, password, password_stdin, plain_http, insecure, retries, timeout)
        if keep_bodies is not None:
            options.binary_cap = body_cap(keep_bodies)
            options.text_cap = max(options.text_cap, options.binary_cap)
        return str(ref), default_output("pull", ref.repository, ref.tag, ref.digest), options, (ref, wanted)

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

    run_traced("pull", image, output, quiet, prepare, operate)


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
        default = default_output("push", ref.repository, ref.tag, ref.digest)
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

    run_traced("push", dest or source, output, quiet, prepare, operate)


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
    src_creds: Annotated[
        str | None, typer.Option("--src-creds", help="USER:PASSWORD for the source (default: the Docker config).")
    ] = None,
    dest_creds: Annotated[
        str | None, typer.Option("--dest-creds", help="USER:PASSWORD for the destination (default: the Docker config).")
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
    as in skopeo: --src-creds/--dest-creds USER:PASSWORD (hidden in the trace, but
    visible to other local users in the process list: prefer `docker login`, whose
    Docker config is read for each side otherwise).

    Example: regexplore trace copy 127.0.0.1:5000/team/app:1.0 127.0.0.1:6000/mirror/app:1.0 --dest-creds alice:"$PW"
    """

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.protocol import mediatypes

        source, target = parse_image(src), parse_image(dest)
        if platform and all_platforms:
            raise UsageError("--platform and --all-platforms exclude each other")
        wanted = mediatypes.parse_platform(platform) if platform else host_platform()
        per_host = {}
        if src_creds is not None:
            per_host[source.api_host] = user_pass(src_creds, "--src-creds")
        if dest_creds is not None:
            if source.api_host == target.api_host and src_creds is not None and src_creds != dest_creds:
                raise UsageError("a copy within one registry uses one identity", "give only --dest-creds")
            per_host[target.api_host] = user_pass(dest_creds, "--dest-creds")
        options = client_options(None, None, False, plain_http, insecure, retries, timeout)
        options.host_credentials = per_host
        default = default_output("copy", target.repository, target.tag, target.digest)
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

    run_traced("copy", f"{src} {dest}", output, quiet, prepare, operate)
