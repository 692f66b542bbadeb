"""A URL's parts, worked out once per URL: reading a trace asks about each request's URL many times.

Rule: pure, stdlib only. Every function is ``urllib.parse`` (same results, same errors), remembered
per URL string: strings are immutable and the results are immutable (tuples, strings), so a
remembered answer is always right. ``urlsplit``'s own cache holds 128 URLs, too few for a
trace of thousands that annotation and every renderer walk again and again.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, urljoin, urlsplit

__all__ = ["join", "netloc", "query_pairs", "split"]

_SIZE = 1 << 14  # URLs remembered: those of a 5,000-exchange trace (its registry and storage URLs) fit


@lru_cache(maxsize=_SIZE)
def split(url: str) -> SplitResult:
    """``urlsplit(url)``."""
    return urlsplit(url)


@lru_cache(maxsize=_SIZE)
def query_pairs(url: str) -> tuple[tuple[str, str], ...]:
    """``parse_qsl`` of the URL's query, blank values kept."""
    return tuple(parse_qsl(split(url).query, keep_blank_values=True))


@lru_cache(maxsize=_SIZE)
def netloc(url: str) -> str:
    """The URL's host[:port], lower-case, without any ``user:password@``."""
    return split(url).netloc.lower().rpartition("@")[2]


@lru_cache(maxsize=_SIZE)
def join(base: str, ref: str) -> str:
    """``urljoin(base, ref)``: where a ``Location`` points."""
    return urljoin(base, ref)
