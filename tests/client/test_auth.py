"""RegistryAuth.auth_flow driven by hand (httpx's own tests/test_auth.py style): no client, no network."""

from __future__ import annotations

import base64

import httpx
import pytest

from explorer.client.auth import RegistryAuth
from explorer.client.credentials import CredentialSource, Credentials
from explorer.errors import AuthError
from explorer.recording.extensions import PING_EXTENSION, STEP_EXTENSION
from explorer.recording.redact import Secrets

REG = "http://127.0.0.1:5000"
REALM = "http://127.0.0.1:5001/token"
BEARER = f'Bearer realm="{REALM}",service="reg",scope="repository:team/app:pull"'


def _auth(creds: Credentials | None = None, warnings: list | None = None, registry: str = "127.0.0.1:5000") -> RegistryAuth:
    secrets = Secrets()
    sink = warnings if warnings is not None else []
    return RegistryAuth(CredentialSource(secrets, creds, env={}), secrets, registry=registry, warn=sink.append)


def _ping(auth: RegistryAuth, challenge: str, registry: str = REG) -> None:
    """The ping: its 401 teaches the challenge and is returned as it is (no token for /v2/)."""
    flow = auth.auth_flow(httpx.Request("GET", f"{registry}/v2/", extensions={PING_EXTENSION: True}))
    first = next(flow)
    assert "authorization" not in first.headers
    with pytest.raises(StopIteration):
        flow.send(_respond(first, 401, headers={"WWW-Authenticate": challenge}))


def _respond(request: httpx.Request, status: int, **kw) -> httpx.Response:
    return httpx.Response(status, request=request, **kw)


def test_bearer_dance_anonymous_then_cached():
    auth = _auth()
    request = httpx.Request("GET", f"{REG}/v2/team/app/manifests/1.0", extensions={"timeout": {"read": 7}})
    flow = auth.auth_flow(request)
    first = next(flow)
    assert "authorization" not in first.headers
    token_request = flow.send(_respond(first, 401, headers={"WWW-Authenticate": BEARER}))
    assert token_request.url.copy_with(query=None) == httpx.URL(REALM)
    assert token_request.url.params.get_list("scope") == ["repository:team/app:pull"]
    assert token_request.url.params["service"] == "reg"
    assert "authorization" not in token_request.headers  # anonymous
    assert token_request.extensions[STEP_EXTENSION] == "authenticate"
    assert token_request.extensions["timeout"] == {"read": 7}  # yielded requests get no timeout otherwise
    retried = flow.send(_respond(token_request, 200, json={"token": "TOKEN-1", "expires_in": 300}))
    assert retried.headers["authorization"] == "Bearer TOKEN-1"
    with pytest.raises(StopIteration):
        flow.send(_respond(retried, 200))
    assert "TOKEN-1" in auth.secrets

    # the next request to that host carries the cached token pre-emptively
    again = next(auth.auth_flow(httpx.Request("HEAD", f"{REG}/v2/team/app/blobs/sha256:" + "a" * 64)))
    assert again.headers["authorization"] == "Bearer TOKEN-1"
    # ... but a request to another host does not
    other = next(auth.auth_flow(httpx.Request("GET", "http://127.0.0.1:6000/v2/team/app/manifests/1")))
    assert "authorization" not in other.headers


def test_credentials_go_to_the_token_server_with_account():
    auth = _auth(Credentials("alice", "canary-pw-1"))
    flow = auth.auth_flow(httpx.Request("GET", f"{REG}/v2/team/app/manifests/1.0"))
    first = next(flow)
    token_request = flow.send(_respond(first, 401, headers={"WWW-Authenticate": BEARER}))
    expected = "Basic " + base64.b64encode(b"alice:canary-pw-1").decode()
    assert token_request.headers["authorization"] == expected
    assert token_request.url.params["account"] == "alice"
    assert "canary-pw-1" in auth.secrets


