"""Verified blob download: stream, count, hash, resume after interruptions, keep or discard.

Rules:
- a blob is accepted only when its size AND digest equal its descriptor's, the
  digest computed over every byte, across resumed attempts;
- a digest is validated against the grammar before it is used in a URL or a file
  name; a blob that fails verification leaves no file under its final name;
- an interrupted body (reset, truncated, cut short, timed out) is resumed with
  ``Range: bytes=<received>-``; only a 206 whose ``Content-Range`` starts exactly
  there (and agrees on the size) is appended. A 200 (Range ignored) or a 206 with
  another range is read from byte 0 and the part already held is skipped, never
  written twice. Interruptions that made no progress count against the client's
  ``retries`` (with its backoff); one that made progress resumes at once;
- concurrent transfers (``Transfers.map``) stop together: on Ctrl-C or on the
  first failure the others are cancelled, their sockets shut down so blocked
  reads return, and their partial files removed; the caller never waits for a
  stuck thread longer than ``CANCEL_GRACE``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import httpx

from explorer.client.registry import RegistryClient
from explorer.errors import DigestMismatch, ManifestError, MalformedHeader, TransportError
from explorer.flows.progress import NullProgress, Progress
from explorer.protocol import digest as digests
from explorer.protocol import headers
from explorer.recording.taps import BodyTap

__all__ = [
    "BlobSink",
    "Descriptor",
    "INTERRUPTIONS",
    "Interruptions",
    "TransferCancelled",
    "Transfers",
    "check_descriptor",
    "fetch_blob",
    "fetch_blob_bytes",
]

MAX_BLOB_SIZE = 1 << 40  # 1 TiB: anything above is an absurd descriptor, not an image
CONFIG_LIMIT = 16 * 1024 * 1024
CANCEL_GRACE = 2.0  # seconds the caller waits for cancelled transfers to wind down

Descriptor = dict[str, Any]
T = TypeVar("T")
# failures of a body that is being read: worth resuming (downloads here, streamed copies in copy.py)
INTERRUPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class BlobSink(Protocol):
    """Where verified bytes go (an OCI layout blob writer, a buffer, or nowhere)."""

    def write(self, chunk: bytes) -> Any: ...


class TransferCancelled(Exception):
    """This transfer was stopped because another one failed or the user pressed Ctrl-C."""


class _Discard:
    def write(self, chunk: bytes) -> int:
        return len(chunk)


class _NoSink:
    def __enter__(self) -> _Discard:
        return _Discard()

    def __exit__(self, *exc: object) -> None:
        return None


def check_descriptor(desc: Any, what: str) -> tuple[str, int]:
    """The (digest, size) of a descriptor, refusing anything outside the grammar or absurd."""
    if not isinstance(desc, dict):
        raise ManifestError(f"{what}: descriptor is not a JSON object")
    digest = desc.get("digest")
    size = desc.get("size")
    if not isinstance(digest, str):
        raise ManifestError(f"{what}: descriptor has no digest")
    digests.require_verifiable(digest)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0 or size > MAX_BLOB_SIZE:
        raise ManifestError(f"{what}: descriptor size {size!r} is not a sensible byte count")
    return digest, size


# --- concurrent transfers that stop together ---------------------------------------------------
class Transfers:
    """Runs transfers on up to ``jobs`` threads; cancels them all on Ctrl-C or the first failure."""

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = max(1, jobs)
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._responses: set[httpx.Response] = set()
        self._sinks: set[Any] = set()

    def check(self) -> None:
        if self.cancelled.is_set():
            raise TransferCancelled

    def cancel(self) -> None:
        """Stop every transfer: blocked reads return at once because their sockets are shut down."""
        self.cancelled.set()
        with self._lock:
            responses = list(self._responses)
        for response in responses:
            _shutdown_socket(response)

    @contextmanager
    def watching(self, response: httpx.Response) -> Iterator[None]:
        with self._lock:
            self._responses.add(response)
        try:
            yield
        finally:
            with self._lock:
                self._responses.discard(response)

    @contextmanager
    def sink(self, opened: Any) -> Iterator[Any]:
        """Enter a sink context manager, remembering it so a stuck transfer's file can be removed."""
        writer = opened.__enter__()
        with self._lock:
            self._sinks.add(opened)
        try:
            yield writer
        except BaseException as exc:
            self._close_sink(opened, exc)
            raise
        else:
            self._close_sink(opened, None)

    def _close_sink(self, opened: Any, exc: BaseException | None) -> None:
        with self._lock:
            if opened not in self._sinks:
                return  # already discarded by the canceller
            self._sinks.discard(opened)
        if exc is None:
            opened.__exit__(None, None, None)
        else:
            opened.__exit__(type(exc), exc, exc.__traceback__)

    def map(self, fn: Callable[[T], int], items: list[T]) -> list[int]:
        """``[fn(item) ...]`` on worker threads (in this thread when ``jobs`` is 1); first error wins."""
        if self.jobs == 1 or len(items) <= 1:
            return [fn(item) for item in items]
        results: list[int] = [0] * len(items)
        errors: list[BaseException] = []
        queue = deque(enumerate(items))

        def work() -> None:
            while not self.cancelled.is_set():
                with self._lock:
                    if not queue:
                        return
                    index, item = queue.popleft()
                try:
                    results[index] = fn(item)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                    with self._lock:
                        errors.append(exc)
                    self.cancel()
                    return

        threads = [
            threading.Thread(target=work, name=f"transfer-{n}", daemon=True)
            for n in range(min(self.jobs, len(items)))
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.1)  # short waits: Ctrl-C reaches this thread at once
        except BaseException:
            self.abandon(threads)
            raise
        real = [e for e in errors if not isinstance(e, TransferCancelled)]
        if real or errors:
            raise (real or errors)[0]
        return results

    def abandon(self, threads: list[threading.Thread]) -> None:
        """Cancel, give the threads ``CANCEL_GRACE`` in all to stop, then remove whatever files they left open.

        They wind down side by side: one deadline for all, so a thread still sending a chunk when it was
        cancelled (its next check comes after that request) may use the whole grace, not a share of it.
        """
        self.cancel()
        deadline = time.monotonic() + CANCEL_GRACE
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            leftovers = list(self._sinks)
            self._sinks.clear()
        for opened in leftovers:
            try:
                opened.__exit__(TransferCancelled, TransferCancelled(), None)
            except Exception:  # noqa: BLE001 - best effort: the thread may be writing right now
                pass


