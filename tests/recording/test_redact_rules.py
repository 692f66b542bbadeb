"""Redaction by allowlist: request headers, token responses, forms, cookies; by name and shape: response headers
and JSON fields. Each rule is shown both ways: what must go, and what teaching needs to stay."""

from __future__ import annotations

import json
import string
from random import Random

import pytest

from explorer.recording import redact
from explorer.recording.redact import PLACEHOLDER, looks_like_credential
from explorer.recording.redact.shapes import JWT

JWT_SAMPLE = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0ZXIifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
DIGEST = "sha256:" + "4f" * 32
UUID = "6e4cbd9e-0a9e-4b0e-9d1c-3c1f0d7a2b44"


# --- looks like a credential: both ways ------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    "glpat-xT3kQ9vLm2RzP8wYb4Nc",  # GitLab personal access token
    "AKCp8jQ7nZr3bT9kLm2VwX4yPq6sD1fG8hJ5kL0mN2bV7cX9zQ",  # JFrog API key
    "hvs.CAESIJ3kq9Lm2RzP8wYb4NcXvT7uQ1sD5fG",  # Vault token
    "ghp_Xq3Lm9RzP8wYb4NcT7uQ1sD5fG2hJ6kV0aB",  # GitHub token
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # AWS secret access key (the documented example)
    "dckr_pat_2bQ9xLm3RzP8wYb4NcT7uQ1sD5f",  # Docker Hub access token
    JWT_SAMPLE,
])
def test_random_credentials_look_like_credentials(value):
    assert looks_like_credential(value)


def test_random_base64_and_base62_strings_are_recognised_nearly_always():
    rng = Random(13)  # fixed: the rates below are properties of the rule, not of luck
    base64url = string.ascii_letters + string.digits + "-_"
    base62 = string.ascii_letters + string.digits

    def rate(alphabet: str, length: int) -> float:
        return sum(looks_like_credential("".join(rng.choices(alphabet, k=length))) for _ in range(2000)) / 2000

    assert rate(base64url, 32) >= 0.99  # token_urlsafe(24)
    assert rate(base62, 40) >= 0.99  # GitHub-style
    assert rate(base62, 20) >= 0.95  # the shortest judged: a digit is missing once in ~30
    assert rate(string.ascii_lowercase + string.digits, 32) >= 0.93  # base36 alternates less


@pytest.mark.parametrize("value", [
    DIGEST,  # sha256:<hex>: a colon, never one token
    "4f" * 32,  # bare hex (a digest's hex, a commit id)
    UUID,  # upload UUIDs
    "/v2/library/alpine/blobs/uploads/" + UUID,  # Location paths
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "/v2/library/alpine/manifests/latest",
    "repository:library/alpine:pull",
    "2026-03-01T10:00:00.123456789Z",
    "Bearer realm=\"https://auth.example/token\"",
    "registry/2.0",
    "distribution-registry-v3.0.0",
    "shortRandomQ9x",  # under 20 characters: too short to judge
    "ThisIsJustAVeryLongCamelCaseIdentifier",
    "node-v18.17.1-linux-x64-glibc217",
    "build-20260301-1234-abcdef",
    "AVeryLongHeaderValueWithoutDigits",
])
def test_teaching_values_do_not_look_like_credentials(value):
    assert not looks_like_credential(value)


def test_jwts_are_found_inside_text_and_digests_are_not():
    assert JWT.findall(f"echoed {JWT_SAMPLE}, sorry") == [JWT_SAMPLE]
    assert JWT.findall(f"digest {DIGEST} and data eyJzY2hlbWFWZXJzaW9uIjoyfQ==") == []


# --- request headers: allowlist ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Private-Token", "X-JFrog-Art-Api", "X-Vault-Token", "X-Upstream-Token",
                                  "X-Request-Signature", "X-Custom", "Job-Token", "X-Registry-Config"])
def test_unknown_request_headers_keep_their_name_and_lose_their_value(name):
    value = "plain-looking-value"
    assert redact.redact_request_headers([(name, value)]) == [(name, PLACEHOLDER)]


