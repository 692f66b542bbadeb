"""``regexplore trace tags|catalog|manifest|tag|delete|referrers``: the rest of the registry API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from explorer.cli.base import client_options, handle_errors, run_traced, trace_app
from explorer.cli.options import (
    parse_image,
    default_output,
    InsecureOpt,
    named_output,
    OutputOpt,
    PageSizeOpt,
    PasswordOpt,
    PasswordStdinOpt,
    PlainHttpOpt,
    QuietOpt,
    RetriesOpt,
    TimeoutOpt,
    UsernameOpt,
)
from explorer.errors import UsageError


@trace_app.command("tags")
@handle_errors
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
    timeout: TimeoutOpt = 30.0,
    quiet: QuietOpt = False,
) -> None:
    """List a repository's tags, following the Link header page by page; prints one tag per line.

    Example: regexplore trace tags 127.0.0.1:5000/team/app -n 2
    """

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.protocol import reference

        ref = reference.parse_repository(repository)
        options = client_options(username, password, password_stdin, plain_http, insecure, retries, timeout)
        return f"{ref.registry}/{ref.repository}", named_output("tags", ref.repository, ref.registry), options, ref

    def operate(session: Any, ref: Any, progress: Any) -> list[str]:
        from explorer.flows.listing import list_tags

        listing = list_tags(session.client(ref.api_host), ref.repository, page_size=page_size, context=str(ref))
        return [*listing.items, f"{len(listing.items)} tags in {listing.pages} pages"]

    run_traced("tags", output, quiet, prepare, operate)


@trace_app.command("catalog")
@handle_errors
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
    timeout: TimeoutOpt = 30.0,
    quiet: QuietOpt = False,
) -> None:
    """List the registry's repositories (/v2/_catalog, scope registry:catalog:*), following Link headers.

    Example: regexplore trace catalog 127.0.0.1:5000 -n 100
    """

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.protocol import reference

        host = reference.parse_registry(registry)
        api_host = reference.DOCKER_HUB_API_HOST if host == reference.DOCKER_HUB else host
        options = client_options(username, password, password_stdin, plain_http, insecure, retries, timeout)
        return host, named_output("catalog", host), options, api_host

    def operate(session: Any, api_host: Any, progress: Any) -> list[str]:
        from explorer.flows.listing import list_repositories

        listing = list_repositories(session.client(api_host), page_size=page_size)
        return [*listing.items, f"{len(listing.items)} repositories in {listing.pages} pages"]

    run_traced("catalog", output, quiet, prepare, operate)


def image_prepare(
    verb: str, image: str, credentials: tuple[Any, ...], *, new_tag: str | None = None, need_digest: bool = False
) -> Callable[[], tuple[str, Path, Any, Any]]:
    """``prepare`` of the commands that take one IMAGE reference (``tag`` also a NEWTAG)."""

    def prepare() -> tuple[str, Path, Any, Any]:
        from explorer.protocol import reference

        ref = parse_image(image)
        if new_tag is not None:
            reference.validate_tag(new_tag)
        if need_digest and ref.digest is None:
            raise UsageError(
                f"{image} names no digest; {verb} takes IMAGE@sha256:…",
                f"find the digest with `regexplore trace manifest {image}`",
            )
        options = client_options(*credentials)
        tag = new_tag if new_tag is not None else ref.tag
        return str(ref), default_output(verb, ref.repository, tag, ref.digest, ref.registry), options, ref

    return prepare


@trace_app.command("manifest")
@handle_errors
def trace_manifest(
    image: Annotated[str, typer.Argument(metavar="IMAGE", help="Image reference (tag or @digest).")],
    output: OutputOpt = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    retries: RetriesOpt = 3,
    timeout: TimeoutOpt = 30.0,
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

    credentials = (username, password, password_stdin, plain_http, insecure, retries, timeout)
    run_traced("manifest", output, quiet, image_prepare("manifest", image, credentials), operate)


@trace_app.command("tag")
@handle_errors
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
    timeout: TimeoutOpt = 30.0,
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

    credentials = (username, password, password_stdin, plain_http, insecure, retries, timeout)
    prepare = image_prepare("tag", image, credentials, new_tag=new_tag)
    run_traced("tag", output, quiet, prepare, operate)


@trace_app.command("delete")
@handle_errors
def trace_delete(
    image: Annotated[str, typer.Argument(metavar="IMAGE@DIGEST", help="The manifest to delete, by digest.")],
    output: OutputOpt = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    password: PasswordOpt = None,
    plain_http: PlainHttpOpt = False,
    insecure: InsecureOpt = False,
    retries: RetriesOpt = 3,
    timeout: TimeoutOpt = 30.0,
    quiet: QuietOpt = False,
) -> None:
    """Delete a manifest by digest (every tag naming it goes too); registries may refuse (405).

    A manifest with a subject is also dropped from the subject's referrers fallback tag
    (sha256-<hex>) on a registry without the referrers API.

    Example: regexplore trace delete 127.0.0.1:5000/team/app@sha256:4a3c…
    """
    credentials = (username, password, password_stdin, plain_http, insecure, retries, timeout)
    prepare = image_prepare("delete", image, credentials, need_digest=True)

    def operate(session: Any, ref: Any, progress: Any) -> list[str]:
        from explorer.flows.delete import delete_manifest

        tag = delete_manifest(session.client(ref.api_host), ref)
        return [f"deleted {ref}", *([f"referrers fallback tag updated: {tag}"] if tag else [])]

    run_traced("delete", output, quiet, prepare, operate)


@trace_app.command("referrers")
@handle_errors
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
    timeout: TimeoutOpt = 30.0,
    quiet: QuietOpt = False,
) -> None:
    """List the manifests whose subject is IMAGE@DIGEST (OCI 1.1 referrers API, else the sha256-<hex> tag).

    Example: regexplore trace referrers 127.0.0.1:5000/team/app@sha256:4a3c… --artifact-type application/spdx+json
    """
    credentials = (username, password, password_stdin, plain_http, insecure, retries, timeout)
    prepare = image_prepare("referrers", image, credentials, need_digest=True)

    def operate(session: Any, ref: Any, progress: Any) -> list[str]:
        from explorer.flows.referrers import list_referrers

        found = list_referrers(
            session.client(ref.api_host), ref.repository, ref.digest, context=str(ref), artifact_type=artifact_type
        )
        lines = [f"{r.get('digest')} {r.get('artifactType', '-')}" for r in found.referrers]
        return [*lines, f"{len(found.referrers)} referrers of {ref.digest} (via {found.via})"]

    run_traced("referrers", output, quiet, prepare, operate)
