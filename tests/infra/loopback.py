"""The lifecycle every test server shares: a threaded HTTP server on loopback, started and stopped.

Rules: test infrastructure, standard library only. A subclass says which
request handler serves (``handler()``, usually a subclass bound to the server
object) and may override ``bind``/``host_name``/``thread_name``; clients reach
it at ``host`` (``host_name:port``), which may be ``localhost`` to make another
origin than ``127.0.0.1``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["HeaderLookup", "LoopbackServer", "QuietHandler"]


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, a 60 s idle timeout, and no access log on stderr."""

    protocol_version = "HTTP/1.1"
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class HeaderLookup:
    """``header(name)`` for a recorded request whose ``headers`` are (name, value) pairs."""

    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class LoopbackServer:
    bind = "127.0.0.1"
    host_name = "127.0.0.1"
    thread_name = "loopback-server"
    quiet_errors = False  # True: a dropped client connection prints nothing
    _httpd: ThreadingHTTPServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Any:
        httpd = ThreadingHTTPServer((self.bind, 0), self.handler())
        httpd.daemon_threads = True
        if self.quiet_errors:
            httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, args=(0.05,), name=self.thread_name, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, f"{type(self).__name__} not started"
        return int(self._httpd.server_address[1])

    @property
    def host(self) -> str:
        """``host_name:port``: the origin clients see."""
        return f"{self.host_name}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"
