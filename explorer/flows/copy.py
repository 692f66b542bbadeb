"""Copy (pull-tag-push): resolve on the source, then push to the destination, blobs streamed across.

Steps as they appear in traces: ``ping`` (source), ``resolve tag`` (or ``fetch
manifest`` by digest), ``fetch manifest <platform>``; then the push steps of
``push.py`` with ``copy layer i/n`` / ``copy config`` for the transfers: the
destination's POST, the source's blob GET and the destination's PUT (or PATCHes)
whose body is that GET's stream. Within one registry the blobs are mounted
(``mount layer i/n``, ``from`` = the source repository) and only one client (one
token with both scopes) is used.

Rules: no blob touches the disk or is held whole in memory; its bytes are
verified by the destination, which must refuse a ``PUT ?digest=`` they do not
hash to. A source body that breaks off (reset, cut short, timed out) is resumed
with ``Range: bytes=<received>-`` inside the destination's request, which only
sees a pause; a source that keeps failing without progress fails the copy with
its own name (the destination's upload is cancelled, not retried). A body that
has to be sent again (auth retry, 307, retry after a destination failure)
re-opens the source with ``Range: bytes=<offset>-``; the POST before the PUT has
already obtained the destination's push token, so the common case never re-sends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import httpx

from explorer.client.registry import Manifest, RegistryClient
from explorer.errors import ManifestError, MalformedHeader
from explorer.flows.blobs import INTERRUPTIONS, Descriptor, Interruptions, check_descriptor
from explorer.flows.images import plan_push
from explorer.flows.pull import checked_media_type, resolve_image, verify_manifest
from explorer.flows.push import PushResult, push_plans
from explorer.flows.upload import DEFAULT_CHUNK_SIZE, BlobSource
from explorer.flows.progress import Progress
from explorer.protocol import digest as digests
from explorer.protocol import headers, mediatypes
from explorer.protocol.mediatypes import Platform
from explorer.trace import Intent
from explorer.protocol.reference import Reference

__all__ = ["CopyResult", "RegistrySource", "copy_image"]


@dataclass
class CopyResult:
    source: Reference
    push: PushResult
    platform: Platform | None
    mounted_from: str | None


class RegistrySource:
    """A blob streamed from a registry: one GET read in order; a slice elsewhere re-opens with Range."""

    def __init__(self, client: RegistryClient, repository: str, descriptor: Descriptor, context: str) -> None:
        self.digest, self.size = check_descriptor(descriptor, context)
        self.client = client
        self.repository = repository
        self.context = context
        self._opened: AbstractContextManager[httpx.Response] | None = None
        self._chunks: Iterator[bytes] | None = None
        self._position = 0  # offset of the next byte of _chunks (after _leftover)
        self._leftover = b""

    def prepare(self) -> None:
        if self._chunks is None:
            self._reopen(0)

    def slice(self, start: int, length: int) -> Iterator[bytes]:
        """``length`` bytes from ``start``; a source body that breaks off is resumed with Range where it stopped.

        The resume happens inside the destination's request, which only sees a
        pause: interruptions without progress count against the source client's
        retries (with its backoff), then the copy fails naming the source.
        """
        if self._chunks is None or self._position != start:
            self._reopen(start)
        remaining, resumed_at = length, self._position
        interruptions = Interruptions(self.client, self.digest)
        while remaining:
            chunk, self._leftover, broke = self._leftover, b"", None
            try:
                if not chunk:
                    assert self._chunks is not None
                    chunk = next(self._chunks, b"")
            except INTERRUPTIONS as exc:
                broke = exc
            if not chunk:
                reason = f"{type(broke).__name__}: {broke}" if broke else \
                    f"body ended after {self._position} of {self.size} bytes"
                interruptions.record(self._position > resumed_at, reason, lambda count: (
                    f"blob {digests.short(self.digest)} of {self.context}: the source's body broke off "
                    f"{count} times without progress ({reason}); got {self._position} of {self.size} bytes"
                ))
                resumed_at = self._position
                self._reopen(self._position)
                continue
            piece, self._leftover = chunk[:remaining], chunk[remaining:]
            self._position += len(piece)
            remaining -= len(piece)
            yield piece
        if self._position >= self.size:
            self.close()

    def _reopen(self, offset: int) -> None:
        """``_open``; a failure while skipping bytes of a 200 leaves nothing to read (the caller resumes)."""
        try:
            self._open(offset)
        except INTERRUPTIONS:
            self.close()
            self._chunks, self._position = iter(()), offset

    def close(self) -> None:
        opened, self._opened, self._chunks, self._leftover = self._opened, None, None, b""
        if opened is not None:
            opened.__exit__(None, None, None)

    def _open(self, offset: int) -> None:
        self.close()
        opened = self.client.open_blob(self.repository, self.digest, context=self.context, offset=offset)
        response = opened.__enter__()
        self._opened = opened
        chunks = response.iter_bytes()
        skip = 0
        if offset and response.status_code == 200:
            skip = offset  # the server ignored Range: drop what we already have
        elif response.status_code == 206:
            first, _last, _size = headers.parse_content_range(response.headers.get("content-range", ""))
            if first != offset:
                raise MalformedHeader(f"asked {self.context} for bytes from {offset}, got a range from {first}")
        while skip:
            chunk = next(chunks, b"")
            if not chunk:
                break
            self._leftover = chunk[skip:]
            skip = max(0, skip - len(chunk))
        self._chunks = chunks
        self._position = offset


class RemoteImage:
    """An image whose manifests were fetched (and verified) from a registry; blobs stream on demand."""

    def __init__(
        self, client: RegistryClient, ref: Reference, root: Descriptor, manifests: dict[str, Manifest]
    ) -> None:
        self.client = client
        self.ref = ref
        self.name = str(ref)
        self.root = root
        self.manifests = manifests

    def manifest_bytes(self, descriptor: Descriptor) -> bytes:
        return self.manifests[descriptor["digest"]].data

    def blob(self, descriptor: Descriptor) -> BlobSource:
        return RegistrySource(self.client, self.ref.repository, descriptor, self.name)


def copy_image(
    source_client: RegistryClient,
    source: Reference,
    dest_client: RegistryClient,
    dest: Reference,
    *,
    platform: Platform,
    all_platforms: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    jobs: int = 8,
    progress: Progress | None = None,
) -> CopyResult:
    """Copy ``source`` to ``dest``: every platform of an index with ``all_platforms``, else ``platform``'s."""
    context = str(source)
    with source_client.step(Intent("ping")):
        source_client.ping()
    picked: Platform | None = None
    if all_platforms:
        root, manifests = _fetch_all(source_client, source, context)
    else:
        image = resolve_image(source_client, source, platform, context=context)
        media = image.manifest.media_type or str(image.parsed.get("mediaType") or "")
        root = {"mediaType": media, "digest": image.manifest.digest, "size": len(image.manifest.data)}
        manifests = {image.manifest.digest: image.manifest}
        picked = image.platform
    remote = RemoteImage(source_client, source, root, manifests)
    plans = plan_push(remote, dest.reference)
    same_registry = source_client is dest_client
    mount_from = source.repository if same_registry and source.repository != dest.repository else None
    result = push_plans(
        dest_client, dest, remote, plans, copy_from=source.repository, chunk_size=chunk_size,
        mount_from=mount_from, jobs=jobs, progress=progress, ping=not same_registry,
    )
    return CopyResult(source, result, picked, mount_from)


