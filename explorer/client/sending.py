"""How every registry request is sent: retries, backoff, ``Retry-After``, bounded bodies, typed errors.

Rule 1: ONE place sends requests (``Sending.request``): every attempt goes
through the recording transport, so each retry is its own exchange in the trace.
Rule 2: every non-success status becomes a typed error here (``RegistryError``
with the registry's error code and message, and the image or repository it
concerned), so flows and the CLI never look at statuses.

``Sending`` is the half of ``RegistryClient`` that knows no endpoint; the
client's methods (one per endpoint) all end up in ``request``.
"""

from __future__ import annotations

import logging
import random
import socket
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx

from explorer.client.auth import TokenServerUnavailable, same_origin
from explorer.client.bounded import HELD_LIMIT, BodyTooLarge, read_capped
from explorer.client.credentials import CredentialSource
from explorer.errors import MalformedHeader, ProtocolViolation, RegistryError, TransportError
from explorer.protocol import headers

__all__ = ["BodyTooLarge", "Sending"]

ERROR_BODY_LIMIT = 64 * 1024
BACKOFF_BASE = 0.25  # seconds before the first retry; doubles per attempt, plus up to 50 % jitter
RETRY_AFTER_LIMIT = 60.0  # a Retry-After asking for longer is not waited for: the error is reported
# connection failures worth another attempt (not: unsupported scheme, a request we built wrong)
_RETRYABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
log = logging.getLogger(__name__)


