"""Push: ping → for each manifest (index children first): its blobs, then the manifest; the index last.

Steps as they appear in traces: ``ping``; per blob ``check layer i/n`` (renamed
``layer i/n already present, skipped`` on 200), ``mount layer i/n`` (with a mount
source), ``upload layer i/n`` (``copy layer i/n`` when the bytes stream from
another registry), the same with ``config``; ``push manifest <platform>`` for
index children (by digest), ``push index`` / ``push manifest`` for the root (by
tag); ``update referrers tag`` when a manifest with a ``subject`` went to a
registry without the referrers API.

Rules: blobs are transferred concurrently (``jobs``, ``blobs.Transfers``: the
first failure or Ctrl-C stops the rest before their next request, and their
upload sessions are cancelled) over the client's one pool, manifests
strictly in order; a manifest is HEADed first and not PUT when
the registry already has the same digest under that reference; the exact bytes
are PUT with the manifest's own media type.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import field

from explorer.client.registry import RegistryClient
from explorer.errors import ManifestError
from explorer.flows.blobs import Descriptor, Transfers, check_descriptor
from explorer.flows.images import ImageSource, ManifestPlan
from explorer.flows.referrers import referrer_descriptor, update_referrers_tag
from explorer.flows.upload import DEFAULT_CHUNK_SIZE, MOUNTED, SKIPPED, UPLOADED, BlobStep, upload_blob
from explorer.flows.progress import NullProgress, Progress
from explorer.protocol.reference import Reference
from explorer.records import record
from explorer.trace import Intent

__all__ = ["PushResult", "push_manifest", "push_plans"]


@record
class PushResult:
    reference: Reference
    digest: str  # of the root manifest or index
    media_type: str
    blobs: Counter[str] = field(default_factory=Counter)  # "uploaded" / "skipped" / "mounted" → count
    manifests_pushed: int = 0
    manifests_skipped: int = 0
    referrers_tags: list[str] = field(default_factory=list)


def push_plans(
    client: RegistryClient,
    ref: Reference,
    source: ImageSource,
    plans: list[ManifestPlan],
    *,
    copy_from: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    mount_from: str | None = None,
    jobs: int = 8,
    progress: Progress | None = None,
    ping: bool = True,
) -> PushResult:
    """Push ``plans`` (from ``plan_push``) of ``source`` to ``ref``'s repository."""
    progress = progress or NullProgress()
    context = str(ref)
    result = PushResult(ref, plans[-1].digest, plans[-1].media_type)
    transfers = Transfers(jobs)

    def transfer(item: tuple[BlobStep, Descriptor]) -> str:
        what, descriptor = item
        return upload_blob(
            client, ref.repository, source.blob(descriptor), what, context=context,
            chunk_size=chunk_size, mount_from=mount_from, copy_from=copy_from, progress=progress,
            transfers=transfers,
        )

    if ping:
        with client.step(Intent("ping")):
            client.ping()
    # one token for the whole push (as docker asks), instead of a pull token then a second 401
    client.expect_scopes(
        f"repository:{ref.repository}:pull,push", *([f"repository:{mount_from}:pull"] if mount_from else [])
    )
    for plan in plans:
        result.blobs.update(transfers.map(transfer, plan.blobs))  # type: ignore[arg-type]
        pushed, referrers_tag = push_manifest(client, ref, plan, context=context)
        result.manifests_pushed += pushed
        result.manifests_skipped += not pushed
        if referrers_tag:
            result.referrers_tags.append(referrers_tag)
    return result


def push_manifest(
    client: RegistryClient, ref: Reference, plan: ManifestPlan, *, context: str
) -> tuple[bool, str | None]:
    """HEAD, then PUT unless the same digest is already there: (pushed?, referrers tag updated or None)."""
    with client.step(plan.intent(ref.repository)):
        existing = client.head_manifest(ref.repository, plan.reference, context=context)
        if existing is not None and existing.headers.get("docker-content-digest") == plan.digest:
            return False, None
        response = client.put_manifest(ref.repository, plan.reference, plan.data, plan.media_type, context=context)
    stored = response.headers.get("docker-content-digest")
    if stored and stored.split(":", 1)[0] == plan.digest.split(":", 1)[0] and stored != plan.digest:
        raise ManifestError(
            f"the registry stored the manifest of {context} as {stored}, not {plan.digest}: it changed the bytes"
        )
    subject = plan.subject
    if subject is None or response.headers.get("oci-subject"):
        return True, None
    check_descriptor(subject, f"subject of {context}")
    referrer = referrer_descriptor(plan.digest, plan.media_type, plan.data, plan.parsed)
    return True, update_referrers_tag(client, ref.repository, subject, referrer, context=context)
