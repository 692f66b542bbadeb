"""Property tests: the parsers take ANY input and answer with a value or OUR typed error.

Untrusted text reaches these functions from users (references) and from
servers (headers, bodies). Whatever arrives, the result must be a value or an
``ExplorerError`` subclass: never an IndexError, a RecursionError or a
UnicodeError that would escape as a traceback.
"""

from __future__ import annotations

import json
import string
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.errors import ExplorerError, InvalidDigest, InvalidReference, MalformedHeader
from explorer.protocol import digest, reference
from explorer.protocol.challenge import Challenge, Scope, merge_scopes, parse_challenges, parse_scope
from explorer.protocol.endpoints import classify
from explorer.protocol.errorcodes import ErrorDetail, parse_error_body, summarize
from explorer.protocol.headers import (
    parse_content_range,
    parse_link,
    parse_retry_after,
    parse_upload_range,
    resolve_location,
)
from explorer.protocol.quoting import quote

FAST = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Text biased towards the characters these grammars care about, plus anything at all.
GRAMMAR_CHARS = string.ascii_letters + string.digits + ":/@._-[]=,;\"\\<> \t*+()?&"
grammar_text = st.text(alphabet=GRAMMAR_CHARS, max_size=80)
any_text = st.one_of(st.text(max_size=120), grammar_text)

# Plausible references built from the grammar (cheap builders: from_regex is slow to draw from).
alnum = st.text(alphabet="abcxyz0189", min_size=1, max_size=6)
component = st.builds(
    lambda head, rest: head + "".join(sep + part for sep, part in rest),
    alnum, st.lists(st.tuples(st.sampled_from([".", "_", "__", "-", "---"]), alnum), max_size=2),
)
path = st.lists(component, min_size=1, max_size=4).map("/".join)
host = st.one_of(
    st.sampled_from(["docker.io", "index.docker.io", "localhost", "ghcr.io", "127.0.0.1", "[::1]", "Foo", "r-1.example.com"]),
    st.lists(st.text(alphabet="abcXYZ09", min_size=1, max_size=6), min_size=1, max_size=3).map(".".join),
)
domain = st.tuples(host, st.one_of(st.none(), st.integers(0, 65535))).map(
    lambda pair: pair[0] if pair[1] is None else f"{pair[0]}:{pair[1]}"
)
tag = st.builds(lambda head, rest: head + rest, st.sampled_from("aZ9_"), st.text(alphabet="aZ9_.-", max_size=20))
hex_digest = st.sampled_from(["sha256:" + "0123456789abcdef" * 4, "sha512:" + "ab" * 64])
plausible_reference = st.builds(
    lambda d, p, t, h: (f"{d}/" if d else "") + p + (f":{t}" if t else "") + (f"@{h}" if h else ""),
    st.one_of(st.none(), domain), path, st.one_of(st.none(), tag), st.one_of(st.none(), hex_digest),
)


@FAST
@given(st.one_of(any_text, plausible_reference))
def test_reference_parse_never_raises_foreign_errors(text: str) -> None:
    try:
        ref = reference.parse(text)
    except InvalidReference as error:
        assert "\n" not in str(error) and str(error)
        return
    assert reference.parse(str(ref)) == ref
    assert reference.parse(ref.familiar()) == ref
    assert ref.tag is not None or ref.digest is not None


@FAST
@given(plausible_reference)
def test_plausible_references_round_trip(text: str) -> None:
    try:
        ref = reference.parse(text)
    except InvalidReference:
        return  # e.g. a host that is only digits-and-dots but "Foo/..." paths are fine
    assert reference.parse(str(ref)) == ref
    assert str(ref).startswith(ref.registry + "/" + ref.repository)


@FAST
@given(any_text)
def test_repository_and_registry_parsers(text: str) -> None:
    for parser in (reference.parse_repository, reference.parse_registry):
        try:
            parser(text)
        except InvalidReference as error:
            assert "\n" not in str(error)
    assert reference.is_loopback(text) in (True, False)


@FAST
@given(st.one_of(any_text, st.lists(any_text, max_size=3)))
def test_parse_challenges_never_raises_foreign_errors(value: str | list[str]) -> None:
    try:
        challenges = parse_challenges(value)
    except MalformedHeader as error:
        assert "\n" not in str(error)
        return
    for challenge in challenges:
        assert challenge.scheme == challenge.scheme.lower()
        assert isinstance(challenge.scopes, tuple)


