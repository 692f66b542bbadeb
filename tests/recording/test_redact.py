"""Redaction keeps the shape and the teaching parameters, hides every secret."""

from __future__ import annotations

import random
from urllib.parse import quote, quote_plus

import pytest

from explorer.recording import redact
from explorer.recording.redact import PLACEHOLDER, Secrets


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("Authorization", "Bearer eyJhbGciOi.abc.def", "Bearer <redacted>"),
        ("authorization", "Basic dXNlcjpwYXNz", "Basic <redacted>"),
        ("Proxy-Authorization", "Basic Zm9v", "Basic <redacted>"),
        ("Cookie", "session=abc; theme=dark", "session=<redacted>; theme=<redacted>"),
        ("Set-Cookie", "sid=xyz; Path=/; HttpOnly", "sid=<redacted>; Path=/; HttpOnly"),
        (
            "Location",
            "http://localhost:5005/docker/blob/data?X-Amz-Algorithm=AWS4&X-Amz-Signature=abc123&X-Amz-Credential=k",
            "http://localhost:5005/docker/blob/data?X-Amz-Algorithm=AWS4&X-Amz-Signature=<redacted>"
            "&X-Amz-Credential=<redacted>",
        ),
        (
            "Location",
            "/v2/a/blobs/uploads/u1?_state=SIGNED&digest=sha256:abc",
            "/v2/a/blobs/uploads/u1?_state=<redacted>&digest=sha256:abc",
        ),
        (
            "Link",
            '</v2/a/tags/list?n=2&last=b>; rel="next"',
            '</v2/a/tags/list?n=2&last=b>; rel="next"',
        ),
        ("Content-Type", "application/json", "application/json"),
    ],
)
def test_header_values(name, value, expected):
    assert redact.redact_header_value(name, value, request=False) == expected
    if name.lower() != "set-cookie":
        assert redact.redact_header_value(name, value, request=True) == expected


def test_url_keeps_protocol_parameters_and_hides_the_rest():
    url = (
        "https://auth.example/token?service=reg&scope=repository:a/b:pull,push&scope=repository:c:pull"
        "&account=alice&sig=S3CR3T&Signature=X&token=T"
    )
    out = redact.redact_url(url)
    assert "scope=repository:a/b:pull,push&scope=repository:c:pull" in out
    assert "account=alice" in out
    for secret in ("S3CR3T", "=X", "=T"):
        assert secret not in out
    assert out.count(PLACEHOLDER) == 3


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:5000/v2/a/blobs/sha256:" + "0" * 64,
    "https://reg.example/v2/",
    "http://reg.example/v2/a/manifests/1#",
    "not a url at all",
])
def test_a_url_without_query_or_userinfo_is_kept_as_it_is_and_scrubbed_of_known_secrets(url):
    assert redact.redact_url(url) == url
    secrets = Secrets()
    secrets.add("reg.example/v2/a")  # a secret the URL happens to contain
    assert "reg.example/v2/a" not in redact.redact_url(url, secrets)


def test_userinfo_password_is_hidden():
    assert redact.redact_url("https://bob:hunter22@reg.example/v2/") == f"https://bob:{PLACEHOLDER}@reg.example/v2/"


def test_token_fields_in_json_bodies():
    body = '{"token": "abc.def.ghi", "access_token":"abc.def.ghi", "expires_in": 300, "refresh_token": "r\\"x"}'
    out = redact.redact_text(body, "application/json")
    assert "abc.def" not in out and 'r\\"x' not in out
    assert '"expires_in": 300' in out
    assert out.count(PLACEHOLDER) == 3


def test_form_bodies():
    body = "grant_type=refresh_token&service=reg&client_id=regexplore&refresh_token=RT123&scope=repository%3Aa%3Apull"
    out = redact.redact_text(body, "application/x-www-form-urlencoded")
    assert "RT123" not in out
    assert "grant_type=refresh_token" in out and "scope=repository%3Aa%3Apull" in out


def test_known_secrets_are_scrubbed_everywhere_including_encoded_forms():
    secrets = Secrets()
    secrets.add_basic("alice", "pa ss/word")
    secrets.add("tok")  # too short to scrub safely: ignored
    text = "pw=pa ss/word enc=pa%20ss%2Fword plus=pa+ss%2Fword basic=YWxpY2U6cGEgc3Mvd29yZA== tok"
    out = secrets.scrub(text)
    assert "pa ss" not in out and "pa%20" not in out and "pa+ss" not in out and "YWxpY2U6" not in out
    assert out.endswith("tok")


