"""The loopback HTTP/1.1 WSGI server: keep-alive, chunked request bodies, 100-continue, framing."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from explorer.sandbox.server import LoopbackServer


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with the request body, after reporting how it was framed."""
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("application failure")
    if environ["PATH_INFO"] == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"one ", b"", b"two"]  # no Content-Length: the server must chunk it
    if environ["PATH_INFO"] == "/refuse":
        start_response("401 Unauthorized", [("Content-Length", "0")])
        return [b""]
    body = environ["wsgi.input"].read()
    framing = environ.get("HTTP_TRANSFER_ENCODING", "length")
    start_response("200 OK", [("Content-Length", str(len(body))), ("X-Framing", framing),
                              ("X-Path", environ["PATH_INFO"]), ("X-Query", environ["QUERY_STRING"])])
    return [body]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(echo_app) as running:
        yield running


class _Connection:
    """A raw client connection; responses are read from ONE buffered reader (they may arrive together)."""

    def __init__(self, server: LoopbackServer) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        self.reader = self.sock.makefile("rb")

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self, size: int) -> bytes:
        return self.sock.recv(size)

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.reader.close()
        self.sock.close()


def _connect(server: LoopbackServer) -> _Connection:
    return _Connection(server)


def _read_response(connection: _Connection) -> tuple[bytes, dict[str, str], bytes]:
    """One response: (status line, headers, body), honouring Content-Length or chunked framing."""
    reader = connection.reader
    status = reader.readline().rstrip()
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if headers.get("transfer-encoding") == "chunked":
        while (size := int(reader.readline().strip(), 16)) > 0:
            body += reader.read(size)
            reader.readline()
        reader.readline()
    elif "content-length" in headers and not status.startswith(b"HTTP/1.1 1"):
        body = reader.read(int(headers["content-length"]))
    return status, headers, body


def test_keep_alive_serves_several_requests_on_one_connection(server: LoopbackServer) -> None:
    with _connect(server) as sock:
        for number in range(3):
            sock.sendall(b"POST /n?x=%d HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello" % number)
            status, headers, body = _read_response(sock)
            assert (status, body, headers["x-query"]) == (b"HTTP/1.1 200 OK", b"hello", f"x={number}")
            assert "connection" not in headers


def test_chunked_request_body_is_decoded(server: LoopbackServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"PATCH /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
        status, headers, body = _read_response(sock)
        assert (status, body, headers["x-framing"]) == (b"HTTP/1.1 200 OK", b"hello world", "chunked")
        sock.sendall(b"GET /after HTTP/1.1\r\nHost: h\r\n\r\n")  # the connection is still usable
        assert _read_response(sock)[1]["x-path"] == "/after"


def test_expect_100_continue_is_answered_when_the_body_is_read(server: LoopbackServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"data")
        assert _read_response(sock)[2] == b"data"
    with _connect(server) as sock:  # refused before reading: no 100, and the connection closes
        sock.sendall(b"PUT /refuse HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        status, headers, _ = _read_response(sock)
        assert (status, headers["connection"]) == (b"HTTP/1.1 401 Unauthorized", "close")


def test_unframed_responses_are_chunked_and_failures_are_500(server: LoopbackServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
        status, headers, body = _read_response(sock)
        assert (headers["transfer-encoding"], body) == ("chunked", b"one two")
        sock.sendall(b"GET /boom HTTP/1.1\r\nHost: h\r\n\r\n")
        assert _read_response(sock)[0] == b"HTTP/1.1 500 Internal Server Error"


def test_unread_small_bodies_are_skipped_to_keep_the_connection(server: LoopbackServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"PUT /refuse HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                     b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
        assert _read_response(sock)[0] == b"HTTP/1.1 401 Unauthorized"
        assert _read_response(sock)[1]["x-path"] == "/next"


def test_close_stops_serving() -> None:
    running = LoopbackServer(echo_app).start()
    port = running.port
    running.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