def test_harmless_request_headers_stay():
    headers = [("Host", "127.0.0.1:5000"), ("Accept", "application/vnd.oci.image.manifest.v1+json"),
               ("User-Agent", "regexplore/0.1"), ("Content-Type", "application/octet-stream"),
               ("Content-Length", "1234"), ("Range", "bytes=0-99"), ("Docker-Content-Digest", DIGEST),
               ("Accept-Encoding", "gzip"), ("Connection", "keep-alive")]
    assert redact.redact_request_headers(headers) == headers


# --- response headers: name and shape -------------------------------------------------------------------
@pytest.mark.parametrize(("name", "value"), [
    ("X-Upstream-Token", "short"),  # name says so, whatever the value
    ("X-Session-Id", "abc"),
    ("X-Api-Key", "k"),
    ("X-Vault-Token", "s.abc"),
    ("X-Request-Id", "Xq3Lm9RzP8wYb4NcT7uQ1sD5fG2hJ6kV"),  # name harmless, value random
    ("X-Echo", JWT_SAMPLE),
])
def test_secret_response_headers_are_hidden(name, value):
    assert redact.redact_response_headers([(name, value)]) == [(name, PLACEHOLDER)]


def test_teaching_response_headers_stay():
    headers = [
        ("Docker-Content-Digest", DIGEST), ("Docker-Distribution-Api-Version", "registry/2.0"),
        ("WWW-Authenticate", 'Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"'),
        ("Location", f"/v2/a/blobs/uploads/{UUID}"), ("Docker-Upload-UUID", UUID), ("Range", "0-1023"),
        ("ETag", f'"{DIGEST}"'), ("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff"),
        ("X-Request-Id", UUID), ("OCI-Subject", DIGEST),
    ]
    assert redact.redact_response_headers(headers) == headers


def test_a_jwt_inside_a_kept_header_value_goes():
    (_, value), = redact.redact_response_headers([("Warning", f'199 - "token {JWT_SAMPLE} expired"')])
    assert value == f'199 - "token {PLACEHOLDER} expired"'


# --- cookies, field by field ---------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "value", "expected"), [
    ("Cookie", "sid=abc; _gat=1; lonely", f"sid={PLACEHOLDER}; _gat={PLACEHOLDER}; {PLACEHOLDER}"),
    ("Set-Cookie", "a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly, b=2secret; Path=/",
     f"a={PLACEHOLDER}; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly, b={PLACEHOLDER}; Path=/"),
    ("Set-Cookie", "nameless-value; Secure", f"{PLACEHOLDER}; Secure"),
    ("Set-Cookie", "id=x; Max-Age=60; weird=leak; SameSite=Lax", f"id={PLACEHOLDER}; Max-Age=60; weird={PLACEHOLDER}; "
                                                                 "SameSite=Lax"),
])
def test_cookies_are_redacted_field_by_field(name, value, expected):
    assert redact.redact_header_value(name, value, request=name == "Cookie") == expected


def test_hidden_header_values_are_what_was_hidden():
    assert redact.hidden_header_values("X-Upstream-Token", "upstream-canary-7f3a", request=False) == \
        ["upstream-canary-7f3a"]
    assert redact.hidden_header_values("Set-Cookie", "a=cookie-value-1; Path=/, b=cookie-value-2", request=False) \
        == ["cookie-value-1", "cookie-value-2"]
    assert redact.hidden_header_values("Authorization", "Basic dXNlcjpodW50ZXIy", request=True) == \
        ["dXNlcjpodW50ZXIy", "hunter2"]
    assert redact.hidden_header_values("X-Custom", "custom-value", request=True) == ["custom-value"]  # echoes
    assert redact.hidden_header_values("X-Custom", "short", request=True) == []  # would wreck unrelated text
    assert redact.hidden_header_values("X-Served-By", "cache-fra-1234", request=False) == []  # kept: not hidden
    assert redact.hidden_header_values("Docker-Content-Digest", DIGEST, request=False) == []


