"""The tests' token server speaks both Docker token protocols and applies the test policy."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jwt
import pytest

from tests.infra.token_server import TokenServer, grant

PASSWORD = "canary-pw-tokentest"


@pytest.fixture(scope="module")
def server() -> Iterator[TokenServer]:
    running = TokenServer(service="svc", users={"alice": PASSWORD}).start()
    yield running
    running.stop()


def _claims(server: TokenServer, token: str) -> dict:  # type: ignore[type-arg]
    key = server.identity.cert.public_key()
    return jwt.decode(token, key, algorithms=["RS256"], audience="svc", issuer=server.issuer)  # type: ignore[arg-type]


def test_get_with_basic_auth_grants_everything_asked(server: TokenServer) -> None:
    answer = httpx.get(
        server.realm,
        params=[("service", "svc"), ("scope", "repository:a/b:pull,push"), ("scope", "registry:catalog:*"),
                ("account", "alice")],
        auth=("alice", PASSWORD),
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300 and body["issued_at"].endswith("Z")
    assert "refresh_token" not in body
    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "RS256" and len(header["x5c"]) == 1
    claims = _claims(server, body["token"])
    assert claims["sub"] == "alice" and claims["aud"] == "svc"
    assert {"iss", "exp", "nbf", "iat", "jti"} <= set(claims)
    assert claims["access"] == [
        {"type": "repository", "name": "a/b", "actions": ["pull", "push"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]},
    ]
    assert body["token"] in server.issued_tokens


def test_anonymous_gets_pull_only_and_no_catalog(server: TokenServer) -> None:
    answer = httpx.get(
        server.realm,
        params={"service": "svc", "scope": "repository:a:pull,push repository:b:push registry:catalog:*"},
    )
    claims = _claims(server, answer.json()["token"])
    assert claims["sub"] == ""
    assert claims["access"] == [{"type": "repository", "name": "a", "actions": ["pull"]}]


def test_a_wrong_password_is_a_json_401(server: TokenServer) -> None:
    answer = httpx.get(server.realm, params={"service": "svc"}, auth=("alice", "nope"))
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert answer.headers["WWW-Authenticate"].startswith("Basic ")


def test_offline_token_on_get_returns_a_refresh_token(server: TokenServer) -> None:
    answer = httpx.get(server.realm, params={"service": "svc", "offline_token": "true"}, auth=("alice", PASSWORD))
    refresh = answer.json()["refresh_token"]
    assert refresh.startswith("refresh-") and refresh in server.issued_tokens


def test_oauth2_password_then_refresh_token_grant(server: TokenServer) -> None:
    first = httpx.post(
        server.realm,
        data={"grant_type": "password", "username": "alice", "password": PASSWORD, "service": "svc",
              "scope": "repository:x:pull", "client_id": "regexplore", "access_type": "offline"},
    )
    assert first.status_code == 200
    refresh = first.json()["refresh_token"]
    second = httpx.post(
        server.realm,
        data={"grant_type": "refresh_token", "refresh_token": refresh, "service": "svc",
              "scope": "repository:x:pull,push", "client_id": "regexplore"},
    )
    assert second.status_code == 200
    body = second.json()
    assert body["access_token"] == body["token"] and "refresh_token" not in body
    assert _claims(server, body["access_token"])["access"][0]["actions"] == ["pull", "push"]
    unknown = httpx.post(server.realm, data={"grant_type": "refresh_token", "refresh_token": "refresh-bogus"})
    assert unknown.status_code == 401
    wrong = httpx.post(server.realm, data={"grant_type": "password", "username": "alice", "password": "x"})
    assert wrong.status_code == 401


def test_expires_in_is_settable_and_requests_are_recorded(server: TokenServer) -> None:
    server.expires_in = 2
    try:
        token = httpx.get(server.realm, params={"service": "svc"}).json()
    finally:
        server.expires_in = 300
    assert token["expires_in"] == 2
    claims = jwt.decode(token["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 2
    assert server.requests[-1].query["service"] == ["svc"]


def test_grant_merges_repeated_scopes() -> None:
    assert grant(["repository:a:pull", "repository:a:push,pull"], authenticated=True) == [
        {"type": "repository", "name": "a", "actions": ["pull", "push"]}
    ]
