"""Basic and Bearer-token auth: challenges, the token server, scopes, insufficient_scope, expiry."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest

from explorer.protocol.challenge import parse_challenges
from explorer.sandbox import Sandbox
from tests.sandbox.conftest import open_registry
from tests.sandbox.pushing import error_codes, push_blob, push_image

SERVICE = "regexplore-sandbox"


def _challenge(answer: httpx.Response) -> Any:
    assert answer.status_code == 401, answer.text
    assert error_codes(answer) == ["UNAUTHORIZED"]
    (found,) = parse_challenges(answer.headers.get_list("WWW-Authenticate"))
    return found


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _token(client: httpx.Client, sandbox: Sandbox, *scopes: str, auth: Any = None) -> str:
    answer = client.get(str(sandbox.token_url), params=[("service", SERVICE), *[("scope", s) for s in scopes]],
                        auth=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token"] == body["access_token"]
    return str(body["token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- basic ------------------------------------------------------------------------------

def test_basic_auth(mode: str) -> None:
    with open_registry(mode, auth="basic", users={"alice": "secret"}, read_only_users={"rob": "pw"}) as (sb, client):
        assert (sb.username, sb.password) == ("alice", "secret")
        bare = client.get("/v2/")
        assert bare.status_code == 401
        assert bare.headers["WWW-Authenticate"] == 'Basic realm="regexplore-sandbox"'
        assert client.get("/v2/", auth=("alice", "wrong")).status_code == 401
        assert client.get("/v2/", auth=("alice", "secret")).status_code == 200
        denied = client.get("/v2/app/manifests/1")
        assert denied.json()["errors"][0]["detail"] == [
            {"Type": "repository", "Class": "", "Name": "app", "Action": "pull"}]
        client.auth = ("alice", "secret")
        digest, _ = push_image(client, "app", "1")
        assert client.get("/v2/_catalog").json() == {"repositories": ["app"]}
        client.auth = ("rob", "pw")
        assert client.get(f"/v2/app/manifests/{digest}").status_code == 200
        refused = client.post("/v2/app/blobs/uploads/")
        assert (refused.status_code, error_codes(refused)) == (403, ["DENIED"])
        assert client.delete(f"/v2/app/manifests/{digest}").status_code == 403


# --- token ------------------------------------------------------------------------------

def test_token_challenges_carry_realm_service_and_scope(mode: str) -> None:
    with open_registry(mode, auth="token") as (sandbox, client):
        base = _challenge(client.get("/v2/"))
        assert base.scheme == "bearer"
        assert dict(base.params) == {"realm": sandbox.token_url, "service": SERVICE}
        pull = _challenge(client.get("/v2/team/app/manifests/1"))
        assert pull.param("scope") == "repository:team/app:pull"
        push = _challenge(client.post("/v2/team/app/blobs/uploads/"))
        assert push.param("scope") == "repository:team/app:pull,push"
        catalog = _challenge(client.get("/v2/_catalog"))
        assert catalog.param("scope") == "registry:catalog:*"
        basic = _challenge(client.get("/v2/", auth=(sandbox.username, sandbox.password)))
        assert basic.param("error") is None  # Basic credentials are not a token


def test_token_grants_are_scoped(mode: str) -> None:
    with open_registry(mode, auth="token") as (sandbox, client):
        user = (sandbox.username, sandbox.password)
        push_token = _token(client, sandbox, "repository:team/app:pull,push", auth=user)
        claims = _claims(push_token)
        assert {"iss", "sub", "aud", "exp", "nbf", "iat", "jti"} <= set(claims)
        assert (claims["sub"], claims["aud"]) == (sandbox.username, SERVICE)
        assert claims["access"] == [{"type": "repository", "name": "team/app", "actions": ["pull", "push"]}]
        client.headers.update(_bearer(push_token))
        digest, _ = push_image(client, "team/app", "1")
        assert client.get("/v2/").status_code == 200

        anonymous = _token(client, sandbox, "repository:team/app:pull,push")
        assert _claims(anonymous)["access"][0]["actions"] == ["pull"]  # the intersection, no error
        client.headers.update(_bearer(anonymous))
        assert client.get(f"/v2/team/app/manifests/{digest}").status_code == 200
        short = _challenge(client.post("/v2/team/app/blobs/uploads/"))
        assert short.param("error") == "insufficient_scope"
        assert short.param("scope") == "repository:team/app:pull,push"
        other_repo = _challenge(client.get("/v2/other/manifests/1"))
        assert other_repo.param("error") == "insufficient_scope"

        nothing = _token(client, sandbox, "registry:catalog:*")
        assert _claims(nothing)["access"] == []
        client.headers.update(_bearer(nothing))
        assert _challenge(client.get("/v2/_catalog")).param("error") == "insufficient_scope"
        client.headers.update(_bearer(_token(client, sandbox, "registry:catalog:*", auth=user)))
        assert client.get("/v2/_catalog").json() == {"repositories": ["team/app"]}


def test_mount_challenge_names_both_repositories_in_one_scope(mode: str) -> None:
    with open_registry(mode, auth="token") as (sandbox, client):
        user = (sandbox.username, sandbox.password)
        client.headers.update(_bearer(_token(client, sandbox, "repository:src:pull,push", auth=user)))
        digest = push_blob(client, "src", b"layer")
        client.headers.update(_bearer(_token(client, sandbox, "repository:dst:pull,push", auth=user)))
        mount = client.post("/v2/dst/blobs/uploads/", params={"mount": digest, "from": "src"})
        found = _challenge(mount)
        assert found.param("scope") == "repository:dst:pull,push repository:src:pull"
        assert found.param("error") == "insufficient_scope"
        both = _token(client, sandbox, "repository:dst:pull,push", "repository:src:pull", auth=user)
        client.headers.update(_bearer(both))
        assert client.post("/v2/dst/blobs/uploads/", params={"mount": digest, "from": "src"}).status_code == 201


def test_expired_and_forged_tokens_are_invalid(mode: str) -> None:
    with open_registry(mode, auth="token", token_ttl=1) as (sandbox, client):
        token = _token(client, sandbox, "repository:app:pull")
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        assert _challenge(client.get("/v2/", headers=_bearer(forged))).param("error") == "invalid_token"
        assert _challenge(client.get("/v2/", headers=_bearer("not-a-jwt"))).param("error") == "invalid_token"
        time.sleep(max(0.0, _claims(token)["exp"] - time.time()) + 0.05)
        expired = _challenge(client.get("/v2/app/manifests/1", headers=_bearer(token)))
        assert expired.param("error") == "invalid_token"
        assert expired.param("scope") == "repository:app:pull"


def test_token_endpoint_forms_and_refusals(mode: str) -> None:
    with open_registry(mode, auth="token", users={"alice": "secret"}) as (sandbox, client):
        url = str(sandbox.token_url)
        wrong = client.get(url, params={"service": SERVICE}, auth=("alice", "nope"))
        assert wrong.status_code == 401
        assert client.get(url, params={"service": "elsewhere"}).status_code == 400
        assert client.get(url.replace("/token", "/other")).status_code == 404
        offline = client.get(url, params={"service": SERVICE, "offline_token": "true", "client_id": "t",
                                          "account": "alice"}, auth=("alice", "secret")).json()
        assert offline["refresh_token"] and offline["expires_in"] == 300 and offline["issued_at"].endswith("Z")

        form = {"grant_type": "password", "username": "alice", "password": "secret", "service": SERVICE,
                "client_id": "tests", "access_type": "offline", "scope": "repository:a:pull repository:b:push"}
        posted = client.post(url, data=form).json()
        assert posted["scope"] == "repository:a:pull repository:b:push"
        assert _claims(posted["access_token"])["access"] == [
            {"type": "repository", "name": "a", "actions": ["pull"]},
            {"type": "repository", "name": "b", "actions": ["push"]}]
        refreshed = client.post(url, data={"grant_type": "refresh_token", "refresh_token": posted["refresh_token"],
                                           "service": SERVICE, "client_id": "tests", "scope": "repository:c:pull"})
        assert refreshed.status_code == 200
        assert _claims(refreshed.json()["access_token"])["sub"] == "alice"
        assert "refresh_token" not in refreshed.json()
        for bad, status in (({**form, "password": "x"}, 401), ({**form, "grant_type": "magic"}, 400),
                            ({"grant_type": "refresh_token", "refresh_token": "unknown"}, 401)):
            assert client.post(url, data=bad).status_code == status


@pytest.mark.parametrize("auth", ["none", "basic", "token"])
def test_sandbox_attributes(auth: str) -> None:
    with Sandbox(auth=auth, redirect=True, listen=False) as sandbox:
        assert sandbox.registry_url == f"http://{sandbox.registry_host}"
        assert sandbox.registry_host.startswith("127.0.0.1:")
        assert (sandbox.token_url is not None) == (auth == "token")
        assert str(sandbox.cdn_url).startswith("http://localhost:")
        assert sandbox.username == "regexplore" and len(sandbox.password) >= 12
    with pytest.raises(ValueError):
        Sandbox(auth="kerberos")
