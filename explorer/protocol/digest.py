"""Digests: ``algorithm:encoded`` content addresses, validated before any use.

Rule 1: a digest from a registry is untrusted input. Validate it here BEFORE
it becomes part of a URL or a file name (``blobs/sha256/<hex>`` in an OCI
layout): ``sha256:../../etc/passwd`` must never reach the file system.
Rule 2: validation follows the OCI grammar; *verification* (hashing) is only
possible for the algorithms hashlib gives us and OCI registers.

Grammar (OCI image-spec v1.1.1 ``descriptor.md`` "Digests")::

    digest                ::= algorithm ":" encoded
    algorithm             ::= algorithm-component (algorithm-separator algorithm-component)*
    algorithm-component   ::= [a-z0-9]+
    algorithm-separator   ::= [+._-]
    encoded               ::= [a-zA-Z0-9=_-]+

Registered algorithms (same section) constrain ``encoded`` further::

    sha256   [a-f0-9]{64}     (lower-case only; "MUST" for implementations)
    sha512   [a-f0-9]{128}

Unregistered algorithms that fit the grammar pass :func:`validate` (the spec
says so) but fail :func:`require_verifiable`.

Referrers fallback tag (OCI distribution-spec ``main``, "Referrers Tag
Schema"): ``<alg>-<encoded>`` with the algorithm cut to 32 characters, the
encoded part cut to 64 and every character a tag may not hold replaced by
``-`` (so ``sha256:<hex>`` becomes ``sha256-<hex>``).
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from explorer.errors import InvalidDigest
from explorer.protocol.quoting import quote

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = [
    "EMPTY_JSON",
    "EMPTY_JSON_DIGEST",
    "EMPTY_JSON_MEDIA_TYPE",
    "EMPTY_JSON_SIZE",
    "EMPTY_SHA256",
    "VERIFIABLE_ALGORITHMS",
    "compute",
    "hasher",
    "is_valid",
    "problem",
    "referrers_tag",
    "require_verifiable",
    "short",
    "split",
    "validate",
]

# algorithm ::= [a-z0-9]+ ([+._-][a-z0-9]+)*      encoded ::= [a-zA-Z0-9=_-]+
_ALGORITHM = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*", re.ASCII)
_ENCODED = re.compile(r"[a-zA-Z0-9=_-]+", re.ASCII)
#: The digest grammar as one regular expression (unanchored), for documents that show it (OpenAPI).
DIGEST_PATTERN = rf"{_ALGORITHM.pattern}:{_ENCODED.pattern}"

# Registered algorithms: the exact form of their encoded part.
_REGISTERED = {
    "sha256": (re.compile(r"[a-f0-9]{64}", re.ASCII), "64 lower-case hex characters"),
    "sha512": (re.compile(r"[a-f0-9]{128}", re.ASCII), "128 lower-case hex characters"),
}

#: Algorithms we can hash and use as a directory name in an OCI layout.
VERIFIABLE_ALGORITHMS: tuple[str, ...] = ("sha256", "sha512")

#: The digest of zero bytes.
EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#: The OCI 1.1 empty descriptor's content ``{}``
#: (image-spec ``manifest.md``, "Guidance for an Empty Descriptor").
EMPTY_JSON = b"{}"
EMPTY_JSON_SIZE = 2
EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#: Same value as ``mediatypes.OCI_EMPTY`` (a test pins that); repeated to keep this module a leaf.
EMPTY_JSON_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"

# A tag is [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}; anything else becomes "-" in a referrers tag.
_NOT_TAG_CHARACTER = r"(?a)[^a-zA-Z0-9._-]"  # compiled by ``re`` on first use: only referrers need it


def problem(digest: str) -> str | None:
    """Why ``digest`` breaks the grammar (one phrase for a message), or None when it is valid."""
    if not digest:
        return "a digest is algorithm:encoded, e.g. sha256:<64 hex>, and this one is empty"
    algorithm, colon, encoded = digest.partition(":")
    if not colon:
        return "a digest is algorithm:encoded, e.g. sha256:<64 hex>, and this one has no ':'"
    registered = _REGISTERED.get(algorithm)
    if registered is not None and registered[0].fullmatch(encoded):
        return None  # the usual case: a registered algorithm's exact form meets every rule below
    if not _ALGORITHM.fullmatch(algorithm):
        return "the algorithm must be lower-case letters and digits joined by + . _ -"
    if not _ENCODED.fullmatch(encoded):
        return "the encoded part must be one or more of a-z A-Z 0-9 = _ -"
    if registered is not None:
        return f"{algorithm} needs {registered[1]} after the ':', got {len(encoded)} characters"
    return None


def validate(digest: str) -> str:
    """Return ``digest`` unchanged if it follows the OCI grammar, else raise InvalidDigest."""
    reason = problem(digest)
    if reason is not None:
        raise InvalidDigest(f"invalid digest {quote(digest)}: {reason}")
    return digest


def is_valid(digest: str) -> bool:
    """True when ``digest`` follows the OCI grammar (registered algorithms checked exactly)."""
    return problem(digest) is None


def split(digest: str) -> tuple[str, str]:
    """``(algorithm, encoded)`` of a validated digest."""
    algorithm, _, encoded = validate(digest).partition(":")
    return algorithm, encoded


def require_verifiable(digest: str) -> tuple[str, str]:
    """``(algorithm, encoded)`` for a digest we can hash and store: sha256 or sha512 only."""
    algorithm, encoded = split(digest)
    if algorithm not in VERIFIABLE_ALGORITHMS:
        raise InvalidDigest(
            f"cannot verify digest {quote(digest)}: algorithm {quote(algorithm)} is not one of "
            + ", ".join(VERIFIABLE_ALGORITHMS)
        )
    return algorithm, encoded


def hasher(digest_or_algorithm: str) -> _Hash:
    """A fresh hashlib object for a digest's algorithm (or for an algorithm name)."""
    if ":" in digest_or_algorithm:
        algorithm, _ = require_verifiable(digest_or_algorithm)
    else:
        algorithm = digest_or_algorithm
        if algorithm not in VERIFIABLE_ALGORITHMS:
            raise InvalidDigest(
                f"cannot hash with algorithm {quote(algorithm)}: use one of "
                + ", ".join(VERIFIABLE_ALGORITHMS)
            )
    return hashlib.new(algorithm)


def compute(data: bytes, algorithm: str = "sha256") -> str:
    """The digest of ``data``: ``"sha256:<hex>"``."""
    digester = hasher(algorithm)
    digester.update(data)
    return f"{algorithm}:{digester.hexdigest()}"


def short(digest: str, n: int = 4) -> str:
    """``sha256:3f2a…9c1d`` (first and last ``n`` characters); non-digests come back unchanged."""
    if not is_valid(digest):
        return digest
    algorithm, _, encoded = digest.partition(":")
    if len(encoded) <= 2 * n + 1:
        return digest
    return f"{algorithm}:{encoded[:n]}…{encoded[-n:]}"


def referrers_tag(digest: str) -> str:
    """The referrers fallback tag for a subject digest: ``sha256:<hex>`` → ``sha256-<hex>``."""
    algorithm, encoded = split(digest)
    tag = f"{algorithm[:32]}-{encoded[:64]}"
    return re.sub(_NOT_TAG_CHARACTER, "-", tag)
