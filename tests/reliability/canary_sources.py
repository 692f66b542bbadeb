"""Canaries made live: how the CLI gets credentials, what the proxies add to the wire, what the sandbox issues.

- ``login(source, host, user, password, workdir)``: the arguments, stdin and
  environment that hand credentials to ``regexplore trace ...`` from one source:
  ``flag`` (``--password X``), ``flag=`` (``--password=X``), ``stdin``,
  ``docker-config`` (base64 ``auth`` under ``DOCKER_CONFIG``), ``credential-helper``
  (a ``docker-credential-canary`` script on ``PATH``), ``identity-token``
  (``identitytoken`` in the Docker config: OAuth2 refresh grants), ``copy-creds``
  (``--src-creds``/``--dest-creds USER:PASSWORD``). The environment never lets
  this machine's own credentials in (``isolated(workdir)``: none at all).
- ``wire_secrets(fronted, registry)``: the fault proxies set a cookie on every
  answer (``set_cookies`` for any proxy), sign the registry's 307 ``Location`` (``X-Amz-Signature``, ``Signature``,
  ``sig``, ``X-Amz-Credential``) and add a real refresh token to every token response.
- ``set_cookies`` also plants secrets under names no table of ours knows (``UNKNOWN``): the
  headers ``X-Upstream-Token`` and ``X-Vault-Token`` (caught by their names), ``X-Edge-Context``
  (an innocent name, a credential-shaped value), a second ``Set-Cookie`` folding two unknown
  cookies, and in every JSON answer a ``session_key``, a nested ``apiKey`` and an innocently
  named credential-shaped ``trace_ctx``; token answers get an unknown ``user_hint`` (only the
  token-response allowlist catches it). ``unknown_canaries()`` names them all.
- ``registry_canaries(registry)``: the password, its Basic form, the cookie, the
  signatures and every token the tests' token server issued; ``query_secrets``
  adds the signed values (``_state``, ``Signature``, …) of the request targets a
  proxy or the sandbox saw.
- ``SandboxWatch``: the built-in ``Sandbox(auth="token", redirect=True)`` with a
  password full of characters that encode differently everywhere, its access log
  (the signed CDN URLs and upload ``_state`` it was asked for) and every token it issued.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest

from explorer.sandbox import Sandbox
from tests.infra.fault_proxy import FaultProxy
from tests.infra.faults import ProxyResponse, Rewrite, Rule
from tests.infra.registry import RunningRegistry
from tests.reliability.canary_outputs import Canaries
from tests.reliability.conftest import Fronted

__all__ = [
    "COOKIE", "SIGNATURES", "SOURCES", "UNKNOWN", "UNKNOWN_MARKERS", "Login", "SandboxWatch", "isolated", "login",
    "query_secrets", "registry_canaries", "set_cookies", "unknown_canaries", "wire_secrets",
]

COOKIE = "cookie-canary-5f2b8e0d9a"
SIGNATURES = {
    "X-Amz-Signature": "amzsig-canary-0c9f3e1b7d2a4e6f",
    "Signature": "cdnsig-canary-8d1e5a2c3b4f6a7e",
    "sig": "azsig-canary-2b4d6f8a0c1e3a5c",
    "X-Amz-Credential": "AKIACANARY1234567890/20260101/us-east-1/s3/aws4_request",
}
#: the query parameters whose values are secrets wherever a registry or CDN puts them
SIGNED_PARAMETERS = ("_state", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "Signature", "sig")
SOURCES = ("flag", "flag=", "stdin", "docker-config", "credential-helper", "identity-token", "copy-creds")
#: secrets under names no table of ours lists; each value is caught by one rule only (see the module docstring)
UNKNOWN = {
    "X-Upstream-Token": "upstream-canary-kilo-lima",  # response header: name contains "token"
    "X-Vault-Token": "hvs.vaultcanary-mike-november",  # response header: name contains "token"
    "X-Edge-Context": "Ed9eCtxQp2Lm9RzT4wYb8NcX3vK7",  # response header: harmless name, credential-shaped value
    "lb_affinity": "lbcookie-canary-oscar-papa",  # a folded Set-Cookie: the first cookie ...
    "edge_sid": "edgesid-canary-quebec-romeo",  # ... and the second, after a comma
    "session_key": "sessionkey-canary-sierra-tango",  # JSON field: name contains "session" and "key"
    "apiKey": "apikey-canary-uniform-victor",  # JSON field, nested: name contains "api" and "key"
    "trace_ctx": "Tr4ceCtxW9xLm2RzP8wYb4NcQ7uS",  # JSON field: harmless name, credential-shaped value
    "user_hint": "tokenhint-canary-whiskey-xray",  # token answer: harmless name and value, not on its allowlist
}
#: what a trace of an operation against a proxy that ``set_cookies`` plants shows: each of them was there
UNKNOWN_MARKERS = (
    '["X-Upstream-Token", "<redacted>"]', '["X-Vault-Token", "<redacted>"]', '["X-Edge-Context", "<redacted>"]',
    "lb_affinity=<redacted>", "edge_sid=<redacted>", '\\"session_key\\": \\"<redacted>\\"',
    '\\"apiKey\\": \\"<redacted>\\"', '\\"trace_ctx\\": \\"<redacted>\\"',
)


# --- credentials for one CLI run ---------------------------------------------------------------------
@dataclass
class Login:
    """CLI arguments, stdin and environment giving credentials from one source."""

    args: list[str] = field(default_factory=list)
    stdin: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def apply(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Set the environment (and never let REGISTRY_AUTH_FILE or podman's auth file in)."""
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)  # not via setenv: distribution reads REGISTRY_*
        monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