class Sending:
    """Sends requests for a client that has ``http``, ``retries``, ``registry`` and ``credentials``."""

    http: httpx.Client
    retries: int
    registry: str
    credentials: CredentialSource
    _sleep: Callable[[float], None]

    def request(
        self,
        method: str,
        url: str,
        *,
        ok: tuple[int, ...],
        context: str,
        headers: dict[str, str] | None = None,
        content: Any = None,
        params: list[tuple[str, str]] | None = None,
        stream: bool = False,
        limit: int | None = None,
        retries: int | None = None,
        timeout: float | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Send with retries; return a response whose status is in ``ok``, else raise.

        Retried (``self.retries`` times, each attempt its own exchange): statuses
        408/429/500/502/503/504, a busy token server, and connection failures,
        also those while reading a non-streamed body (not: a host name that does
        not resolve, an unparsable redirect Location). The wait doubles from
        ``BACKOFF_BASE`` with up to 50 % jitter, or is what ``Retry-After`` asks
        (a wait beyond ``RETRY_AFTER_LIMIT`` is not retried). Without ``stream``
        the body is read here, at most ``limit`` bytes (default ``HELD_LIMIT``;
        ``BodyTooLarge`` beyond);
        with ``stream=True`` the caller must close the response. ``retries`` and
        ``timeout`` (seconds, per connect/read/write) override the client's for
        this request: a best-effort request (cancelling an upload) gets one short try.
        """
        attempt = 0
        started = time.monotonic()
        allowed = self.retries if retries is None else retries
        while True:
            req = self.http.build_request(
                method, url, headers=headers, content=content, params=params,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout, extensions=extensions,
            )
            retry = attempt < allowed
            try:
                response = self.http.send(req, stream=True)
                if response.status_code in ok and not stream:
                    response = _read_body(response, HELD_LIMIT if limit is None else limit)
            except _RETRYABLE as exc:
                if _bad_redirect(exc):
                    raise MalformedHeader(
                        f"the redirect for {context} has a Location that is not a URL ({exc})",
                        "the registry (or a proxy in front of it) is misconfigured",
                    ) from None
                if retry and not _unknown_host(exc):
                    self.pause_before_retry(attempt, None, f"{method} {context}: {type(exc).__name__}")
                    attempt += 1
                    continue
                raise TransportError(
                    _describe_transport_error(exc, str(req.url), attempt + 1, time.monotonic() - started)
                ) from exc
            except httpx.TransportError as exc:  # unsupported scheme, invalid request: retrying cannot help
                raise TransportError(_describe_transport_error(exc, str(req.url), attempt + 1)) from exc
            except TokenServerUnavailable as exc:
                wait = _retry_after_seconds(exc.retry_after)
                if retry and not (wait is not None and wait > RETRY_AFTER_LIMIT):
                    self.pause_before_retry(attempt, wait, f"{method} {context}: {exc.message}")
                    attempt += 1
                    continue
                if attempt:
                    exc.message += f" (after {attempt + 1} attempts)"
                raise
            except httpx.TooManyRedirects:
                raise ProtocolViolation(
                    f"too many redirects for {context}", "the registry (or its storage) redirects in a loop"
                ) from None
            except httpx.DecodingError as exc:
                raise ProtocolViolation(f"cannot decode the response for {context}: {exc}") from None
            if response.status_code in ok:
                return response
            from explorer.protocol.errorcodes import TRANSIENT_STATUSES  # on the first error, not at start-up

            wait = _retry_after_seconds(response.headers.get("retry-after"))
            too_long = wait is not None and wait > RETRY_AFTER_LIMIT
            if response.status_code in TRANSIENT_STATUSES and retry and not too_long:
                response.close()
                self.pause_before_retry(attempt, wait, f"{method} {context}: {response.status_code}")
                attempt += 1
                continue
            error = self.error(response, context)
            if attempt:
                error.message += f" (after {attempt + 1} attempts)"
            if too_long and response.status_code in TRANSIENT_STATUSES:
                error.hint = f"the registry asks to retry after {wait:.0f} s (Retry-After); try again later"
            raise error

    def pause_before_retry(self, attempt: int, retry_after: float | None, why: str) -> None:
        """Sleep before retry ``attempt + 1``: ``retry_after`` seconds if the server said, else backoff + jitter."""
        delay = retry_after
        if delay is None:
            delay = BACKOFF_BASE * (2**attempt) * (1 + random.random() / 2)
        log.debug("retry %d/%d of %s in %.2f s", attempt + 1, self.retries, why, delay)
        self._sleep(min(delay, RETRY_AFTER_LIMIT))

    def error(self, response: httpx.Response, context: str) -> RegistryError:
        """A typed error from an error response (reads at most 64 KiB of its body, then closes it)."""
        body = bytearray()
        try:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= ERROR_BODY_LIMIT:
                    break
        except (httpx.HTTPError, BodyTooLarge):  # what arrived is enough to say what went wrong
            pass
        finally:
            response.close()
        from explorer.protocol import errorcodes

        errors = errorcodes.parse_error_body(bytes(body), response.headers.get("content-type"))
        summary = errorcodes.summarize(errors, response.status_code, response.reason_phrase)
        code = errors[0].code if errors else None
        hint = None
        sent = response.request.headers.get("authorization", "")
        answered_by = response.request.url
        if response.status_code == 401 and not same_origin(answered_by, self.registry):
            where = f"{answered_by.scheme}://{answered_by.netloc.decode('ascii')}"
            return RegistryError(
                f"{where}, another host the registry {self.registry} sent this request to, answered {summary} "
                f"({context})",
                "credentials go only to the registry itself and its own token realm, never to a host it names; "
                "the registry (or its storage) is misconfigured or hostile",
                status=401,
                code=code,
            )
        if response.status_code == 401:
            creds = self.credentials.for_host(self.registry)
            if creds is not None and sent:
                who = creds.username or "(identity token)"
                return RegistryError(
                    f"registry {self.registry} refused the credentials of user {who!r}: {summary} ({context})",
                    f"check the password ({creds.source})",
                    status=401,
                    code=code,
                )
            hint = f"log in: --username USER --password-stdin, or `docker login {self.registry}`"
        elif response.status_code == 403:
            hint = "the credentials are valid but not allowed to do this"
        elif response.status_code == 400 and b"HTTP request to an HTTPS server" in body:  # Go's TLS server
            hint = "this registry speaks https: leave out --plain-http (add --insecure for a self-signed certificate)"
        return RegistryError(f"{summary} ({context})", hint, status=response.status_code, code=code)



def _read_body(response: httpx.Response, limit: int) -> httpx.Response:
    """The response with its whole body read (at most ``limit`` bytes) and closed."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=read_capped(response, limit),
        request=response.request,
        extensions=response.extensions,
        history=response.history,
    )


def _bad_redirect(exc: httpx.TransportError) -> bool:
    """httpx reports an unparsable ``Location`` as a RemoteProtocolError; it is not worth a retry."""
    return isinstance(exc, httpx.RemoteProtocolError) and str(exc).startswith("Invalid URL in location header")


def _unknown_host(exc: BaseException) -> bool:
    """A name that does not resolve (EAI_NONAME) will not resolve on the next attempt either."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror) and seen.errno == socket.EAI_NONAME:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    return headers.parse_retry_after(value, datetime.now(timezone.utc))


def _describe_transport_error(
    exc: httpx.TransportError, url: str, attempts: int = 1, elapsed: float | None = None
) -> str:
    """One line; a timeout after retries also says how long all attempts took (``--timeout`` each, plus backoff)."""
    target = httpx.URL(url)
    where = f"{target.scheme}://{target.netloc.decode('ascii')}"
    text = str(exc) or type(exc).__name__
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {where}: {text}{tries}"
    if isinstance(exc, httpx.TimeoutException):
        if attempts > 1 and elapsed is not None:
            tries = f" (after {attempts} attempts, {elapsed:.1f} s in all)"
        return f"timed out talking to {where}: {text}{tries}"
    return f"connection to {where} failed: {text}{tries}"

