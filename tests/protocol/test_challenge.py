"""WWW-Authenticate parsing, scopes and token requests (protocol.md §3.2–§3.5)."""

from __future__ import annotations

import pytest

from explorer.errors import AuthError, MalformedHeader
from explorer.protocol.challenge import (
    Challenge,
    Scope,
    TokenGrant,
    covers,
    merge_scopes,
    parse_challenges,
    parse_scope,
    parse_token_response,
    scopes_for_request,
    token_form,
    token_query,
)

HUB = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (HUB, [Challenge("bearer", (("realm", "https://auth.docker.io/token"), ("service", "registry.docker.io"),
                                    ("scope", "repository:library/alpine:pull")))]),
        # the base route: no scope
        ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
         [Challenge("bearer", (("realm", "https://auth.docker.io/token"), ("service", "registry.docker.io")))]),
        ('Basic realm="Registry Realm"', [Challenge("basic", (("realm", "Registry Realm"),))]),
        # scheme and names are case-insensitive; values are not
        ('bearer Realm="X", SERVICE="Svc"', [Challenge("bearer", (("realm", "X"), ("service", "Svc")))]),
        ('BEARER realm="x"', [Challenge("bearer", (("realm", "x"),))]),
        # the scope value holds commas
        ('Bearer realm="r",scope="repository:samalba/my-app:pull,push",service="s"',
         [Challenge("bearer", (("realm", "r"), ("scope", "repository:samalba/my-app:pull,push"), ("service", "s")))]),
        # escaped quotes and backslashes are unescaped
        (r'Basic realm="say \"hi\" \\ bye"', [Challenge("basic", (("realm", 'say "hi" \\ bye'),))]),
        # spaces around "=" and "," (BWS/OWS), empty list elements
        ('Bearer  realm = "r" ,  service=s ,, error="invalid_token"',
         [Challenge("bearer", (("realm", "r"), ("service", "s"), ("error", "invalid_token")))]),
        # several challenges in one line
        ('Basic realm="x", Bearer realm="y",service="z"',
         [Challenge("basic", (("realm", "x"),)), Challenge("bearer", (("realm", "y"), ("service", "z")))]),
        ('Negotiate, Basic realm="x"', [Challenge("negotiate", ()), Challenge("basic", (("realm", "x"),))]),
        ('Bearer realm="x", Negotiate', [Challenge("bearer", (("realm", "x"),)), Challenge("negotiate", ())]),
        ("Negotiate abc+/=", [Challenge("negotiate", (), "abc+/=")]),
        ("Bearer", [Challenge("bearer", ())]),
        # a relative realm is kept exactly as given (resolving it is the caller's decision)
        ('Bearer realm="/token",service="s"', [Challenge("bearer", (("realm", "/token"), ("service", "s")))]),
        # an unquoted URL realm is read whole
        ("Bearer realm=https://h:5001/auth,service=s", [Challenge("bearer", (("realm", "https://h:5001/auth"), ("service", "s")))]),
        # quoted commas and "=" inside values do not start anything
        ('Bearer realm="https://h/t?a=1,b=2", scope="x"', [Challenge("bearer", (("realm", "https://h/t?a=1,b=2"), ("scope", "x")))]),
        ("", []),
        ("  ,  ", []),
    ],
)
def test_parse_challenges(value: str, expected: list[Challenge]) -> None:
    assert parse_challenges(value) == expected


def test_several_header_lines() -> None:
    found = parse_challenges(['Basic realm="b"', HUB, ""])
    assert [challenge.scheme for challenge in found] == ["basic", "bearer"]


def test_challenge_properties() -> None:
    challenge = parse_challenges(
        'Bearer realm="https://auth/token",service="reg",'
        'scope="repository:dst/app:pull,push repository:src/app:pull",error="insufficient_scope"'
    )[0]
    assert challenge.realm == "https://auth/token"
    assert challenge.service == "reg"
    assert challenge.error == "insufficient_scope"
    assert challenge.scopes == ("repository:dst/app:pull,push", "repository:src/app:pull")
    assert challenge.param("SERVICE") == "reg" and challenge.param("nope") is None
    assert parse_challenges('Basic realm="x"')[0].scopes == ()