class Interruptions:
    """How often one blob body broke off without progress, against the client's ``--retries``.

    Progress since the last resume starts the count again; each interruption
    without it waits the client's backoff; past the retries the caller gives up
    with ``failure(count)`` as the message. Downloads use it, and streamed copies.
    """

    def __init__(self, client: RegistryClient, what: str) -> None:
        self.client, self.what, self.count = client, what, 0

    def record(self, progressed: bool, reason: str, failure: Callable[[int], str]) -> None:
        self.count = 0 if progressed else self.count + 1
        if self.count > self.client.retries:
            raise TransportError(failure(self.count), "retry later, or raise --retries")
        if self.count:
            self.client.pause_before_retry(self.count - 1, None, f"resume of {self.what}: {reason}")


def _shutdown_socket(response: httpx.Response) -> None:
    stream = response.extensions.get("network_stream")
    try:
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, AttributeError):
        pass


# --- one blob -------------------------------------------------------------------------------
class _Download:
    """What has been received of one blob so far: byte count and running hash.

    Every byte is hashed exactly once: while the recorder's tap hashes the very
    bytes of a sha256 blob's first response, the download borrows that hash
    instead of computing its own; a resumed attempt continues from a copy of it.
    """

    def __init__(self, digest: str, size: int, what: str) -> None:
        self.digest = digest
        self.size = size
        self.what = what
        self.received = 0
        self.hasher: Any = None
        self._tap: BodyTap | None = None

    def start(self, tap: BodyTap | None, skip: int) -> None:
        """Before reading a response: borrow its tap's hash, or make sure we hash ourselves."""
        if tap is not None and self.received == 0 and skip == 0 and self.hasher is None and self.digest.startswith("sha256:"):
            self._tap = tap
            return
        if self._tap is not None:  # the tap saw exactly what we took so far: continue from its state
            self.hasher, self._tap = self._tap.hasher_copy(), None
        elif self.hasher is None:
            self.hasher = digests.hasher(self.digest)

    def take(self, chunk: bytes, sink: BlobSink, progress: Progress) -> None:
        if self.received + len(chunk) > self.size:
            raise DigestMismatch(
                f"{self.what} {digests.short(self.digest)} is larger than its descriptor says ({self.size} bytes)",
                "the registry's copy is corrupt or the manifest is wrong",
            )
        self.received += len(chunk)
        if self._tap is None:
            self.hasher.update(chunk)
        sink.write(chunk)
        progress.advance(self.digest, len(chunk))

    def hexdigest(self) -> str:
        if self._tap is not None:
            return self._tap.sha256_hex()
        return (self.hasher or digests.hasher(self.digest)).hexdigest()

    def verify(self) -> None:
        actual = f"{self.digest.split(':', 1)[0]}:{self.hexdigest()}"
        if self.received != self.size or actual != self.digest:
            raise DigestMismatch(
                f"{self.what} {digests.short(self.digest)}: got {self.received} bytes hashing to "
                f"{digests.short(actual)}, expected {self.size} bytes with digest {self.digest}",
                "the registry's copy is corrupt (or was tampered with); nothing was kept",
            )


