"""Taps on message bodies: count, hash and keep the head of what streams past, buffering nothing.

Rule: no httpx knowledge beyond ``SyncByteStream``; no protocol. The recorder
puts a tap on every request and response body; a verified download may borrow
a tap's sha256 (``hasher_copy``) instead of hashing the same bytes again.
"""

from __future__ import annotations

import base64
import hashlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from explorer.trace import Body

if TYPE_CHECKING:
    from hashlib import _Hash as Hash  # typeshed's name for what hashlib.sha256() returns

__all__ = ["PARALLEL_HASH_FROM", "BodyTap", "TappedRequestStream", "TappedResponseStream"]


PARALLEL_HASH_FROM = 8 << 20  # bodies at least this big are hashed on a thread of their own


class _HashThread:
    """sha256 on a worker thread: hashlib releases the GIL, so hashing overlaps receiving and writing."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)  # at most 4 chunks in flight (1 MiB of 256 KiB reads)
        self._thread = threading.Thread(target=self._run, name="body-sha256", daemon=True)
        self._thread.start()
        self._done = False

    def _run(self) -> None:
        update, get = self._hash.update, self._queue.get
        while (chunk := get()) is not None:
            update(chunk)

    def update(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def settled(self) -> Hash:
        """The hash object once every chunk put so far is hashed (the thread ends)."""
        if not self._done:
            self._done = True
            self._queue.put(None)
            self._thread.join()
        return self._hash


class BodyTap:
    """Counts, hashes and (for text) keeps the head of a body as it streams past.

    ``parallel=True`` (big bodies) hashes on a worker thread; reading the hash
    (``sha256_hex``, ``hasher_copy``) then waits for it, and ends it.
    """

    def __init__(self, keep: int, *, parallel: bool = False) -> None:
        self.size = 0
        self._thread = _HashThread() if parallel else None
        self._hash: Hash | None = None if parallel else hashlib.sha256()
        self._keep = keep
        self._head = bytearray()
        self.complete = False

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._thread is not None:
            self._thread.update(chunk)
        else:
            self._hash.update(chunk)
        if len(self._head) < self._keep:
            self._head += chunk[: self._keep - len(self._head)]

    def _settled(self) -> Hash:
        if self._thread is not None:
            self._hash, self._thread = self._thread.settled(), None
        return self._hash

    def sha256_hex(self) -> str:
        return self._settled().hexdigest()

    def hasher_copy(self) -> Hash:
        """The running sha256 of every byte fed so far (a copy: the tap keeps hashing its own)."""
        return self._settled().copy()

    def close(self) -> None:
        """Let go of a tap whose hash will not be read (ends its hashing thread, if any)."""
        self._settled()

    def body(self, media_type: str | None, scrub: Callable[[str, str | None], str], *, binary: bool) -> Body:
        truncated = self.size > len(self._head)
        text = b64 = None
        if self._head and not binary:
            text = scrub(self._head.decode("utf-8", errors="replace"), media_type)
        elif self._head:
            b64 = base64.b64encode(bytes(self._head)).decode("ascii")
        return Body(
            size=self.size,
            sha256=self.sha256_hex(),
            media_type=media_type,
            text=text,
            base64=b64,
            truncated=truncated,
            complete=self.complete,
        )


class TappedResponseStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, tap: BodyTap, on_close: Callable[[], None]) -> None:
        self._inner = inner
        self._tap = tap
        self._on_close = on_close
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        feed = self._tap.feed
        for chunk in self._inner:
            feed(chunk)
            yield chunk
        self._tap.complete = True

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._inner.close()
        finally:
            self._on_close()


class TappedRequestStream(httpx.SyncByteStream):
    """Re-iterable: counts the request body each time it is sent (auth retries, 307s resend it)."""

    def __init__(self, inner: Any, tap_factory: Callable[[], BodyTap]) -> None:
        self._inner = inner
        self._tap_factory = tap_factory
        self.tap = tap_factory()

    def __iter__(self) -> Iterator[bytes]:
        self.tap.close()  # the previous attempt's tap (an auth retry or a 307 sends the body again)
        self.tap = tap = self._tap_factory()
        for chunk in self._inner:
            tap.feed(chunk)
            yield chunk
        tap.complete = True

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()