def test_insufficient_scope_asks_again_with_merged_scopes():
    auth = _auth(Credentials("alice", "pw-secret"))
    url = f"{REG}/v2/team/b/blobs/uploads/?mount=sha256:{'c' * 64}&from=team/a"
    flow = auth.auth_flow(httpx.Request("POST", url))
    first = next(flow)
    # distribution puts both scopes in ONE space-separated value
    challenge = (f'Bearer realm="{REALM}",service="reg",'
                 'scope="repository:team/b:pull,push repository:team/a:pull"')
    token1 = flow.send(_respond(first, 401, headers={"WWW-Authenticate": challenge}))
    assert token1.url.params.get_list("scope") == ["repository:team/b:pull,push", "repository:team/a:pull"]
    retried = flow.send(_respond(token1, 200, json={"access_token": "T-A", "expires_in": 60}))
    assert retried.headers["authorization"] == "Bearer T-A"
    insufficient = challenge + ',error="insufficient_scope"'
    token2 = flow.send(_respond(retried, 401, headers={"WWW-Authenticate": insufficient}))
    assert set(token2.url.params.get_list("scope")) == {"repository:team/b:pull,push", "repository:team/a:pull"}
    final = flow.send(_respond(token2, 200, json={"token": "T-B"}))
    assert final.headers["authorization"] == "Bearer T-B"
    with pytest.raises(StopIteration):
        flow.send(_respond(final, 201))


def test_basic_challenge_is_answered_once():
    auth = _auth(Credentials("bob", "pw-basic"))
    flow = auth.auth_flow(httpx.Request("GET", f"{REG}/v2/"))
    first = next(flow)
    retried = flow.send(_respond(first, 401, headers={"WWW-Authenticate": 'Basic realm="reg"'}))
    assert retried.headers["authorization"].startswith("Basic ")
    # a second 401 (wrong password) ends the flow: the caller reports it
    with pytest.raises(StopIteration):
        flow.send(_respond(retried, 401, headers={"WWW-Authenticate": 'Basic realm="reg"'}))


def test_no_credentials_basic_challenge_returns_the_401():
    auth = _auth()
    flow = auth.auth_flow(httpx.Request("GET", f"{REG}/v2/"))
    first = next(flow)
    with pytest.raises(StopIteration):
        flow.send(_respond(first, 401, headers={"WWW-Authenticate": 'Basic realm="reg"'}))


def test_token_server_refusal_is_an_auth_error_naming_user_and_registry():
    auth = _auth(Credentials("alice", "wrong-pw"))
    flow = auth.auth_flow(httpx.Request("GET", f"{REG}/v2/team/app/manifests/1"))
    first = next(flow)
    token_request = flow.send(_respond(first, 401, headers={"WWW-Authenticate": BEARER}))
    with pytest.raises(AuthError) as info:
        flow.send(_respond(token_request, 401, json={"errors": [{"code": "UNAUTHORIZED", "message": "bad creds"}]}))
    assert "'alice'" in info.value.message and "127.0.0.1:5000" in info.value.message


def test_identity_token_uses_oauth2_post_and_falls_back_to_get_on_404():
    auth = _auth(Credentials(identity_token="refresh-canary-123"))
    flow = auth.auth_flow(httpx.Request("GET", f"{REG}/v2/team/app/manifests/1"))
    first = next(flow)
    post = flow.send(_respond(first, 401, headers={"WWW-Authenticate": BEARER}))
    assert post.method == "POST"
    form = dict(httpx.QueryParams(post.read().decode()))
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == "refresh-canary-123"
    assert form["scope"] == "repository:team/app:pull" and form["client_id"] == "regexplore"
    get = flow.send(_respond(post, 404))
    assert get.method == "GET"
    retried = flow.send(_respond(get, 200, json={"token": "T-9"}))
    assert retried.headers["authorization"] == "Bearer T-9"


def test_https_registry_refuses_a_plain_http_realm():
    auth = _auth(registry="reg.example")
    flow = auth.auth_flow(httpx.Request("GET", "https://reg.example/v2/a/manifests/1"))
    first = next(flow)
    with pytest.raises(AuthError, match="plain http"):
        flow.send(_respond(first, 401, headers={"WWW-Authenticate": 'Bearer realm="http://auth.example/token"'}))