def fetch_blob(
    client: RegistryClient,
    repository: str,
    desc: Descriptor,
    *,
    what: str,
    context: str,
    open_sink: Callable[[str, int], Any] | None = None,
    progress: Progress | None = None,
    transfers: Transfers | None = None,
) -> int:
    """Download one blob, resuming after interruptions and verifying size and digest; returns the byte count.

    ``open_sink(digest, size)`` returns a context manager yielding a writer
    (e.g. ``OciLayoutWriter.blob_writer``); by default bytes are discarded
    after verification.
    """
    digest, size = check_descriptor(desc, what)
    progress = progress or NullProgress()
    transfers = transfers or Transfers()
    transfers.check()
    download = _Download(digest, size, what)
    progress.start(digest, what, size)
    try:
        with transfers.sink(open_sink(digest, size) if open_sink else _NoSink()) as sink:
            _receive(client, repository, download, sink, progress, transfers, context)
            download.verify()
    except BaseException:
        progress.finish(digest, "failed")
        raise
    progress.finish(digest)
    return download.received


def _receive(
    client: RegistryClient,
    repository: str,
    download: _Download,
    sink: BlobSink,
    progress: Progress,
    transfers: Transfers,
    context: str,
) -> None:
    """Read the blob into ``sink``, resuming by Range until every byte arrived or retries ran out."""
    use_range = True
    interruptions = Interruptions(client, download.what)
    while True:
        before = download.received
        try:
            with client.open_blob(
                repository, download.digest, context=context, offset=before if use_range else 0
            ) as response, transfers.watching(response):
                if before and response.status_code == 206 and not _range_matches(response, before, download.size):
                    use_range = False  # not the range we asked for: read it all again instead
                    reason = f"unexpected Content-Range {response.headers.get('content-range')!r}"
                else:
                    held = 0 if response.status_code == 206 else before  # a 200 starts again at byte 0
                    download.start(client.recorded_body(response), held)
                    _append(response, download, sink, progress, transfers, skip=held)
                    if download.received >= download.size:
                        return
                    reason = f"body ended after {download.received} of {download.size} bytes"
        except INTERRUPTIONS as exc:
            transfers.check()
            if download.received == download.size:
                return  # every byte arrived; the body only claimed more (verification decides)
            reason = f"{type(exc).__name__}: {exc}"
        interruptions.record(download.received > before, reason, lambda count: (
            f"{download.what} {digests.short(download.digest)} of {context}: download interrupted "
            f"{count} times without progress ({reason}); got {download.received} of {download.size} bytes"
        ))


def _append(
    response: httpx.Response,
    download: _Download,
    sink: BlobSink,
    progress: Progress,
    transfers: Transfers,
    *,
    skip: int,
) -> None:
    """Feed the body to ``download``, dropping its first ``skip`` bytes (already held from an earlier attempt)."""
    for chunk in response.iter_bytes():
        transfers.check()
        if skip:
            dropped = min(skip, len(chunk))
            chunk, skip = chunk[dropped:], skip - dropped
        if chunk:
            download.take(chunk, sink, progress)


def _range_matches(response: httpx.Response, offset: int, size: int) -> bool:
    """A 206 answers ``bytes=<offset>-`` only when its Content-Range starts there and agrees on the size."""
    value = response.headers.get("content-range")
    if value is None:
        return False
    try:
        first, last, total = headers.parse_content_range(value)
    except MalformedHeader:
        return False
    return first == offset and total in (None, size) and last < size


def fetch_blob_bytes(
    client: RegistryClient, repository: str, desc: Descriptor, *, what: str, context: str, limit: int = CONFIG_LIMIT
) -> bytes:
    """A small blob (the config) in memory, verified."""
    _digest, size = check_descriptor(desc, what)
    if size > limit:
        raise ManifestError(f"{what} is {size} bytes, more than the {limit >> 20} MiB allowed for it")
    buffer = bytearray()

    class _Buffer:
        def write(self, chunk: bytes) -> None:
            buffer.extend(chunk)

    class _Open:
        def __enter__(self) -> _Buffer:
            return _Buffer()

        def __exit__(self, *exc: object) -> None:
            return None

    fetch_blob(client, repository, desc, what=what, context=context, open_sink=lambda d, s: _Open())
    return bytes(buffer)
