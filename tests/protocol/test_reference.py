"""distribution/reference grammar and Docker Hub normalisation (protocol.md §9)."""

from __future__ import annotations

import pytest

from explorer.errors import InvalidReference, UsageError
from explorer.protocol.reference import (
    Reference,
    is_loopback,
    is_repository,
    parse,
    parse_registry,
    parse_repository,
    validate_repository,
    validate_tag,
)

HEX = "0123456789abcdef" * 4
D = f"sha256:{HEX}"


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("alpine", "docker.io", "library/alpine", "latest", None),
        ("alpine:3.20", "docker.io", "library/alpine", "3.20", None),
        ("library/alpine", "docker.io", "library/alpine", "latest", None),
        ("docker.io/alpine", "docker.io", "library/alpine", "latest", None),
        ("docker.io/library/alpine:3.20", "docker.io", "library/alpine", "3.20", None),
        ("index.docker.io/x/y", "docker.io", "x/y", "latest", None),
        ("index.docker.io/alpine", "docker.io", "library/alpine", "latest", None),
        ("team/app:1.0", "docker.io", "team/app", "1.0", None),
        ("localhost/x", "localhost", "x", "latest", None),
        ("localhost:5000/x:1", "localhost:5000", "x", "1", None),
        ("127.0.0.1:5000/library/alpine:3.20", "127.0.0.1:5000", "library/alpine", "3.20", None),
        (f"[::1]:5000/a@{D}", "[::1]:5000", "a", None, D),
        (f"ghcr.io/o/r:t@{D}", "ghcr.io", "o/r", "t", D),
        (f"alpine@{D}", "docker.io", "library/alpine", None, D),
        ("ghcr.io/o/r", "ghcr.io", "o/r", "latest", None),
        ("registry.example.com:443/a/b/c/d:v1_2.3-rc", "registry.example.com:443", "a/b/c/d", "v1_2.3-rc", None),
        ("Foo/bar", "Foo", "bar", "latest", None),  # rule 5: upper case names a registry
        ("my-registry:5000/app", "my-registry:5000", "app", "latest", None),  # ':' names a registry
        ("a__b/c-----d/e.f_g", "docker.io", "a__b/c-----d/e.f_g", "latest", None),
        ("localhost", "docker.io", "library/localhost", "latest", None),  # Docker's quirk, kept
        ("localhost:5000", "docker.io", "library/localhost", "5000", None),  # ditto: a tag
        (f"{HEX}:tag", "docker.io", f"library/{HEX}", "tag", None),  # only the bare id is refused
        ("x:" + "T" * 128, "docker.io", "library/x", "T" * 128, None),
        ("a/" + "b" * 253, "docker.io", "a/" + "b" * 253, "latest", None),  # path of exactly 255
        ("r.example.com/" + "b" * 255, "r.example.com", "b" * 255, "latest", None),  # the domain is not counted
    ],
)
def test_parse_normalises(text: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert parse(str(ref)) == ref


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty reference"),
        ("Alpine", 'invalid reference "Alpine": repository name must be lowercase'),
        ("team/App", "repository name must be lowercase"),
        ("ghcr.io/Owner/app", "repository name must be lowercase"),
        ("a//b", "empty path component"),
        ("a/", "empty path component"),
        ("/a", "empty path component"),
        ("alpine:", 'invalid tag "" in reference "alpine:": a tag cannot be empty'),
        ("alpine@sha256:short", 'invalid digest "sha256:short" in reference'),
        ("alpine@", "invalid digest"),
        ("alpine@sha256:" + "A" * 64, "64 lower-case hex"),
        ("alpine@md5:abc", "invalid digest"),  # fails the reference digest grammar (≥32 hex)
        ("a:" + "x" * 129, "at most 128 characters, this one has 129"),
        ("a:.x", "cannot start with '.' or '-'"),
        ("a:-x", "cannot start with '.' or '-'"),
        ("a:tag!", "may only hold A-Z a-z 0-9 _ . -"),
        ("a:t\u00e9", "may only hold"),  # \w would accept é; the grammar is ASCII
        ("a:١٢٣", "may only hold"),  # Arabic-Indic digits
        (HEX, "64-hex string is an image id"),
        ("a/" + "b" * 254, "more than 255 characters"),
        ("_a", "must start and end with a-z or 0-9"),
        ("a..b", "must start and end"),
        ("a___b", "must start and end"),
        ("a b", "may only hold"),
        (" alpine", "remove the surrounding spaces"),
        ("alpine\n", "remove the surrounding spaces"),
        ("my_host.com/x", 'invalid registry "my_host.com"'),
        ("-bad.com/x", "invalid registry"),
        ("host.com:/x", "invalid registry"),
        ("[::1/x", "invalid registry"),
        (":tag", "repository name is missing"),
        ("@" + D, "repository name is missing"),
        ("a@b@" + D, "invalid digest"),
    ],
)
def test_parse_refuses_with_one_line_message(text: str, message: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, UsageError) and caught.value.exit_code == 2


def test_message_quotes_hostile_input_on_one_line() -> None:
    with pytest.raises(InvalidReference) as caught:
        parse("A\u2028" + "b" * 5000)
    assert len(str(caught.value)) < 300 and "\\u2028" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "familiar"),
    [
        ("alpine", "alpine:latest"),
        ("alpine:3.20", "alpine:3.20"),
        ("team/app:1.0", "team/app:1.0"),
        ("docker.io/library/a/b:1", "library/a/b:1"),
        (f"alpine:3@{D}", f"alpine:3@{D}"),
        ("ghcr.io/o/r:t", "ghcr.io/o/r:t"),
        ("docker.io/my.org/app:1", "docker.io/my.org/app:1"),  # would read back as registry my.org
        ("docker.io/library/my.app:1", "my.app:1"),
    ],
)
def test_familiar_form_reparses_to_the_same_reference(text: str, familiar: str) -> None:
    ref = parse(text)
    assert ref.familiar() == familiar
    assert parse(ref.familiar()) == ref


