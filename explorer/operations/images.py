"""``pull``, ``push`` and ``copy``: the operations that move images, each traced.

Rule: arguments are checked before the first request (a bad one raises ``UsageError``
and sends nothing, writes no trace); then the flow runs in a traced session.
"""

from __future__ import annotations

import os
import platform as host
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.errors import UsageError
from explorer.flows import DEFAULT_CHUNK_SIZE
from explorer.flows.pull import pull as pull_flow
from explorer.oci.layout import OciLayoutWriter
from explorer.operations.options import ConnectionOptions, Progressable, as_progress, parse_image, traced
from explorer.operations.results import Pulled
from explorer.protocol import mediatypes
from explorer.protocol.mediatypes import Platform

# push's and copy's flows (uploads, referrers, sample images and their tarfile) and results are
# imported by push() and copy() themselves: a pull, whose start-up counts (issue 17), loads none of them
if TYPE_CHECKING:
    from explorer.client.credentials import Credentials
    from explorer.client.session import TraceSession
    from explorer.flows.push import PushResult
    from explorer.oci.sample import SampleImage
    from explorer.operations.push_results import Copied, Pushed

__all__ = ["copy", "pull", "push"]

TraceFile = str | os.PathLike[str] | None


def _platform(wanted: str | Platform | None) -> Platform:
    if wanted is None:
        return mediatypes.host_platform(host.system(), host.machine())
    return wanted if isinstance(wanted, Platform) else mediatypes.parse_platform(wanted)


def pull(
    image: str,
    *,
    platform: str | Platform | None = None,
    layout: str | os.PathLike[str] | None = None,
    keep_bodies: int | None = None,
    credentials: Credentials | None = None,
    options: ConnectionOptions | None = None,
    progress: Progressable = None,
    trace_file: TraceFile = None,
    command: Sequence[str] | None = None,
) -> Pulled:
    """Pull ``image`` for real: every blob downloaded and verified (kept only in ``layout``, an OCI layout).

    ``platform``: os/arch[/variant] to pick from an index (default: this host's).
    ``keep_bodies``: keep bodies up to this many bytes in the trace, blobs included.
    """
    options = options or ConnectionOptions()
    ref = parse_image(image)
    wanted = _platform(platform)
    if layout is not None:
        OciLayoutWriter.check_target(layout)  # a bad layout is refused before any request
    with traced("pull", str(ref), [image], credentials=credentials, options=options, trace_file=trace_file,
                command=command, keep_bodies=keep_bodies) as session:
        done = pull_flow(session.client(ref.api_host), ref, platform=wanted,
                         layout=Path(layout) if layout is not None else None,
                         progress=as_progress(progress), jobs=options.jobs)
    warnings = []
    declared = done.image_platform
    if platform is not None and declared is not None and not mediatypes.runs_on(declared, wanted):
        # docker's warning when the platform asked for is not the one a single-platform image is built for
        warnings.append(f"image {ref} was found but its platform ({declared}) does not match the "
                        f"specified platform ({wanted})")
    return Pulled(trace=session.trace, trace_file=session.saved, reference=str(ref), digest=done.manifest_digest,
                  media_type=done.media_type, platform=done.platform, index_digest=done.index_digest,
                  config_digest=done.config_digest, layers=len(done.layers), bytes_downloaded=done.bytes_downloaded,
                  layout=done.layout, warnings=warnings)


def _pushed(done: PushResult, session: TraceSession) -> Pushed:
    from explorer.flows.upload import MOUNTED, SKIPPED, UPLOADED
    from explorer.operations.push_results import Pushed

    return Pushed(trace=session.trace, trace_file=session.saved, reference=str(done.reference), digest=done.digest,
                  media_type=done.media_type, uploaded=done.blobs[UPLOADED], mounted=done.blobs[MOUNTED],
                  skipped=done.blobs[SKIPPED], manifests_pushed=done.manifests_pushed,
                  manifests_skipped=done.manifests_skipped, referrers_tags=list(done.referrers_tags))


