"""A static file server playing the CDN behind the redirect registry variant.

Rules: test infrastructure, standard library only. It serves one directory (the
registry's storage root) over HTTP/1.1 with keep-alive on 127.0.0.1, reached by the
name ``localhost`` so it is another origin than the registry at ``127.0.0.1``.
GET and HEAD; ``Range: bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` (206 +
Content-Range, 416 when unsatisfiable; other Range forms are ignored: 200); files are sent with
``socket.sendfile``, which waits (up to the handler's timeout) while a slow client has not read what the
socket holds (a bare ``os.sendfile`` loop stopped there with ``EAGAIN``: bodies over ~4 MiB came cut).
Paths that leave the root are refused. The method, path and headers of every
request are kept in ``requests`` so tests can assert, e.g., that no
``Authorization`` header reached this host.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.infra.loopback import HeaderLookup, LoopbackServer, QuietHandler

__all__ = ["ServedRequest", "StaticServer"]

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class ServedRequest(HeaderLookup):
    method: str
    path: str
    headers: list[tuple[str, str]]
    status: int


class StaticServer(LoopbackServer):
    """Serve ``root`` on 127.0.0.1 (``host_name`` in URLs, default ``localhost``)."""

    def __init__(self, root: Path, host_name: str = "localhost") -> None:
        self.root = Path(root).resolve()
        self.host_name = host_name
        self.requests: list[ServedRequest] = []
        self._lock = threading.Lock()

    thread_name = "static-server"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(_StaticHandler):
            static_server = server

        return Handler

    def record(self, request: ServedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()


class _StaticHandler(QuietHandler):
    static_server: StaticServer
    server_version = "regexplore-test-cdn/1"

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def _serve(self, send_body: bool) -> None:
        path = self._resolve()
        if path is None:
            self._status_only(404)
            return
        size = path.stat().st_size
        start, end, status = 0, size - 1, 200
        range_header = (self.headers.get("Range") or "").strip()
        if _RANGE.fullmatch(range_header):  # other forms (several ranges, other units) are ignored
            parsed = _parse_range(range_header, size)
            if parsed is None:
                self._record(416)
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, end = parsed
            status = 206
        length = max(0, end - start + 1)
        self._record(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if send_body and length:
            with path.open("rb") as source:
                self.connection.sendfile(source, start, length)

    def _resolve(self) -> Path | None:
        """The file under the root this request names, or None (also for any escape)."""
        root = self.static_server.root
        relative = unquote(urlsplit(self.path).path).lstrip("/")
        if "\x00" in relative or any(part == ".." for part in relative.split("/")):
            return None
        candidate = (root / relative).resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
        return candidate

    def _status_only(self, status: int) -> None:
        self._record(status)
        body = b"not found\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _record(self, status: int) -> None:
        self.static_server.record(ServedRequest(self.command, self.path, list(self.headers.items()), status))


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range, or None when unsatisfiable."""
    match = _RANGE.fullmatch(value.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first_text, last_text = match.groups()
    if not first_text:
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            return None
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or last < first:
        return None
    return first, min(last, size - 1)