def test_reference_properties() -> None:
    hub = parse("alpine:3.20")
    assert str(hub) == "docker.io/library/alpine:3.20"
    assert hub.api_host == "registry-1.docker.io"
    assert hub.reference == "3.20" and hub.tag_or_latest == "3.20"
    assert hub.repository_url_path() == "/v2/library/alpine"
    local = parse(f"127.0.0.1:5000/team/app:1@{D}")
    assert local.api_host == "127.0.0.1:5000"
    assert local.reference == D  # the digest decides
    assert str(local) == f"127.0.0.1:5000/team/app:1@{D}"
    by_digest = parse(f"alpine@{D}")
    assert by_digest.tag is None and by_digest.tag_or_latest == "latest" and by_digest.reference == D
    assert str(by_digest) == f"docker.io/library/alpine@{D}"


def test_with_tag_and_with_digest() -> None:
    ref = parse(f"ghcr.io/o/r:1@{D}")
    assert ref.with_tag("2") == Reference("ghcr.io", "o/r", "2", None)
    other = "sha256:" + "f" * 64
    assert parse("ghcr.io/o/r:1").with_digest(other) == Reference("ghcr.io", "o/r", "1", other)
    with pytest.raises(InvalidReference):
        ref.with_tag("bad tag")
    with pytest.raises(InvalidReference):
        ref.with_digest("sha256:nope")


@pytest.mark.parametrize(
    "fields",
    [
        ("not a host", "a", None, None),
        ("docker.io", "A", None, None),
        ("docker.io", "a", "", None),
        ("docker.io", "a", None, "sha256:x"),
    ],
)
def test_reference_validates_on_construction(fields: tuple[str, str, str | None, str | None]) -> None:
    with pytest.raises(InvalidReference):
        Reference(*fields)


def test_reference_is_frozen() -> None:
    ref = parse("alpine")
    with pytest.raises(AttributeError):
        ref.tag = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "registry", "repository"),
    [
        ("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app"),
        ("alpine", "docker.io", "library/alpine"),
        ("docker.io/team/app", "docker.io", "team/app"),
        ("[::1]:5000/a/b", "[::1]:5000", "a/b"),
    ],
)
def test_parse_repository(text: str, registry: str, repository: str) -> None:
    assert parse_repository(text) == Reference(registry, repository, None, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alpine:3", 'a repository takes no :tag; remove ":3"'),
        (f"alpine@{D}", "takes no @digest"),
        ("localhost:5000", "looks like a registry; add the repository, e.g. localhost:5000/team/app"),
        ("127.0.0.1:5000", "looks like a registry"),
        ("", "empty repository"),
        ("Team/App", "must be lowercase"),
    ],
)
def test_parse_repository_refuses(text: str, message: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_repository(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("docker.io", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("localhost:5000/", "localhost:5000"),
        ("[::1]:5000", "[::1]:5000"),
        ("ghcr.io", "ghcr.io"),
    ],
)
def test_parse_registry(text: str, expected: str) -> None:
    assert parse_registry(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty registry"),
        ("https://ghcr.io", "without a scheme"),
        ("ghcr.io/owner", "not a path"),
        ("bad_host", "a registry is host[:port]"),
        ("host:port", "a registry is host[:port]"),
    ],
)
def test_parse_registry_refuses(text: str, message: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_registry(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("LOCALHOST:5000", True),
        ("127.0.0.1", True),
        ("127.1.2.3:5000", True),
        ("[::1]", True),
        ("[::1]:5000", True),
        ("::1", True),
        ("0:0:0:0:0:0:0:1", True),
        ("128.0.0.1", False),
        ("10.0.0.1:5000", False),
        ("[::2]:5000", False),
        ("docker.io", False),
        ("localhost.example.com", False),
        ("localhost:http", False),
        ("[::1", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_validate_repository_and_tag() -> None:
    assert validate_repository("team/app") == "team/app"
    assert validate_tag("v1.2_3-rc") == "v1.2_3-rc"
    assert is_repository("a/b-c") and not is_repository("A") and not is_repository("a" * 256)
    with pytest.raises(InvalidReference, match=r'^invalid repository name "a//b": '):
        validate_repository("a//b")
    with pytest.raises(InvalidReference, match=r'^invalid tag "-x": '):
        validate_tag("-x")


@pytest.mark.parametrize(
    ("parser", "text"),
    [
        (parse, "alice:hunter2-canary@ghcr.io/owner/app:1.0"),
        (parse, "https://alice:hunter2-canary@ghcr.io/owner/app:1.0"),
        (parse, "alice:hunter2-canary@127.0.0.1:5000/team/app@" + D),
        (parse_repository, "alice:hunter2-canary@127.0.0.1:5000/team/app"),
        (parse_registry, "alice:hunter2-canary@127.0.0.1:5000"),
        (parse_registry, "https://alice:hunter2-canary@ghcr.io"),
    ],
)
def test_credentials_in_a_reference_are_refused_without_echoing_the_password(parser, text) -> None:
    with pytest.raises(InvalidReference) as raised:
        parser(text)
    assert "credentials do not belong" in raised.value.message and "alice:<redacted>@" in raised.value.message
    assert "hunter2" not in f"{raised.value.message} {raised.value.hint}"


def test_a_tag_before_a_digest_is_not_mistaken_for_credentials() -> None:
    assert parse(f"busybox:1.36@{D}").digest == D
