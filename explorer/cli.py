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
        debug_log=_state["debug"],
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
    keep_bodies: KeepBodiesOpt = None,
) -> None:
    """Pull an image for real and record every exchange.

    Example: regexplore trace pull 127.0.0.1:5000/library/alpine:3.20 -o pull.trace.json
    """

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.protocol import mediatypes, reference

        ref = reference.parse(image)
        wanted = mediatypes.parse_platform(platform) if platform else _host_platform()
        options = _client_options(username, password, password_stdin, plain_http, insecure, retries)
        if keep_bodies is not None:
            options.binary_cap = _body_cap(keep_bodies)
            options.text_cap = max(options.text_cap, options.binary_cap)
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


def _body_cap(text: str) -> int:
    try:
        return _parse_size(text)
    except UsageError:
        raise UsageError(f"--keep-bodies {text!r} is not a size", "give bytes or a size like 512KiB, 10MiB") from None


def _host_platform() -> Any:
    import platform as host

    from explorer.protocol import mediatypes

    return mediatypes.host_platform(host.system(), host.machine())


# --- push, copy and the rest of the registry API --------------------------------------
def _parse_size(text: str) -> int:
    """``16MiB``, ``512KiB``, ``1M``, ``4096`` → bytes (binary units)."""
    import re

    found = re.fullmatch(r"\s*([0-9]{1,15})\s*([KMG]?)(i?B)?\s*", text, re.IGNORECASE)
    if found is None or int(found.group(1)) == 0:
        raise UsageError(f"--chunk-size {text!r} is not a size", "give bytes or a size like 512KiB, 16MiB")
    return int(found.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[found.group(2).upper()]


def _user_pass(value: str, option: str) -> Any:
    from explorer.credentials import Credentials

    username, colon, password = value.partition(":")
    if not colon or not username or not password:
        raise UsageError(f"{option} takes USER:PASSWORD", f"e.g. {option} alice:\"$PW\", or use `docker login`")
    return Credentials(username=username, password=password, source=option)


def _named_output(verb: str, name: str) -> Path:
    return Path(f"{verb}-{name.replace('/', '_').replace(':', '_')}.trace.json")


@trace_app.command("push")
@_handle_errors
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
        ref = reference.parse(source if sample else dest)  # type: ignore[arg-type]
        chunk = _parse_size(chunk_size)
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
        options = _client_options(username, password, password_stdin, plain_http, insecure, retries)
        default = _default_output("push", ref.repository, ref.tag, ref.digest)
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

    _run_traced("push", dest or source, output, quiet, prepare, operate)


@trace_app.command("copy")
@_handle_errors
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
        from explorer.protocol import mediatypes, reference

        source, target = reference.parse(src), reference.parse(dest)
        if platform and all_platforms:
            raise UsageError("--platform and --all-platforms exclude each other")
        wanted = mediatypes.parse_platform(platform) if platform else _host_platform()
        per_host = {}
        if src_creds is not None:
            per_host[source.api_host] = _user_pass(src_creds, "--src-creds")
        if dest_creds is not None:
            if source.api_host == target.api_host and src_creds is not None and src_creds != dest_creds:
                raise UsageError("a copy within one registry uses one identity", "give only --dest-creds")
            per_host[target.api_host] = _user_pass(dest_creds, "--dest-creds")
        options = _client_options(None, None, False, plain_http, insecure, retries)
        options.host_credentials = per_host
        default = _default_output("copy", target.repository, target.tag, target.digest)
        return f"{source} -> {target}", default, options, (source, target, wanted, _parse_size(chunk_size))

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

    _run_traced("copy", f"{src} {dest}", output, quiet, prepare, operate)


@trace_app.command("tags")
@_handle_errors
def trace_tags(
    repository: Annotated[str, typer.Argument(metavar="REPO", help="Repository, e.g. 127.0.0.1:5000/team/app.")],
    page_size: PageSizeOpt = None,
    output: OutputOpt = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    retries: RetriesOpt = 3,
    quiet: QuietOpt = False,
) -> None:
    """List a repository's tags, following the Link header page by page; prints one tag per line.

    Example: regexplore trace tags 127.0.0.1:5000/team/app -n 2
    """

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.protocol import reference

        ref = reference.parse_repository(repository)
        options = _client_options(username, password, password_stdin, plain_http, insecure, retries)
        return f"{ref.registry}/{ref.repository}", _named_output("tags", ref.repository), options, ref

    def operate(session: Any, ref: Any, progress: Any) -> list[str]:
        from explorer.flows.listing import list_tags

        listing = list_tags(session.client(ref.api_host), ref.repository, page_size=page_size, context=str(ref))
        return [*listing.items, f"{len(listing.items)} tags in {listing.pages} pages"]

    _run_traced("tags", repository, output, quiet, prepare, operate)


@trace_app.command("catalog")
@_handle_errors
def trace_catalog(
    registry: Annotated[str, typer.Argument(metavar="REGISTRY", help="Registry host[:port], e.g. 127.0.0.1:5000.")],
    page_size: PageSizeOpt = None,
    output: OutputOpt = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    retries: RetriesOpt = 3,
    quiet: QuietOpt = False,
) -> None:
    """List the registry's repositories (/v2/_catalog, scope registry:catalog:*), following Link headers.

    Example: regexplore trace catalog 127.0.0.1:5000 -n 100
    """

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.protocol import reference

        host = reference.parse_registry(registry)
        api_host = reference.DOCKER_HUB_API_HOST if host == reference.DOCKER_HUB else host
        options = _client_options(username, password, password_stdin, plain_http, insecure, retries)
        return host, _named_output("catalog", host), options, api_host

    def operate(session: Any, api_host: Any, progress: Any) -> list[str]:
        from explorer.flows.listing import list_repositories

        listing = list_repositories(session.client(api_host), page_size=page_size)
        return [*listing.items, f"{len(listing.items)} repositories in {listing.pages} pages"]

    _run_traced("catalog", registry, output, quiet, prepare, operate)


def _image_prepare(
    verb: str, image: str, credentials: tuple[Any, ...], *, new_tag: str | None = None, need_digest: bool = False
) -> Callable[[], tuple[str, Path, Any, Any]]:
    """``prepare`` of the commands that take one IMAGE reference (``tag`` also a NEWTAG)."""

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.protocol import reference

        ref = reference.parse(image)
        if new_tag is not None:
            reference.validate_tag(new_tag)
        if need_digest and ref.digest is None:
            raise UsageError(
                f"{image} names no digest; {verb} takes IMAGE@sha256:…",
                f"find the digest with `regexplore trace manifest {image}`",
            )
        options = _client_options(*credentials)
        tag = new_tag if new_tag is not None else ref.tag
        return str(ref), _default_output(verb, ref.repository, tag, ref.digest), options, ref

    return prepare


@trace_app.command("manifest")
@_handle_errors
def trace_manifest(
    image: Annotated[str, typer.Argument(metavar="IMAGE", help="Image reference (tag or @digest).")],
    output: OutputOpt = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    retries: RetriesOpt = 3,
    quiet: QuietOpt = False,
) -> None:
    """HEAD and GET a manifest; prints the manifest exactly as served, then its digest.

    Example: regexplore trace manifest 127.0.0.1:5000/team/app:1.0
    """

    def operate(session: Any, ref: Any, progress: Any) -> list[str]:
        from explorer.flows.manifest import inspect_manifest

        found = inspect_manifest(session.client(ref.api_host), ref)
        text = found.manifest.data.decode("utf-8", errors="replace")
        return [text, f"digest: {found.manifest.digest} ({found.media_type}, {len(found.manifest.data)} bytes)"]

    credentials = (username, password, password_stdin, plain_http, insecure, retries)
    _run_traced("manifest", image, output, quiet, _image_prepare("manifest", image, credentials), operate)


@trace_app.command("tag")
@_handle_errors
def trace_tag(
    image: Annotated[str, typer.Argument(metavar="IMAGE", help="Existing image (tag or @digest).")],
    new_tag: Annotated[str, typer.Argument(metavar="NEWTAG", help="The additional tag, in the same repository.")],
    output: OutputOpt = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    retries: RetriesOpt = 3,
    quiet: QuietOpt = False,
) -> None:
    """Tag an existing image again without moving blobs: GET its manifest, PUT the same bytes under NEWTAG.

    Example: regexplore trace tag 127.0.0.1:5000/team/app:1.0 1.0-stable
    """
    def operate(session: Any, ref: Any, progress: Any) -> list[str]:
        from explorer.flows.tag import retag

        done = retag(session.client(ref.api_host), ref, new_tag)
        note = "" if done.pushed else " (it already was)"
        return [f"tagged {done.source} as {done.dest}{note}: manifest {done.digest}"]

    credentials = (username, password, password_stdin, plain_http, insecure, retries)
    prepare = _image_prepare("tag", image, credentials, new_tag=new_tag)
    _run_traced("tag", image, output, quiet, prepare, operate)


@trace_app.command("delete")
@_handle_errors
def trace_delete(
    image: Annotated[str, typer.Argument(metavar="IMAGE@DIGEST", help="The manifest to delete, by digest.")],
    output: OutputOpt = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    retries: RetriesOpt = 3,
    quiet: QuietOpt = False,
) -> None:
    """Delete a manifest by digest (every tag naming it goes too); registries may refuse (405).

    Example: regexplore trace delete 127.0.0.1:5000/team/app@sha256:4a3c…
    """
    credentials = (username, password, password_stdin, plain_http, insecure, retries)
    prepare = _image_prepare("delete", image, credentials, need_digest=True)

    def operate(session: Any, ref: Any, progress: Any) -> list[str]:
        from explorer.flows.delete import delete_manifest

        delete_manifest(session.client(ref.api_host), ref)
        return [f"deleted {ref}"]

    _run_traced("delete", image, output, quiet, prepare, operate)


@trace_app.command("referrers")
@_handle_errors
def trace_referrers(
    image: Annotated[str, typer.Argument(metavar="IMAGE@DIGEST", help="The subject manifest, by digest.")],
    artifact_type: Annotated[
        str | None, typer.Option("--artifact-type", help="Only referrers of this artifactType.")
    ] = None,
    output: OutputOpt = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    retries: RetriesOpt = 3,
    quiet: QuietOpt = False,
) -> None:
    """List the manifests whose subject is IMAGE@DIGEST (OCI 1.1 referrers API, else the sha256-<hex> tag).

    Example: regexplore trace referrers 127.0.0.1:5000/team/app@sha256:4a3c… --artifact-type application/spdx+json
    """
    credentials = (username, password, password_stdin, plain_http, insecure, retries)
    prepare = _image_prepare("referrers", image, credentials, need_digest=True)

    def operate(session: Any, ref: Any, progress: Any) -> list[str]:
        from explorer.flows.referrers import list_referrers

        found = list_referrers(
            session.client(ref.api_host), ref.repository, ref.digest, context=str(ref), artifact_type=artifact_type
        )
        lines = [f"{r.get('digest')} {r.get('artifactType', '-')}" for r in found.referrers]
        return [*lines, f"{len(found.referrers)} referrers of {ref.digest} (via {found.via})"]

    _run_traced("referrers", image, output, quiet, prepare, operate)


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
        str, typer.Argument(metavar="FORMAT", help="swimlanes, mermaid, plantuml, svg, html or markdown.")
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
@app.command("demo")
@_handle_errors
def demo(
    outdir: Annotated[
        Path, typer.Argument(metavar="[OUTDIR]", help="Where to write traces, renders and exports.")
    ] = Path("regexplore-demo"),
    quiet: QuietOpt = False,
) -> None:
    """Trace push, push again, pull, copy and tags on the built-in registry, offline, and render everything.

    Example: regexplore demo ./regexplore-demo && open ./regexplore-demo/index.html
    """
    from explorer.console import make_progress
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


# --- exports, imports and teaching pages ------------------------------------------------
TextOutputOpt = Annotated[str | None, typer.Option("-o", "--output", help="File to write; '-' for stdout (the default).")]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Title (default: from the trace).")]


@app.command("export")
@_handle_errors
def export(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="postman, har, curl, python or cassette.")],
    trace_file: Annotated[
        Path | None, typer.Argument(metavar="[TRACE]", help="A trace file (none with --all-endpoints).")
    ] = None,
    output: TextOutputOpt = None,
    all_endpoints: Annotated[
        bool, typer.Option("--all-endpoints", help="postman: every registry endpoint as a runnable tour, no trace.")
    ] = False,
    title: TitleOpt = None,
) -> None:
    """Turn a trace into what other tools run: a Postman collection, a HAR file, a curl or Python script
    that does the same requests again, or a vcrpy cassette.

    Example: regexplore export postman pull.trace.json -o pull.postman_collection.json
    """
    from explorer import render
    from explorer.errors import UnknownFormat
    from explorer.trace import load

    renderer = render.get(fmt) if fmt in render.names() else None
    if renderer is None or not getattr(renderer, "export", False):
        exports = [n for n in render.names() if getattr(render.get(n), "export", False)]
        raise UnknownFormat(f"unknown export format {fmt!r}; choose from: {', '.join(exports)}",
                            "diagrams and Markdown come from `regexplore render FORMAT TRACE`")
    options = render.RenderOptions(title=title)
    if all_endpoints:
        if fmt != "postman" or trace_file is not None:
            raise UsageError("--all-endpoints belongs to `export postman` and takes no TRACE",
                             "regexplore export postman --all-endpoints -o api.json")
        text = renderer.all_endpoints(options)  # type: ignore[attr-defined]
    else:
        if trace_file is None:
            raise UsageError(f"export {fmt} needs a TRACE", f"regexplore export {fmt} pull.trace.json")
        trace = load(trace_file)
        for warning in getattr(renderer, "warnings", lambda _trace: [])(trace):
            typer.echo(f"warning: {warning}", err=True)
        text = renderer.render(trace, options)
    written = render.write_output(text, output or "-")
    if written is not None:
        if getattr(renderer, "executable", False):
            written.chmod(written.stat().st_mode | 0o111)
        typer.echo(f"wrote {fmt} to {written}", err=True)