def test_scopes_from_several_scope_params() -> None:
    challenge = parse_challenges('Bearer realm="r",scope="repository:a:pull",scope="repository:b:push"')[0]
    assert challenge.scopes == ("repository:a:pull", "repository:b:push")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('realm="x"', "must start each challenge with a scheme"),
        ('"Bearer"', "must start each challenge with a scheme"),
        ('Bearer realm="x', "unterminated quoted string"),
        ('Bearer realm="x\\"', "unterminated quoted string"),
        ('Bearer realm="x" service="y"', "expected ','"),
        ("Bearer realm=x y=z", "expected ','"),
        ("Bearer =x", "expected a parameter name"),
        ("Bearer realm=\"a\"\"b\"", "expected ','"),
        ("(Bearer) x", "must start each challenge"),
    ],
)
def test_parse_challenges_refuses_garbage(value: str, message: str) -> None:
    with pytest.raises(MalformedHeader) as caught:
        parse_challenges(value)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# --- scopes ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "scope", "canonical"),
    [
        ("repository:team/app:pull", Scope("repository", "team/app", ("pull",)), "repository:team/app:pull"),
        ("repository:team/app:push,pull", Scope("repository", "team/app", ("pull", "push")), "repository:team/app:pull,push"),
        ("repository:a:pull,pull,push", Scope("repository", "a", ("pull", "push")), "repository:a:pull,push"),
        ("repository:localhost:5000/x:pull", Scope("repository", "localhost:5000/x", ("pull",)), "repository:localhost:5000/x:pull"),
        ("registry:catalog:*", Scope("registry", "catalog", ("*",)), "registry:catalog:*"),
        ("repository(plugin):vieux/sshfs:pull", Scope("repository(plugin)", "vieux/sshfs", ("pull",)), "repository(plugin):vieux/sshfs:pull"),
        ("repository:a:", Scope("repository", "a", ()), "repository:a:"),
        ("repository:a:metadata_read", Scope("repository", "a", ("metadata_read",)), "repository:a:metadata_read"),
        ("repository:a:delete,*", Scope("repository", "a", ("*", "delete")), "repository:a:*,delete"),
    ],
)
def test_parse_scope(text: str, scope: Scope, canonical: str) -> None:
    assert parse_scope(text) == scope
    assert str(parse_scope(text)) == canonical


@pytest.mark.parametrize(
    "text",
    ["", "repository", "repository:a", "Repository:a:pull", "repository::pull", "repository:a b:pull",
     "repository:a:pu ll", "repository:a:pull;push", ":a:pull"],
)
def test_parse_scope_refuses(text: str) -> None:
    with pytest.raises(MalformedHeader, match="invalid scope"):
        parse_scope(text)


@pytest.mark.parametrize(
    ("scopes", "merged"),
    [
        (["repository:a:pull", "repository:a:push"], ("repository:a:pull,push",)),
        (["repository:b:pull", "repository:a:push", "repository:b:push"], ("repository:b:pull,push", "repository:a:push")),
        (["repository:dst:pull,push repository:src:pull", "repository:src:pull"], ("repository:dst:pull,push", "repository:src:pull")),
        ([Scope("registry", "catalog", ("*",)), "registry:catalog:*"], ("registry:catalog:*",)),
        ([], ()),
    ],
)
def test_merge_scopes(scopes: list[str | Scope], merged: tuple[str, ...]) -> None:
    assert merge_scopes(scopes) == merged


@pytest.mark.parametrize(
    ("granted", "needed", "expected"),
    [
        (["repository:a:pull,push"], ["repository:a:pull"], True),
        (["repository:a:pull"], ["repository:a:pull,push"], False),
        (["repository:a:pull", "repository:a:push"], ["repository:a:push,pull"], True),
        (["repository:a:*"], ["repository:a:delete"], True),
        (["repository:a:pull"], ["repository:b:pull"], False),
        (["repository:a:pull repository:b:pull"], ["repository:b:pull"], True),
        ([], [], True),
        ([], ["registry:catalog:*"], False),
        (["registry:catalog:*"], ["registry:catalog:*"], True),
    ],
)
def test_covers(granted: list[str], needed: list[str], expected: bool) -> None:
    assert covers(granted, needed) is expected


@pytest.mark.parametrize(
    ("method", "path", "query", "scopes"),
    [
        ("GET", "/v2/", "", ()),
        ("GET", "/v2", "", ()),
        ("GET", "/v2/_catalog", "n=10", ("registry:catalog:*",)),
        ("GET", "/v2/library/alpine/manifests/latest", "", ("repository:library/alpine:pull",)),
        ("HEAD", "/v2/a/b/c/blobs/sha256:x", "", ("repository:a/b/c:pull",)),
        ("GET", "/v2/a/tags/list", "n=1", ("repository:a:pull",)),
        ("GET", "/v2/a/referrers/sha256:x", "", ("repository:a:pull",)),
        ("PUT", "/v2/a/manifests/1", "", ("repository:a:pull,push",)),
        ("POST", "/v2/a/blobs/uploads/", "", ("repository:a:pull,push",)),
        ("PATCH", "/v2/a/blobs/uploads/u-1", "_state=x", ("repository:a:pull,push",)),
        ("DELETE", "/v2/a/manifests/sha256:x", "", ("repository:a:delete",)),
        ("POST", "/v2/dst/app/blobs/uploads/", "mount=sha256:x&from=src/app",
         ("repository:dst/app:pull,push", "repository:src/app:pull")),
        ("POST", "/v2/dst/blobs/uploads/", "mount=sha256:x&from=dst", ("repository:dst:pull,push",)),
        ("POST", "/v2/dst/blobs/uploads/", "mount=sha256:x&from=Bad//Name", ("repository:dst:pull,push",)),
        ("POST", "/v2/dst/blobs/uploads/?mount=sha256:x&from=src", "", ("repository:dst:pull,push", "repository:src:pull")),
        ("GET", "https://r.example/v2/a/manifests/1?ns=docker.io", "", ("repository:a:pull",)),
        ("OPTIONS", "/v2/a/manifests/1", "", ()),
        ("GET", "/token", "", ()),
    ],
)
def test_scopes_for_request(method: str, path: str, query: str, scopes: tuple[str, ...]) -> None:
    assert scopes_for_request(method, path, query) == scopes