def isolated(workdir: Path) -> Login:
    """No credentials at all: an empty HOME and Docker config under ``workdir``."""
    home, config_dir = workdir / "home", workdir / "docker-config"
    for directory in (home, config_dir):
        directory.mkdir(parents=True, exist_ok=True)
    return Login(env={"HOME": str(home), "DOCKER_CONFIG": str(config_dir)})


def login(source: str, host: str, username: str, password: str, workdir: Path, *,
          identity_token: str | None = None) -> Login:
    """How ``regexplore trace ...`` gets ``username``/``password`` for ``host`` from ``source`` (see ``SOURCES``)."""
    result = isolated(workdir)
    env = result.env
    config_dir = Path(env["DOCKER_CONFIG"])
    config: dict[str, object] = {}
    if source == "flag":
        result.args = ["--username", username, "--password", password]
    elif source == "flag=":
        result.args = ["--username", username, f"--password={password}"]
    elif source == "stdin":
        result.args, result.stdin = ["--username", username, "--password-stdin"], password + "\n"
    elif source == "copy-creds":
        result.args = ["--src-creds", f"{username}:{password}", "--dest-creds", f"{username}:{password}"]
    elif source == "docker-config":
        config = {"auths": {host: {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}}}
    elif source == "identity-token":
        assert identity_token, "the identity-token source needs a refresh token the token server knows"
        config = {"auths": {host: {"identitytoken": identity_token}}}
    elif source == "credential-helper":
        bin_dir = workdir / "bin"
        bin_dir.mkdir(exist_ok=True)
        helper = bin_dir / "docker-credential-canary"
        answer = json.dumps({"ServerURL": host, "Username": username, "Secret": password})
        assert "'" not in answer, "the helper script quotes its answer in single quotes"
        helper.write_text(f"#!/bin/sh\ncat >/dev/null\nprintf '%s' '{answer}'\n")
        helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
        env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        config = {"credHelpers": {host: "canary"}}
    else:
        raise ValueError(f"unknown credential source {source!r}; choose from {', '.join(SOURCES)}")
    if config:
        (config_dir / "config.json").write_text(json.dumps(config))
    return result


# --- secrets the fault proxies put on the wire ---------------------------------------------------------
def _set_cookie(response: ProxyResponse) -> None:
    response.headers.append(("Set-Cookie", f"regexplore_session={COOKIE}; Path=/; HttpOnly"))
    _plant_unknown(response)


def _plant_unknown(response: ProxyResponse) -> None:
    """Unknown secret headers, a folded cookie header and, in a JSON answer, unknown secret fields."""
    for name in ("X-Upstream-Token", "X-Vault-Token", "X-Edge-Context"):
        response.headers.append((name, UNKNOWN[name]))
    response.headers.append(("Set-Cookie", f"lb_affinity={UNKNOWN['lb_affinity']}; Path=/, "
                                           f"edge_sid={UNKNOWN['edge_sid']}; Path=/; HttpOnly"))
    if (response.header("content-type") or "").split(";")[0].strip() != "application/json":
        return
    raw = response.read_body()
    try:
        body = json.loads(raw) if raw else None  # no body (HEAD, 204): nothing to add to
    except ValueError:
        return
    if isinstance(body, dict):
        body.update(session_key=UNKNOWN["session_key"], upstream={"apiKey": UNKNOWN["apiKey"]},
                    trace_ctx=UNKNOWN["trace_ctx"])
        response.body = json.dumps(body).encode()
        response.set_header("Content-Length", str(len(response.body)))


def unknown_canaries() -> Canaries:
    """Every value of ``UNKNOWN``, named by where it was planted."""
    canaries = Canaries()
    for name, value in UNKNOWN.items():
        canaries.add(f"unknown {name}", value)
    return canaries


