"""A loopback listener that records every request it gets and answers what it is told: a hostile host.

Rules: test infrastructure, standard library only. Tests point a collection's hosts (registry,
token server, storage, "Other") at listeners and assert what reached each: :meth:`leaks`
finds a secret in a request line, a header, a body, or base64-decoded inside a header
(``Authorization: Basic …``), so "the canary reached no host" is one assertion.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.infra.loopback import LoopbackServer

__all__ = ["Heard", "RecordingListener"]

#: (method, path) → (status, headers, body) of the answer
Answer = Callable[[str, str], tuple[int, list[tuple[str, str]], bytes]]


@dataclass(frozen=True)
class Heard:
    """One request a listener got."""

    listener: str
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def texts(self) -> list[str]:
        """Everything the request carried, as text, with every base64-looking header word decoded too."""
        out = [self.method, self.path, self.body.decode("utf-8", "replace")]
        for key, value in self.headers:
            out += [key, value]
            for word in value.replace(",", " ").split():
                try:
                    out.append(base64.b64decode(word + "=" * (-len(word) % 4), validate=True).decode("utf-8", "replace"))
                except (binascii.Error, ValueError):
                    pass
        return out

    def carries(self, secret: str) -> bool:
        return any(secret in text for text in self.texts())


def _json_ok(method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return 200, [("Content-Type", "application/json")], b'{"token": "listener-token"}'


class RecordingListener(LoopbackServer):
    """``with RecordingListener("other", heard) as other:`` → requests to ``other.host`` land in ``heard``."""

    thread_name = "recording-listener"
    quiet_errors = True

    def __init__(self, name: str, heard: list[Heard], answer: Answer = _json_ok) -> None:
        self.name = name
        self.heard = heard
        self.answer = answer
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with listener.lock:
                    listener.heard.append(Heard(listener.name, self.command, self.path, list(self.headers.items()), body))
                status, headers, payload = listener.answer(self.command, self.path)
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        return Handler