def test_a_header_value_is_scrubbed_of_a_known_secret_only_once_one_is_known():
    secrets = Secrets()
    assert not secrets and len(secrets) == 0
    assert redact.redact_response_headers([("X-Echo", "id 5ecret-value")], secrets) == [("X-Echo", "id 5ecret-value")]
    secrets.add("5ecret-value")
    assert secrets and len(secrets) >= 1
    assert redact.redact_response_headers([("X-Echo", "id 5ecret-value")], secrets) == [("X-Echo", f"id {PLACEHOLDER}")]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["trace", "pull", "x", "--password", "pw1"], ["trace", "pull", "x", "--password", PLACEHOLDER]),
        (["trace", "pull", "--password=pw1", "x"], ["trace", "pull", f"--password={PLACEHOLDER}", "x"]),
        (["https://u:p@host/x"], [f"https://u:{PLACEHOLDER}@host/x"]),
    ],
)
def test_argv(argv, expected):
    assert redact.redact_argv(argv) == expected


@pytest.mark.parametrize("value", ['pw "q\\z&<x>é', "&amp;", "a'b", "&&<<>>\"\"''", "plain", "&#x27;", "<&>"])
def test_a_secrets_html_form_is_what_html_escape_gives(value):
    import html

    secrets = Secrets()
    secrets.add(value * 2)  # long enough to register
    assert html.escape(value * 2) in secrets


def test_secrets_a_server_echoes_json_or_html_escaped_are_scrubbed():
    secrets = Secrets()
    secrets.add('pw "q\\z&<x>é')
    echoed = '{"message": "wrong password pw \\"q\\\\z&<x>\\u00e9"} <p>wrong password pw &quot;q\\z&amp;&lt;x&gt;é</p>'
    assert secrets.scrub(echoed) == '{"message": "wrong password <redacted>"} <p>wrong password <redacted></p>'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cookie: sid=cookie-canary-5f2b8e… (127.0.0.1:5000/v2/_catalog)",
         "Cookie: sid=<redacted>… (127.0.0.1:5000/v2/_catalog)"),
        ('"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIi..."', '"Bearer <redacted>..."'),
        ("a cut of 7: cookie-…", "a cut of 7: cookie-…"),  # too little left to hide (or recognise)
        ("not cut: cookie-canary-5f", "not cut: cookie-canary-5f"),
    ],
)
def test_a_secret_cut_short_by_a_shortened_message_is_hidden_too(text, expected):
    secrets = Secrets()
    secrets.add("cookie-canary-5f2b8e0d9a")
    secrets.add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0ZXIifQ.c2lnbmF0dXJl")
    assert secrets.scrub(text) == expected


def test_urls_in_free_text_absolute_or_relative_lose_their_secret_query_values():
    text = ("refused PUT /v2/a/blobs/uploads/u1?_state=SIGNED%3D&digest=sha256:ab… at "
            "http://cdn.example/blob?Expires=1&Signature=S1G (see 127.0.0.1:5000/v2/_catalog?n=10&last=b)")
    assert redact.redact_urls(text) == (
        "refused PUT /v2/a/blobs/uploads/u1?_state=<redacted>&digest=sha256:ab… at "
        "http://cdn.example/blob?Expires=1&Signature=<redacted> (see 127.0.0.1:5000/v2/_catalog?n=10&last=b)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tester:hunter2@127.0.0.1:5000/team/app:1", "tester:<redacted>@127.0.0.1:5000/team/app:1"),
        ("tester:hunter2@127.0.0.1:5000", "tester:<redacted>@127.0.0.1:5000"),
        ("https://tester:hunter2@ghcr.io/x", "https://tester:<redacted>@ghcr.io/x"),
        ("busybox:1.36@sha256:" + "ab" * 32, "busybox:1.36@sha256:" + "ab" * 32),
    ],
)
def test_user_and_password_before_a_host_are_hidden_with_or_without_a_scheme(text, expected):
    assert redact.redact_urls(text) == expected
    assert redact.redact_argv(["trace", "pull", text]) == ["trace", "pull", expected]


def test_values_learned_after_the_last_compile_are_still_scrubbed():
    secrets = Secrets()
    secrets.add("first-secret-value")
    assert secrets.scrub("x first-secret-value x") == f"x {PLACEHOLDER} x"  # compiles
    for n in range(200):  # learned one by one, as a push learns each signed upload URL
        secrets.add(f"state-{n:04d}-signed")
        assert secrets.scrub(f"Location: /v2/a/blobs/uploads/u?_state=state-{n:04d}-signed") == \
            f"Location: /v2/a/blobs/uploads/u?_state={PLACEHOLDER}"
    assert secrets.scrub("first-secret-value state-0007-signed") == f"{PLACEHOLDER} {PLACEHOLDER}"
    # a longer pending value that contains an older one is hidden whole, not around the older one
    secrets.add("prefix-first-secret-value-suffix")
    assert secrets.scrub("[prefix-first-secret-value-suffix]") == f"[{PLACEHOLDER}]"


