"""Blob upload, shared by push and copy: HEAD-then-skip, mount, monolithic or chunked, streamed.

Each step is an Intent (``check-blob``, ``mount``, ``open-upload``; the client
refines PATCH/PUT/GET/DELETE to ``upload-chunk`` …) whose ``transfer`` is the
blob's digest, so every exchange of one blob is drawn together; labels:

    check <what>                      HEAD; 200 renames the step "<what> already present, skipped"
    mount <what>                      POST ?mount=&from= ; 201 = done, 202 = an upload session to use
    upload <what> (copy <what>)       POST (unless the mount opened one), then either
                                      PUT ?digest= with the whole blob (size <= chunk size), or
                                      PATCH chunks with Content-Range, then an empty PUT ?digest=

Rules:
- bytes stream from a ``BlobSource`` (a file, a generator, another registry's
  response); a blob is never held whole in memory;
- every request body is a ``SliceBody``: re-iterable (an auth retry, a 307 or a
  client retry sends it again) and of a declared length;
- chunks honour ``OCI-Chunk-Min-Length``, follow each returned ``Location`` and
  recover from 416 by asking the upload status (GET) and resuming from its ``Range``;
- an upload that fails or is cancelled (Ctrl-C, another transfer failed: checked
  before every request of it) after its session was opened is cancelled with a
  best-effort DELETE, so the trace shows where it stopped; when the registry says
  the session itself was lost (404 BLOB_UPLOAD_UNKNOWN/INVALID: distribution
  refuses a Location whose ``_state`` offset no longer matches, e.g. after a
  chunk whose answer was lost) the blob is sent once more in a new session. A
  connection that still fails after the client's retries is reported, not retried
  in a new session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import httpx

from explorer.client.registry import RegistryClient, UploadSession
from explorer.errors import BadSource, ExplorerError, RegistryError
from explorer.flows import DEFAULT_CHUNK_SIZE
from explorer.flows.blobs import Transfers
from explorer.flows.progress import NullProgress, Progress
from explorer.records import record
from explorer.trace import Intent

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BlobSource",
    "BlobStep",
    "ChunksSource",
    "FileSource",
    "SliceBody",
    "upload_blob",
]

READ_SIZE = 1024 * 1024  # large reads: per-chunk Python work (h11 framing, tap) stays negligible
MAX_RANGE_RECOVERIES = 3
RESTART_CODES = frozenset({"BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID"})

SKIPPED = "skipped"
MOUNTED = "mounted"
UPLOADED = "uploaded"


class BlobSource(Protocol):
    """Where a blob's bytes come from; ``slice`` may be called again for the same bytes."""

    digest: str
    size: int

    def prepare(self) -> None:
        """Called right before the bytes are needed (a remote source opens its GET here)."""

    def slice(self, start: int, length: int) -> Iterator[bytes]:
        """Exactly ``length`` bytes from offset ``start``, in pieces."""

    def close(self) -> None:
        """Release what ``prepare``/``slice`` opened."""


class _LocalSource:
    """A source with nothing to open ahead or release: each ``slice`` is self-contained."""

    digest: str
    size: int

    def prepare(self) -> None:
        pass

    def close(self) -> None:
        pass


class FileSource(_LocalSource):
    """A blob in a file (an OCI layout's ``blobs/``): every slice reopens the file and seeks."""

    def __init__(self, path: Path, digest: str, size: int) -> None:
        self.path = path
        self.digest = digest
        self.size = size

    def slice(self, start: int, length: int) -> Iterator[bytes]:
        with self.path.open("rb") as blob:
            blob.seek(start)
            remaining = length
            while remaining:
                piece = blob.read(min(READ_SIZE, remaining))
                if not piece:
                    raise BadSource(
                        f"blob {self.digest} in {self.path.parent.parent.parent} ended after "
                        f"{start + length - remaining} of {self.size} bytes; the layout changed during the push"
                    )
                remaining -= len(piece)
                yield piece


class ChunksSource(_LocalSource):
    """A blob produced by a generator function (the ``--sample`` images): each slice replays it."""

    def __init__(self, produce: Callable[[], Iterator[bytes]], digest: str, size: int) -> None:
        self.produce = produce
        self.digest = digest
        self.size = size

    def slice(self, start: int, length: int) -> Iterator[bytes]:
        position, end = 0, start + length
        if length == 0:
            return
        for chunk in self.produce():
            low, high = max(start, position), min(end, position + len(chunk))
            if low < high:
                yield chunk[low - position : high - position]
            position += len(chunk)
            if position >= end:
                return
        raise BadSource(f"generated blob {self.digest} is shorter than its {self.size} bytes")


class _Meter:
    """Progress of one blob by high-water mark, so re-sent bytes are not counted twice."""

    def __init__(self, progress: Progress, key: str) -> None:
        self.progress = progress
        self.key = key
        self.high = 0

    def reached(self, position: int) -> None:
        if position > self.high:
            self.progress.advance(self.key, position - self.high)
            self.high = position