def _fetch_all(client: RegistryClient, ref: Reference, context: str) -> tuple[Descriptor, dict[str, Manifest]]:
    """The manifest named by ``ref`` and, for an index, every child (``fetch manifest <platform>``)."""
    with client.step(Intent("resolve" if ref.digest is None else "fetch-manifest", repository=ref.repository,
                            digest=ref.digest, item="manifest")):
        top = client.get_manifest(ref.repository, ref.reference, context=context)
    verify_manifest(top, ref.digest, context)
    parsed = top.parsed()
    media = checked_media_type(top, parsed, context)
    manifests = {top.digest: top}
    if mediatypes.is_index(media):
        entries = parsed.get("manifests")
        if not isinstance(entries, list):
            raise ManifestError(f"index of {context} has no manifests list")
        for number, entry in enumerate(entries, 1):
            digest, _size = check_descriptor(entry, f"manifest {number} of the index of {context}")
            platform = mediatypes.platform_of(entry)
            name = str(platform) if platform else digests.short(digest)
            with client.step(Intent("fetch-manifest", repository=ref.repository, digest=digest, item="manifest",
                                    platform=name)):
                child = client.get_manifest(ref.repository, digest, context=f"{context} ({name})")
            verify_manifest(child, digest, f"{context} ({name})")
            manifests[digest] = child
    return {"mediaType": media, "digest": top.digest, "size": len(top.data)}, manifests