def test_a_text_shorter_than_every_secret_is_still_searched_for_a_cut_one():
    secrets = Secrets()
    secrets.add("cookie-canary-5f2b8e0d9a")  # 24 characters: "x cookie-canary…" is 16
    assert secrets.scrub("x cookie-canary…") == f"x {PLACEHOLDER}…"
    assert secrets.scrub("x cookie-canary") == "x cookie-canary"


def test_learned_values_that_never_recur_are_not_compiled_until_checking_them_costs_as_much(monkeypatch):
    compiled: list[str] = []
    real = redact.secrets.re.compile
    monkeypatch.setattr(redact.secrets.re, "compile",
                        lambda pattern, *flags: compiled.append(pattern) or real(pattern, *flags))
    secrets = Secrets()
    for n in range(60):  # a push: one signed upload state per blob, then the blob's exchanges' texts
        secrets.add(f"state-{n:04d}-" + "s" * 200)
        for text in ("Content-Length: 0", "http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=<redacted>",
                     '{"schemaVersion": 2, "layers": [' + "x" * 300 + "]}"):
            assert secrets.scrub(text) == text
    assert compiled == []  # 60 values, 180 texts (60 long enough to hold one): checks, no compile
    long_text, scrubs = "y" * 300, 0
    while not compiled and scrubs < 1000:  # a text scrubbed again and again: 60 checks each
        assert secrets.scrub(long_text) == long_text
        scrubs += 1
    # compiled once the checks (60 per text) passed 4x the values' characters (60 x 211)
    assert len(compiled) == 1 and 780 < scrubs < 845
    assert secrets.scrub(long_text + "state-0042-" + "s" * 200) == long_text + PLACEHOLDER
    assert len(compiled) == 1


def test_a_value_added_again_is_not_encoded_again_and_a_value_that_is_anothers_form_gets_its_own(monkeypatch):
    secrets = Secrets()
    state = "state/" + "s" * 40 + "=="
    secrets.add(state)  # learned from the Location that names the upload ...
    forms = len(secrets)
    encoded: list[str] = []
    real = redact.secrets._forms
    monkeypatch.setattr(redact.secrets, "_forms", lambda value: encoded.append(value) or real(value))
    secrets.add(state)  # ... then from the URL that uses it: nothing to encode, nothing new
    assert encoded == [] and len(secrets) == forms
    # the percent-encoded form was registered as a form, not added: added, it gets forms of its own
    percent = quote(state, safe="")
    assert percent in secrets
    secrets.add(percent)
    assert encoded == [percent] and quote(percent, safe="") in secrets
    assert secrets.scrub(f"?_state={quote(percent, safe='')}") == f"?_state={PLACEHOLDER}"


def _reference_forms(value: str) -> set[str]:
    """What ``Secrets.add`` registers, as urllib, json and html make each form (``redact.secrets._forms``
    takes shortcuts where they change nothing)."""
    import html
    import json

    return {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1], html.escape(value)}


def test_a_secret_is_registered_in_every_form_urllib_json_and_html_make_of_it():
    rnd = random.Random(17)
    alphabet = [chr(c) for c in range(0x80)] + list("é€😀\u2028\x80\xa0 +%&<>\"'\\=/")
    for _ in range(3000):
        value = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(4, 30)))
        secrets = Secrets()
        secrets.add(value)
        wanted = {form for form in _reference_forms(value) if len(form) >= Secrets.MIN_LENGTH}
        assert len(secrets) == len(wanted) and all(form in secrets for form in wanted), repr(value)
    token = "A" * 200 + "=="  # a push's ``_state``: base64, padded
    secrets = Secrets()
    secrets.add(token)
    assert len(secrets) == 2 and token in secrets and "A" * 200 + "%3D%3D" in secrets


def test_a_secret_with_a_lone_surrogate_is_learned_and_scrubbed_without_raising():
    """A JSON body may escape half a surrogate pair (``\\ud800``): UTF-8 cannot encode it, and quote raised."""
    value = "tok-canary-\ud800-kilo"
    secrets = Secrets()
    secrets.add(value)
    assert secrets.scrub(f"got {value} and {value.encode('unicode_escape').decode()}") == (
        f"got {PLACEHOLDER} and {PLACEHOLDER}")
    assert "tok-canary-%ED%A0%80-kilo" in secrets


