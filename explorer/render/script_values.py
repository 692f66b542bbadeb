"""The values an exported script is built from: checked against the protocol grammar first.

Rule: every recorded value is untrusted (a shared trace, a hostile registry). Before a
script builds a URL or a file path from a registry, repository, tag or digest, that value
must follow the protocol's grammar (``protocol/reference.py``, ``protocol/digest.py``);
a value that does not is refused at export time with ONE line (:class:`UnsafeTraceValue`,
exit 2). Header values a script sends (``Accept``, ``Content-Type``) must be printable ASCII.
Free text (``created``, step labels, the title) only ever lands in comments, made one
printable line by :func:`comment`.
"""

from __future__ import annotations

import json
import re
import unicodedata

from explorer.errors import UsageError
from explorer.protocol import digest as digests, mediatypes, reference, urls
from explorer.protocol.quoting import quote

__all__ = ["UnsafeTraceValue", "comment", "digest", "header_value", "json_object", "platform", "query", "registry_url",
           "repository", "request_url", "tag", "tag_or_digest"]


class UnsafeTraceValue(UsageError):
    """A trace value a script would build a URL or a path from, outside the protocol's grammar."""


def _refuse(what: str, value: str, rule: str) -> UnsafeTraceValue:
    return UnsafeTraceValue(f"cannot export a script: the trace's {what} {quote(value)} is not valid ({rule}); "
                            "a script builds URLs and file names from it")


def registry_url(url: str) -> str:
    """``http(s)://host[:port]`` with a host of the reference grammar, else refused."""
    parts = urls.split(url) if _URL.fullmatch(url) else None
    if parts is None or parts.scheme not in ("http", "https") or parts.path or parts.query or parts.fragment:
        raise _refuse("registry", url, "a registry is http(s)://host[:port]")
    host = parts.netloc
    try:
        reference.parse_registry(host)
    except UsageError:
        raise _refuse("registry host", host, "a DNS name, IPv4 or [IPv6] with an optional :port") from None
    return url


def request_url(url: str) -> str:
    """A recorded request URL: printable ASCII without spaces (a real client percent-encodes the rest)."""
    if not _URL.fullmatch(url):
        raise _refuse("request URL", url, "printable ASCII, percent-encoded")
    return url


def repository(name: str) -> str:
    if not reference.is_repository(name):
        raise _refuse("repository", name, "lower-case path components joined by / . _ -")
    return name


def tag(value: str) -> str:
    try:
        return reference.validate_tag(value)
    except UsageError:
        raise _refuse("tag", value, "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}") from None


def digest(value: str) -> str:
    """A digest a script may name a file after: the OCI grammar, and sha256/sha512 only."""
    if not digests.is_valid(value) or value.partition(":")[0] not in ("sha256", "sha512"):
        raise _refuse("digest", value, "sha256:<64 hex> or sha512:<128 hex>")
    return value


def tag_or_digest(value: str) -> str:
    return digest(value) if ":" in value else tag(value)


def platform(value: str) -> mediatypes.Platform:
    try:
        return mediatypes.parse_platform(value)
    except UsageError:
        raise _refuse("platform", value, "os/arch[/variant]") from None


def json_object(text: str | None) -> dict | None:
    """A recorded manifest's JSON object, or None (not JSON, not an object)."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


_QUERY = re.compile(r"[A-Za-z0-9._~%=&+:-]*", re.ASCII)


def query(value: str) -> str:
    """A query string sent again as recorded (``n=10&last=a``): URL characters only."""
    if not _QUERY.fullmatch(value):
        raise _refuse("query string", value, "URL-encoded key=value pairs")
    return value


_HEADER = re.compile(r"[\x20-\x7e]*", re.ASCII)


def header_value(name: str, value: str) -> str:
    if not _HEADER.fullmatch(value):
        raise _refuse(f"{name} header", value, "printable ASCII")
    return value


_URL = re.compile(r"[\x21-\x7e]+", re.ASCII)


def comment(text: object) -> str:
    """``text`` as one printable line for a ``#`` comment or a docstring: no line breaks, no controls.

    Python docstrings also need ``\\`` and ``"`` neutralised: both become look-alikes that end nothing.
    """
    out = []
    for char in str(text):
        if char in "\\\"":
            out.append({"\\": "/", '"': "'"}[char])
        elif char.isprintable() and unicodedata.category(char) not in ("Zl", "Zp", "Cf"):
            out.append(char)
        else:
            out.append(" ")
    return "".join(out)
