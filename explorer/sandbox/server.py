"""A small threaded HTTP/1.1 server for WSGI applications, on loopback.

Rule 1: built on ``http.server`` and ``socketserver``; it knows HTTP framing, nothing
about registries.
Rule 2: it exists because ``wsgiref`` speaks HTTP/1.0 only (no keep-alive) and
cannot read ``Transfer-Encoding: chunked`` request bodies, which Go clients
(skopeo, docker) send for streamed blob PATCHes.

What it does:

- one thread per connection, HTTP/1.1 keep-alive, idle connections closed after
  ``IDLE_TIMEOUT`` seconds;
- request bodies framed by ``Content-Length`` or decoded from chunked transfer
  coding; ``wsgi.input_terminated`` is set so applications may read to EOF;
- ``Expect: 100-continue`` is answered lazily, on the application's first read
  of the body (like Go's server), so a 401 to a big PUT costs no upload;
- responses with ``Content-Length`` are sent as they are, others chunked; a
  body returned through ``wsgi.file_wrapper`` goes out with ``sendfile(2)``
  (``SendfileBody`` sends exactly ``Content-Length`` bytes from the file's
  current position, so a ranged response only seeks first);
- quiet by default; ``access_log`` receives one line per request.
"""

from __future__ import annotations

import email.utils
import http.server
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterable
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from explorer.sandbox.request_body import RequestBody

__all__ = ["IDLE_TIMEOUT", "LoopbackServer", "SendfileBody"]

IDLE_TIMEOUT = 60.0
WRITE_BLOCK = 1024 * 1024
_DRAIN_LIMIT = 16 * 1024 * 1024  # unread request bodies up to this size are skipped to keep the connection

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SendfileBody:
    """The ``wsgi.file_wrapper`` of this server: a file sent with ``socket.sendfile``.

    It sends exactly the response's ``Content-Length`` bytes from the file's
    current position (``sends_content_length``), so ranges need only a seek.
    """

    sends_content_length = True

    def __init__(self, filelike: IO[bytes], block_size: int = WRITE_BLOCK) -> None:
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self) -> Any:  # the WSGI fallback, used only if the server cannot sendfile
        while True:
            block = self.filelike.read(self.block_size)
            if not block:
                return
            yield block

    def close(self) -> None:
        self.filelike.close()


class _GatewayHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    rbufsize = 256 * 1024
    server: _ThreadingServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def handle_expect_100(self) -> bool:
        self.expects_continue = True  # answered by RequestBody on the first read
        return True

    def handle_one_request(self) -> None:
        self.expects_continue = False
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._run_application()
        except (TimeoutError, ConnectionError, socket.timeout):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: errors from BaseHTTPRequestHandler go nowhere; see access_log for requests

    # --- the WSGI gateway ------------------------------------------------------------------

    def _run_application(self) -> None:
        transfer = self.headers.get("Transfer-Encoding", "").lower()
        chunked = "chunked" in transfer
        length_text = self.headers.get("Content-Length")
        try:
            length = None if chunked or length_text is None else int(length_text)
        except ValueError:
            self.send_error(400, "bad Content-Length")
            return
        if length is not None and length < 0:
            self.send_error(400, "bad Content-Length")
            return
        send_continue = self._send_continue if self.expects_continue else None
        body = RequestBody(self.rfile, length, chunked, send_continue)
        environ = self._environ(body, length)
        state: dict[str, Any] = {"sent": False, "status": 500}
        outgoing: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None and state["sent"]:
                raise exc_info[1].with_traceback(exc_info[2])
            outgoing["status"] = status
            outgoing["headers"] = list(headers)
            return self._write_raw

        try:
            result = self.server.app(environ, start_response)
        except Exception:  # the application failed before answering
            self.close_connection = True
            self._send_internal_error()
            return
        try:
            self._send_result(result, outgoing, state, body)
        except (ConnectionError, TimeoutError, socket.timeout):
            self.close_connection = True
        except Exception:
            self.close_connection = True
            if not state["sent"]:
                self._send_internal_error()
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not body.drain(_DRAIN_LIMIT):
            self.close_connection = True
        if self.server.access_log is not None:
            self.server.access_log(f'{self.address_string()} "{self.requestline}" {state["status"]}')

    def _environ(self, body: RequestBody, length: int | None) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": self.path,  # as sent, percent-escapes kept (a proxy forwards it unchanged)
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": body,
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": SendfileBody,
        }
        if length is not None:
            environ["CONTENT_LENGTH"] = str(length)
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_LENGTH":
                continue
            if key != "CONTENT_TYPE":
                key = "HTTP_" + key
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _send_result(
        self, result: Iterable[bytes], outgoing: dict[str, Any], state: dict[str, Any], body: RequestBody
    ) -> None:
        iterator = iter(()) if isinstance(result, SendfileBody) else iter(result)
        first = b""
        for block in iterator:  # WSGI: headers go out with the first non-empty block
            if block:
                first = block
                break
        status = str(outgoing.get("status", "500 Internal Server Error"))
        headers: list[tuple[str, str]] = outgoing.get("headers", [])
        code = int(status.split(" ", 1)[0])
        state["status"] = code
        names = {name.lower() for name, _ in headers}
        no_body = self.command == "HEAD" or code in (204, 304) or 100 <= code < 200
        chunked = False
        if "content-length" not in names and not no_body:
            headers.append(("Transfer-Encoding", "chunked"))
            chunked = True
        if "date" not in names:
            headers.append(("Date", email.utils.formatdate(usegmt=True)))
        if body.unanswered_continue:
            self.close_connection = True  # the client may still be deciding whether to send the body
        if self.close_connection:
            headers.append(("Connection", "close"))
        head = [f"HTTP/1.1 {status}\r\n"] + [f"{name}: {value}\r\n" for name, value in headers] + ["\r\n"]
        self._write_raw("".join(head).encode("latin-1"))
        state["sent"] = True
        if no_body:
            return
        if isinstance(result, SendfileBody):
            length = int(dict((n.lower(), v) for n, v in headers).get("content-length", "0"))
            file = result.filelike
            self.connection.sendfile(file, file.tell(), length)
            return
        for block in _prepend(first, iterator):
            if block:
                self._write_raw(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
        if chunked:
            self._write_raw(b"0\r\n\r\n")

    def _send_continue(self) -> None:
        self._write_raw(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _write_raw(self, data: bytes) -> None:
        self.wfile.write(data)

    def _send_internal_error(self) -> None:
        body = b"internal server error\n"
        self._write_raw(
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )


def _prepend(first: bytes, rest: Iterable[bytes]) -> Iterable[bytes]:
    if first:
        yield first
    yield from rest


class _ThreadingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: WSGIApp, access_log: Callable[[str], None] | None) -> None:
        self.app = app
        self.access_log = access_log
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _GatewayHandler)

    def server_bind(self) -> None:  # skip HTTPServer's getfqdn(), slow on some machines
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def track(self, connection: socket.socket, *, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class LoopbackServer:
    """A WSGI application served on ``host:port`` (port 0 = a free one) in a background thread.

        server = LoopbackServer(app).start()
        server.url      # "http://127.0.0.1:43121"
        server.close()
    """

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        url_host: str | None = None,
        access_log: Callable[[str], None] | None = None,
    ) -> None:
        self._server = _ThreadingServer((host, port), app, access_log)
        self.port: int = self._server.server_address[1]
        self.host = url_host or host
        self._thread: threading.Thread | None = None

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.netloc}"

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.close_connections()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
