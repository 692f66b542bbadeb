"""How a registry is reached: https, plain http, or https first with a fallback to http (loopback).

Rule 1: the scheme is decided here, once per registry and session, and nowhere else.
``--plain-http`` means http; a loopback registry (``localhost``, ``127.0.0.0/8``,
``[::1]``) is tried over https first and spoken to over http when the server does
not speak TLS, as docker does for insecure registries (and skopeo and podman with
``--tls-verify=false``); any other registry is https only.
Rule 2: the failed https attempt is an exchange of the trace like any other,
labelled ``https probe: …`` (``PROBE_LABELS``); it is not a ping. When the server
does speak TLS the attempt simply is the first request, over https.
Rule 3: TLS errors are explained, never retried: a certificate that does not
verify names ``--insecure``; a plain-http server spoken to over https names
``--plain-http``. Both are ``TransportError`` raised from the transport, and the
retry loop of ``sending.py`` retries only httpx's errors.

Layers: ``SchemeTransport`` (this module) wraps the ``RecordingTransport``, which
wraps ``connections.Connections`` (the pools, with the CA-less probe handshake).
"""

from __future__ import annotations

import threading

import httpx

from explorer.recording.connections import certificate_problem, not_tls, reason, tls_alert
from explorer.recording.extensions import PROBE_EXTENSION
from explorer.errors import TransportError
from explorer.protocol.reference import is_loopback
from explorer.recording.recorder import RecordingTransport

__all__ = ["PROBE_LABELS", "PROBE_TIMEOUT", "SchemeTransport", "Schemes", "explain_tls_error"]

PROBE_TIMEOUT = 10.0  # seconds for the probe's connect and TLS handshake, as docker's TLSHandshakeTimeout
PROBE_LABELS = {
    "plain": "https probe: plain-HTTP registry",  # the server answered, but not in TLS
    "silent": "https probe: no TLS answer",  # refused, reset or timed out: http is tried, as docker does
}


class _Choice:
    """The scheme of one registry origin; ``probing`` until the first https attempt tells."""

    __slots__ = ("lock", "probing", "scheme")

    def __init__(self, scheme: str, *, probing: bool) -> None:
        self.scheme = scheme
        self.probing = probing
        self.lock = threading.Lock()


class Schemes:
    """The scheme of every registry of a session, shared by its clients (a copy's two ends)."""

    def __init__(self, plain_http: bool | None = None) -> None:
        self.plain_http = plain_http  # True: http; None: https, loopback https first; False: https only
        self._choices: dict[str, _Choice] = {}
        self._origins: dict[str, str] = {}  # registry as named -> origin
        self._lock = threading.Lock()

    def scheme(self, registry: str) -> str:
        """``https`` or ``http`` for ``registry`` (``https`` while its probe has not told)."""
        origin = self._origins.get(registry)
        if origin is None:  # parsing a URL per request showed in profiles of many small blobs
            origin = self._origins[registry] = _origin(httpx.URL(f"https://{registry}"))
        with self._lock:
            choice = self._choices.get(origin)
            if choice is None:
                if self.plain_http:
                    choice = _Choice("http", probing=False)
                else:
                    choice = _Choice("https", probing=self.plain_http is None and is_loopback(registry))
                self._choices[origin] = choice
            return choice.scheme

    def for_url(self, url: httpx.URL) -> _Choice | None:
        """The choice for an https ``url`` to one of these registries, unless it is plainly https."""
        choice = self._choices.get(_origin(url))
        return choice if choice is not None and (choice.probing or choice.scheme == "http") else None


class SchemeTransport(httpx.BaseTransport):
    """Sends registry requests with their registry's scheme, trying https first where the rule says."""

    def __init__(self, inner: RecordingTransport, schemes: Schemes) -> None:
        self.inner = inner
        self.schemes = schemes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        choice = self.schemes.for_url(request.url) if request.url.scheme == "https" else None
        if choice is not None and choice.probing:
            with choice.lock:  # one probe per registry; concurrent first requests wait for its verdict
                if choice.probing:
                    return self._probe(request, choice)
        if choice is not None and choice.scheme == "http":
            request.url = request.url.copy_with(scheme="http")  # built before the probe told
        try:
            return self.inner.handle_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            explained = explain_tls_error(exc, request.url)
            if explained is None:
                raise
            raise explained from exc

    def _probe(self, request: httpx.Request, choice: _Choice) -> httpx.Response:
        recorder = self.inner.recorder
        outer = recorder.current_step()
        original = request.extensions
        timeout = dict(original.get("timeout") or {})  # a server silent to a TLS hello must not hold us long
        timeout["connect"] = min(timeout.get("connect") or PROBE_TIMEOUT, PROBE_TIMEOUT)
        request.extensions = {**original, PROBE_EXTENSION: True, "timeout": timeout}
        with recorder.step(outer.label if outer else None) as attempt:  # type: ignore[arg-type]
            try:
                response = self.inner.handle_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if certificate_problem(exc) is not None or tls_alert(exc):  # it speaks TLS: no fallback
                    explained = explain_tls_error(exc, request.url)
                    if explained is None:
                        raise
                    raise explained from exc
                attempt.rename(PROBE_LABELS["plain" if not_tls(exc) else "silent"])
            else:
                choice.probing = False  # TLS it is, and this was the request itself
                if outer is not None:  # so the flow's own step (renamed later, perhaps) holds it
                    outer.exchanges.extend(attempt.exchanges)
                return response
            finally:
                request.extensions = original
        choice.scheme, choice.probing = "http", False
        request.url = request.url.copy_with(scheme="http")  # the same Request: an auth retry resends it
        return self.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def explain_tls_error(exc: BaseException, url: httpx.URL) -> TransportError | None:
    """A one-line error for a TLS failure of ``url`` (naming the flag that helps), or None when it is not one."""
    where = f"{url.scheme}://{url.netloc.decode('ascii')}"
    problem = certificate_problem(exc)
    if problem is not None:
        detail = problem.verify_message or problem.reason or str(problem)
        return TransportError(
            f"the TLS certificate of {where} does not verify ({detail}); "
            "pass --insecure to skip verification for a registry you trust"
        )
    if url.scheme == "https" and not_tls(exc):
        return TransportError(
            f"{where} does not speak TLS ({reason(exc)}): it looks like a plain-http registry",
            "for a plain-http registry, add --plain-http",
        )
    return None


def _origin(url: httpx.URL) -> str:
    return url.netloc.decode("ascii").lower()
