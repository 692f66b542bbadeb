"""The TLS contexts of the pools, shared with the handshakes ``preconnect`` makes while the command imports.

Rule 1: stdlib and certifi only: ``preconnect`` asks for a context before httpx is imported.
Rule 2: one context per kind (and, for ``VERIFIED``, per CA setting) in a process, made on first
use under a lock (the preconnect thread and a pool may ask at once), so that a handshake made early
was made with the very context its pool would have used (``sockets.py`` checks it is the same object):

- ``PROBE``: no CA at all, for the https probe of a loopback registry (``connections.py``): a
  plain-http server fails the handshake as it would any other, a TLS server fails verification.
- ``VERIFIED``: what ``httpx.create_ssl_context(verify=True)`` makes (httpx 0.28.1, pinned):
  ``$SSL_CERT_FILE``, else ``$SSL_CERT_DIR``, else certifi's bundle. Loading the bundle takes about
  25 ms, with the GIL released: on the preconnect thread it overlaps the imports.

Both offer ALPN ``http/1.1``, as httpcore sets on every context before each handshake (HTTP/1.1 only).
"""

from __future__ import annotations

import os
import ssl
import threading

__all__ = ["PROBE", "VERIFIED", "context"]

PROBE = "probe"
VERIFIED = "verified"

_lock = threading.Lock()
_made: dict[tuple[str, str, str], ssl.SSLContext] = {}


def context(kind: str) -> ssl.SSLContext:
    """The process's context of ``kind`` (``PROBE`` or ``VERIFIED``)."""
    cafile, capath = os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", "")
    key = (kind, cafile, capath) if kind == VERIFIED else (kind, "", "")
    with _lock:
        made = _made.get(key)
        if made is None:
            made = _made[key] = _make(kind, cafile, capath)
        return made


def _make(kind: str, cafile: str, capath: str) -> ssl.SSLContext:
    if kind == PROBE:
        made = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, with no CA to verify against: cheap
    elif kind == VERIFIED:
        if cafile:
            made = ssl.create_default_context(cafile=cafile)
        elif capath:
            made = ssl.create_default_context(capath=capath)
        else:
            import certifi

            made = ssl.create_default_context(cafile=certifi.where())
    else:
        raise ValueError(f"no TLS context of kind {kind!r}")
    made.set_alpn_protocols(["http/1.1"])
    return made