# --- JSON bodies --------------------------------------------------------------------------------------
def test_unknown_secret_json_fields_are_hidden_and_the_rest_stays():
    body = json.dumps({"session_key": "sk-short", "apiKey": "k1", "nested": {"db_password": "pw", "x": "y"},
                       "upstream": {"signature": "abc"}, "id": "Xq3Lm9RzP8wYb4NcT7uQ1sD5fG2hJ6kV",
                       "name": "team/app", "tags": ["1.0", "latest"], "digest": DIGEST}, indent=1)
    out = redact.redact_text(body, "application/json")
    data = json.loads(out)  # still JSON, same formatting
    assert out.count("\n") == body.count("\n")
    assert data["session_key"] == data["apiKey"] == data["nested"]["db_password"] == PLACEHOLDER
    assert data["upstream"]["signature"] == data["id"] == PLACEHOLDER
    assert data["nested"]["x"] == "y" and data["name"] == "team/app" and data["tags"] == ["1.0", "latest"]
    assert data["digest"] == DIGEST
    data_id = body.split('"id": "')[1][:32]
    assert set(redact.hidden_text_values(body, "application/json")) == {"sk-short", data_id}
    assert data_id not in out


def test_a_manifest_keeps_everything_it_teaches():
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": DIGEST, "size": 7,
                   "data": "eyJhcmNoaXRlY3R1cmUiOiJhbWQ2NCJ9Cg=="},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": DIGEST, "size": 9,
                    "urls": ["https://cdn.example/layer"]}],
        "annotations": {"org.opencontainers.image.authors": "Jane Doe",
                        "org.opencontainers.image.revision": "4f" * 20,
                        "org.opencontainers.image.created": "2026-03-01T10:00:00Z"},
    })
    assert redact.redact_text(manifest, "application/json") == manifest  # the rules leave it whole anyway


def test_manifests_are_kept_verbatim_but_for_known_secrets():
    """A manifest is a public, content-addressed document: a replay must PUT the bytes its digest names."""
    signed = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                         "layers": [{"digest": DIGEST, "size": 1, "annotations": {
                             "dev.cosignproject.cosign/signature": "MEUCIQDx7Lm2RzP8wYb4NcT7uQ1sD5fG2hJ6kV0aB"}}],
                         "annotations": {"build.password": "leaked-by-its-author"}})
    for media_type in ("application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
                       "application/vnd.docker.distribution.manifest.v2+json"):
        assert redact.redact_text(signed, media_type) == signed
        assert redact.hidden_text_values(signed, media_type) == []
    known = redact.Secrets()
    known.add("leaked-by-its-author")
    assert "leaked-by-its-author" not in redact.redact_text(signed, "application/vnd.oci.image.manifest.v1+json", known)
    assert "MEUCIQ" not in redact.redact_text(signed, "application/json")  # the same JSON as a plain body: judged


def test_a_token_response_keeps_only_harmless_fields():
    body = json.dumps({"token": JWT_SAMPLE, "access_token": JWT_SAMPLE, "expires_in": 300,
                       "issued_at": "2026-03-01T10:00:00Z", "scope": "repository:a:pull", "refresh_token": "r",
                       "session_state": "s", "user": "alice", "token_type": "Bearer"})
    data = json.loads(redact.redact_text(body, "application/json"))
    assert data == {"token": PLACEHOLDER, "access_token": PLACEHOLDER, "expires_in": 300,
                    "issued_at": "2026-03-01T10:00:00Z", "scope": "repository:a:pull", "refresh_token": PLACEHOLDER,
                    "session_state": PLACEHOLDER, "user": PLACEHOLDER, "token_type": "Bearer"}


def test_a_body_cut_short_inside_a_secret_hides_what_is_left():
    body = '{"name": "x", "session_key": "abcdefgh-cut-he'
    assert redact.redact_text(body, "application/json") == f'{{"name": "x", "session_key": "{PLACEHOLDER}'


def test_an_error_echoing_a_jwt_loses_it():
    body = json.dumps({"errors": [{"code": "DENIED", "message": f"token {JWT_SAMPLE} is not valid"}]})
    assert JWT_SAMPLE.split(".")[1] not in redact.redact_text(body, "application/json")


