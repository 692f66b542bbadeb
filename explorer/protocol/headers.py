"""The small header grammars: Link, upload Range, Content-Range, Content-Length, Retry-After, Location.

Rule 1: no clock (``parse_retry_after`` takes ``now``).
Rule 2: parsers raise ``MalformedHeader`` on garbage and never any other
exception; the exceptions are Retry-After and Content-Length, which are advisory
(the body's own end decides its length), so garbage there is ``None``.
Rule 3: numbers are ASCII digits only (Python's ``\\d`` and ``int()`` accept
other scripts' digits) and at most 19 of them.

Sources:
- Link: RFC 8288 §3 ``Link = #link-value``; ``link-value = "<" URI-Reference ">"
  *( OWS ";" OWS link-param )``; ``link-param = token BWS [ "=" BWS ( token /
  quoted-string ) ]``; ``rel`` may list several space-separated relation
  types, compared case-insensitively. Used by end-8b, end-12a/b and catalog.
- Upload ``Range`` (response to end-4a/5/13): ``0-<last offset>``, inclusive,
  no ``bytes=`` in the OCI spec and distribution's code; Docker's overview text
  shows ``bytes=0-<offset>``, so both are read (protocol.md §2).
- Upload ``Content-Range`` (request, end-5/end-6): ``<start>-<end>``, inclusive,
  matching ``^[0-9]+-[0-9]+$``.
- Blob ``Content-Range`` (206 to end-2): RFC 9110 §14.4 ``bytes <first>-<last>/<complete-length or *>``.
- ``Content-Length``: RFC 9110 §8.6, ``1*DIGIT``.
- ``Retry-After``: RFC 9110 §10.2.3, ``HTTP-date / delay-seconds``.
- ``Location``: RFC 9110 §10.2.2, a URI reference resolved against the request URL.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote as url_quote
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from explorer.errors import MalformedHeader
from explorer.protocol.quoting import quote

__all__ = [
    "add_query",
    "format_content_range",
    "parse_content_length",
    "parse_content_range",
    "parse_link",
    "parse_retry_after",
    "parse_upload_range",
    "resolve_location",
]

# Patterns are compiled (and cached) by ``re`` on first use: a pull meets none of these headers.
_NUMBER = r"[0-9]{1,19}"
_UPLOAD_RANGE = rf"(?ai)(?:bytes=)?({_NUMBER})-({_NUMBER})"
_CONTENT_RANGE = rf"(?ai)bytes[ \t]+({_NUMBER})-({_NUMBER})/({_NUMBER}|\*)"
_DELAY_SECONDS = rf"(?a)-?{_NUMBER}"
_CONTENT_LENGTH = rf"(?a){_NUMBER}"

# Link grammar pieces.
_LINK_TARGET = r"[ \t]*<([^>]*)>"
_TOKEN = r"(?a)[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'(?s)"((?:[^"\\]|\\.)*)"'
_SPACES = r"[ \t]*"


def parse_link(value: str) -> dict[str, str]:
    """``<url>; rel="next", <url2>; rel=prev`` → ``{"next": "url", "prev": "url2"}``.

    Relation types are lower-cased; the first link for a relation wins; links without ``rel`` are skipped.
    """
    links: dict[str, str] = {}
    pos = 0
    while True:
        pos = _skip(value, pos, " \t,")
        if pos == len(value):
            return links
        target = re.compile(_LINK_TARGET).match(value, pos)
        if target is None:
            raise MalformedHeader(f"Link must be <url>; rel=\"…\": {quote(value)}")
        url, pos = target.group(1).strip(), target.end()
        relations: list[str] = []
        while True:
            pos = re.compile(_SPACES).match(value, pos).end()  # type: ignore[union-attr]
            if pos == len(value) or value[pos] == ",":
                break
            if value[pos] != ";":
                raise MalformedHeader(f"expected ';' or ',' after a link in Link {quote(value)}")
            name, param, pos = _link_param(value, pos + 1)
            if name == "rel" and param is not None and not relations:  # only the first rel counts
                relations = param.lower().split()
        for relation in relations:
            links.setdefault(relation, url)


def _link_param(value: str, pos: int) -> tuple[str, str | None, int]:
    """``name [= token / quoted-string]`` at ``pos`` → (lower-case name, value or None, new pos)."""
    pos = re.compile(_SPACES).match(value, pos).end()  # type: ignore[union-attr]
    name = re.compile(_TOKEN).match(value, pos)
    if name is None:
        raise MalformedHeader(f"expected a parameter name in Link {quote(value)}")
    pos = re.compile(_SPACES).match(value, name.end()).end()  # type: ignore[union-attr]
    if pos == len(value) or value[pos] != "=":
        return name.group().lower(), None, pos
    pos = re.compile(_SPACES).match(value, pos + 1).end()  # type: ignore[union-attr]
    quoted = re.compile(_QUOTED).match(value, pos)
    if quoted is not None:
        return name.group().lower(), re.sub(r"\\(.)", r"\1", quoted.group(1), flags=re.DOTALL), quoted.end()
    token = re.compile(_TOKEN).match(value, pos)
    if token is None:
        raise MalformedHeader(f"expected a value for {quote(name.group())} in Link {quote(value)}")
    return name.group().lower(), token.group(), token.end()


def _skip(value: str, pos: int, chars: str) -> int:
    while pos < len(value) and value[pos] in chars:
        pos += 1
    return pos


def parse_upload_range(value: str) -> tuple[int, int]:
    """An upload session's ``Range``: ``0-1023`` or ``bytes=0-1023`` → ``(0, 1023)``, end inclusive.

    Note ``0-0`` is ambiguous in the protocol: "nothing yet" on a fresh session,
    "one byte" later (protocol.md §4.3); callers keep their own offset.
    """
    found = re.fullmatch(_UPLOAD_RANGE, value.strip(" \t"))
    if found is None:
        raise MalformedHeader(f"upload Range must be <start>-<end>, e.g. 0-1023: {quote(value)}")
    start, end = int(found.group(1)), int(found.group(2))
    if end < start:
        raise MalformedHeader(f"upload Range ends before it starts: {quote(value)}")
    return start, end


def format_content_range(start: int, end: int) -> str:
    """The ``Content-Range`` of an upload PATCH: ``0-1023`` (inclusive end, no ``bytes `` prefix)."""
    if start < 0 or end < start:
        raise ValueError(f"invalid chunk range {start}-{end}")
    return f"{start}-{end}"


def parse_content_range(value: str) -> tuple[int, int, int | None]:
    """A 206's ``Content-Range``: ``bytes 0-9/100`` → ``(0, 9, 100)``; ``/*`` gives a None size.

    ``bytes */100`` (the 416 form, no range) is refused: it is not a partial body.
    """
    found = re.fullmatch(_CONTENT_RANGE, value.strip(" \t"))
    if found is None:
        raise MalformedHeader(f"Content-Range must be bytes <first>-<last>/<size or *>: {quote(value)}")
    first, last = int(found.group(1)), int(found.group(2))
    size = None if found.group(3) == "*" else int(found.group(3))
    if last < first or (size is not None and last >= size):
        raise MalformedHeader(f"Content-Range is not a range inside the content: {quote(value)}")
    return first, last, size


def parse_content_length(value: str | None) -> int | None:
    """A ``Content-Length``: ``1024`` → 1024; None when absent or not ASCII digits (at most 19 of them)."""
    if value is None:
        return None
    found = re.fullmatch(_CONTENT_LENGTH, value.strip(" \t"))
    return int(found.group()) if found is not None else None


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait from ``now``: delay-seconds or an HTTP-date; past/negative → 0; garbage → None."""
    text = value.strip()
    if re.fullmatch(_DELAY_SECONDS, text):
        return float(max(int(text), 0))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # older Pythons returned None for garbage
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no claim about local time
        when = when.replace(tzinfo=timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    try:
        return max((when - now).total_seconds(), 0.0)
    except OverflowError:
        return None


def resolve_location(base_url: str, location: str) -> str:
    """Resolve a ``Location`` (relative or absolute) against the request URL, keeping its query."""
    target = location.strip()
    if not target:
        raise MalformedHeader("empty Location header")
    try:
        return urljoin(base_url, target)
    except ValueError:
        raise MalformedHeader(f"Location is not a URL: {quote(location)}") from None


def add_query(url: str, params: list[tuple[str, str]]) -> str:
    """Append ``params`` to ``url``'s query with ``&``, keeping what is there (distribution's ``_state=``).

    Values are percent-encoded, leaving ``:`` and ``/`` readable (``digest=sha256:…``, ``from=team/app``).
    """
    if not params:
        return url
    scheme, netloc, path, query, fragment = urlsplit(url)
    extra = urlencode(params, safe=":/", quote_via=url_quote)
    return urlunsplit((scheme, netloc, path, f"{query}&{extra}" if query else extra, fragment))
