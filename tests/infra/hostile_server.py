"""A scripted HTTP server on loopback: a hostile registry, a victim or a listener that records what arrives.

Rules: test infrastructure, standard library only. Routes are (method, path regex)
→ ``Answer``; the first matching route answers, else 404. An answer's body is
bytes, ``ENDLESS`` (zeros until the client hangs up) or a ``Drip`` (one byte every
``interval`` seconds); a ``DripHead`` drips the response head itself, forever; ``Raw`` bytes are the whole
answer, head included (the status in ``Answer`` is then ignored). Every request (method, target, headers, body) is kept in
``requests`` so a test can assert that no credential arrived:

    with HostileServer() as victim:
        victim.route("PUT", r"/manifests/", Answer(401, {"WWW-Authenticate": 'Basic realm="victim"'}))
        ... the client talks to something that names victim.url ...
        assert victim.credentials_seen(password) == []
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.infra.loopback import HeaderLookup, LoopbackServer, QuietHandler

__all__ = ["Answer", "Drip", "DripHead", "ENDLESS", "HostileServer", "Raw", "Received"]

ENDLESS = object()  # a body that never ends
_PIECE = b"\0" * 65536


@dataclass(frozen=True)
class Drip:
    """A body sent one ``piece`` (a byte) every ``interval`` seconds, ``total`` pieces in all, then ``tail``."""

    interval: float
    total: int = 1000
    piece: bytes = b"{"
    tail: bytes = b""


@dataclass(frozen=True)
class DripHead:
    """A response HEAD sent one byte every ``interval`` seconds: a status line, then a header that never ends."""

    interval: float


@dataclass(frozen=True)
class Raw:
    """Bytes written as the whole answer, status line and headers included (malformed on purpose), then close."""

    data: bytes


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = b""  # bytes, ENDLESS, a Drip, or a callable(server) -> bytes


@dataclass(frozen=True)
class Received(HeaderLookup):
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


class HostileServer(LoopbackServer):
    """Answers by script on 127.0.0.1; ``host_name`` (e.g. ``localhost``) makes it another origin."""

    thread_name = "hostile-server"
    quiet_errors = True

    def __init__(self, host_name: str = "127.0.0.1") -> None:
        self.host_name = host_name
        self.routes: list[tuple[str, re.Pattern[str], Answer | Callable[[Received], Answer]]] = []
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    def route(self, method: str, path: str, answer: Answer | Callable[[Received], Answer]) -> None:
        with self._lock:
            self.routes.append((method.upper(), re.compile(path), answer))

    def answer_for(self, request: Received) -> Answer:
        with self._lock:
            self.requests.append(request)
            routes = list(self.routes)
        for method, pattern, answer in routes:
            if method in (request.method, "*") and pattern.search(request.target):
                return answer(request) if callable(answer) else answer
        return Answer(404, {"Content-Type": "application/json"}, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')

    def seen(self, method: str | None = None, path: str = "") -> list[Received]:
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r.method == method) and re.search(path, r.target)]

    def credentials_seen(self, *secrets: str) -> list[str]:
        """Every request that carried an ``Authorization`` header or one of ``secrets`` (raw or base64'd)."""
        found = []
        for request in self.seen():
            raw = " ".join(f"{k}: {v}" for k, v in request.headers) + request.target
            raw += request.body.decode("latin-1")
            encoded = [base64.b64encode(s.encode()).decode() for s in secrets if s]
            if request.header("authorization") is not None or any(s and s in raw for s in (*secrets, *encoded)):
                found.append(f"{request.method} {request.target}")
        return found

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(_Handler):
            hostile = server

        return Handler


class _Handler(QuietHandler):
    hostile: HostileServer
    server_version = "hostile/1"

    def _serve(self) -> None:
        length = self.headers.get("Content-Length")
        body = b""
        if length and length.isdigit():
            body = self.rfile.read(int(length))
        elif (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            body = b"".join(_read_chunked(self.rfile))
        request = Received(self.command, self.path, list(self.headers.items()), body)
        answer = self.hostile.answer_for(request)
        content = answer.body(self.hostile) if callable(answer.body) else answer.body
        if isinstance(content, DripHead):
            self._drip_head(answer.status, content)
            return
        if isinstance(content, Raw):
            self.close_connection = True
            self.wfile.write(content.data)
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value.replace("{self}", self.hostile.url))
        if isinstance(content, bytes):
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)
            return
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for piece in _stream(content, self.hostile.stopping):
                self.wfile.write(piece)
                self.wfile.flush()
        except OSError:  # the client gave up: that is the point
            pass

    def _drip_head(self, status: int, drip: DripHead) -> None:
        self.close_connection = True
        try:
            self.wfile.write(f"HTTP/1.1 {status} OK\r\nX-Drip: ".encode())
            self.wfile.flush()
            while not self.hostile.stopping.wait(drip.interval):
                self.wfile.write(b"a")
                self.wfile.flush()
        except OSError:  # the client gave up: that is the point
            pass

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


def _stream(content: Any, stopping: threading.Event) -> Iterator[bytes]:
    if content is ENDLESS:
        while not stopping.is_set():
            yield _PIECE
        return
    assert isinstance(content, Drip), content
    for _ in range(content.total):
        if stopping.wait(content.interval):
            return
        yield content.piece
    if content.tail:
        yield content.tail


def _read_chunked(rfile: Any) -> Iterator[bytes]:
    while True:
        size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            rfile.readline()
            return
        yield rfile.read(size)
        rfile.readline()