def test_credentials_are_not_sent_to_a_plain_http_realm_on_another_host():
    warnings: list[str] = []
    auth = _auth(Credentials("alice", "pw-secret"), warnings, registry="reg.example")
    flow = auth.auth_flow(httpx.Request("GET", "http://reg.example/v2/a/manifests/1"))
    first = next(flow)
    token_request = flow.send(
        _respond(first, 401, headers={"WWW-Authenticate": 'Bearer realm="http://auth.example/token",service="s"'})
    )
    assert "authorization" not in token_request.headers
    assert "account" not in token_request.url.params
    assert warnings and "auth.example" in warnings[0]


def test_concurrent_requests_for_the_same_scope_wait_for_one_token_fetch():
    import threading

    auth = _auth()
    _ping(auth, f'Bearer realm="{REALM}",service="reg"')  # the host is known to use Bearer tokens

    blob = f"{REG}/v2/team/app/blobs/sha256:" + "b" * 64
    owner = auth.auth_flow(httpx.Request("HEAD", blob))
    token_request = next(owner)  # goes first: the token for this scope, before the HEAD itself
    assert token_request.url.params.get_list("scope") == ["repository:team/app:pull"]
    seen = {}

    def second() -> None:
        waiter = auth.auth_flow(httpx.Request("HEAD", blob))
        seen["request"] = next(waiter)  # blocks until the owner has a token

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.2)
    assert thread.is_alive(), "the second request did not wait for the token fetch in flight"
    head = owner.send(_respond(token_request, 200, json={"token": "SCOPED-TOKEN"}))
    assert head.headers["authorization"] == "Bearer SCOPED-TOKEN"
    thread.join(5)
    assert seen["request"].headers["authorization"] == "Bearer SCOPED-TOKEN"


def test_expected_scopes_are_asked_for_at_the_first_challenge():
    auth = _auth(Credentials("alice", "pw-secret"))
    auth.expect_scopes("127.0.0.1:5000", ["repository:team/app:pull,push", "repository:team/base:pull"])
    flow = auth.auth_flow(httpx.Request("HEAD", f"{REG}/v2/team/app/blobs/sha256:" + "c" * 64))
    first = next(flow)
    token_request = flow.send(_respond(first, 401, headers={"WWW-Authenticate": BEARER}))
    assert token_request.url.params.get_list("scope") == ["repository:team/app:pull,push", "repository:team/base:pull"]


def test_after_the_ping_a_pull_asks_for_its_scoped_token_first_as_docker_does():
    auth = _auth(Credentials("alice", "canary-pw-2"))
    _ping(auth, f'Bearer realm="{REALM}",service="reg"')
    flow = auth.auth_flow(httpx.Request("GET", f"{REG}/v2/team/app/manifests/1.0"))
    token_request = next(flow)  # no anonymous manifest GET, no unscoped token: the scoped token first
    assert token_request.url.copy_with(query=None) == httpx.URL(REALM)
    assert token_request.url.params.get_list("scope") == ["repository:team/app:pull"]
    assert token_request.url.params["account"] == "alice"
    assert token_request.headers["authorization"].startswith("Basic ")
    manifest = flow.send(_respond(token_request, 200, json={"token": "PULL-TOKEN"}))
    assert manifest.url.path == "/v2/team/app/manifests/1.0"
    assert manifest.headers["authorization"] == "Bearer PULL-TOKEN"
    with pytest.raises(StopIteration):
        flow.send(_respond(manifest, 200))


def test_after_the_ping_a_push_asks_for_pull_push_and_the_mount_source_in_its_first_token():
    auth = _auth(Credentials("alice", "pw-secret"))
    _ping(auth, f'Bearer realm="{REALM}",service="reg"')
    auth.expect_scopes("127.0.0.1:5000", ["repository:team/app:pull,push", "repository:team/base:pull"])
    flow = auth.auth_flow(httpx.Request("HEAD", f"{REG}/v2/team/app/blobs/sha256:" + "d" * 64))
    token_request = next(flow)
    assert token_request.url.params.get_list("scope") == ["repository:team/app:pull,push", "repository:team/base:pull"]


