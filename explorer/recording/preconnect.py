"""TCP connections opened while the interpreter still imports, for the first connections of the pools.

A transfer command's start-up (typer, httpx, httpcore: about 0.15 s) sends nothing; on a
real link each new connection's TCP handshake then costs one round trip more. ``start``
opens the connections a command will open first (its registry, before any import of
httpx) on a daemon thread, one after the other, so the handshakes happen during the
imports; the pools' network backend (``pools.py``) ``take``s them for its first
``connect_tcp`` to the same host and port, in the order they were opened.

Rule 1: no byte is sent here: a TCP handshake only, so nothing the trace would have to
show. The exchange that adopts a connection records the connect time it actually waited
(none, once the handshake is done), as for a connection of its own.
Rule 2: stdlib only (it runs before the heavy imports). A connection the server already
closed (readable while idle), or one older than ``MAX_AGE``, is not handed out: the backend
connects as usual. A connection that could not be opened is the error of the connect that
takes it (refused, or timed out: connecting again would wait as long once more); the retries
of ``client/sending.py`` connect anew. ``discard`` closes what nobody took (the CLI, at the end).
"""

from __future__ import annotations

import select
import socket
import threading
import time

__all__ = ["MAX_AGE", "discard", "start", "take"]

MAX_AGE = 10.0  # seconds: a server may close a connection that sends nothing for long
CONNECT_TIMEOUT = 10.0

_lock = threading.Lock()
_ready = threading.Condition(_lock)
_opened: list[tuple[str, int, socket.socket | OSError, float]] = []  # host, port, socket or error, when
_pending: list[tuple[str, int]] = []  # still connecting, in order


def start(addresses: list[tuple[str, int]]) -> None:
    """Open one TCP connection to each (host, port), in order, on a daemon thread."""
    if not addresses:
        return
    with _lock:
        _pending.extend(addresses)
    threading.Thread(target=_connect_all, args=(list(addresses),), name="preconnect", daemon=True).start()


def _connect_all(addresses: list[tuple[str, int]]) -> None:
    for host, port in addresses:
        sock: socket.socket | OSError
        try:
            sock = socket.create_connection((host, port), CONNECT_TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            sock = exc
        with _ready:
            wanted = (host, port) in _pending  # not once discarded
            if wanted:
                _pending.remove((host, port))
                _opened.append((host, port, sock, time.monotonic()))
            elif isinstance(sock, socket.socket):
                sock.close()
            _ready.notify_all()


def take(host: str, port: int, timeout: float | None = None) -> socket.socket | None:
    """A connected socket to (host, port) opened by ``start`` (waiting, within ``timeout``,
    for one still connecting), or None: then connect as usual. Raises the ``OSError`` of an
    early connect that failed (``socket.timeout`` when it timed out)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with _ready:
        while True:
            found = next((i for i, (h, p, _, _) in enumerate(_opened) if (h, p) == (host, port)), None)
            if found is not None:
                _, _, sock, connected = _opened.pop(found)
                if isinstance(sock, OSError):
                    raise sock
                if time.monotonic() - connected > MAX_AGE or _closed_by_peer(sock):
                    sock.close()
                    continue
                return sock
            if (host, port) not in _pending:
                return None
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            _ready.wait(left)


def _closed_by_peer(sock: socket.socket) -> bool:
    """An idle connection that is readable was closed (or reset) by the server."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def discard() -> None:
    """Close every connection nobody took."""
    with _ready:
        left = [sock for _, _, sock, _ in _opened if isinstance(sock, socket.socket)]
        _opened.clear()
        _pending.clear()  # still connecting: closed as soon as connected
        _ready.notify_all()
    for sock in left:
        sock.close()