def push(
    source: str | os.PathLike[str] | SampleImage,
    destination: str,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    mount_from: str | None = None,
    credentials: Credentials | None = None,
    options: ConnectionOptions | None = None,
    progress: Progressable = None,
    trace_file: TraceFile = None,
    command: Sequence[str] | None = None,
) -> Pushed:
    """Push ``source`` to ``destination``: HEAD-then-skip, mounts, monolithic or chunked uploads, manifests.

    ``source`` is an OCI image layout, ``DIR`` or ``DIR:TAG`` (as ``skopeo copy … oci:DIR:TAG``
    writes it), checked completely before the first request; or a generated
    ``explorer.oci.sample.build_sample()`` image. Blobs larger than ``chunk_size`` go in PATCH chunks.
    """
    from explorer.flows.images import LayoutImage, SampleSource, plan_push
    from explorer.flows.push import push_plans
    from explorer.oci.layout import OciLayout, parse_layout_source
    from explorer.protocol import reference

    options = options or ConnectionOptions()
    ref = parse_image(destination)
    if chunk_size < 1:
        raise UsageError(f"chunk_size {chunk_size} is not a size", "give a positive number of bytes")
    if mount_from is not None:
        reference.validate_repository(mount_from)
    if isinstance(source, (str, os.PathLike)):  # a layout: the sample module (tarfile) stays unloaded
        directory, tag = parse_layout_source(os.fspath(source))
        image: SampleSource | LayoutImage = LayoutImage(OciLayout(directory), tag)
        plans = image.plan(ref.reference)
        words = [os.fspath(source), destination]
    else:
        image = SampleSource(_sample(source))
        plans = plan_push(image, ref.reference)
        words = ["--sample", destination]
    if ref.digest is not None and ref.digest != plans[-1].digest:
        raise UsageError(f"{ref} names digest {ref.digest}, but the image is {plans[-1].digest}", "push by tag")
    with traced("push", str(ref), words, credentials=credentials, options=options, trace_file=trace_file,
                command=command) as session:
        done = push_plans(session.client(ref.api_host), ref, image, plans, chunk_size=chunk_size,
                          mount_from=mount_from, jobs=options.jobs, progress=as_progress(progress))
    return _pushed(done, session)


def _sample(source: object) -> SampleImage:
    from explorer.oci.sample import SampleImage

    if not isinstance(source, SampleImage):
        raise TypeError(f"push source must be an OCI layout path or a SampleImage, not {type(source).__name__}")
    return source


def copy(
    source: str,
    destination: str,
    *,
    platform: str | Platform | None = None,
    all_platforms: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    credentials: Credentials | None = None,
    source_credentials: Credentials | None = None,
    destination_credentials: Credentials | None = None,
    options: ConnectionOptions | None = None,
    progress: Progressable = None,
    trace_file: TraceFile = None,
    command: Sequence[str] | None = None,
) -> Copied:
    """Copy an image between repositories or registries, blobs streamed, never on disk; mounted within one registry.

    ``credentials`` serve both sides; ``source_credentials`` / ``destination_credentials``
    serve one (a copy within one registry uses one identity).
    """
    from explorer.flows.copy import copy_image
    from explorer.operations.push_results import Copied

    options = options or ConnectionOptions()
    src, dst = parse_image(source), parse_image(destination)
    if platform is not None and all_platforms:
        raise UsageError("--platform and --all-platforms exclude each other")
    wanted = _platform(platform)
    per_host: dict[str, Credentials] = {}
    if source_credentials is not None:
        per_host[src.api_host] = source_credentials
    if destination_credentials is not None:
        if src.api_host == dst.api_host and source_credentials is not None and \
                (source_credentials.username, source_credentials.password) != \
                (destination_credentials.username, destination_credentials.password):
            raise UsageError("a copy within one registry uses one identity", "give only the --dest-… credentials")
        per_host[dst.api_host] = destination_credentials
    with traced("copy", f"{src} -> {dst}", [source, destination], credentials=credentials, options=options,
                trace_file=trace_file, command=command, per_host=per_host) as session:
        source_client = session.client(src.api_host)
        dest_client = source_client if dst.api_host == src.api_host else session.client(dst.api_host)
        done = copy_image(source_client, src, dest_client, dst, platform=wanted, all_platforms=all_platforms,
                          chunk_size=chunk_size, jobs=options.jobs, progress=as_progress(progress))
    return Copied(**vars(_pushed(done.push, session)), source=str(src), platform=done.platform)