def test_token_query_has_one_scope_param_per_scope() -> None:
    assert token_query("registry.docker.io", ["repository:dst:pull,push repository:src:pull"], "alice") == [
        ("service", "registry.docker.io"),
        ("scope", "repository:dst:pull,push"),
        ("scope", "repository:src:pull"),
        ("account", "alice"),
    ]
    assert token_query(None, []) == []
    assert token_query("s", [Scope("registry", "catalog", ("*",))], offline_token=True, client_id="regexplore") == [
        ("service", "s"), ("scope", "registry:catalog:*"), ("offline_token", "true"), ("client_id", "regexplore"),
    ]


def test_token_query_passes_server_spelling_verbatim() -> None:
    assert token_query("s", ["repository:a:push,pull"]) == [("service", "s"), ("scope", "repository:a:push,pull")]


def test_token_form_has_one_space_separated_scope_field() -> None:
    assert token_form("reg", ["repository:a:pull", "repository:b:pull,push"], username="u", password="p") == [
        ("grant_type", "password"),
        ("service", "reg"),
        ("client_id", "regexplore"),
        ("scope", "repository:a:pull repository:b:pull,push"),
        ("username", "u"),
        ("password", "p"),
    ]
    assert token_form("reg", [], refresh_token="rt", client_id="me", offline=True) == [
        ("grant_type", "refresh_token"),
        ("service", "reg"),
        ("client_id", "me"),
        ("access_type", "offline"),
        ("refresh_token", "rt"),
    ]
    with pytest.raises(AuthError, match="needs a refresh token or a username and password"):
        token_form("reg", [])


@pytest.mark.parametrize(
    ("data", "grant"),
    [
        ({"token": "t"}, TokenGrant("t", 60, None, None, None)),
        ({"access_token": "a", "token": "t", "expires_in": 300}, TokenGrant("a", 300, None, None, None)),
        ({"access_token": "", "token": "t"}, TokenGrant("t", 60, None, None, None)),
        ({"token": "t", "expires_in": 10}, TokenGrant("t", 60, None, None, None)),  # clamped up
        ({"token": "t", "expires_in": "300"}, TokenGrant("t", 300, None, None, None)),
        ({"token": "t", "expires_in": "soon"}, TokenGrant("t", 60, None, None, None)),
        ({"token": "t", "expires_in": True}, TokenGrant("t", 60, None, None, None)),
        ({"token": "t", "expires_in": 1e300}, TokenGrant("t", 10**9, None, None, None)),
        ({"token": "t", "issued_at": "2024-01-01T00:00:00Z", "refresh_token": "r", "scope": "repository:a:pull"},
         TokenGrant("t", 60, "2024-01-01T00:00:00Z", "r", "repository:a:pull")),
        (b'{"token": "t", "expires_in": 3600}', TokenGrant("t", 3600, None, None, None)),
        ('{"access_token": "a"}', TokenGrant("a", 60, None, None, None)),
        ({"token": "eyJ.a-b_c~d+e/f==", "refresh_token": "r\u00e9 x"},  # a form sends a refresh token
         TokenGrant("eyJ.a-b_c~d+e/f==", 60, None, "r\u00e9 x", None)),
        ('{"token": "t", "refresh_token": "r\\ud800"}', TokenGrant("t", 60, None, None, None)),  # unsendable: none
    ],
)
def test_parse_token_response(data: object, grant: TokenGrant) -> None:
    assert parse_token_response(data) == grant


@pytest.mark.parametrize(
    "data",
    [{}, {"token": ""}, {"token": 5}, {"access_token": None}, [], "not json", b"<html>", None, '"token"', b"[" * 5000],
)
def test_parse_token_response_refuses(data: object) -> None:
    with pytest.raises(AuthError):
        parse_token_response(data)


@pytest.mark.parametrize("token", ["two words", "caf\u00e9", '{"token": "lone \\ud800"}', "tab\there", "nl\n", "\x7f"])
def test_a_token_that_no_header_can_carry_is_refused_without_showing_it(token: str) -> None:
    data = token if token.startswith("{") else {"token": token}
    with pytest.raises(AuthError, match="cannot be sent in an Authorization header") as refused:
        parse_token_response(data)
    assert "lone" not in str(refused.value) and "words" not in str(refused.value)
