"""httpcore's ``NetworkStream`` over a socket of ours: connected by ``preconnect``, early, or by ``connect``.

``adopt`` is what the pools' backend calls first: the early connection to (host, port), if any;
``connect`` what it calls then, as httpcore's backend connects but with an ASCII host name given to
``socket`` and ``ssl`` as bytes (``preconnect.host_name``: no idna codec to import).
A connection that already shook hands (or failed to) is adopted by ``start_tls``: when httpcore
asks for the handshake with the very context and server name of the early one, its socket (or
its error) is the outcome; asked for another, a new connection (``connect``) shakes
hands (a TLS socket cannot shake hands twice).

Rule: behave as httpcore's own sync stream does (its class is not public API): the same
timeouts per call, the same exceptions (``ReadTimeout``/``ReadError``, ``WriteTimeout``/
``WriteError``, ``ConnectTimeout``/``ConnectError`` for TLS, each raised from the socket's
error, which ``connections.py`` reads), the same extra info.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore

from explorer.recording import preconnect

__all__ = ["SocketStream", "adopt", "connect"]


def adopt(host: str, port: int, timeout: float | None, tls: str | None = None) -> httpcore.NetworkStream | None:
    """The connection ``preconnect`` opened to (host, port), with no TLS or with ``tls``, as a stream;
    None: connect as usual. An early connect that failed fails this connect as httpcore's backend
    would (``ConnectTimeout``, ``ConnectError``, raised from the socket's error)."""
    with _connecting():
        early = preconnect.take(host, port, timeout, tls)
    if early is None:
        return None
    return SocketStream(early.sock, early if early.context is not None else None)


def connect(host: str, port: int, timeout: float | None, local_address: str | None = None,
            socket_options: Iterable[Any] | None = None) -> SocketStream:
    """A new connection, as httpcore's sync backend makes it (its socket options, then ``TCP_NODELAY``;
    ``ConnectTimeout``/``ConnectError`` raised from the socket's error), without its idna codec
    (``preconnect.host_name``)."""
    with _connecting():
        sock = preconnect.tcp(host, port, timeout, None if local_address is None else (local_address, 0))
    with _connecting(sock):
        for option in socket_options or ():
            sock.setsockopt(*option)
    return SocketStream(sock)


@contextmanager
def _connecting(sock: socket.socket | None = None) -> Iterator[None]:
    """A socket error inside becomes httpcore's ``ConnectTimeout``/``ConnectError``, raised from it (the
    error ``connections.py`` reads) as httpcore's backend raises it; ``sock`` is closed first."""
    try:
        yield
    except OSError as exc:
        if sock is not None:
            sock.close()
        error = httpcore.ConnectTimeout if isinstance(exc, socket.timeout) else httpcore.ConnectError
        raise error(str(exc)) from exc


class SocketStream(httpcore.NetworkStream):
    def __init__(self, sock: socket.socket, early: preconnect.Early | None = None) -> None:
        self._sock = sock
        self._early = early  # the handshake already made on sock (or its error): start_tls's outcome

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
        early, self._early = self._early, None
        if early is not None:
            if early.context is ssl_context and early.host == server_hostname:
                if early.error is None:
                    return SocketStream(self._sock)
                self.close()
                with _connecting():  # raised in its handler, as httpcore's own: its pool re-raises
                    raise early.error  # ``from None``, the context stays (the ssl error, which connections.py reads)
            self.close()  # shaken hands for another context or name: a new connection for this one
            return connect(early.host, early.port, timeout).start_tls(ssl_context, server_hostname, timeout)
        name = None if server_hostname is None else preconnect.host_name(server_hostname)
        with _connecting(self._sock):
            self._sock.settimeout(timeout)
            return SocketStream(ssl_context.wrap_socket(self._sock, server_hostname=name))

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