param_name = st.builds(lambda head, rest: head + rest, st.sampled_from("aZ"), st.text(alphabet="aZ09_-", max_size=10))
param_value = st.text(max_size=30)  # anything goes inside a quoted-string once escaped


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Bearer", "bearer", "Basic", "Negotiate"]),
            st.lists(st.tuples(param_name, param_value), min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_formatted_challenges_parse_back(items: list[tuple[str, list[tuple[str, str]]]]) -> None:
    line = ", ".join(
        scheme + " " + ", ".join(f"{name}={_quoted(value)}" for name, value in params) for scheme, params in items
    )
    expected = [
        Challenge(scheme.lower(), tuple((name.lower(), value) for name, value in params)) for scheme, params in items
    ]
    assert parse_challenges(line) == expected


scope = st.builds(
    Scope,
    st.sampled_from(["repository", "registry", "repository(plugin)"]),
    st.one_of(path, st.builds(lambda d, p: f"{d}/{p}", domain, path)),
    st.lists(st.sampled_from(["pull", "push", "delete", "*"]), max_size=3).map(tuple),
)


@FAST
@given(scope)
def test_scope_round_trip(value: Scope) -> None:
    assert parse_scope(str(value)) == value


@settings(FAST, max_examples=100)  # each example draws several scopes
@given(st.lists(scope, max_size=5))
def test_merge_scopes_is_idempotent(scopes: list[Scope]) -> None:
    merged = merge_scopes(scopes)
    assert merge_scopes(merged) == merged
    assert len({parse_scope(item).resource for item in merged}) == len(merged)


@FAST
@given(any_text)
def test_parse_scope_never_raises_foreign_errors(text: str) -> None:
    try:
        parse_scope(text)
    except MalformedHeader:
        pass


@FAST
@given(any_text)
def test_parse_link_never_raises_foreign_errors(value: str) -> None:
    try:
        links = parse_link(value)
    except MalformedHeader:
        return
    assert all(isinstance(key, str) and isinstance(url, str) for key, url in links.items())


@FAST
@given(st.one_of(any_text, st.builds("{}{}-{}".format, st.sampled_from(["", "bytes="]), st.integers(0, 10**25), st.integers(0, 10**25))))
def test_parse_upload_range_never_raises_foreign_errors(value: str) -> None:
    try:
        start, end = parse_upload_range(value)
    except MalformedHeader:
        return
    assert 0 <= start <= end


@FAST
@given(st.one_of(any_text, st.builds("bytes {}-{}/{}".format, st.integers(0, 10**22), st.integers(0, 10**22),
                                     st.one_of(st.just("*"), st.integers(0, 10**22)))))
def test_parse_content_range_never_raises_foreign_errors(value: str) -> None:
    try:
        first, last, size = parse_content_range(value)
    except MalformedHeader:
        return
    assert 0 <= first <= last and (size is None or last < size)


@FAST
@given(any_text, st.datetimes(timezones=st.just(timezone.utc)))
def test_parse_retry_after_never_raises(value: str, now: datetime) -> None:
    seconds = parse_retry_after(value, now)
    assert seconds is None or seconds >= 0


@FAST
@given(st.one_of(any_text, hex_digest, st.builds(
    "{}:{}".format, st.lists(alnum, min_size=1, max_size=3).map("+".join), st.text(alphabet="aF09=_-", min_size=1, max_size=70),
)))
def test_digest_validate_never_raises_foreign_errors(value: str) -> None:
    try:
        digest.validate(value)
    except InvalidDigest as error:
        assert "\n" not in str(error)
        assert not digest.is_valid(value)
        return
    algorithm, encoded = digest.split(value)
    assert f"{algorithm}:{encoded}" == value
    assert "/" not in value and ".." not in encoded  # safe as a path part
    assert reference.validate_tag(digest.referrers_tag(value))
    assert digest.short(value) is not None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)
error_entry = st.dictionaries(st.sampled_from(["code", "message", "detail", "x"]), json_values, max_size=4)


@FAST
@given(
    st.one_of(
        st.none(),
        st.binary(max_size=200),
        any_text,
        json_values.map(json.dumps),
        st.lists(st.one_of(error_entry, json_values), max_size=4).map(lambda entries: json.dumps({"errors": entries})),
    ),
    st.one_of(st.none(), st.sampled_from(["application/json", "text/html", "text/plain; charset=utf-8", ""])),
)
def test_parse_error_body_never_raises(body: bytes | str | None, content_type: str | None) -> None:
    errors = parse_error_body(body, content_type)
    assert all(isinstance(error, ErrorDetail) and isinstance(error.code, str) for error in errors)
    line = summarize(errors, 400)
    assert len(line.splitlines()) == 1


@FAST
@given(st.sampled_from(["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "get", "BREW"]),
       st.one_of(any_text, any_text.map(lambda text: "/v2/" + text)))
def test_classify_never_raises(method: str, url: str) -> None:
    match = classify(method, url)
    assert match is None or method.upper() in match.endpoint.methods


@FAST
@given(st.sampled_from(["https://r/v2/a/blobs/uploads/", "http://127.0.0.1:5000/v2/", "/relative"]), any_text)
def test_resolve_location_raises_only_malformed_header(base: str, location: str) -> None:
    try:
        assert isinstance(resolve_location(base, location), str)
    except MalformedHeader:
        pass


@FAST
@given(st.text(max_size=300))
def test_quote_is_always_one_line(text: str) -> None:
    quoted = quote(text)
    assert len(quoted.splitlines()) == 1 and len(quoted) <= 2 + 80 * 10


def test_every_error_is_an_explorer_error() -> None:
    assert issubclass(InvalidReference, ExplorerError)
    assert issubclass(InvalidDigest, ExplorerError)
    assert issubclass(MalformedHeader, ExplorerError)
