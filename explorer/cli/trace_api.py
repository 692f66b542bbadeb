"""``regexplore trace tags|catalog|manifest|tag|delete|referrers``: the rest of the registry API."""

from __future__ import annotations

from typing import Annotated

import typer

from explorer.cli.base import report, trace_app, traced_command
from explorer.cli.connection import CONNECTION, Connection, connection_options
from explorer.cli.options import image_output, named_output, OutputOpt, PageSizeOpt, QuietOpt


@trace_app.command("tags")
@connection_options()
def trace_tags(
    repository: Annotated[str, typer.Argument(metavar="REPO", help="Repository, e.g. 127.0.0.1:5000/team/app.")],
    page_size: PageSizeOpt = None,
    output: OutputOpt = None,
    connection: Connection = CONNECTION,
    quiet: QuietOpt = False,
) -> None:
    """List a repository's tags, following the Link header page by page; prints one tag per line.

    Example: regexplore trace tags 127.0.0.1:5000/team/app -n 2
    """
    from explorer import operations
    from explorer.protocol import reference

    if output is None:
        ref = reference.parse_repository(repository)
        output = named_output("tags", ref.repository, ref.registry)
    listed = traced_command(operations.tags, repository, page_size=page_size, trace_file=output,
                            connection=connection, quiet=quiet)
    report(listed, [*listed.items, f"{len(listed.items)} tags in {listed.pages} pages"], quiet)


@trace_app.command("catalog")
@connection_options()
def trace_catalog(
    registry: Annotated[str, typer.Argument(metavar="REGISTRY", help="Registry host[:port], e.g. 127.0.0.1:5000.")],
    page_size: PageSizeOpt = None,
    output: OutputOpt = None,
    connection: Connection = CONNECTION,
    quiet: QuietOpt = False,
) -> None:
    """List the registry's repositories (/v2/_catalog, scope registry:catalog:*), following Link headers.

    Example: regexplore trace catalog 127.0.0.1:5000 -n 100
    """
    from explorer import operations
    from explorer.protocol import reference

    trace_file = output or named_output("catalog", reference.parse_registry(registry))
    listed = traced_command(operations.catalog, registry, page_size=page_size, trace_file=trace_file,
                            connection=connection, quiet=quiet)
    report(listed, [*listed.items, f"{len(listed.items)} repositories in {listed.pages} pages"], quiet)


@trace_app.command("manifest")
@connection_options()
def trace_manifest(
    image: Annotated[str, typer.Argument(metavar="IMAGE", help="Image reference (tag or @digest).")],
    output: OutputOpt = None,
    connection: Connection = CONNECTION,
    quiet: QuietOpt = False,
) -> None:
    """HEAD and GET a manifest; prints the manifest exactly as served, then its digest.

    Example: regexplore trace manifest 127.0.0.1:5000/team/app:1.0
    """
    from explorer import operations

    found = traced_command(operations.manifest, image, trace_file=output or image_output("manifest", image),
                           connection=connection, quiet=quiet)
    report(found, [found.text, f"digest: {found.digest} ({found.media_type}, {len(found.data)} bytes)"], quiet)


@trace_app.command("tag")
@connection_options()
def trace_tag(
    image: Annotated[str, typer.Argument(metavar="IMAGE", help="Existing image (tag or @digest).")],
    new_tag: Annotated[str, typer.Argument(metavar="NEWTAG", help="The additional tag, in the same repository.")],
    output: OutputOpt = None,
    connection: Connection = CONNECTION,
    quiet: QuietOpt = False,
) -> None:
    """Tag an existing image again without moving blobs: GET its manifest, PUT the same bytes under NEWTAG.

    Example: regexplore trace tag 127.0.0.1:5000/team/app:1.0 1.0-stable
    """
    from explorer import operations

    done = traced_command(operations.tag, image, new_tag, trace_file=output or image_output("tag", image, new_tag),
                          connection=connection, quiet=quiet)
    note = "" if done.pushed else " (it already was)"
    report(done, [f"tagged {done.source} as {done.reference}{note}: manifest {done.digest}"], quiet)


@trace_app.command("delete")
@connection_options()
def trace_delete(
    image: Annotated[str, typer.Argument(metavar="IMAGE@DIGEST", help="The manifest to delete, by digest.")],
    output: OutputOpt = None,
    connection: Connection = CONNECTION,
    quiet: QuietOpt = False,
) -> None:
    """Delete a manifest by digest (every tag naming it goes too); registries may refuse (405).

    A manifest with a subject is also dropped from the subject's referrers fallback tag
    (sha256-<hex>) on a registry without the referrers API.

    Example: regexplore trace delete 127.0.0.1:5000/team/app@sha256:4a3c…
    """
    from explorer import operations

    done = traced_command(operations.delete, image, trace_file=output or image_output("delete", image),
                          connection=connection, quiet=quiet)
    updated = [f"referrers fallback tag updated: {done.referrers_tag}"] if done.referrers_tag else []
    report(done, [f"deleted {done.reference}", *updated], quiet)


@trace_app.command("referrers")
@connection_options()
def trace_referrers(
    image: Annotated[str, typer.Argument(metavar="IMAGE@DIGEST", help="The subject manifest, by digest.")],
    artifact_type: Annotated[
        str | None, typer.Option("--artifact-type", help="Only referrers of this artifactType.")
    ] = None,
    output: OutputOpt = None,
    connection: Connection = CONNECTION,
    quiet: QuietOpt = False,
) -> None:
    """List the manifests whose subject is IMAGE@DIGEST (OCI 1.1 referrers API, else the sha256-<hex> tag).

    Example: regexplore trace referrers 127.0.0.1:5000/team/app@sha256:4a3c… --artifact-type application/spdx+json
    """
    from explorer import operations

    found = traced_command(operations.referrers, image, artifact_type=artifact_type,
                           trace_file=output or image_output("referrers", image), connection=connection, quiet=quiet)
    lines = [f"{r.get('digest')} {r.get('artifactType', '-')}" for r in found.referrers]
    report(found, [*lines, f"{len(found.referrers)} referrers of {found.subject} (via {found.via})"], quiet)
