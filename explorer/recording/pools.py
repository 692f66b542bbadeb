"""Connection pools whose response head has a deadline: httpcore's pool as an httpx transport.

Rule 1: public APIs only: ``httpcore.ConnectionPool`` with a ``network_backend``
(``httpcore.NetworkBackend``/``NetworkStream``), ``httpx.BaseTransport``,
``httpx.create_ssl_context``; httpcore's exceptions become httpx's of the same name.
Rule 2: the whole response head (status line and headers) must arrive within
the request's read timeout (``--timeout``), counted from the first read after the
request was sent: httpx's own read timeout only fires when bytes stop, so a
server dripping one header byte a second would hold a request forever. Over the
deadline the read raises ``ReadTimeout`` ("the response head … did not complete
within N s"), which is retried like any timeout. Bodies are not concerned: once the
head is in, ``bounded.GuardedTransport`` watches the body for stalls and drips.

How: the transport marks the thread as "waiting for a head" around the pool's
``handle_request`` (a ``ContextVar``; httpcore's sync pool reads the head in the
calling thread, and the body only after ``handle_request`` returned). The mark
binds to the connection the request is written to, and only reads of THAT
connection count against the deadline: a request body that reads another
response while it is sent (a copy streams the source's blob inside the
destination's PUT) reads that response at its own pace.

Rule 3: a body that streams is read up to ``BODY_READ`` (1 MiB) at a time, not
httpcore's fixed 64 KiB: a socket read returns what has arrived, up to the size
asked, and h11 takes data of any size (it keeps what lies beyond the current
event). A 200 MiB blob is then about 200 reads through httpcore, h11, the tap and
the writer instead of 3,200. The size asked starts at httpcore's for each response
and doubles only while reads come back full (a read allocates the size it asks
for: a fresh 1 MiB buffer for a 50 KiB body cost page faults per blob). The
connections streaming at once share ``READ_BUDGET`` (2 MiB): one or two read 1 MiB,
eight 256 KiB each, for peak RSS (8 layers of 24 MiB at ``--jobs 8``: 110 MiB
with 1 MiB each, 54 MiB at 256 KiB, 56 MiB with httpcore's 64 KiB). A response
head awaited under its deadline is read at httpcore's size. Once a read of
``BODY_READ`` comes back full, what reads free is kept for the next ones (``heap.py``:
a quarter of the page faults of the reading thread).
"""

from __future__ import annotations

import contextvars
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

from explorer.recording.heap import keep_freed_memory
from explorer.recording.sockets import adopt, connect

__all__ = ["BODY_READ", "HeadDeadline", "Pool"]

BODY_READ = 1 << 20  # at most this many bytes asked of the socket per read of a body (rule 3)
READ_BUDGET = 2 << 20  # ... shared by the connections streaming a body at once

# httpcore exception -> httpx exception of the same meaning (the most specific first)
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