def test_a_header_list_is_scrubbed_in_one_call_as_each_value_would_be():
    secrets = Secrets()
    headers = [("Host", "registry.test"), ("Location", "/v2/x/blobs/uploads/u?n=1"), ("X-Echo", "sent token-value-123")]
    assert secrets.scrub_headers(headers) is headers  # nothing known: nothing to scrub
    secrets.add("token-value-123")
    cut = ("Warning", "a token-value-1… cut short")  # shorter than the value, with a cut mark: searched
    scrubbed = secrets.scrub_headers([*headers, cut])
    assert scrubbed == [(name, secrets.scrub(value)) for name, value in [*headers, cut]]
    assert scrubbed[:2] == headers[:2]
    assert scrubbed[2] == ("X-Echo", f"sent {PLACEHOLDER}")
    assert scrubbed[3] == ("Warning", f"a {PLACEHOLDER}… cut short")


def test_a_urls_hidden_values_are_what_urlsplit_and_parse_qsl_find():
    """``hidden_url_values`` finds the query without ``urlsplit`` when there is no ``@`` (no password to read):
    the same values, and a URL ``urlsplit`` refuses teaches its query's values all the same."""
    from urllib.parse import parse_qsl, urlsplit

    def reference(url: str) -> list[str] | None:
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        found = [parts.password] if parts.password else []
        return found + [value for key, value in parse_qsl(parts.query)
                        if key.lower() not in redact.urls.QUERY_ALLOWLIST and len(value) >= redact.LEARNED_QUERY_MIN]

    rnd = random.Random(3)
    pieces = ["&", "=", "+", "%", "%20", "%3D", "%2", "a", "_state", "digest", "Digest", "X-Amz-Signature",
              "x" * 15, "y" * 16, "%41" * 6, "é", "@", ":", "u:p@", ";", "#", "?", "%E9", "\t", "\n", "[", "]",
              "[::1]", " ", "/"]
    refused = 0
    for _ in range(4000):
        q = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 14)))
        for url in (f"http://h.test/v2/x?{q}", f"http://u:{q}@h.test/p?{q}", f"/v2/x?{q}", f"http://{q}/x?{q}"):
            wanted = reference(url) if "?" in url or "@" in url else []
            if wanted is None:
                refused += 1
                cleaned = url.replace("\t", "").replace("\n", "")  # as urlsplit: then the query before a "#"
                query = cleaned.partition("#")[0].partition("?")[2]
                assert redact.hidden_url_values(url) == ([] if "@" in url else reference(f"http://h.test/?{query}"))
            else:
                assert redact.hidden_url_values(url) == wanted, url
    assert refused  # the corpus holds URLs urlsplit refuses
    state = "s" * 40 + "=="
    assert redact.hidden_url_values(f"http://h/u?_state={state}&digest=sha256:{'a' * 64}#f?x=" + "z" * 20) == [state]


def test_a_redacted_url_is_what_urlsplit_and_urlunsplit_give():
    """``redact_url`` splices the redacted query into an ``http(s)://host`` URL without ``urlsplit`` when nothing
    it would drop or change is there: the same text for every URL ``urlsplit`` accepts."""
    from urllib.parse import urlsplit, urlunsplit

    def reference(url: str) -> str | None:
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{PLACEHOLDER}@{hostport}" if ":" in userinfo else f"{PLACEHOLDER}@{hostport}"
        query = redact.urls._redact_query(parts.query) if parts.query else parts.query
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

    rnd = random.Random(5)
    pieces = ["&", "=", "+", "%", "a", "_state", "digest", "x" * 17, "é", "@", ":", ";", "#", "?", "\t", "\n", "[",
              "]", "[::1]", " ", "/", "//", "HTTP://", "http://", "\x00", ""]
    compared = 0
    for _ in range(5000):
        q = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
        for url in (f"http://h.test/v2/x?{q}", f"https://h.test:5000{q}", f"http://{q}/x?{q}", f"HTTP://h/x?{q}",
                    f"/v2/x?{q}", f"http://h?{q}", f"http://{q}"):
            wanted = reference(url) if "?" in url or "@" in url else url
            if wanted is not None:
                assert redact.redact_url(url) == wanted, url
                compared += 1
    assert compared > 30000
    assert redact.redact_url("http://h/u?_state=abc&digest=sha256:x#top") == f"http://h/u?_state={PLACEHOLDER}" \
        "&digest=sha256:x#top"
