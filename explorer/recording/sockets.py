"""httpcore's ``NetworkStream`` over a socket connected by ``preconnect`` (not by httpcore's backend).

``adopt`` is what the pools' backend calls first: the early connection to (host, port), if any.

Rule: behave as httpcore's own sync stream does (its class is not public API): the same
timeouts per call, the same exceptions (``ReadTimeout``/``ReadError``, ``WriteTimeout``/
``WriteError``, ``ConnectTimeout``/``ConnectError`` for TLS, each raised from the socket's
error, which ``connections.py`` reads), the same extra info.
"""

from __future__ import annotations

import select
import socket
import ssl
from typing import Any

import httpcore

from explorer.recording import preconnect

__all__ = ["SocketStream", "adopt"]


def adopt(host: str, port: int, timeout: float | None) -> httpcore.NetworkStream | None:
    """The connection ``preconnect`` opened to (host, port), as a stream; None: connect as usual.
    An early connect that failed fails this connect as httpcore's backend would (``ConnectTimeout``,
    ``ConnectError``, raised from the socket's error)."""
    try:
        sock = preconnect.take(host, port, timeout)
    except socket.timeout as exc:
        raise httpcore.ConnectTimeout(str(exc)) from exc
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc
    return SocketStream(sock) if sock is not None else None


class SocketStream(httpcore.NetworkStream):
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            self._sock.settimeout(timeout)
            return self._sock.recv(max_bytes)
        except socket.timeout as exc:
            raise httpcore.ReadTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        view = memoryview(buffer)  # a partial send leaves the rest without copying it
        try:
            while view:
                self._sock.settimeout(timeout)
                view = view[self._sock.send(view):]
        except socket.timeout as exc:
            raise httpcore.WriteTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc)) from exc

    def close(self) -> None:
        self._sock.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        try:
            self._sock.settimeout(timeout)
            return SocketStream(ssl_context.wrap_socket(self._sock, server_hostname=server_hostname))
        except socket.timeout as exc:
            self.close()
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            self.close()
            raise httpcore.ConnectError(str(exc)) from exc

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._sock if isinstance(self._sock, ssl.SSLSocket) else None
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":  # an idle keep-alive connection that is readable was closed by the server
            try:
                return bool(select.select([self._sock], [], [], 0)[0])
            except (OSError, ValueError):
                return True
        return None