@app.command("import")
@_handle_errors
def import_capture(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="har or cassette.")],
    source: Annotated[
        Path, typer.Argument(metavar="FILE", help="A HAR file (mitmproxy, a browser, regexplore) or a vcrpy cassette.")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Trace file to write (default: FILE.trace.json).")
    ] = None,
    keep_bodies: KeepBodiesOpt = None,
) -> None:
    """Read a HAR file or a vcrpy cassette as a trace, redacted as a recording would be, to render or export.

    Example: regexplore import har docker-pull.har -o docker-pull.trace.json
    """
    from explorer import importers
    from explorer.trace import save

    trace = importers.load(fmt, source, binary_cap=_body_cap(keep_bodies) if keep_bodies is not None else 0)
    written = save(trace, output or importers.default_output(source))
    typer.echo(f"imported {len(trace.exchanges)} exchanges from {source}")
    typer.echo(f"trace: {written}")


@app.command("explain")
@_handle_errors
def explain(
    trace_file: Annotated[Path, TraceArg],
    output: TextOutputOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Explain every exchange instead of one of each repetition.")] = False,
    title: TitleOpt = None,
) -> None:
    """Explain a trace step by step as Markdown a newcomer learns from (the same as `render markdown`).

    Example: regexplore explain pull.trace.json -o pull.md
    """
    from explorer import render
    from explorer.trace import load

    text = render.get("markdown").render(load(trace_file), render.RenderOptions(full=full, title=title))
    written = render.write_output(text, output or "-")
    if written is not None:
        typer.echo(f"wrote markdown to {written}", err=True)


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