class HeadDeadline:
    """The deadline of one response head: ``limit`` seconds from its first read."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.deadline: float | None = None
        self.received = 0
        self.stream: httpcore.NetworkStream | None = None  # the connection the request was written to

    def bound(self, timeout: float | None) -> float:
        """The timeout for the next read: what is left of the deadline (arming it on the first read)."""
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self.limit
        left = self.deadline - now
        if left <= 0:
            raise httpcore.ReadTimeout(self.message())
        return left if timeout is None else min(timeout, left)

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def message(self) -> str:
        return f"the response head did not complete within {self.limit:g} s ({self.received} bytes arrived)"


_HEAD: contextvars.ContextVar[HeadDeadline | None] = contextvars.ContextVar("regexplore_head", default=None)


class _Streaming:
    """How many connections stream a body right now: they share ``READ_BUDGET`` (rule 3)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def share(self) -> int:
        """The most one connection may ask for per read now."""
        return min(BODY_READ, READ_BUDGET // max(1, self.count))

    def join(self, stream: _Stream) -> None:
        with self._lock:
            if not stream.streaming:
                stream.streaming = True
                self.count += 1

    def leave(self, stream: _Stream) -> None:
        with self._lock:
            if stream.streaming:
                stream.streaming = False
                self.count -= 1


_STREAMING = _Streaming()


class _Stream(httpcore.NetworkStream):
    """A connection's stream: reads made while a head is awaited stop at its deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner
        self._size = 0  # bytes a body read asks for: grows while reads come back full (rule 3)
        self.streaming = False  # counted in _STREAMING
        self._addresses: dict[str, Any] = {}  # client_addr, server_addr: asked by the recorder per exchange

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        head = _HEAD.get()
        if head is None or head.stream is not self:  # not the head this thread awaits: a body
            size = max(max_bytes, min(self._size, _STREAMING.share()))
            data = self.inner.read(size, timeout)
            if len(data) == size:
                if size < BODY_READ:
                    if not self.streaming:
                        _STREAMING.join(self)
                    self._size = min(2 * size, BODY_READ)
                else:  # a big body, read at full size: what its reads free is kept for the next ones
                    keep_freed_memory()
            return data
        try:
            data = self.inner.read(max_bytes, head.bound(timeout))
        except httpcore.ReadTimeout:
            if head.expired():
                raise httpcore.ReadTimeout(head.message()) from None
            raise
        head.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        head = _HEAD.get()
        if head is not None:
            head.stream = self
        if self._size:  # a new request: its response is read at httpcore's size until it streams
            self._size = 0
            _STREAMING.leave(self)
        self.inner.write(buffer, timeout)

    def close(self) -> None:
        _STREAMING.leave(self)
        self.inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self.inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info not in ("client_addr", "server_addr"):
            return self.inner.get_extra_info(info)
        if info not in self._addresses:  # a connection's addresses do not change: one system call each
            self._addresses[info] = self.inner.get_extra_info(info)
        return self._addresses[info]


class _Backend(httpcore.NetworkBackend):
    """Connections as httpcore's sync backend makes them (``sockets.connect``: without loading the idna
    codec), taking first those ``preconnect`` opened (with ``tls``: those that shook hands with the
    pool's context too, see ``tls.py``); unix sockets are httpcore's."""

    def __init__(self, tls: str | None = None) -> None:
        self.inner = httpcore.SyncBackend()
        self.tls = tls

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        early = adopt(host, port, timeout, self.tls) if local_address is None and not socket_options else None
        if early is not None:  # opened while the command was still importing (``preconnect.py``)
            return _Stream(early)
        return _Stream(connect(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _Stream(self.inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def _as_httpx(exc: Exception) -> Exception:
    for source, target in _EXCEPTIONS:
        if isinstance(exc, source):
            return target(str(exc))
    return exc


class _Body(httpx.SyncByteStream):
    def __init__(self, inner: Iterable[bytes]) -> None:
        self.inner = inner

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.inner
        except Exception as exc:
            mapped = _as_httpx(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


class Pool(httpx.BaseTransport):
    """HTTP/1.1 keep-alive pool (``verify``: an SSL context or True/False as httpx takes it; ``tls``: the
    kind of ``tls.py`` that context is, whose early handshakes the pool may adopt)."""

    def __init__(self, *, verify: ssl.SSLContext | bool, limits: httpx.Limits, tls: str | None = None) -> None:
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(tls),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        timeouts = request.extensions.get("timeout") or {}
        limit = timeouts.get("read")
        mark = _HEAD.set(HeadDeadline(limit) if limit else None)
        try:
            response = self._pool.handle_request(httpcore.Request(
                method=request.method,
                url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port,
                                 target=request.url.raw_path),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            ))
        except Exception as exc:
            mapped = _as_httpx(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        finally:
            _HEAD.reset(mark)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_Body(response.stream), extensions=response.extensions)

    def close(self) -> None:
        self._pool.close()