def _sign_location(response: ProxyResponse) -> None:
    location = response.header("location")
    if response.status == 307 and location:
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in SIGNATURES.items())
        response.set_header("Location", f"{location}{'&' if '?' in location else '?'}{query}")


def set_cookies(proxy: FaultProxy) -> None:
    """A session cookie (``COOKIE``) on every answer of ``proxy``; httpx sends it back."""
    proxy.add(Rule(Rewrite(edit=_set_cookie), times=None))


def wire_secrets(fronted: Fronted, registry: RunningRegistry) -> None:
    """Cookies everywhere; signed CDN URLs; a real refresh token in every token response."""
    set_cookies(fronted.registry)
    if fronted.cdn is not None:
        fronted.registry.add(Rule(Rewrite(edit=_sign_location), path="/blobs/", times=None))
    if fronted.token is not None:
        server = registry.token_server
        assert server is not None and registry.username is not None

        def add_refresh_token(response: ProxyResponse) -> None:
            if response.status == 200:
                body = json.loads(response.read_body())
                body["refresh_token"] = server.new_refresh_token(registry.username)  # type: ignore[arg-type]
                body["user_hint"] = UNKNOWN["user_hint"]
                response.body = json.dumps(body).encode()
                response.set_header("Content-Length", str(len(response.body)))

        fronted.token.add(Rule(Rewrite(edit=add_refresh_token), path="/token", times=None))


def registry_canaries(registry: RunningRegistry, extra: dict[str, str] | None = None, *,
                      tokens_from: int = 0) -> Canaries:
    """The registry's password (and Basic form), the proxies' cookie and signatures, and every token its token
    server issued (from the ``tokens_from``-th on: earlier ones went to other tests' clients)."""
    canaries = Canaries()
    if registry.username and registry.password:
        canaries.add_basic("password", registry.username, registry.password)
    canaries.add("cookie", COOKIE)
    canaries.update(unknown_canaries())
    for name, value in SIGNATURES.items():
        canaries.add(name, value)
    if registry.token_server is not None:
        for i, token in enumerate(registry.token_server.issued_tokens[tokens_from:], start=tokens_from):
            canaries.add(f"issued token #{i}", token)
    for name, value in (extra or {}).items():
        canaries.add(name, value)
    return canaries


def query_secrets(targets: Iterable[str]) -> Canaries:
    """The values of ``SIGNED_PARAMETERS`` in request targets (``/path?_state=…``) a server saw."""
    canaries = Canaries()
    for target in targets:
        for key, value in parse_qsl(urlsplit(target).query):
            if key in SIGNED_PARAMETERS:
                canaries.add(f"{key} #{len(canaries)}", value)
    return canaries


# --- the built-in sandbox, watched ----------------------------------------------------------------------
class SandboxWatch:
    """A ``Sandbox(auth="token", redirect=True)`` whose secrets are all known; ``close()`` it."""

    USERNAME = "canary"

    def __init__(self, **options: object) -> None:
        # every character here is written differently by URLs, JSON, HTML, YAML and the diagrams
        self.password = f'sandbox pw "q\\z&<x>/+%é:{secrets.token_hex(6)}'
        self.requests: list[str] = []  # request lines of the registry and CDN: signed URLs, _state
        self.tokens: list[str] = []
        options.setdefault("auth", "token")
        options.setdefault("redirect", True)
        self.sandbox = Sandbox(users={self.USERNAME: self.password}, access_log=self.requests.append,
                               **options)  # type: ignore[arg-type]
        app = self.sandbox.token_app
        if app is not None:
            issue = app.issuer.issue

            def issue_and_remember(*args: object, **kwargs: object) -> tuple[str, dict[str, object]]:
                token, claims = issue(*args, **kwargs)  # type: ignore[arg-type]
                self.tokens.append(token)
                return token, claims

            app.issuer.issue = issue_and_remember  # type: ignore[method-assign]

    @property
    def host(self) -> str:
        return self.sandbox.registry_host

    def identity_token(self) -> str:
        """A refresh token the sandbox's token server knows (``offline_token=true``), as `docker login` keeps one."""
        assert self.sandbox.token_url and self.sandbox.token_app
        answer = httpx.get(self.sandbox.token_url, auth=(self.USERNAME, self.password),
                           params={"service": self.sandbox.token_app.issuer.service, "offline_token": "true"})
        answer.raise_for_status()
        token: str = answer.json()["refresh_token"]
        self.tokens.append(token)
        return token

    def canaries(self) -> Canaries:
        canaries = Canaries()
        canaries.add_basic("sandbox password", self.USERNAME, self.password)
        for i, token in enumerate(self.tokens):
            canaries.add(f"sandbox token #{i}", token)
        canaries.update(query_secrets(line.split('"')[1].split(" ")[1] for line in self.requests if '"' in line))
        return canaries

    def close(self) -> None:
        self.sandbox.close()
