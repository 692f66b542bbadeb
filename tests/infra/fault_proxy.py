"""A fault-injecting HTTP/1.1 reverse proxy on loopback, in front of a real registry (or CDN, token server).

Rules: test infrastructure; standard library plus ``tests.infra.faults`` (the
rule vocabulary) and ``tests.infra.network`` (the TLS certificate). It knows
nothing about regexplore. Threaded, keep-alive, bodies streamed chunk by chunk;
every request is kept in ``seen``, failures of the proxy itself in ``errors``
(connections) and ``bugs`` (tracebacks: the tests' fixture fails on any).

    proxy = FaultProxy(registry.url).start()
    proxy.add(Rule(Reset(after=4096), method="GET", path=r"/blobs/sha256:", times=1))
    ... client talks to proxy.host ...
    proxy.stop()

A ``Rule`` matches a request by method, a regex searched in the path+query, and
which occurrences of that match it applies to (``skip`` the first ones, then
``times`` of them; ``times=None``: every one). Each matching rule contributes
its faults, applied in this order:

    request side   EditRequest (drop/set request headers), ResetRequest (cut the
                   upload after N body bytes; never forwarded)
    answer         Respond (synthesised, the upstream is never asked), EchoRequest
                   (synthesised from the request: its line and headers echoed),
                   RejectStaleBearer (an expired JWT gets the upstream's own
                   challenge + error="invalid_token"), else the upstream answers
    response edit  Rewrite (status, headers set/added/dropped, body replaced,
                   or any edit function), WrongLength (declare another Content-Length)
    delivery       DropResponse (reset instead of answering), Stall (before the
                   headers or after N body bytes), Throttle (chunk + delay),
                   Truncate (close cleanly after N bytes), Reset (RST after N bytes)

Origins: ``Location``, ``Content-Location``, ``Link`` and ``WWW-Authenticate``
values naming the upstream origin are rewritten to the proxy's origin, plus any
extra ``rewrites`` (e.g. the CDN origin → a second proxy in front of the CDN, or
the token realm → a proxy in front of the token server), so clients keep
coming back through the proxies. ``Host`` is sent upstream as the upstream's own.

TLS: with ``tls=True`` the proxy speaks BOTH https (self-signed certificate for
127.0.0.1/localhost) and plain http on the same port, telling them apart by the
first byte (a TLS handshake starts with 0x16): that makes a real https → http
downgrade to the same host and port possible.
"""

from __future__ import annotations

import fcntl
import http.client
import re
import socket
import ssl
import struct
import termios
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from tests.infra.faults import (
    DropResponse,
    EchoRequest,
    EditRequest,
    Fault,
    ProxyResponse,
    RejectStaleBearer,
    Reset,
    ResetRequest,
    Respond,
    Rewrite,
    Rule,
    Seen,
    Stall,
    Throttle,
    Truncate,
    WrongLength,
    apply_rewrite,
    bearer_expired,
    close_body,
)
from tests.infra.network import self_signed_context

from tests.infra.loopback import LoopbackServer

__all__ = ["FaultProxy"]

CHUNK = 64 * 1024
SETTLE = 0.05  # seconds between the last bytes sent and a reset where the send queue cannot be read
DRAIN_LIMIT = 10.0  # seconds a reset waits at most for the client to acknowledge the bytes sent before it
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
     "proxy-authenticate"}
)
_ORIGIN_HEADERS = frozenset({"location", "content-location", "link", "www-authenticate"})


class _Abort(Exception):
    """The connection was reset or closed on purpose; stop handling it."""