class SliceBody(httpx.SyncByteStream):
    """A request body of ``length`` bytes of ``source`` from ``start``; every iteration starts over.

    Deliberately no ``read`` method: httpx would then treat it as a file and
    read it once.
    """

    def __init__(self, source: BlobSource, start: int, length: int, meter: _Meter | None = None) -> None:
        self.source = source
        self.start = start
        self.length = length
        self.meter = meter

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for piece in self.source.slice(self.start, self.length):
            sent += len(piece)
            if self.meter is not None:
                self.meter.reached(self.start + sent)
            yield piece
        if sent != self.length:
            raise ExplorerError(
                f"blob {self.source.digest}: the source gave {sent} bytes where {self.length} were due"
            )


@record(frozen=True)
class BlobStep:
    """Which blob of an image a transfer moves: the config, or layer ``index``/``total``."""

    item: str  # "config" | "layer"
    index: int | None = None
    total: int | None = None

    @property
    def what(self) -> str:
        return self.intent("check-blob").what

    def __str__(self) -> str:
        return self.what

    def intent(self, kind: str, repository: str | None = None, digest: str | None = None,
               source: str | None = None) -> Intent:
        """The Intent of one step of this blob's transfer (``transfer`` = the digest)."""
        return Intent(kind, repository=repository, digest=digest, item=self.item,  # type: ignore[arg-type]
                      index=self.index, total=self.total, transfer=digest, source=source)


def upload_blob(
    client: RegistryClient,
    repository: str,
    source: BlobSource,
    step: BlobStep,
    *,
    context: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    mount_from: str | None = None,
    copy_from: str | None = None,
    progress: Progress | None = None,
    transfers: Transfers | None = None,
) -> str:
    """Make ``repository`` hold the blob: "skipped" (already there), "mounted" or "uploaded".

    ``transfers``: the group this upload belongs to; once it is cancelled the
    upload stops before its next request and cancels its session. ``copy_from``:
    the repository the bytes stream from (a copy: labels say "copy").
    """
    progress = progress or NullProgress()
    transfers = transfers or Transfers()
    transfers.check()
    where = f"{context}: {step.what} {source.digest}"
    check = step.intent("check-blob", repository, source.digest)
    with client.step(check) as handle:
        if client.head_blob(repository, source.digest, context=where) is not None:
            handle.rename(check.label(skipped=True))
            return SKIPPED
    session: UploadSession | None = None
    if mount_from and mount_from != repository:
        with client.step(step.intent("mount", repository, source.digest, mount_from)):
            session = client.start_upload(repository, context=where, mount=source.digest, from_repository=mount_from)
        if session is None:
            return MOUNTED
    progress.start(source.digest, step.what, source.size)
    try:
        with client.step(step.intent("open-upload", repository, source.digest, copy_from)):
            meter = _Meter(progress, source.digest)
            for attempt in range(2):
                if session is None:
                    session = client.start_upload(repository, context=where)
                try:
                    _Transfer(client, session, source, meter, chunk_size, where, transfers).run()
                    break
                except RegistryError as exc:
                    if attempt or not _session_lost(exc):
                        raise
                    session = None  # the registry lost or refused the session: once more, with a new one
    except BaseException:
        progress.finish(source.digest, "failed")
        raise
    finally:
        source.close()
    progress.finish(source.digest)
    return UPLOADED


def _session_lost(exc: RegistryError) -> bool:
    """The registry no longer knows the session (expired) or refuses its Location (offset mismatch)."""
    return exc.status == 404 and exc.code in RESTART_CODES


class _Transfer:
    """The bytes of one blob into one upload session; on failure it cancels the session's latest Location."""

    def __init__(
        self, client: RegistryClient, session: UploadSession, source: BlobSource, meter: _Meter, chunk_size: int,
        where: str, transfers: Transfers,
    ) -> None:
        self.transfers = transfers
        self.client = client
        self.session = session
        self.source = source
        self.meter = meter
        self.chunk_size = chunk_size
        self.where = where

    def run(self) -> None:
        source = self.source
        source.prepare()
        try:
            self.transfers.check()
            if source.size <= self.chunk_size:
                body = SliceBody(source, 0, source.size, self.meter)
                self.client.finish_upload(self.session, source.digest, context=self.where, body=body, size=source.size)
                return
            self._chunks()
            self.transfers.check()
            self.client.finish_upload(self.session, source.digest, context=self.where)
        except BaseException:
            self.client.cancel_upload(self.session, context=self.where)
            raise

    def _chunks(self) -> None:
        """PATCH the blob chunk by chunk; a 416 asks where the registry is and resumes there."""
        size, offset, recoveries = self.source.size, self.session.offset, 0
        while offset < size:
            self.transfers.check()
            length = min(max(self.chunk_size, self.session.min_chunk or 0), size - offset)
            body = SliceBody(self.source, offset, length, self.meter)
            try:
                self.session = self.client.upload_chunk(
                    self.session, body, offset, offset + length - 1, context=self.where
                )
            except RegistryError as exc:
                if exc.status != 416 or recoveries >= MAX_RANGE_RECOVERIES:
                    raise
                recoveries += 1
                self.session = self.client.upload_status(self.session, context=self.where)
                if self.session.offset > size:
                    raise RegistryError(
                        f"the registry says it holds {self.session.offset} bytes of a {size}-byte blob ({self.where})",
                        status=416,
                    ) from None
                offset = self.session.offset
                continue
            offset += length
