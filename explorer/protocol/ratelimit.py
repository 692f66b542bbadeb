"""Docker Hub's pull rate-limit headers: what each answer says, and what is left at the end.

Rule: values are untrusted: a quota is read only when it is
ASCII digits (``100;w=21600``); anything else is shown as given, shortened.
Source: docker/docs ``content/manuals/docker-hub/usage/pulls.md`` (protocol.md §7.3):
``ratelimit-limit: 100;w=21600``, ``ratelimit-remaining: 76;w=21600``,
``docker-ratelimit-source: <ip or account id>``, on manifest GET/HEAD answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["HEADERS", "RateLimit", "last_rate_limit", "rate_limit"]

HEADERS = ("ratelimit-limit", "ratelimit-remaining", "docker-ratelimit-source")
_QUOTA = re.compile(r"([0-9]{1,12})(?:;w=([0-9]{1,12}))?", re.ASCII)


def _clean(value: str, limit: int = 60) -> str:
    flat = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _quota(value: str | None) -> tuple[int, int | None] | None:
    found = _QUOTA.fullmatch((value or "").strip())
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2)) if found.group(2) else None


@dataclass(frozen=True)
class RateLimit:
    """The rate-limit headers of one answer, as sent (any may be missing)."""

    limit: str | None
    remaining: str | None
    source: str | None

    def line(self) -> str:
        """``76 of 100 pulls left (window 21600 s), counted against 203.0.113.7``."""
        limit, remaining = _quota(self.limit), _quota(self.remaining)
        if limit and remaining:
            window = remaining[1] or limit[1]
            text = f"{remaining[0]} of {limit[0]} pulls left" + (f" (window {window} s)" if window else "")
        else:
            parts = [f"limit {_clean(self.limit)}" if self.limit else "", f"remaining {_clean(self.remaining)}"
                     if self.remaining else ""]
            text = ", ".join(p for p in parts if p) or "rate limited"
        return text + (f", counted against {_clean(self.source)}" if self.source else "")


def rate_limit(headers: Iterable[Sequence[str]]) -> RateLimit | None:
    """The rate-limit headers among ``[(name, value), …]``, or None when there are none."""
    found = {name.lower(): value for name, value in headers if name.lower() in HEADERS}
    if not found:
        return None
    return RateLimit(found.get("ratelimit-limit"), found.get("ratelimit-remaining"),
                     found.get("docker-ratelimit-source"))


def last_rate_limit(answers: Iterable[Iterable[Sequence[str]]]) -> RateLimit | None:
    """What the last answer that carried the headers said: what is left at the end of a trace."""
    last = None
    for headers in answers:
        last = rate_limit(headers) or last
    return last
