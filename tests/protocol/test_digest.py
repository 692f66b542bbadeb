"""Digest grammar (OCI image-spec descriptor.md), hashing, short form, referrers tag."""

from __future__ import annotations

import hashlib

import pytest

from explorer.errors import InvalidDigest, ProtocolViolation
from explorer.protocol import digest, mediatypes

HEX64 = "a" * 64
HEX128 = "b" * 128


@pytest.mark.parametrize(
    "value",
    [
        f"sha256:{HEX64}",
        f"sha512:{HEX128}",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",  # unregistered: grammar only
        "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
        "a.b_c-d:x=y",
        "sha384:" + "c" * 96,  # not registered by OCI: only the generic grammar applies
    ],
)
def test_valid_digests(value: str) -> None:
    assert digest.validate(value) == value
    assert digest.is_valid(value)
    assert digest.problem(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("sha256", "has no ':'"),
        (HEX64, "has no ':'"),
        ("sha256:../../x", "the encoded part must be"),
        ("sha256:" + HEX64 + "/..", "the encoded part must be"),
        ("sha256:", "the encoded part must be"),
        (":" + HEX64, "the algorithm must be"),
        ("SHA256:" + HEX64, "the algorithm must be"),
        ("sha256+:" + HEX64, "the algorithm must be"),
        ("sha256:" + "A" * 64, "sha256 needs 64 lower-case hex characters"),
        ("sha256:" + "a" * 63, "got 63 characters"),
        ("sha256:" + "a" * 65, "got 65 characters"),
        ("sha256:" + "g" * 64, "sha256 needs 64"),
        ("sha512:" + HEX64, "sha512 needs 128"),
        ("sha256:" + HEX64 + "\n", "the encoded part must be"),
        ("sha256:" + "٠" * 64, "the encoded part must be"),  # non-ASCII digits
    ],
)
def test_invalid_digests(value: str, message: str) -> None:
    with pytest.raises(InvalidDigest) as caught:
        digest.validate(value)
    assert message in str(caught.value)
    assert str(caught.value).startswith("invalid digest ")
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ProtocolViolation)
    assert not digest.is_valid(value)


def test_split_and_require_verifiable() -> None:
    assert digest.split(f"sha256:{HEX64}") == ("sha256", HEX64)
    assert digest.require_verifiable(f"sha512:{HEX128}") == ("sha512", HEX128)
    with pytest.raises(InvalidDigest, match="cannot verify digest"):
        digest.require_verifiable("sha384:" + "c" * 96)
    with pytest.raises(InvalidDigest, match="invalid digest"):
        digest.split("sha256:nope")


def test_constants() -> None:
    assert digest.compute(b"") == digest.EMPTY_SHA256
    assert digest.compute(digest.EMPTY_JSON) == digest.EMPTY_JSON_DIGEST
    assert digest.EMPTY_JSON_DIGEST.startswith("sha256:44136fa3") and digest.EMPTY_JSON_DIGEST.endswith("8a")
    assert len(digest.EMPTY_JSON) == digest.EMPTY_JSON_SIZE == 2
    assert digest.EMPTY_JSON_MEDIA_TYPE == mediatypes.OCI_EMPTY


def test_compute_and_hasher() -> None:
    assert digest.compute(b"abc", "sha512") == "sha512:" + hashlib.sha512(b"abc").hexdigest()
    h = digest.hasher(f"sha256:{HEX64}")
    h.update(b"abc")
    assert h.hexdigest() == hashlib.sha256(b"abc").hexdigest()
    assert digest.hasher("sha512").name == "sha512"
    with pytest.raises(InvalidDigest, match="cannot hash"):
        digest.hasher("md5")
    with pytest.raises(InvalidDigest):
        digest.compute(b"", "sha1")


@pytest.mark.parametrize(
    ("value", "n", "expected"),
    [
        ("sha256:3f2a" + "0" * 56 + "9c1d", 4, "sha256:3f2a…9c1d"),
        (f"sha512:{HEX128}", 6, "sha512:bbbbbb…bbbbbb"),
        ("not a digest", 4, "not a digest"),
        ("sha256:short", 4, "sha256:short"),
        ("foo:abcdefghi", 4, "foo:abcdefghi"),  # too short to shorten
        ("foo:abcdefghij", 4, "foo:abcd…ghij"),
    ],
)
def test_short(value: str, n: int, expected: str) -> None:
    assert digest.short(value, n) == expected


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        (f"sha256:{HEX64}", f"sha256-{HEX64}"),
        (f"sha512:{HEX128}", f"sha512-{'b' * 64}"),
        ("sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", "sha256-b64u-LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564"),
        ("a" * 40 + ":x=y", "a" * 32 + "-x-y"),
    ],
)
def test_referrers_tag(value: str, tag: str) -> None:
    assert digest.referrers_tag(value) == tag


def test_referrers_tag_is_a_valid_tag() -> None:
    from explorer.protocol.reference import validate_tag

    assert validate_tag(digest.referrers_tag(f"sha512:{HEX128}"))
