"""Connections opened while the interpreter still imports, for the first connections of the pools.

A transfer command's start-up (typer, httpx, httpcore: about 0.15 s) sends nothing; on a
real link each new connection's TCP handshake then costs one round trip more, and its TLS
handshake one more. ``start`` opens the connections a command will open first (its registry,
before any import of httpx) on a daemon thread, so the handshakes happen during the imports; the
pools' network backend (``pools.py``, ``sockets.py``) ``take``s them for its first
``connect_tcp`` to the same host and port: the one made for its kind of TLS first, else a TCP one.

Each address names its TLS: ``None`` (a TCP handshake only: plain http, or a context this
module cannot know, ``--insecure``), ``tls.PROBE`` (the https probe of a loopback registry:
the TLS hello goes out now, and whether the server speaks TLS is known before httpx is) or
``tls.VERIFIED`` (an https registry: the verified handshake, certificate and host name
checked with the CA bundle the pool uses, loaded here). The TCP connects go one after
the other, each TLS hello as soon as its connect is done, then the handshakes complete together.

Rule 1: no request is sent here: a TCP handshake, and for TLS the handshake a pool would
make with the same context (``tls.py``) on its first connection. The exchange that adopts a
connection records the connect and TLS time it actually waited (none, once done), as for a
connection of its own, and a failed handshake fails the exchange that adopts it as it would
have failed there (``sockets.py``): the probe's exchange of the trace is still its own.
Rule 2: stdlib (and certifi, through ``tls.py``) only: it runs before the heavy imports. A
connection the server already closed (readable while idle; for TLS, readable with no data
after a session ticket), or one older than ``MAX_AGE``, is not handed out: the backend
connects as usual. A connection that could not be opened is the error of the connect that
takes it (refused, or timed out: connecting again would wait as long once more); the retries
of ``client/sending.py`` connect anew. ``discard`` closes what nobody took (the CLI, at the end).
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time

from explorer.recording import tls as tls_contexts

__all__ = ["MAX_AGE", "Early", "discard", "host_name", "start", "take", "tcp"]

MAX_AGE = 10.0  # seconds: a server may close a connection that sends nothing for long
CONNECT_TIMEOUT = 10.0


class Early:
    """A connection opened early: its socket (a TLS socket once shaken hands), the context and server
    name (``host``) it shook hands with (``context`` None: TCP only), and the error of that handshake
    if it failed (then the socket is the one it failed on, still open: the adopting stream closes it
    as httpcore would)."""

    __slots__ = ("context", "error", "host", "opened", "port", "sock")

    def __init__(self, host: str, port: int, sock: socket.socket, context: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.sock, self.context = host, port, sock, context
        self.error: OSError | None = None
        self.opened = time.monotonic()


_lock = threading.Lock()
_ready = threading.Condition(_lock)
_opened: list[tuple[str, int, str | None, Early | OSError]] = []  # host, port, tls; the connection or its error
_pending: list[tuple[str, int, str | None]] = []  # not opened yet, in order
_begun: set[tuple[str, int, str | None]] = set()  # ... of which the connect is under way
_writing: set[Early] = set()  # handshakes waiting to send (the socket's buffer full), not to receive


def start(addresses: list[tuple[str, int, str | None]]) -> None:
    """Open one connection to each (host, port, tls) on a daemon thread (``tls``: see above)."""
    if not addresses:
        return
    with _lock:
        _pending.extend(addresses)
    threading.Thread(target=_connect_all, args=(list(addresses),), name="preconnect", daemon=True).start()


def _connect_all(addresses: list[tuple[str, int, str | None]]) -> None:
    """The TCP connects one after the other (each TLS hello sent as soon as its connect is done), then
    the handshakes together, non-blocking: a TLS server that never answers holds its own only. One
    thread, few switches of the GIL away from the imports."""
    shaking: list[tuple[tuple[str, int, str | None], Early]] = []
    for key in addresses:
        host, port, tls = key
        with _lock:
            _begun.add(key)
        opened = _open(host, port, tls)
        if isinstance(opened, Early) and opened.context is not None:  # a handshake to make
            opened.sock.setblocking(False)
            if not _shake(opened):
                shaking.append((key, opened))
                continue
        _publish(key, opened)
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while shaking:
        left = deadline - time.monotonic()
        if left <= 0:
            for key, early in shaking:
                early.error = socket.timeout("_ssl.c: The handshake operation timed out")
                _publish(key, early)
            return
        reading = [early.sock for _, early in shaking if early not in _writing]
        writing = [early.sock for _, early in shaking if early in _writing]
        try:
            select.select(reading, writing, [], left)  # a handshake's next flight has come (or it may send)
        except (OSError, ValueError):
            pass
        still = []
        for key, early in shaking:
            if _shake(early):
                _publish(key, early)
            else:
                still.append((key, early))
        shaking = still


def host_name(host: str) -> str | bytes:
    """``host`` as ``socket`` and ``ssl`` are to take it: an ASCII name (an IP address, nearly every host
    name) as bytes, which they use as they are; given a str, they encode it with the idna codec, and
    its first use imports it (``encodings.idna``, ``stringprep``: 2-4 ms of every command that
    connects). Any other name stays a str, for the codec to encode."""
    return host.encode("ascii") if host.isascii() else host


def tcp(host: str, port: int, timeout: float | None, source: tuple[str, int] | None = None) -> socket.socket:
    """A TCP connection to (host, port), ``TCP_NODELAY`` set (as httpcore's backend sets it)."""
    sock = socket.create_connection((host_name(host), port), timeout, source_address=source)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        sock.close()
        raise
    return sock


def _open(host: str, port: int, tls: str | None) -> Early | OSError:
    try:
        sock = tcp(host, port, CONNECT_TIMEOUT)
    except OSError as exc:
        return exc
    if tls is None:
        return Early(host, port, sock)
    try:
        context = tls_contexts.context(tls)
    except (OSError, ValueError):  # a CA setting that does not load: the pool meets it, and reports it
        return Early(host, port, sock)
    shaking = context.wrap_socket(sock, server_hostname=host_name(host), do_handshake_on_connect=False)
    return Early(host, port, shaking, context)


def _shake(early: Early) -> bool:
    """One step of ``early``'s handshake (non-blocking): True once it is done, shaken or failed."""
    _writing.discard(early)
    try:
        early.sock.do_handshake()  # type: ignore[attr-defined]
    except ssl.SSLWantReadError:
        return False
    except ssl.SSLWantWriteError:
        _writing.add(early)
        return False
    except OSError as exc:  # ssl.SSLError (not TLS, not verified, an alert), a reset
        early.error = exc
    if early.error is None:
        early.sock.settimeout(CONNECT_TIMEOUT)  # blocking again (the stream sets each call's timeout)
    return True


def _publish(key: tuple[str, int, str | None], opened: Early | OSError) -> None:
    with _ready:
        _begun.discard(key)
        if key in _pending:  # not once discarded, or given up by a connect that timed out
            _pending.remove(key)
            _opened.append((*key, opened))
        elif isinstance(opened, Early):
            opened.sock.close()
        _ready.notify_all()


def take(host: str, port: int, timeout: float | None = None, tls: str | None = None) -> Early | None:
    """A connection to (host, port) opened by ``start`` with ``tls``, else one with no TLS (waiting, within
    ``timeout``, for one still connecting or shaking hands), or None: then connect as usual. Raises the
    ``OSError`` of an early connect that failed, and ``socket.timeout`` when it timed out or is still
    under way at ``timeout`` (it began before this connect: connecting anew would wait longer still)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with _ready:
        for kind in dict.fromkeys((tls, None)):  # the connection made for this pool first, else a TCP one
            found = _take(host, port, kind, deadline)
            if found is not None:
                return found
    return None


def _take(host: str, port: int, tls: str | None, deadline: float | None) -> Early | None:
    while True:
        found = next((i for i, (h, p, t, _) in enumerate(_opened) if (h, p, t) == (host, port, tls)), None)
        if found is not None:
            opened = _opened.pop(found)[3]
            if isinstance(opened, OSError):
                raise opened
            if opened.error is None and (time.monotonic() - opened.opened > MAX_AGE or _closed_by_peer(opened.sock)):
                opened.sock.close()
                continue
            return opened
        key = (host, port, tls)
        if key not in _pending:
            return None
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            _pending.remove(key)  # given up: closed once opened (a retry connects anew)
            if key in _begun:  # as a connect of its own begun then would have timed out
                raise socket.timeout("timed out")
            return None  # still behind another's connect: connect as usual
        _ready.wait(left)


def _closed_by_peer(sock: socket.socket) -> bool:
    """An idle connection that is readable was closed (or reset) by the server; over TLS, unless what
    it read was a session ticket only (TLS 1.3 servers send them after the handshake)."""
    try:
        if not select.select([sock], [], [], 0)[0]:
            return False
        if not isinstance(sock, ssl.SSLSocket):
            return True
        sock.setblocking(False)
        try:
            sock.recv(1)  # data before any request, or the end: not a connection to hand out
        except ssl.SSLWantReadError:
            return False  # records, but no data: still open
        finally:
            sock.settimeout(CONNECT_TIMEOUT)
        return True
    except (OSError, ValueError):
        return True


def discard() -> None:
    """Close every connection nobody took."""
    with _ready:
        left = [opened.sock for _, _, _, opened in _opened if isinstance(opened, Early)]
        _opened.clear()
        _begun.clear()
        _pending.clear()  # still connecting: closed as soon as connected
        _ready.notify_all()
    for sock in left:
        sock.close()
