"""The proxy's WSGI application: forward one client request upstream, record it, stream the answer back.

Rule 1: no protocol decisions beyond routing (``routes.py``): the client's request
goes upstream as it came (less hop-by-hop headers, and less its credentials when the
target is neither the registry nor its realm); the answer comes back as it came, with
``Location``, ``Link`` and the ``realm`` of ``WWW-Authenticate`` routed through the proxy.
Rule 2: bodies stream both ways in blocks, never held whole: a blob of any size passes
with constant memory. The recording transport taps them on the way (hash, size, the
head of textual bodies), exactly as for regexplore's own requests.
Rule 3: recorded under the upstream URL (so hosts and roles come out as in a direct
trace), with the proxy URL the client used in the exchange's ``via``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from explorer.proxy.routes import CREDENTIAL_ROLES, Role, Routes
from explorer.recording.extensions import VIA_EXTENSION

__all__ = ["ProxyApp", "ViaRequest"]

BLOCK = 256 * 1024
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade", "host", "expect", "content-length",
})
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie"})


@dataclass(frozen=True)
class ViaRequest:
    """What the recorder stores in ``Exchange.via`` (it redacts ``url``)."""

    proxy: str
    url: str
    client: int


class _Answer:
    """The WSGI body: the upstream response's raw bytes in blocks; closing it closes the response."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        yield from self._response.iter_raw(BLOCK)

    def close(self) -> None:
        self._response.close()


class ProxyApp:
    """``app(environ, start_response)``: one forwarded, recorded exchange per client request."""

    def __init__(self, routes: Routes, transport: httpx.BaseTransport, *, timeout: float,
                 on_request: Callable[[], None] | None = None) -> None:
        self.routes = routes
        self.transport = transport
        self.timeout = {"connect": min(timeout, 30.0), "read": timeout, "write": timeout, "pool": timeout}
        self.on_request = on_request
        self._clients: dict[tuple[str, str], int] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.on_request is not None:
            self.on_request()
        target = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        try:
            url, role = self.routes.to_upstream(target)
        except LookupError as exc:
            return _plain(start_response, "404 Not Found", f"regexplore proxy: {exc}\n")
        method = environ["REQUEST_METHOD"]
        via = ViaRequest(self.routes.public, self.routes.public + target, self._client_number(environ))
        try:
            request = httpx.Request(
                method, url, headers=_request_headers(environ, role), content=_request_body(environ),
                extensions={VIA_EXTENSION: via, "timeout": self.timeout},
            )
        except (httpx.InvalidURL, ValueError):  # control characters in the target, a header httpx refuses
            return _plain(start_response, "400 Bad Request", "regexplore proxy: the request is not valid HTTP\n")
        try:
            response = self.transport.handle_request(request)
        except httpx.HTTPError as exc:
            return _plain(start_response, "502 Bad Gateway", f"regexplore proxy: upstream {url}: {exc}\n")
        start_response(f"{response.status_code} {_reason(response)}", self._answer_headers(response, url, role))
        return _Answer(response)

    def _answer_headers(self, response: httpx.Response, url: str, role: Role) -> list[tuple[str, str]]:
        out = []
        for raw_name, raw_value in response.headers.raw:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            lower = name.lower()
            if lower in HOP_BY_HOP and lower != "content-length":
                continue
            if lower == "location":
                value = self.routes.location(value, url, response.status_code, role)
            elif lower == "www-authenticate":
                value = self.routes.challenge(value, url, role)
            elif lower == "link":
                value = self.routes.link(value, url)
            out.append((name, value))
        return out

    def _client_number(self, environ: dict[str, Any]) -> int:
        key = (str(environ.get("REMOTE_ADDR")), str(environ.get("REMOTE_PORT")))
        with self._lock:
            if key not in self._clients:
                self._clients[key] = next(self._numbers)
            return self._clients[key]


def _request_headers(environ: dict[str, Any], role: Role) -> list[tuple[str, str]]:
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key == "CONTENT_TYPE":
            name = "Content-Type"
        else:
            continue
        lower = name.lower()
        if lower in HOP_BY_HOP or (lower in CREDENTIAL_HEADERS and role not in CREDENTIAL_ROLES):
            continue
        headers.append((name, value))
    length = environ.get("CONTENT_LENGTH")
    if length is not None:
        headers.append(("Content-Length", str(length)))
    return headers


def _request_body(environ: dict[str, Any]) -> Iterator[bytes] | bytes | None:
    length = environ.get("CONTENT_LENGTH")
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if length in (None, "0") and not chunked:
        return b"" if length == "0" else None
    stream = environ["wsgi.input"]

    def blocks() -> Iterator[bytes]:
        while block := stream.read(BLOCK):
            yield block

    return blocks()


def _reason(response: httpx.Response) -> str:
    reason = response.extensions.get("reason_phrase", b"")
    text = reason.decode("latin-1") if isinstance(reason, bytes) else str(reason)
    return text or response.reason_phrase or "Unknown"


def _plain(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
