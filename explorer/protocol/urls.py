"""A URL's parts, worked out once per URL: reading a trace asks about each request's URL many times.

Rule: pure, stdlib only. Every function is ``urllib.parse`` (same results, same errors), remembered
per URL string: strings are immutable and the results are immutable (tuples, strings), so a
remembered answer is always right. ``urlsplit``'s own cache holds 128 URLs, too few for a
trace of thousands that annotation and every renderer walk again and again.

The URLs of a trace are nearly all of one form, ``http[s]://host[:port]/path[?query][#fragment]``
with an ASCII host: for those, :func:`split` and :func:`join` take the parts with one regular
expression (the first parse of each URL was a third of annotating a 5,000-exchange trace), and
leave every other URL to ``urllib.parse``. They give exactly what ``urlsplit`` and ``urljoin``
give (``tests/protocol/test_urls.py`` compares them on generated and hostile URLs): the form
excludes everything ``urlsplit`` treats specially (a tab, CR or LF it deletes, leading blanks it
strips, an upper-case scheme it lowers, brackets of an IPv6 host it checks, a non-ASCII host it
normalises).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, urljoin, urlsplit

__all__ = ["join", "netloc", "query_pairs", "query_params", "split"]

_SIZE = 1 << 14  # URLs remembered: those of a 5,000-exchange trace (its registry and storage URLs) fit

# scheme, host (up to the first / ? #), path (up to ? #), query (up to #), fragment; no tab, CR, LF anywhere
_PLAIN = re.compile(r"(https?)://([^/?#\t\r\n\[\]]*)((?:/[^?#\t\r\n]*)?)(?:\?([^#\t\r\n]*))?(?:#([^\t\r\n]*))?")


@lru_cache(maxsize=_SIZE)
def split(url: str) -> SplitResult:
    """``urlsplit(url)``."""
    plain = _PLAIN.fullmatch(url) if type(url) is str else None
    if plain is None or not plain[2].isascii():
        return urlsplit(url)
    scheme, host, path, query, fragment = plain.groups()
    return SplitResult(scheme, host, path, query or "", fragment or "")


@lru_cache(maxsize=_SIZE)
def query_pairs(url: str) -> tuple[tuple[str, str], ...]:
    """``parse_qsl`` of the URL's query, blank values kept."""
    query = split(url).query
    return tuple(parse_qsl(query, keep_blank_values=True)) if query else ()


@lru_cache(maxsize=_SIZE)
def query_params(url: str) -> dict[str, tuple[str, ...]]:
    """The URL's query values by name, in order (``parse_qsl``, blank values kept).

    Remembered like the rest, so the dict is shared: read it, never change it.
    """
    found: dict[str, list[str]] = {}
    for key, value in query_pairs(url):
        found.setdefault(key, []).append(value)
    return {key: tuple(values) for key, values in found.items()}


@lru_cache(maxsize=_SIZE)
def netloc(url: str) -> str:
    """The URL's host[:port], lower-case, without any ``user:password@``."""
    return split(url).netloc.lower().rpartition("@")[2]


@lru_cache(maxsize=_SIZE)
def join(base: str, ref: str) -> str:
    """``urljoin(base, ref)``: where a ``Location`` points.

    A ``ref`` of the plain form with a host (a redirect to storage) is the answer itself, put
    back together as ``urljoin`` does (an empty ``?`` or ``#`` dropped); a ``;`` in its path
    (``urljoin`` splits parameters off the last segment) and any relative ``ref`` go to ``urljoin``.
    """
    if not base or not ref or type(base) is not str or type(ref) is not str or not _PLAIN.fullmatch(ref):
        return urljoin(base, ref)
    base_scheme = split(base).scheme  # first, as urljoin: a base it cannot parse raises its error
    scheme, host, path, query, fragment = split(ref)
    if not host or ";" in path:
        return urljoin(base, ref)
    if scheme != base_scheme:
        return ref  # another scheme: urljoin answers the reference as it is
    return f"{scheme}://{host}{path}" + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
