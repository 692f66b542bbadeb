"""Verified blob download: stream, count, hash, compare with the descriptor, then keep or discard.

Rule: a blob is accepted only when its size AND digest equal its descriptor's;
a digest is validated against the grammar before it is used in a URL or a file
name; a blob that fails verification leaves no file under its final name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from explorer.client import RegistryClient
from explorer.errors import DigestMismatch, ManifestError
from explorer.progress import NullProgress, Progress
from explorer.protocol import digest as digests

__all__ = ["BlobSink", "Descriptor", "check_descriptor", "fetch_blob", "fetch_blob_bytes"]

MAX_BLOB_SIZE = 1 << 40  # 1 TiB: anything above is an absurd descriptor, not an image
CONFIG_LIMIT = 16 * 1024 * 1024

Descriptor = dict[str, Any]


class BlobSink(Protocol):
    """Where verified bytes go (an OCI layout blob writer, a buffer, or nowhere)."""

    def write(self, chunk: bytes) -> Any: ...


class _Discard:
    def write(self, chunk: bytes) -> int:
        return len(chunk)


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


def fetch_blob(
    client: RegistryClient,
    repository: str,
    desc: Descriptor,
    *,
    what: str,
    context: str,
    open_sink: Callable[[str, int], Any] | None = None,
    progress: Progress | None = None,
) -> int:
    """Download one blob, verifying size and digest; returns the byte count.

    ``open_sink(digest, size)`` returns a context manager yielding a writer
    (e.g. ``OciLayoutWriter.blob_writer``); by default bytes are discarded
    after verification.
    """
    digest, size = check_descriptor(desc, what)
    progress = progress or NullProgress()
    hasher = digests.hasher(digest)
    received = 0
    progress.start(digest, what, size)
    sink_cm = open_sink(digest, size) if open_sink else None
    sink = sink_cm.__enter__() if sink_cm is not None else _Discard()
    try:
        with client.open_blob(repository, digest, context=context) as response:
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > size:
                    raise DigestMismatch(
                        f"{what} {digests.short(digest)} is larger than its descriptor says ({size} bytes)",
                        "the registry's copy is corrupt or the manifest is wrong",
                    )
                hasher.update(chunk)
                sink.write(chunk)
                progress.advance(digest, len(chunk))
        actual = f"{digest.split(':', 1)[0]}:{hasher.hexdigest()}"
        if received != size or actual != digest:
            raise DigestMismatch(
                f"{what} {digests.short(digest)}: got {received} bytes hashing to {digests.short(actual)}, "
                f"expected {size} bytes with digest {digest}",
                "the registry's copy is corrupt (or was tampered with); nothing was kept",
            )
    except BaseException as exc:
        if sink_cm is not None:
            sink_cm.__exit__(type(exc), exc, exc.__traceback__)
        progress.finish(digest, "failed")
        raise
    if sink_cm is not None:
        sink_cm.__exit__(None, None, None)
    progress.finish(digest)
    return received


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
