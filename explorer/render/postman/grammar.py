"""Before a collection builds a URL from a trace: hosts, repositories, tags and digests follow the grammar.

Rule: pure.

Every request's host must be a host (``host[:port]``, http or https). A collection turns the registry's hosts, repository names, tags and digests into variables
and URLs that newman sends. A value that breaks the distribution grammar (a tag holding
``$(…)``, a digest ``sha256:../../etc``, a host ``{{password}}.example``) is refused at
export time with a one-line error (exit 2), naming the exchange. Free text (steps, errors,
reasons, header values, "Other" hosts' URLs) is not refused: it is made inert instead
(``shapes.inert_*``).
"""

from __future__ import annotations

import re

from explorer.annotate import AnnotatedExchange, AnnotatedTrace
from explorer.annotate.challenges import readable_challenges
from explorer.errors import ExplorerError, UsageError
from explorer.protocol import digest as digests, endpoints, reference, urls
from explorer.protocol.quoting import quote

__all__ = ["check", "registry_realm"]

_HINT = ("the trace holds a value no registry would send: export it only if you trust it, after fixing "
         "the value in the trace file")


def _refuse(a: AnnotatedExchange, what: str) -> UsageError:
    return UsageError(f"cannot export exchange {a.number} ({a.exchange.request.method} "
                      f"{quote(a.exchange.request.url, 60)}): {what}", _HINT)


_HOST_END = re.compile(r"[/?#]")


def _check_host(a: AnnotatedExchange, good: set[str]) -> None:
    """Refuse a URL whose scheme or host breaks the grammar; ``good`` holds the hosts already accepted."""
    scheme, sep, rest = a.exchange.request.url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise _refuse(a, f"the scheme must be http or https, not {quote(scheme)}")
    host = _HOST_END.split(rest, maxsplit=1)[0].rpartition("@")[2]  # as sent: urlsplit drops CR, LF and tabs
    if host in good:
        return
    try:
        if host.strip() != host or not all(" " < ch <= "~" for ch in host):
            raise UsageError(f"invalid host {quote(host)}: a host is printable ASCII, no spaces")
        reference.parse_registry(host)
    except ExplorerError as exc:
        raise _refuse(a, exc.message.replace("invalid registry", "invalid host")) from None
    good.add(host)


def _check_registry_request(a: AnnotatedExchange) -> None:
    parts = urls.split(a.exchange.request.url)
    path = parts.path
    if path in ("/v2", "/v2/"):
        return
    route = endpoints.parse_route(path)
    if route is None:
        raise _refuse(a, "the path is not a registry API path with a valid repository name")
    ref = route.reference or ""
    if route.kind in ("blob", "referrers") and not digests.is_valid(ref):
        raise _refuse(a, f"invalid digest {quote(ref)}: {digests.problem(ref)}")
    if route.kind == "manifest" and not digests.is_valid(ref) and not _is_tag(ref):
        raise _refuse(a, f"invalid tag {quote(ref)}: a tag may only hold A-Z a-z 0-9 _ . - (128 at most)")
    for key, value in urls.query_pairs(a.exchange.request.url):
        if key in ("digest", "mount") and not digests.is_valid(value):
            raise _refuse(a, f"invalid digest {quote(value)} in ?{key}=: {digests.problem(value)}")
        if key == "from" and not reference.is_repository(value):
            raise _refuse(a, f"invalid repository name {quote(value)} in ?from=")


def _is_tag(value: str) -> bool:
    try:
        reference.validate_tag(value)
    except ExplorerError:
        return False
    return True


def check(annotated: AnnotatedTrace) -> None:
    """Refuse (UsageError, exit 2) a trace with a host, or a registry request, that breaks the protocol grammar."""
    good: set[str] = set()
    for a in annotated.exchanges:
        _check_host(a, good)
        if a.participant.role.startswith("Registry"):
            _check_registry_request(a)


def registry_realm(annotated: AnnotatedTrace) -> str | None:
    """The token server the first registry's own Bearer challenge names (without query), or None.

    Only this realm may receive credentials: a challenge from a storage host or another
    server names a realm of its choosing. A malformed challenge (a hostile registry's)
    names none: the export goes on, and no realm gets credentials from it.
    """
    for a in annotated.exchanges:
        resp = a.exchange.response
        if resp is None or a.participant.role != "Registry":
            continue
        for ch in readable_challenges(resp.header_list("www-authenticate")):  # a malformed one names no realm
            if ch.scheme.lower() == "bearer" and ch.realm:
                return ch.realm.split("?")[0]
    return None
