"""RegistryAuth: the registry auth dance as an ``httpx.Auth`` generator.

anonymous request → 401 + ``WWW-Authenticate`` → Basic: retry with credentials;
Bearer: token request to the realm (GET with ``service``/``scope``/``account``,
or the OAuth2 POST when holding an identity token, falling back to GET on 404)
→ retry with ``Authorization: Bearer``. Every hop is *yielded*, so it goes
through the client's transport and becomes its own exchange in the trace.

Rules:
- credentials are bound to THE registry (``registry``, the host named in the
  image reference): only requests to its origin (host and port) get them, and
  only a 401 of the registry itself is answered. A 401 from another host (a
  storage host reached through a 307, an upload ``Location`` or ``Link`` on
  another origin) is returned as it is: its realm never sees a credential.
  Once the registry answered over https, plain http to it counts as another origin;
- the ping (``PING_EXTENSION``) only learns the registry's challenge, as docker
  does: no token for it. The first request that needs a scope fetches its token
  BEFORE it is sent, with that scope and the operation's expected ones
  (``expect_scopes``), so a pull is ``GET /v2/`` → 401 → token (repository
  scope, ``account`` with credentials) → manifest;
- no I/O outside the yields; token bodies are read explicitly, capped at
  ``TOKEN_LIMIT`` by the client's transport, so blob bodies stay streamed
  (``requires_response_body`` stays False);
- a token is attached only to the registry; httpx itself strips
  ``Authorization`` on cross-origin redirects;
- Basic credentials go to a token realm on another host only over https or
  loopback; otherwise a warning and an anonymous token request;
- tokens are cached per (realm, service) with the scopes they grant and their
  expiry (``expires_in``, at least 60 s as the spec says, minus a margin); an
  expired token is renewed BEFORE the next request that needs it; a token the
  registry refuses anyway (401, e.g. ``invalid_token`` from a stricter clock) is
  dropped and a new one asked for; ``insufficient_scope`` asks again with the
  merged scopes (once);
- a transient token-server status (429/5xx) raises ``TokenServerUnavailable``,
  which the client's retry loop treats like a 503 of the registry;
- every credential and token is registered in ``Secrets`` before any use.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
import time
from collections.abc import Callable, Generator, Iterable

import httpx

from explorer.client.bounded import TOKEN_LIMIT
from explorer.client.credentials import CredentialSource, Credentials
from explorer.errors import AuthError
from explorer.protocol import challenge as challenges
from explorer.protocol.reference import is_loopback
from explorer.recording.extensions import LIMIT_EXTENSION, PING_EXTENSION, STEP_EXTENSION
from explorer.recording.redact import Secrets

__all__ = ["RegistryAuth", "TokenServerUnavailable", "same_origin"]


CLIENT_ID = "regexplore"
EXPIRY_MARGIN = 10.0  # seconds: refresh a little before the token expires
MAX_TOKEN_ROUNDS = 2  # first token, then one more for insufficient_scope / expiry
PROBE_WAIT = 60.0  # seconds a request waits for another thread's token fetch of the same scope




class TokenServerUnavailable(AuthError):
    """The token server answered a transient status (503, 429, ...); the request may be retried."""

    def __init__(self, message: str, *, retry_after: str | None = None) -> None:
        super().__init__(message, "the token server is busy or down; try again later")
        self.retry_after = retry_after


class _CachedToken:
    __slots__ = ("token", "scopes", "expires_at")  # a plain class: a dataclass costs start-up ~0.4 ms

    def __init__(self, token: str, scopes: tuple[str, ...], expires_at: float) -> None:
        self.token = token
        self.scopes = scopes
        self.expires_at = expires_at


class RegistryAuth(httpx.Auth):
    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        credentials: CredentialSource,
        secrets: Secrets,
        *,
        registry: str,
        warn: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self.secrets = secrets
        self.registry = registry
        self._spoke_tls = False  # the registry answered over https: http to it is a downgrade
        self._warn = warn or (lambda message: None)
        self._clock = clock
        self._lock = threading.Lock()
        self._challenges: dict[str, challenges.Challenge] = {}
        self._tokens: dict[tuple[str, str], list[_CachedToken]] = {}
        self._expired: dict[tuple[str, str], list[_CachedToken]] = {}  # to renew pre-emptively, once
        self._refresh_tokens: dict[str, str] = {}
        self._post_unsupported: set[str] = set()
        self._warned: set[str] = set()
        self._hints: dict[str, tuple[str, ...]] = {}  # host -> scopes the operation will need
        self._probes: dict[tuple[str, tuple[str, ...]], threading.Event] = {}  # token fetches in flight

    def expect_scopes(self, host: str, scopes: Iterable[str]) -> None:
        """Ask for ``scopes`` too in the next token request to ``host`` (a push wants ``pull,push``
        from its first challenge on, as docker does, instead of a second 401 at its first POST)."""
        with self._lock:
            self._hints[host] = challenges.merge_scopes([*self._hints.get(host, ()), *scopes])

    # --- the flow ------------------------------------------------------------
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        downgrade = request.url.scheme == "http" and self._spoke_tls
        if downgrade or not same_origin(request.url, self.registry):  # no credential, no answer to its 401
            yield request
            return
        host = self.registry
        if request.extensions.get(PING_EXTENSION):  # the ping: learn the challenge, fetch no token
            response = yield request
            self._note_scheme(response)
            if response.status_code == 401 and self._from_registry(response):
                chosen = self._choose(response)
                if chosen is not None:
                    with self._lock:
                        self._challenges[host] = chosen
            return
        with self._lock:
            challenged = host in self._challenges
        if not challenged:  # it never asked for credentials (anonymous so far): scopes matter only on a 401
            response = yield request
            self._note_scheme(response)
            yield from self._answer(request, host, None, None, response, 0)
            return
        needed = _scopes_needed(request)
        self._attach_known(request, host, needed)
        probe = self._join_probe(request, host, needed)
        try:
            yield from self._flow(request, host, needed, probe)
        finally:
            self._end_probe(probe)

    def _flow(
        self,
        request: httpx.Request,
        host: str,
        needed: tuple[str, ...],
        probe: tuple[tuple[str, tuple[str, ...]], threading.Event] | None,
    ) -> Generator[httpx.Request, httpx.Response, None]:
        rounds = 0
        ahead = self._token_ahead(request, host, needed)
        if ahead is not None:  # a known Bearer registry: the token first, not after a 401
            known, scopes = ahead
            token = yield from self._token_exchange(request, host, known, scopes)
            request.headers["Authorization"] = f"Bearer {token}"
            self._end_probe(probe)
            rounds = 1
        response = yield request
        self._note_scheme(response)
        yield from self._answer(request, host, needed, probe, response, rounds)

    def _answer(
        self,
        request: httpx.Request,
        host: str,
        needed: tuple[str, ...] | None,
        probe: tuple[tuple[str, tuple[str, ...]], threading.Event] | None,
        response: httpx.Response,
        rounds: int,
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Answer the registry's 401s (``needed``: the request's scopes, worked out here when None)."""
        while response.status_code == 401 and rounds < MAX_TOKEN_ROUNDS and self._from_registry(response):
            chosen = self._choose(response)
            if chosen is None:
                return
            if needed is None:
                needed = _scopes_needed(request)
            self._forget(request.headers.get("authorization", ""))
            with self._lock:
                self._challenges[host] = chosen
            if chosen.scheme == "basic":
                creds = self.credentials.for_host(host)
                sent_basic = request.headers.get("authorization", "").lower().startswith("basic ")
                if creds is None or creds.password is None or sent_basic:
                    return
                request.headers["Authorization"] = _basic(creds)
                response = yield request
                rounds += 1
                continue
            # Bearer: new scopes first ("some registries only look at the first scope")
            with self._lock:
                hints = self._hints.get(host, ())
            wanted = challenges.merge_scopes([*chosen.scopes, *needed, *hints])
            token = yield from self._token_exchange(request, host, chosen, wanted)
            request.headers["Authorization"] = f"Bearer {token}"
            self._end_probe(probe)  # requests waiting for this scope can use the token now
            response = yield request
            rounds += 1

    def _note_scheme(self, response: httpx.Response) -> None:
        """Once the registry answered over https, plain http to it (a downgrading Location) gets no credential."""
        if response.request.url.scheme == "https" and self._from_registry(response):
            self._spoke_tls = True

    def _from_registry(self, response: httpx.Response) -> bool:
        """The response came from the registry itself, not from a host a redirect led to."""
        return same_origin(response.request.url, self.registry)

    def _join_probe(
        self, request: httpx.Request, host: str, needed: tuple[str, ...]
    ) -> tuple[tuple[str, tuple[str, ...]], threading.Event] | None:
        """One token fetch per scope at a time: concurrent requests needing the same scope wait for it.

        Without this, four parallel blob HEADs each get a 401 and each fetch the
        same token. Only hosts known to use Bearer tokens are coordinated, so
        anonymous and Basic registries keep full concurrency. Returns the probe
        this request owns (it goes first), or None.
        """
        if "authorization" in request.headers:
            return None
        key = (host, needed)
        with self._lock:
            known = self._challenges.get(host)
            if known is None or known.scheme != "bearer":
                return None
            event = self._probes.get(key)
            if event is None:
                event = self._probes[key] = threading.Event()
                return key, event
        event.wait(PROBE_WAIT)
        self._attach_known(request, host, needed)
        return None

    def _end_probe(self, probe: tuple[tuple[str, tuple[str, ...]], threading.Event] | None) -> None:
        if probe is None:
            return
        key, event = probe
        with self._lock:
            if self._probes.get(key) is event:
                del self._probes[key]
        event.set()

    # --- helpers ---------------------------------------------------------------
    def _choose(self, response: httpx.Response) -> challenges.Challenge | None:
        values = response.headers.get_list("www-authenticate")
        if not values:
            return None
        for c in challenges.parse_challenges(values):
            if c.scheme in ("bearer", "basic"):
                if c.scheme == "bearer" and not c.realm:
                    raise AuthError(f"the registry's Bearer challenge has no realm: {values[0]!r}")
                return c
        return None

    def _attach_known(self, request: httpx.Request, host: str, needed: tuple[str, ...]) -> None:
        """Pre-emptive auth: reuse what the last challenge of this host taught us."""
        if "authorization" in request.headers:
            return
        with self._lock:
            known = self._challenges.get(host)
        if known is None:
            return
        if known.scheme == "basic":
            creds = self.credentials.for_host(host)
            if creds is not None and creds.password is not None:
                request.headers["Authorization"] = _basic(creds)
            return
        token = self._cached(known, needed)
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token}"

    def _cached(self, known: challenges.Challenge, needed: tuple[str, ...]) -> str | None:
        key = (known.realm or "", known.service or "")
        now = self._clock()
        with self._lock:
            entries = self._tokens.get(key, [])
            live = [t for t in entries if t.expires_at > now]
            self._expired.setdefault(key, []).extend(t for t in entries if t.expires_at <= now)
            self._tokens[key] = live
            for entry in reversed(live):
                if not needed or challenges.covers(entry.scopes, needed):
                    return entry.token
        return None

    def _token_ahead(
        self, request: httpx.Request, host: str, needed: tuple[str, ...]
    ) -> tuple[challenges.Challenge, tuple[str, ...]] | None:
        """(challenge, scopes) to fetch a token with BEFORE sending, or None.

        When the registry is known to want Bearer tokens (its ping said so) and no
        token is attached: the scopes this request needs plus the operation's
        expected ones, or those of an expired token that covered it (renewal).
        """
        if "authorization" in request.headers or not needed:
            return None
        with self._lock:
            known = self._challenges.get(host)
            if known is None or known.scheme != "bearer":
                return None
            key = (known.realm or "", known.service or "")
            expired = self._expired.pop(key, [])
            hints = self._hints.get(host, ())
        for entry in reversed(expired):
            if challenges.covers(entry.scopes, needed):
                return known, challenges.merge_scopes([*needed, *entry.scopes])
        return known, challenges.merge_scopes([*needed, *hints])

    def _forget(self, authorization: str) -> None:
        """Drop a cached token the server just refused (expired early, revoked), so no one reuses it."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return
        with self._lock:
            for key, entries in self._tokens.items():
                self._tokens[key] = [t for t in entries if t.token != token]

    def _token_exchange(
        self,
        request: httpx.Request,
        host: str,
        chosen: challenges.Challenge,
        scopes: tuple[str, ...],
    ) -> Generator[httpx.Request, httpx.Response, str]:
        realm = self._check_realm(request.url, chosen.realm or "")
        service = chosen.service
        creds = self.credentials.for_host(host)
        send_creds = creds is not None and self._may_send_credentials(request.url, realm)
        refresh = self._refresh_tokens.get(str(realm)) or (creds.identity_token if creds and send_creds else None)
        extensions = {STEP_EXTENSION: "authenticate", LIMIT_EXTENSION: TOKEN_LIMIT}
        if "timeout" in request.extensions:
            extensions["timeout"] = request.extensions["timeout"]
        base_headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        if "user-agent" in request.headers:
            base_headers["User-Agent"] = request.headers["user-agent"]

        token_response: httpx.Response | None = None
        if refresh and str(realm) not in self._post_unsupported:
            form = challenges.token_form(
                service=service, scopes=scopes, client_id=CLIENT_ID, refresh_token=refresh
            )
            post = httpx.Request("POST", realm, data=dict(form), headers=base_headers, extensions=extensions)
            token_response = yield post
            token_body = token_response.read()  # capped by the transport
            if token_response.status_code in (404, 405):
                self._post_unsupported.add(str(realm))
                token_response = None
        if token_response is None:
            account = creds.username if creds and send_creds and creds.password else None
            params = challenges.token_query(service, scopes, account)
            headers = dict(base_headers)
            if creds is not None and send_creds and creds.password is not None:
                headers["Authorization"] = _basic(creds)
            get = httpx.Request("GET", realm, params=params, headers=headers, extensions=extensions)
            token_response = yield get
            token_body = token_response.read()  # capped by the transport

        from explorer.protocol import errorcodes  # here: a pull that meets no token server never loads it

        if token_response.status_code in errorcodes.TRANSIENT_STATUSES:
            raise TokenServerUnavailable(
                f"token server {_origin(realm)} answered {token_response.status_code} "
                f"{token_response.reason_phrase} for {host}",
                retry_after=token_response.headers.get("retry-after"),
            )
        if token_response.status_code != 200:
            raise self._token_error(token_response, token_body, host, creds if send_creds else None)
        try:
            data = json.loads(token_body)
        except ValueError:
            raise AuthError(
                f"token server {_origin(realm)} answered 200 with a body that is not JSON",
                "check the realm in the registry's WWW-Authenticate header",
            ) from None
        if not isinstance(data, dict):
            raise AuthError(f"token server {_origin(realm)} answered 200 with JSON that is not an object")
        grant = challenges.parse_token_response(data)
        self.secrets.add(grant.token)
        self.secrets.add(grant.refresh_token)
        if grant.refresh_token:
            self._refresh_tokens[str(realm)] = grant.refresh_token
        expires_at = self._clock() + max(grant.expires_in - EXPIRY_MARGIN, 1.0)
        granted = tuple(grant.scope.split()) if grant.scope else scopes
        with self._lock:
            self._tokens.setdefault((chosen.realm or "", service or ""), []).append(
                _CachedToken(grant.token, granted, expires_at)
            )
        return grant.token

    def _check_realm(self, request_url: httpx.URL, realm: str) -> httpx.URL:
        url = request_url.join(realm)
        if url.scheme not in ("http", "https") or not url.host:
            raise AuthError(f"the registry's token realm {realm!r} is not an http(s) URL")
        # "https" means: the registry really answered over TLS (a loopback request still written
        # https:// before its probe found plain http does not count)
        if request_url.scheme == "https" and self._spoke_tls and url.scheme != "https":
            raise AuthError(
                f"the registry is https but its token realm {_origin(url)} is plain http; refusing it",
                "a registry must not send clients to a plain-http token server",
            )
        return url

    def _may_send_credentials(self, registry_url: httpx.URL, realm: httpx.URL) -> bool:
        if realm.host == registry_url.host or realm.scheme == "https" or is_loopback(realm.host):
            return True
        key = _origin(realm)
        if key not in self._warned:
            self._warned.add(key)
            self._warn(
                f"not sending credentials to token server {key}: it is plain http on another host; "
                "asking for an anonymous token instead"
            )
        return False

    def _token_error(
        self, response: httpx.Response, body: bytes, host: str, creds: Credentials | None
    ) -> AuthError:
        from explorer.protocol import errorcodes

        realm = _origin(response.request.url)
        detail = errorcodes.summarize(
            errorcodes.parse_error_body(body, response.headers.get("content-type")),
            response.status_code,
            response.reason_phrase,
        )
        if response.status_code in (401, 403) and creds is not None:
            who = creds.username or "(identity token)"
            return AuthError(
                f"token server {realm} refused the credentials of user {who!r} for {host} ({detail})",
                f"check the password ({creds.source}), e.g. with `docker login {host}`",
            )
        return AuthError(f"token server {realm} failed for {host}: {detail}")


def _scopes_needed(request: httpx.Request) -> tuple[str, ...]:
    return challenges.scopes_for_request(request.method, request.url.path, request.url.query.decode())


def _basic(creds: Credentials) -> str:
    raw = f"{creds.username or ''}:{creds.password or ''}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii')}{url.path}"


def same_origin(url: httpx.URL, registry: str) -> bool:
    """``url`` is on the registry ``host[:port]`` (the port defaulting by ``url``'s scheme)."""
    return (url.host.lower(), url.port) == _origin_of(url.scheme, registry)


@functools.lru_cache(maxsize=64)
def _origin_of(scheme: str, registry: str) -> tuple[str, int | None]:
    """(host, port) of ``scheme://registry``, as httpx parses it: asked three times per request, parsed once."""
    named = httpx.URL(f"{scheme}://{registry}")
    return named.host.lower(), named.port