# --- the proxy ---------------------------------------------------------------------------------
class FaultProxy(LoopbackServer):
    """Reverse proxy for ``upstream`` (``http://host:port``) on ``bind``; ``url``/``host`` name it."""

    def __init__(
        self,
        upstream: str,
        *,
        host_name: str = "127.0.0.1",
        bind: str = "127.0.0.1",
        rewrites: dict[str, str] | None = None,
        tls: bool = False,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream_netloc = parts.netloc
        self.upstream_origin = f"{parts.scheme}://{parts.netloc}"
        self.host_name = host_name
        self.bind = bind
        self.extra_rewrites = dict(rewrites or {})
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self.errors: list[str] = []  # connection failures (upstream unreachable, client gone)
        self.bugs: list[str] = []  # tracebacks of the proxy's own exceptions: must stay empty
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._tls_context = self_signed_context(host_name, bind) if tls else None

    # -- lifecycle -------------------------------------------------------------------------
    thread_name = "fault-proxy"
    quiet_errors = True

    def handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(_ProxyHandler):
            fault_proxy = proxy

        return Handler

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    @property
    def https_url(self) -> str:
        return f"https://{self.host}"

    # -- rules and observations ------------------------------------------------------------
    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def remove(self, rule: Rule) -> None:
        with self._lock:
            self.rules.remove(rule)

    def requests(self, method: str | None = None, path: str = "") -> list[Seen]:
        with self._lock:
            return [
                s for s in self.seen
                if (method is None or s.method == method) and (not path or re.search(path, s.target))
            ]

    def _faults_for(self, method: str, target: str) -> list[Fault]:
        with self._lock:
            return [f for rule in self.rules if rule.take(method, target) for f in rule.faults()]

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def rewrite_origins(self, value: str, scheme: str) -> str:
        own = f"{scheme}://{self.host}"
        value = value.replace(self.upstream_origin, own)
        for old, new in self.extra_rewrites.items():
            value = value.replace(old, new)
        return value


class _ProxyHandler(BaseHTTPRequestHandler):
    fault_proxy: FaultProxy
    protocol_version = "HTTP/1.1"
    server_version = "regexplore-fault-proxy/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # -- TLS sniffing ----------------------------------------------------------------------
    def setup(self) -> None:
        self.scheme = "http"
        context = self.fault_proxy._tls_context
        if context is not None:
            try:
                first = self.request.recv(1, socket.MSG_PEEK)
            except OSError:
                first = b""
            if first == b"\x16":
                self.request.settimeout(10)
                try:
                    self.request = context.wrap_socket(self.request, server_side=True)
                except (OSError, ssl.SSLError):
                    self.request.close()
                    raise _Abort from None
                self.request.settimeout(None)
                self.scheme = "https"
        super().setup()

    def handle(self) -> None:
        try:
            super().handle()
        except _Abort:
            self.close_connection = True
        except (OSError, http.client.HTTPException) as exc:  # kept: a test can tell a fault from a proxy failure
            self.fault_proxy.errors.append(f"{self.command} {self.path}: {type(exc).__name__}: {exc}")
            self.close_connection = True
        except Exception:  # a bug of the proxy itself: the `proxies` fixture fails the test with it
            self.fault_proxy.bugs.append(traceback.format_exc())
            self.close_connection = True

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        if self.scheme == "https":  # the server closes the plain socket it knows, not our TLS wrapper
            self.request.close()

    def do_GET(self) -> None:
        self._proxy()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # -- one request -----------------------------------------------------------------------
    def _proxy(self) -> None:
        proxy = self.fault_proxy
        method = self.command
        headers = [(k, v) for k, v in self.headers.items()]
        faults = proxy._faults_for(method, self.path)
        names = tuple(f.name for f in faults)

        for fault in faults:
            if isinstance(fault, ResetRequest):
                self._read_body(limit=fault.after)
                proxy._record(Seen(method, self.path, headers, None, names, fault.after, self.scheme))
                self._reset()
            if isinstance(fault, EditRequest):
                dropped = {name.lower() for name in fault.drop_headers} | {k.lower() for k in fault.set_headers}
                headers = [(k, v) for k, v in headers if k.lower() not in dropped] + list(fault.set_headers.items())
        body = self._read_body()

        response: ProxyResponse | None = None
        for fault in faults:
            if isinstance(fault, Respond):
                response = fault.response()
            elif isinstance(fault, EchoRequest):
                response = fault.response(method, self.path, headers)
            elif isinstance(fault, RejectStaleBearer) and bearer_expired(headers):
                fault.rejected += 1
                anonymous = [(k, v) for k, v in headers if k.lower() != "authorization"]
                response = self._forward(method, anonymous, body)
                challenge = response.header("www-authenticate")
                if response.status == 401 and challenge:
                    response.set_header("WWW-Authenticate", challenge + ',error="invalid_token"')
        if response is None:
            response = self._forward(method, headers, body)
        original_body = response.body
        response.headers = [
            (k, proxy.rewrite_origins(v, self.scheme) if k.lower() in _ORIGIN_HEADERS else v)
            for k, v in response.headers
        ]
        declared: str | None = None
        for fault in faults:
            if isinstance(fault, Rewrite):
                try:
                    apply_rewrite(response, fault)
                except BaseException:
                    close_body(original_body)
                    raise
            elif isinstance(fault, WrongLength):
                declared = str(fault.length)
        proxy._record(Seen(method, self.path, headers, response.status, names, len(body), self.scheme,
                           tuple(response.headers)))
        try:
            self._deliver(method, response, faults, declared)
        finally:
            close_body(response.body)
            close_body(original_body)

    def _read_body(self, limit: int | None = None) -> bytes:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
                if limit is not None and len(data) >= limit:
                    return bytes(data[:limit])
        if not length:
            return b""
        wanted = int(length) if limit is None else min(int(length), limit)
        return self.rfile.read(wanted)

    def _forward(self, method: str, headers: list[tuple[str, str]], body: bytes) -> ProxyResponse:
        proxy = self.fault_proxy
        upstream = http.client.HTTPConnection(proxy.upstream_netloc, timeout=60)
        upstream.putrequest(method, self.path, skip_host=True, skip_accept_encoding=True)
        upstream.putheader("Host", proxy.upstream_netloc)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and name.lower() not in ("host", "content-length"):
                upstream.putheader(name, value)
        if body or method in ("POST", "PUT", "PATCH"):
            upstream.putheader("Content-Length", str(len(body)))
        upstream.endheaders(body or None)
        answer = upstream.getresponse()
        out_headers = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
        response = ProxyResponse(answer.status, answer.reason, out_headers, _UpstreamBody(answer, upstream))
        if answer.getheader("Content-Length") is None and method != "HEAD" and answer.status not in (204, 304):
            response.set_header("Content-Length", str(len(response.read_body())))  # upstream was chunked
        return response

    # -- delivery ----------------------------------------------------------------------------
    def _deliver(self, method: str, response: ProxyResponse, faults: list[Fault], declared: str | None) -> None:
        stopping = self.fault_proxy.stopping
        for fault in faults:
            if isinstance(fault, DropResponse):
                self._reset()
            if isinstance(fault, Stall) and fault.after is None:
                stopping.wait(fault.seconds)
        truncate = next((f for f in faults if isinstance(f, Truncate)), None)
        if truncate is not None and truncate.fix_length:
            declared = str(truncate.after)
        if declared is not None:
            response.set_header("Content-Length", declared)
        close_after = declared is not None or truncate is not None or response.header("content-length") is None
        if close_after:
            response.set_header("Connection", "close")
            self.close_connection = True
        self.send_response_only(response.status, response.reason)
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if method == "HEAD":
            close_body(response.body)
            self.wfile.flush()
            return

        reset = next((f for f in faults if isinstance(f, Reset)), None)
        stall = next((f for f in faults if isinstance(f, Stall) and f.after is not None), None)
        throttle = next((f for f in faults if isinstance(f, Throttle)), None)
        cut = reset.after if reset is not None else (truncate.after if truncate is not None else None)
        piece = throttle.chunk if throttle is not None else CHUNK
        sent = 0
        try:
            for chunk in _pieces(response.body, piece):
                if stall is not None and sent <= stall.after < sent + len(chunk):  # type: ignore[operator]
                    split = stall.after - sent  # type: ignore[operator]
                    self.wfile.write(chunk[:split])
                    self.wfile.flush()
                    sent += split
                    chunk = chunk[split:]
                    stopping.wait(stall.seconds)
                    stall = None
                if cut is not None and sent + len(chunk) >= cut:
                    self.wfile.write(chunk[: cut - sent])
                    sent = cut
                    break
                self.wfile.write(chunk)
                sent += len(chunk)
                if throttle is not None:
                    self.wfile.flush()
                    if stopping.wait(throttle.delay):
                        raise _Abort
            self.wfile.flush()
        finally:
            close_body(response.body)
        if reset is not None:
            _drained(self.connection)
            self._reset()
        if close_after:
            self.close_connection = True

    def _reset(self) -> None:
        try:
            self.wfile.flush()
        except OSError:
            pass
        raw = self.connection
        try:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()
        except OSError:
            pass
        self.close_connection = True
        raise _Abort


def _drained(raw: socket.socket) -> None:
    """Wait until the client's kernel has acknowledged every byte sent (the send queue empty, Linux's
    ``SIOCOUTQ``), at most ``DRAIN_LIMIT`` seconds. An abortive close drops what is still queued, while
    what the client's kernel holds stays readable before the reset's error: a reset after N bytes then
    delivers exactly N. A fixed 50 ms pause lost some of 300,000 bytes on a loaded machine."""
    deadline = time.monotonic() + DRAIN_LIMIT
    while time.monotonic() < deadline:
        try:
            queued = struct.unpack("i", fcntl.ioctl(raw.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
        except (OSError, ValueError):  # not a Linux socket, or closed: the old pause
            time.sleep(SETTLE)
            return
        if queued == 0:
            return
        time.sleep(0.001)


class _UpstreamBody:
    """The upstream's body as chunks; ``close()`` closes the upstream connection even if never read."""

    def __init__(self, answer: http.client.HTTPResponse, connection: http.client.HTTPConnection) -> None:
        self._answer = answer
        self._connection = connection

    def __iter__(self) -> Iterator[bytes]:
        try:
            while chunk := self._answer.read1(CHUNK):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self._answer.close()
        self._connection.close()


def _pieces(body: bytes | Iterable[bytes], size: int) -> Iterator[bytes]:
    if isinstance(body, bytes):
        for start in range(0, len(body), size):
            yield body[start : start + size]
        return
    for chunk in body:
        for start in range(0, len(chunk), size):
            yield chunk[start : start + size]