def test_a_wrong_password_fails_at_the_first_token_request():
    auth = _auth(Credentials("alice", "wrong-pw"))
    _ping(auth, f'Bearer realm="{REALM}",service="reg"')
    flow = auth.auth_flow(httpx.Request("GET", f"{REG}/v2/team/app/manifests/1"))
    token_request = next(flow)
    with pytest.raises(AuthError) as info:
        flow.send(_respond(token_request, 401, json={"errors": [{"code": "UNAUTHORIZED", "message": "bad creds"}]}))
    assert "refused the credentials of user 'alice'" in info.value.message


def test_requests_to_another_host_get_no_credentials_even_after_a_basic_challenge():
    auth = _auth(Credentials("alice", "canary-pw-3"))
    _ping(auth, 'Basic realm="reg"')
    own = next(auth.auth_flow(httpx.Request("GET", f"{REG}/v2/team/app/tags/list")))
    assert own.headers["authorization"].startswith("Basic ")
    for url in ("http://127.0.0.1:6000/v2/team/app/tags/list?last=a",  # a Link on another port
                "http://localhost:5000/v2/team/app/blobs/uploads/x"):  # an upload Location on another host name
        flow = auth.auth_flow(httpx.Request("PUT", url))
        foreign = next(flow)
        assert "authorization" not in foreign.headers
        with pytest.raises(StopIteration):  # its own 401 is not answered either
            flow.send(_respond(foreign, 401, headers={"WWW-Authenticate": 'Basic realm="other"'}))


def test_a_401_from_a_host_a_redirect_led_to_is_not_answered():
    auth = _auth(Credentials("alice", "canary-pw-4"))
    flow = auth.auth_flow(httpx.Request("GET", f"{REG}/v2/team/app/blobs/sha256:" + "e" * 64))
    first = next(flow)
    storage = httpx.Request("GET", "http://127.0.0.1:7000/data")  # where the 307 led
    storage_realm = 'Bearer realm="http://127.0.0.1:7000/token",service="storage"'
    with pytest.raises(StopIteration):
        flow.send(_respond(storage, 401, headers={"WWW-Authenticate": storage_realm}))
    assert first.url.port == 5000
    # nothing was learned from the storage host's challenge: the next request goes out as the first did
    following = auth.auth_flow(httpx.Request("GET", f"{REG}/v2/team/app/manifests/1"))
    assert "authorization" not in next(following).headers


def test_plain_http_to_the_registry_after_it_spoke_https_gets_no_credential():
    auth = _auth(Credentials("alice", "canary-pw-5"), registry="reg.example")
    _ping(auth, 'Basic realm="reg"', registry="https://reg.example")
    own = next(auth.auth_flow(httpx.Request("GET", "https://reg.example/v2/a/tags/list")))
    assert own.headers["authorization"].startswith("Basic ")
    downgraded = next(auth.auth_flow(httpx.Request("PUT", "http://reg.example/v2/a/blobs/uploads/u?digest=x")))
    assert "authorization" not in downgraded.headers


def test_a_registry_that_never_challenged_gets_its_requests_as_they_are_with_no_scope_worked_out(monkeypatch):
    """An anonymous registry (its ping answered 200): a pull's blob GETs cost no scope computation."""
    auth = _auth()
    ping = auth.auth_flow(httpx.Request("GET", f"{REG}/v2/", extensions={PING_EXTENSION: True}))
    with pytest.raises(StopIteration):
        ping.send(_respond(next(ping), 200))

    def no_scopes(*args: object) -> tuple[str, ...]:
        raise AssertionError("scopes worked out for a registry that never challenged")

    monkeypatch.setattr("explorer.protocol.challenge.scopes_for_request", no_scopes)
    flow = auth.auth_flow(httpx.Request("GET", f"{REG}/v2/team/app/blobs/sha256:{'a' * 64}"))
    sent = next(flow)
    assert "authorization" not in sent.headers
    with pytest.raises(StopIteration):
        flow.send(_respond(sent, 200))