# --- forms ------------------------------------------------------------------------------------------
def test_forms_keep_only_allowlisted_fields():
    body = ("grant_type=password&service=reg&scope=repository%3Aa%3Apull&client_id=x&username=alice"
            "&password=hunter22&mfa_code=123456&access_type=offline")
    out = redact.redact_text(body, "application/x-www-form-urlencoded")
    assert out == ("grant_type=password&service=reg&scope=repository%3Aa%3Apull&client_id=x&username=alice"
                   f"&password={PLACEHOLDER}&mfa_code={PLACEHOLDER}&access_type=offline")


def test_a_form_without_its_media_type_is_still_a_form_when_it_holds_a_secret_field():
    assert redact.redact_text("user=a&password=hunter22", None) == f"user={PLACEHOLDER}&password={PLACEHOLDER}"
    assert redact.redact_text("n=10&last=b", "text/plain") == "n=10&last=b"  # no secret-named field: not judged


# --- hostile values: redaction never fails and never lets a value through unjudged ------------------------
def test_every_hostile_value_goes_through_every_rule(tmp_path):
    from tests.hostile.corpus import CONTROL, payloads

    values = [*payloads(tmp_path / "marker").values(), *CONTROL, '"', '\\', '{"a": "', "=", ";,", "eyJ.."]
    for value in values:
        for name in ("X-Upstream-Token", "X-Custom", "Set-Cookie", "Cookie", "Link", "Location", "Authorization"):
            assert redact.redact_request_headers([(name, value)])[0][0] == name
            redact.redact_response_headers([(name, value)])
            redact.hidden_header_values(name, value, request=False)
        assert redact.redact_request_headers([("X-Custom", value)]) == [("X-Custom", PLACEHOLDER if value.strip()
                                                                         else value)]
        for text in (value, json.dumps({"session_key": value, "name": value}), f"password={value}&n=1"):
            for media_type in ("application/json", "application/x-www-form-urlencoded", "text/html", None):
                out = redact.redact_text(text, media_type)
                redact.hidden_text_values(text, media_type)
                if media_type == "application/json" and text.startswith('{"session_key"'):
                    assert json.loads(out)["session_key"] == PLACEHOLDER


def test_redacting_with_learn_registers_what_hidden_text_values_names():
    body = json.dumps({"session_key": "sessionkey-canary-1", "note": f"see {JWT_SAMPLE}", "name": "x"})
    known = redact.Secrets()
    out = redact.redact_text(body, "application/json", known, learn=True)
    assert set(redact.hidden_text_values(body, "application/json")) == {"sessionkey-canary-1", JWT_SAMPLE}
    assert "sessionkey-canary-1" in known and JWT_SAMPLE in known
    assert known.scrub("echo sessionkey-canary-1") == f"echo {PLACEHOLDER}"
    assert json.loads(out)["name"] == "x"


def test_the_fast_path_hides_exactly_what_the_full_scan_hides(tmp_path, monkeypatch):
    """``_needs_scan`` only skips bodies the piece-by-piece scan would leave alone."""
    from explorer.recording.redact import bodies
    from tests.hostile.corpus import payloads

    cred = "Xq3Lm9RzP8wYb4NcT7uQ1sD5fG2hJ6kV"
    samples = [
        json.dumps({"name": "x", "tags": ["1.0", cred, "latest"]}), json.dumps([cred, "a"]),
        json.dumps({"errors": [{"code": "X", "message": "m", "detail": {"Tag": "1"}}]}),
        json.dumps({"a": {"b": [{"c": cred.replace("q", "/")}]}}).replace("/", "\\/"),
        '{"name": "x", "ctx": "' + cred[:25], '{"name": "x", "sessionId": "abc', json.dumps({"access_token": "t"}),
        '{"\\u0074oken": "escaped-key-canary"}',
        *(json.dumps({"k": v, v: "w"}) for v in payloads(tmp_path / "m").values()),
    ]
    fast = [bodies._redact_json(text) for text in samples]
    monkeypatch.setattr(bodies, "_needs_scan", lambda text: True)
    assert fast == [bodies._redact_json(text) for text in samples]
    assert cred in fast[0]  # a tag is never judged by its shape
    assert cred not in fast[1] and fast[2] == samples[2] and cred[:25] not in fast[4]
    assert "escaped-key-canary" not in fast[7]
