"""The connection pools under the recorder: plain http, verified https, and a CA-less https probe.

Rule 1: connection mechanics only (which pool, which TLS context); whether a
registry is tried over https first is decided in ``schemes.py``.
Rule 2: every pool is a ``pools.Pool`` (its response heads have a deadline). A
pool is made on first use, and a CA bundle (about 25 ms to load) only when a
server turns out to speak TLS, or on the preconnect thread for a registry that is https
only. The contexts are ``tls.py``'s, one per kind in the process, shared with the handshakes
``preconnect`` makes while the command imports. A request marked ``PROBE_EXTENSION`` (the first https request to a loopback
registry, which may well speak plain http) first shakes hands with a context holding no CA at all: a plain-http server fails that
handshake as it would any other, and a TLS server fails it on verification; only
then is the request sent over a verified connection (the failed handshake carried
no request, so it is no exchange of the trace).

Also here: reading the ``ssl`` error under httpx's ``ConnectError``
(``certificate_problem``, ``not_tls``, ``tls_alert``, ``reason``).
"""

from __future__ import annotations

import ssl
import threading

import httpx

from explorer.recording import tls
from explorer.recording.pools import Pool
from explorer.recording.extensions import PROBE_EXTENSION

__all__ = ["Connections", "certificate_problem", "not_tls", "reason", "tls_alert"]

# OpenSSL reasons of a handshake that met a server speaking something else than TLS
_NOT_TLS_REASONS = frozenset({
    "WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "UNKNOWN_PROTOCOL",
    "HTTP_REQUEST", "RECORD_TOO_LARGE", "UNEXPECTED_EOF_WHILE_READING",
})


class Connections(httpx.BaseTransport):
    """Plain-http, verified-https and probe pools, each made on first use (``verify=False``: --insecure)."""

    def __init__(self, *, verify: bool = True, limits: httpx.Limits | None = None) -> None:
        self._verify = verify
        self._limits = limits or httpx.Limits(max_connections=32, max_keepalive_connections=16)
        self._pools: dict[str, httpx.BaseTransport] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https":
            return self._pool("plain").handle_request(request)
        if self._verify and request.extensions.get(PROBE_EXTENSION) and "tls" not in self._pools:
            try:
                return self._pool("probe").handle_request(request)  # fails: either no TLS, or no CA to verify
            except httpx.ConnectError as exc:
                if certificate_problem(exc) is None:
                    raise
            # the server speaks TLS: verify it for real
        return self._pool("tls").handle_request(request)

    def _pool(self, kind: str) -> httpx.BaseTransport:
        with self._lock:
            pool = self._pools.get(kind)
            if pool is None:
                # the tls.py context the pool shakes hands with, shared with the early handshakes: the probe's
                # (no CA loaded: cheap) or the CA bundle's; None for plain http and for --insecure (httpx's)
                shared = {"probe": tls.PROBE, "tls": tls.VERIFIED if self._verify else None}.get(kind)
                pool = self._pools[kind] = Pool(verify=_context(kind, shared), limits=self._limits, tls=shared)
            return pool

    def close(self) -> None:
        for pool in list(self._pools.values()):
            pool.close()


def _context(kind: str, shared: str | None) -> ssl.SSLContext | bool:
    if shared is not None:
        return tls.context(shared)
    if kind == "tls":
        return False  # --insecure: no verification
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # plain: never shakes hands
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


# --- reading the ssl error under httpx's ConnectError ------------------------------------------
def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    return next((e for e in _chain(exc) if isinstance(e, ssl.SSLError)), None)


def certificate_problem(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure under ``exc``, if that is what it is."""
    return next((e for e in _chain(exc) if isinstance(e, ssl.SSLCertVerificationError)), None)


def reason(exc: BaseException) -> str:
    """The OpenSSL reason (``WRONG_VERSION_NUMBER``), else the error's text."""
    error = _ssl_error(exc)
    found = getattr(error, "reason", None) if error is not None else None
    return str(found) if found else (str(exc) or type(exc).__name__)


def not_tls(exc: BaseException) -> bool:
    """True when a handshake met a server that answered, but not in TLS (or hung up on it)."""
    error = _ssl_error(exc)
    if error is None:
        return "WRONG_VERSION_NUMBER" in str(exc)
    return isinstance(error, ssl.SSLEOFError) or getattr(error, "reason", None) in _NOT_TLS_REASONS


def tls_alert(exc: BaseException) -> bool:
    """True when the server answered the handshake with a TLS alert: it speaks TLS, and refused."""
    error = _ssl_error(exc)
    return error is not None and "ALERT" in str(getattr(error, "reason", "") or "")
