"""Bounded and timely responses: bodies held in memory are capped, a connection that stalls fails.

Rules:
- every body read into memory goes through ``read_capped`` (the caller's limit:
  manifests 4 MiB, pings/pages/upload answers ``HELD_LIMIT``, tokens
  ``TOKEN_LIMIT``, error bodies 64 KiB); a longer body is ``BodyTooLarge``, a
  clean error, never a ``MemoryError``;
- the bodies httpx reads by itself (a redirect's, a 401's before the auth flow
  answers it, a proxy's 407) are capped by ``GuardedTransport`` at
  ``INTERMEDIATE_LIMIT``, and so is any request carrying ``LIMIT_EXTENSION``
  (the auth flow's token requests, whose responses httpx reads too);
- a response body that delivers fewer than ``STALL_BYTES`` bytes in ``stall``
  seconds raises ``httpx.ReadTimeout``, like silence does (httpx's read timeout
  only fires when bytes stop completely; a server that drips one byte every
  20 s would otherwise hold a pull forever). The request is retried as usual;
- a declared length counts only where a body can follow (``declared_length``): the
  answer to a HEAD declares the size of what a GET would return (a blob's HEAD 200
  says 200 MiB and carries nothing), and a 1xx, 204 or 304 has no body either
  (RFC 9110 section 6.4.1).

The response head (status line and headers) has its own deadline, the same
``--timeout`` counted from its first byte awaited: ``explorer/recording/pools.py`` keeps it in
the connection's network stream, below httpx (and h11 caps a head at 64 KiB).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import httpx

from explorer.errors import ProtocolViolation
from explorer.protocol import headers
from explorer.recording.extensions import BODY_TAP_EXTENSION, LIMIT_EXTENSION

if TYPE_CHECKING:
    from explorer.recording.taps import BodyTap

__all__ = [
    "BodyTooLarge",
    "GuardedTransport",
    "HELD_LIMIT",
    "INTERMEDIATE_LIMIT",
    "STALL_BYTES",
    "TOKEN_LIMIT",
    "declared_length",
    "read_capped",
]

HELD_LIMIT = 4 * 1024 * 1024  # pings, tag/catalog/referrers pages, upload answers (as manifests)
TOKEN_LIMIT = 1024 * 1024  # token responses: a JWT is a few KiB
INTERMEDIATE_LIMIT = 64 * 1024  # 3xx, 401, 407 bodies httpx reads before following or answering
STALL_BYTES = 1024  # fewer than this many bytes in one timeout window: the connection stalled
_READ_BY_HTTPX = frozenset({301, 302, 303, 307, 308, 401, 407})
_NO_BODY = frozenset({204, 304})  # and every 1xx


class BodyTooLarge(ProtocolViolation):
    """A response body beyond the ``limit`` its request allowed; ``size`` is the declared length if any."""

    def __init__(self, size: int | None, limit: int | None = None, where: str | None = None) -> None:
        place = f" from {where}" if where else ""
        cap = f"the limit of {limit} bytes" if limit else "its limit"
        what = f"is {size} bytes, over {cap}" if size is not None else f"goes beyond {cap}"
        super().__init__(
            f"the response body{place} {what}; refusing it",
            "the server sent far more than this answer can hold: check the registry (or a proxy in front of it)",
        )
        self.size = size
        self.limit = limit


def declared_length(request: httpx.Request, response: httpx.Response) -> int | None:
    """The length of the body that follows ``response``'s head, as its Content-Length declares it; None
    when it declares none (or not a number), and when no body can follow: the answer to a HEAD, a 1xx,
    a 204 or a 304, whatever length they declare."""
    if request.method == "HEAD" or response.status_code < 200 or response.status_code in _NO_BODY:
        return None
    return headers.parse_content_length(response.headers.get("content-length"))


def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The body of a streamed ``response``, at most ``limit`` bytes (``BodyTooLarge`` beyond); closes it."""
    where = f"{response.request.url.scheme}://{response.request.url.netloc.decode('ascii')}"
    try:
        declared = declared_length(response.request, response)
        if declared is not None and declared > limit:
            raise BodyTooLarge(declared, limit, where)
        data = bytearray()
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > limit:
                raise BodyTooLarge(None, limit, where)
        return bytes(data)
    finally:
        response.close()


class _GuardedStream(httpx.SyncByteStream):
    """A response body that fails when it stalls (``stall`` seconds) or, with ``cap``, grows beyond it;
    the recorder's ``tap`` of that body, if any, learns why it ended (the trace's ``error``)."""

    def __init__(
        self, inner: httpx.SyncByteStream, *, stall: float | None, cap: int | None, where: str,
        declared: int | None = None, clock: Callable[[], float] = time.monotonic, tap: BodyTap | None = None,
    ) -> None:
        self.inner = inner
        self.declared = declared
        self.stall = stall
        self.cap = cap
        self.where = where
        self.clock = clock
        self.tap = tap

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._guarded()
        except (BodyTooLarge, httpx.ReadTimeout) as exc:
            if self.tap is not None and self.tap.broken is None:
                self.tap.broken = exc
            raise

    def _guarded(self) -> Iterator[bytes]:
        if self.cap is not None and self.declared is not None and self.declared > self.cap:
            raise BodyTooLarge(self.declared, self.cap, self.where)
        window_start, window_bytes, total = self.clock(), 0, 0
        for chunk in self.inner:
            total += len(chunk)
            if self.cap is not None and total > self.cap:
                raise BodyTooLarge(None, self.cap, self.where)
            window_bytes += len(chunk)
            now = self.clock()
            if window_bytes >= STALL_BYTES:
                window_start, window_bytes = now, 0
            elif self.stall is not None and now - window_start > self.stall:
                raise httpx.ReadTimeout(
                    f"the response from {self.where} stalled: {window_bytes} bytes in {now - window_start:.0f} s"
                )
            yield chunk

    def close(self) -> None:
        self.inner.close()


class GuardedTransport(httpx.BaseTransport):
    """Wraps the recording transport: response bodies get the stall rule, intermediate ones a cap."""

    def __init__(
        self, inner: httpx.BaseTransport, stall: float | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.inner = inner
        self.stall = stall
        self.clock = clock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        cap = request.extensions.get(LIMIT_EXTENSION)
        if response.status_code in _READ_BY_HTTPX:
            cap = min(cap or INTERMEDIATE_LIMIT, INTERMEDIATE_LIMIT)
        where = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        # the declared length matters only against a cap (not for a blob's body)
        declared = declared_length(request, response) if cap is not None else None
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_GuardedStream(stream, stall=self.stall, cap=cap, where=where, declared=declared, clock=self.clock,
                                  tap=response.extensions.get(BODY_TAP_EXTENSION)),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.inner.close()
