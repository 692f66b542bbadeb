"""``tags``, ``catalog``, ``manifest``, ``tag``, ``delete``, ``referrers`` and ``probe``: the rest of the API, traced.

Rule: as in ``images.py``, arguments are checked before the first request.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from explorer.client.credentials import Credentials
from explorer.errors import UsageError
from explorer.flows import probe as probe_flow
from explorer.flows.delete import delete_manifest
from explorer.flows.listing import list_repositories, list_tags
from explorer.flows.manifest import inspect_manifest
from explorer.flows.referrers import list_referrers
from explorer.flows.tag import retag
from explorer.operations.options import ConnectionOptions, parse_image, traced
from explorer.operations.api_results import Deleted, Listed, ManifestFound, Probed, Referrers, Tagged
from explorer.protocol import reference
from explorer.protocol.reference import Reference

__all__ = ["catalog", "delete", "manifest", "probe", "referrers", "tag", "tags"]

TraceFile = str | os.PathLike[str] | None


def tags(
    repository: str,
    *,
    page_size: int | None = None,
    credentials: Credentials | None = None,
    options: ConnectionOptions | None = None,
    trace_file: TraceFile = None,
    command: Sequence[str] | None = None,
) -> Listed:
    """Every tag of ``repository`` (``HOST/NAME``), following the ``Link`` header page by page (``n=page_size``)."""
    ref = reference.parse_repository(repository)
    target = f"{ref.registry}/{ref.repository}"
    with traced("tags", target, [repository], credentials=credentials, options=options, trace_file=trace_file,
                command=command) as session:
        found = list_tags(session.client(ref.api_host), ref.repository, page_size=page_size, context=str(ref))
    return Listed(trace=session.trace, trace_file=session.saved, items=found.items, pages=found.pages)


def catalog(
    registry: str,
    *,
    page_size: int | None = None,
    credentials: Credentials | None = None,
    options: ConnectionOptions | None = None,
    trace_file: TraceFile = None,
    command: Sequence[str] | None = None,
) -> Listed:
    """Every repository the registry (``host[:port]``) lists in ``/v2/_catalog``, page by page."""
    host = reference.parse_registry(registry)
    api_host = reference.DOCKER_HUB_API_HOST if host == reference.DOCKER_HUB else host
    with traced("catalog", host, [registry], credentials=credentials, options=options, trace_file=trace_file,
                command=command) as session:
        found = list_repositories(session.client(api_host), page_size=page_size)
    return Listed(trace=session.trace, trace_file=session.saved, items=found.items, pages=found.pages)


def _image(verb: str, image: str, *, need_digest: bool = False) -> Reference:
    ref = parse_image(image)
    if need_digest and ref.digest is None:
        raise UsageError(f"{image} names no digest; {verb} takes IMAGE@sha256:…",
                         f"find the digest with `regexplore trace manifest {image}`")
    return ref


def manifest(
    image: str,
    *,
    credentials: Credentials | None = None,
    options: ConnectionOptions | None = None,
    trace_file: TraceFile = None,
    command: Sequence[str] | None = None,
) -> ManifestFound:
    """HEAD then GET ``image``'s manifest (by tag or digest), verified; its bytes exactly as served."""
    ref = _image("manifest", image)
    with traced("manifest", str(ref), [image], credentials=credentials, options=options, trace_file=trace_file,
                command=command) as session:
        found = inspect_manifest(session.client(ref.api_host), ref)
    return ManifestFound(trace=session.trace, trace_file=session.saved, reference=str(ref),
                         digest=found.manifest.digest, media_type=found.media_type, data=found.manifest.data)


def tag(
    image: str,
    new_tag: str,
    *,
    credentials: Credentials | None = None,
    options: ConnectionOptions | None = None,
    trace_file: TraceFile = None,
    command: Sequence[str] | None = None,
) -> Tagged:
    """Tag ``image`` again as ``new_tag`` in the same repository, without moving blobs."""
    ref = _image("tag", image)
    reference.validate_tag(new_tag)
    with traced("tag", str(ref), [image, new_tag], credentials=credentials, options=options, trace_file=trace_file,
                command=command) as session:
        done = retag(session.client(ref.api_host), ref, new_tag)
    return Tagged(trace=session.trace, trace_file=session.saved, source=str(done.source), reference=str(done.dest),
                  digest=done.digest, pushed=done.pushed)


def delete(
    image: str,
    *,
    credentials: Credentials | None = None,
    options: ConnectionOptions | None = None,
    trace_file: TraceFile = None,
    command: Sequence[str] | None = None,
) -> Deleted:
    """Delete the manifest ``image`` names by digest (its tags go too; its subject's fallback tag is updated)."""
    ref = _image("delete", image, need_digest=True)
    with traced("delete", str(ref), [image], credentials=credentials, options=options, trace_file=trace_file,
                command=command) as session:
        updated = delete_manifest(session.client(ref.api_host), ref)
    return Deleted(trace=session.trace, trace_file=session.saved, reference=str(ref), referrers_tag=updated)


def referrers(
    image: str,
    *,
    artifact_type: str | None = None,
    credentials: Credentials | None = None,
    options: ConnectionOptions | None = None,
    trace_file: TraceFile = None,
    command: Sequence[str] | None = None,
) -> Referrers:
    """The manifests whose subject is ``image`` (by digest): OCI 1.1 referrers API, else the fallback tag."""
    ref = _image("referrers", image, need_digest=True)
    assert ref.digest is not None
    with traced("referrers", str(ref), [image], credentials=credentials, options=options, trace_file=trace_file,
                command=command) as session:
        found = list_referrers(session.client(ref.api_host), ref.repository, ref.digest, context=str(ref),
                               artifact_type=artifact_type)
    return Referrers(trace=session.trace, trace_file=session.saved, reference=str(ref), subject=ref.digest,
                     referrers=list(found.referrers), via=found.via)


def probe(
    registry: str,
    *,
    repository: str = "regexplore",
    credentials: Credentials | None = None,
    options: ConnectionOptions | None = None,
    trace_file: TraceFile = None,
    command: Sequence[str] | None = None,
) -> Probed:
    """What ``registry`` supports, found by trying in a scratch repository (``REPOSITORY/probe-<random>``),
    cleaned up afterwards."""
    reference.validate_repository(repository)
    host = reference.parse_registry(registry)
    with traced("probe", host, [registry], credentials=credentials, options=options, trace_file=trace_file,
                command=command) as session:
        found = probe_flow.probe(session.client(host), host, repository, session.trace.exchanges)
    return Probed(trace=session.trace, trace_file=session.saved, registry=host, result=found)
