"""A Docker-style token server for the tests' Bearer-auth registries (RS256 JWT with ``x5c``).

Rules: test infrastructure, imports only the standard library, ``pyjwt`` and
``cryptography``; knows nothing about regexplore. It implements the two token
protocols of the distribution "token" docs:

- ``GET /token?service=S&scope=A&scope=B&account=U[&offline_token=true]`` with optional
  Basic auth → ``{"token", "access_token", "expires_in", "issued_at"[, "refresh_token"]}``
- ``POST /token`` form (OAuth2): ``grant_type=password`` (``username``, ``password``) or
  ``grant_type=refresh_token`` (``refresh_token``), plus ``service``, ``scope``,
  ``client_id``, ``access_type=offline`` → same JSON, with ``refresh_token`` when offline.

Policy: an authenticated user gets every action asked for (pull, push, delete,
``registry:catalog:*``); anonymous gets ``pull`` on repositories only, nothing on the
catalog; a wrong password or unknown refresh token → 401 with a JSON error.
Every issued access and refresh token is kept in ``issued_tokens`` (canary tests grep
outputs for them) and every request in ``requests``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.infra.loopback import LoopbackServer
from tests.infra.network import self_signed_certificate

__all__ = ["SigningIdentity", "TokenRequest", "TokenServer", "grant", "signing_identity"]


@dataclass(frozen=True)
class SigningIdentity:
    """An RSA key and its self-signed CA certificate (the registry's ``rootcertbundle``)."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def x5c(self) -> list[str]:
        return [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode("ascii")]


_identity_lock = threading.Lock()
_identity: SigningIdentity | None = None


def signing_identity() -> SigningIdentity:
    """One key + CA certificate per process (RSA key generation costs ~0.1 s)."""
    global _identity
    with _identity_lock:
        if _identity is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            ca = x509.BasicConstraints(ca=True, path_length=None)
            cert = self_signed_certificate(key, "regexplore test token CA", 3650, ca, critical=True)
            _identity = SigningIdentity(key, cert)
        return _identity


@dataclass(frozen=True)
class TokenRequest:
    """What a client sent to the token endpoint (for assertions)."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: list[tuple[str, str]]
    status: int


@dataclass
class TokenServer(LoopbackServer):
    """A threaded token server on 127.0.0.1; ``start()`` it, ``stop()`` it."""

    service: str
    issuer: str = "regexplore-test-issuer"
    users: dict[str, str] = field(default_factory=dict)
    expires_in: int = 300
    issued_tokens: list[str] = field(default_factory=list)
    requests: list[TokenRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.identity = signing_identity()
        self._lock = threading.Lock()
        self._refresh_tokens: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------

    thread_name = "token-server"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(_TokenHandler):
            token_server = server

        return Handler

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def write_cert(self, path: Path) -> Path:
        path.write_bytes(self.identity.cert_pem)
        return path

    # -- tokens ------------------------------------------------------------------

    def issue(self, subject: str, access: list[dict[str, Any]]) -> tuple[str, int, str]:
        """(signed JWT, expires_in, issued_at) for ``subject`` with ``access``."""
        now = int(time.time())
        expires_in = self.expires_in
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + expires_in,
            "nbf": now,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        token = jwt.encode(claims, self.identity.key, algorithm="RS256", headers={"x5c": self.identity.x5c})
        with self._lock:
            self.issued_tokens.append(token)
        issued_at = dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return token, expires_in, issued_at

    def new_refresh_token(self, username: str) -> str:
        value = f"refresh-{secrets.token_hex(20)}"
        with self._lock:
            self._refresh_tokens[value] = username
            self.issued_tokens.append(value)
        return value

    def user_for_refresh_token(self, value: str) -> str | None:
        with self._lock:
            return self._refresh_tokens.get(value)

    def check_password(self, username: str, password: str) -> bool:
        expected = self.users.get(username)
        return expected is not None and secrets.compare_digest(expected.encode(), password.encode())

    def record(self, request: TokenRequest) -> None:
        with self._lock:
            self.requests.append(request)


def grant(scopes: list[str], authenticated: bool) -> list[dict[str, Any]]:
    """The ``access`` claim for requested scopes under the test policy."""
    granted: dict[tuple[str, str], list[str]] = {}
    for scope in scopes:
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if not kind or not name:
            continue
        wanted = [a for a in actions.split(",") if a]
        if not authenticated:
            wanted = ["pull"] if kind == "repository" and "pull" in wanted else []
        if not wanted:
            continue
        merged = granted.setdefault((kind, name), [])
        merged.extend(a for a in wanted if a not in merged)
    return [{"type": kind, "name": name, "actions": actions} for (kind, name), actions in granted.items()]


class _TokenHandler(BaseHTTPRequestHandler):
    token_server: TokenServer
    protocol_version = "HTTP/1.1"
    server_version = "regexplore-test-token-server/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        if url.path != "/token":
            self._answer(404, {"errors": [{"code": "NOT_FOUND", "message": "only /token lives here"}]}, query, {})
            return
        username: str | None = None
        basic = self._basic_credentials()
        if basic is not None:
            if not self.token_server.check_password(*basic):
                self._unauthorized(query, {})
                return
            username = basic[0]
        offline = query.get("offline_token", [""])[0].lower() == "true"
        self._issue(username, _scopes(query.get("scope", [])), offline, query, {})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True)
        if url.path != "/token":
            self._answer(404, {"errors": [{"code": "NOT_FOUND", "message": "only /token lives here"}]}, query, form)
            return
        grant_type = form.get("grant_type", [""])[0]
        if grant_type == "password":
            username = form.get("username", [""])[0]
            if not self.token_server.check_password(username, form.get("password", [""])[0]):
                self._unauthorized(query, form)
                return
        elif grant_type == "refresh_token":
            found = self.token_server.user_for_refresh_token(form.get("refresh_token", [""])[0])
            if found is None:
                body = {"error": "invalid_grant", "error_description": "unknown or revoked refresh token"}
                self._answer(401, body, query, form)
                return
            username = found
        else:
            body = {"error": "unsupported_grant_type", "error_description": f"grant_type {grant_type!r}"}
            self._answer(400, body, query, form)
            return
        offline = form.get("access_type", [""])[0] == "offline"
        self._issue(username, _scopes(form.get("scope", [])), offline, query, form)

    # -- helpers -----------------------------------------------------------------

    def _issue(
        self,
        username: str | None,
        scopes: list[str],
        offline: bool,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
    ) -> None:
        server = self.token_server
        access = grant(scopes, authenticated=username is not None)
        token, expires_in, issued_at = server.issue(username or "", access)
        body: dict[str, Any] = {
            "token": token,
            "access_token": token,
            "expires_in": expires_in,
            "issued_at": issued_at,
        }
        if scopes and form:
            body["scope"] = " ".join(scopes)
        if offline and username is not None:
            body["refresh_token"] = server.new_refresh_token(username)
        self._answer(200, body, query, form)

    def _basic_credentials(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            username, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except ValueError:
            return ("", "")
        return username, password

    def _unauthorized(self, query: dict[str, list[str]], form: dict[str, list[str]]) -> None:
        body = {"errors": [{"code": "UNAUTHORIZED", "message": "incorrect username or password"}]}
        self._answer(401, body, query, form, {"WWW-Authenticate": 'Basic realm="regexplore-test-token-server"'})

    def _answer(
        self,
        status: int,
        body: dict[str, Any],
        query: dict[str, list[str]],
        form: dict[str, list[str]],
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self.token_server.record(
            TokenRequest(self.command, self.path, query, form, list(self.headers.items()), status)
        )
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _scopes(values: list[str]) -> list[str]:
    """Every scope, also when several share one space-separated value."""
    return [scope for value in values for scope in value.split() if scope]
