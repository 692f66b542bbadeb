"""The sandbox's token server: scoped, expiring JWTs on their own origin (the "Auth" participant).

Rule 1: no JWT library: HS256 is one HMAC (``hmac``, ``hashlib``, ``json``, ``base64``).
Rule 2: it speaks the Docker token protocol (distribution ``auth/token.md``,
``auth/oauth.md``; protocol.md §3.3-3.5):

- ``GET /token?service=…&scope=…&scope=…[&account=…][&offline_token=true&client_id=…]``
  with optional ``Authorization: Basic``;
- ``POST /token`` form: ``grant_type=password`` (``username``, ``password``) or
  ``grant_type=refresh_token`` (``refresh_token``), ``service``, ``client_id``,
  ``scope`` (ONE field, space-separated), ``access_type=offline`` for a refresh token;
- answer ``{"token", "access_token", "expires_in", "issued_at"[, "refresh_token"][, "scope"]}``.

Claims are distribution's: ``iss``, ``sub`` (the account, "" when anonymous),
``aud`` (the service), ``exp``, ``nbf``, ``iat``, ``jti``, ``access: [{type,
name, actions}]``. A grant is the intersection of what was asked and what the
account may have; wrong credentials are the only refusal (401). Expiry is
checked without leeway (distribution allows some clock skew) so a 1-second
token really expires in tests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from explorer.errors import MalformedHeader
from explorer.protocol import challenge
from explorer.protocol.challenge import Scope
from explorer.sandbox.accounts import Accounts, basic_credentials
from explorer.sandbox.wsgi import BodyTooLarge, IncompleteBody, Request, Response, json_response

__all__ = ["ISSUER", "SERVICE", "InvalidToken", "TokenApp", "TokenIssuer"]

SERVICE = "regexplore-sandbox"
ISSUER = "regexplore-sandbox-token-server"


class InvalidToken(Exception):
    """A bearer token that is malformed, forged, expired, not yet valid or for another service."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Signs and verifies the sandbox's HS256 JWTs."""

    def __init__(
        self,
        secret: bytes,
        *,
        service: str = SERVICE,
        issuer: str = ISSUER,
        ttl: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret = secret
        self.service = service
        self.issuer = issuer
        self.ttl = ttl
        self.clock = clock

    def issue(self, account: str | None, grants: Iterable[Scope]) -> tuple[str, dict[str, Any]]:
        """A token for ``account`` holding ``grants``; returns ``(token, claims)``."""
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "sub": account or "",
            "aud": self.service,
            "exp": now + self.ttl,
            "nbf": now,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": [{"type": scope.type, "name": scope.name, "actions": list(scope.actions)}
                       for scope in grants if scope.actions],
        }
        header = {"typ": "JWT", "alg": "HS256", "kid": "regexplore-sandbox"}
        signing_input = f"{_b64(_json(header))}.{_b64(_json(claims))}"
        signature = hmac.new(self.secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}", claims

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a token we issued that is valid now; InvalidToken otherwise."""
        try:
            header_part, claims_part, signature_part = token.split(".")
            header = json.loads(_unb64(header_part))
            claims = json.loads(_unb64(claims_part))
            signature = _unb64(signature_part)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidToken("malformed token") from None
        if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
            raise InvalidToken("unsupported token")
        expected = hmac.new(self.secret, f"{header_part}.{claims_part}".encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, signature):
            raise InvalidToken("bad signature")
        now = self.clock()
        if claims.get("iss") != self.issuer or claims.get("aud") != self.service:
            raise InvalidToken("token for another issuer or service")
        if not isinstance(claims.get("exp"), int) or now >= claims["exp"]:
            raise InvalidToken("token expired")
        if not isinstance(claims.get("nbf"), int) or now < claims["nbf"]:
            raise InvalidToken("token not valid yet")
        return claims


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


class TokenApp:
    """The WSGI token endpoint, ``/token``, meant to be served on its own origin."""

    path = "/token"

    def __init__(self, issuer: TokenIssuer, accounts: Accounts) -> None:
        self.issuer = issuer
        self.accounts = accounts
        self._refresh_tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path != self.path:
            response = Response(404, [("Content-Type", "text/plain; charset=utf-8")], b"404 page not found\n")
        elif request.method == "GET":
            response = self._get(request)
        elif request.method == "POST":
            response = self._post(request)
        else:
            response = Response(405, [("Allow", "GET, POST"), ("Content-Type", "text/plain; charset=utf-8")],
                                b"method not allowed\n")
        response.headers.append(("Cache-Control", "no-store"))
        return response(environ, start_response)

    # --- GET (all token servers) ----------------------------------------------------------

    def _get(self, request: Request) -> Response:
        refused = self._check_service(request.arg("service"))
        if refused:
            return refused
        account: str | None = None
        credentials = basic_credentials(request)
        if credentials is not None:
            if not self.accounts.authenticate(*credentials):
                return _registry_error(401, "UNAUTHORIZED", "authentication required",
                                       "incorrect username or password")
            account = credentials[0]
        try:
            requested = [challenge.parse_scope(text) for value in request.args("scope") for text in value.split()]
        except MalformedHeader as error:
            return _registry_error(400, "DENIED", "invalid scope", str(error))
        offline = (request.arg("offline_token") or "").lower() == "true" and account is not None
        return self._grant(account, requested, offline, include_scope=False)

    # --- POST (OAuth2 form) ---------------------------------------------------------------

    def _post(self, request: Request) -> Response:
        try:
            form = parse_qs(request.read_body(64 * 1024).decode("utf-8"), keep_blank_values=True)
        except (BodyTooLarge, IncompleteBody, UnicodeDecodeError):
            return _oauth_error(400, "invalid_request", "unreadable form body")

        def field(name: str) -> str:
            return (form.get(name) or [""])[0]

        refused = self._check_service(field("service") or None)
        if refused:
            return refused
        grant_type = field("grant_type")
        if grant_type == "password":
            if not self.accounts.authenticate(field("username"), field("password")):
                return _oauth_error(401, "invalid_grant", "incorrect username or password")
            account: str | None = field("username")
        elif grant_type == "refresh_token":
            with self._lock:
                account = self._refresh_tokens.get(field("refresh_token"))
            if account is None:
                return _oauth_error(401, "invalid_grant", "unknown refresh token")
        else:
            return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
        try:
            requested = [challenge.parse_scope(text) for text in field("scope").split()]
        except MalformedHeader as error:
            return _oauth_error(400, "invalid_scope", str(error))
        offline = field("access_type") == "offline"
        reuse = field("refresh_token") if grant_type == "refresh_token" else None
        return self._grant(account, requested, offline, include_scope=True, refresh_token=reuse)

    # --- shared ----------------------------------------------------------------------------

    def _check_service(self, service: str | None) -> Response | None:
        if service is not None and service != self.issuer.service:
            return _registry_error(400, "DENIED", "unknown service",
                                   f"this token server serves {self.issuer.service!r}, not {service!r}")
        return None

    def _grant(
        self,
        account: str | None,
        requested: list[Scope],
        offline: bool,
        *,
        include_scope: bool,
        refresh_token: str | None = None,
    ) -> Response:
        grants = [Scope(scope.type, scope.name, self.accounts.allowed(account, scope)) for scope in requested]
        token, claims = self.issuer.issue(account, grants)
        answer: dict[str, Any] = {
            "token": token,
            "access_token": token,
            "expires_in": self.issuer.ttl,
            "issued_at": datetime.fromtimestamp(claims["iat"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if include_scope:
            answer["scope"] = " ".join(str(scope) for scope in grants if scope.actions)
        if offline and account is not None:
            if refresh_token is None:
                refresh_token = secrets.token_urlsafe(32)
                with self._lock:
                    self._refresh_tokens[refresh_token] = account
            answer["refresh_token"] = refresh_token
        return json_response(200, answer)


def _registry_error(status: int, code: str, message: str, detail: Any) -> Response:
    return json_response(status, {"errors": [{"code": code, "message": message, "detail": detail}]})


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})
