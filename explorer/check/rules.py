"""The rules ``regexplore check`` applies to each exchange: the registry's answers, and the client's requests.

Rule 1: pure. Lanes (which host is the registry, the token server, storage) come from
``explorer.annotate``; what is judged comes from the protocol tables the OpenAPI
document is built from too (``conformance``, ``endpoints``, ``errorcodes``, the
header and challenge grammars).
Rule 2: every finding cites the spec version and section its rule comes from, and
says in one line what was expected. Recorded values are untrusted: they only ever
appear shortened, on one line, in ``found``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

from explorer.annotate import AnnotatedExchange
from explorer.annotate.texts import one_line
from explorer.errors import MalformedHeader
from explorer.protocol import challenge, conformance, errorcodes, headers
from explorer.protocol import digest as digests
from explorer.protocol.endpoints import Match, classify

__all__ = ["Finding", "exchange_findings"]

_OCI_CODES = {e.code for e in errorcodes.ERROR_CODES if e.oci_id}
_DOCKER_CODES = {e.code for e in errorcodes.ERROR_CODES if not e.oci_id}
_LISTS = {"end-8a", "end-8b", "end-12a", "end-12b", "catalog"}


@dataclass(frozen=True)
class Finding:
    """One broken rule: ``severity`` is MUST, SHOULD or note; ``exchange`` the exchange's id."""

    severity: str
    exchange: int
    rule: str  # a stable key: "status-allowed", "header-required", …
    section: str  # "v1.1.1 · Pushing a blob in chunks"
    expected: str  # one line: what the spec expects
    found: str = ""  # one line: what the trace shows

    def to_dict(self) -> dict[str, object]:
        return {"severity": self.severity, "exchange": self.exchange, "rule": self.rule,
                "section": self.section, "expected": self.expected, "found": self.found}


def _cite(version: str, section: str) -> str:
    return f"{version} · {section}"


def exchange_findings(item: AnnotatedExchange, context: dict[str, object]) -> Iterator[Finding]:
    """Every finding for one exchange; ``context`` carries what earlier exchanges taught (challenges)."""
    ex = item.exchange
    role = item.participant.id.rstrip("0123456789")
    yield from _client_rules(item, role, context)
    if ex.response is None or role != "Registry":
        return
    match = classify(ex.request.method, ex.request.url)
    if match is None:
        return
    yield from _status_rules(item, match)
    yield from _header_rules(item, match)
    yield from _body_rules(item, match)
    yield from _error_rules(item)
    yield from _challenge_rules(item, context)
    yield from _list_rules(item, match)


def _status_rules(item: AnnotatedExchange, match: Match) -> Iterator[Finding]:
    ex, endpoint = item.exchange, match.endpoint
    status = ex.response.status  # type: ignore[union-attr]
    allowed = conformance.allowed_statuses(endpoint, ex.request.method)
    if status in allowed:
        return
    severity = "note" if status >= 500 else "MUST"
    version = {"oci": "v1.1.1", "oci-main": "main", "docker": "docker"}[endpoint.source]
    yield Finding(severity, ex.id, "status-allowed", _cite(version, f"Endpoints ({endpoint.id})"),
                  f"{endpoint.id} answers {', '.join(str(s) for s in sorted(allowed) if s < 300 or s >= 400)}"
                  f" (or a redirect)", f"{status}")


def _header_rules(item: AnnotatedExchange, match: Match) -> Iterator[Finding]:
    ex = item.exchange
    response = ex.response
    assert response is not None
    for rule in conformance.rules_for(match.endpoint.id, ex.request.method, response.status):
        if response.header(rule.header) is None:
            yield Finding(rule.level, ex.id, "header-required", _cite(rule.version, rule.section), rule.expected,
                          f"no {rule.header}")
    value = response.header("range")
    if value is not None and match.endpoint.id in ("end-4a", "end-4b", "end-4c", "end-5", "end-11", "end-13"):
        try:
            headers.parse_upload_range(value)
        except MalformedHeader:
            yield Finding("MUST", ex.id, "range-grammar", _cite("v1.1.1", "Pushing a blob in chunks"),
                          "Range is 0-<end-of-range>, inclusive", one_line(value, 80))


def _body_rules(item: AnnotatedExchange, match: Match) -> Iterator[Finding]:
    ex = item.exchange
    response = ex.response
    assert response is not None
    body = response.body
    length = response.header("content-length")
    encoded = response.header("content-encoding") not in (None, "", "identity")
    if (length is not None and body is not None and body.complete and ex.request.method != "HEAD"
            and not encoded and response.status not in (204, 304)):
        if not (length.strip().isascii() and length.strip().isdigit()) or int(length) != body.size:
            yield Finding("MUST", ex.id, "content-length", _cite("rfc9110", "§8.6 Content-Length"),
                          "Content-Length equals the size of the body received",
                          f"Content-Length {one_line(length, 40)}, body {body.size} bytes")
    if ex.request.method != "GET" or response.status != 200 or match.endpoint.id not in ("end-2", "end-3"):
        return
    if body is None or not body.complete or encoded:
        return
    actual = f"sha256:{body.sha256}"
    sent = response.header("docker-content-digest")
    section = "Pulling blobs" if match.endpoint.id == "end-2" else "Pulling manifests"
    if sent is not None and sent.strip().startswith("sha256:") and sent.strip() != actual:
        yield Finding("MUST", ex.id, "digest-matches-body", _cite("main", section),
                      "Docker-Content-Digest is the digest of the body", f"{one_line(sent, 80)}, body {actual}")
    wanted = match.reference or ""
    if wanted.startswith("sha256:") and digests.is_valid(wanted) and wanted != actual:
        yield Finding("MUST", ex.id, "body-matches-request", _cite("v1.1.1", section),
                      "the body is the content of the digest requested", f"asked {wanted}, body {actual}")


def _error_rules(item: AnnotatedExchange) -> Iterator[Finding]:
    ex = item.exchange
    response = ex.response
    assert response is not None
    body = response.body
    if response.status < 400 or ex.request.method == "HEAD" or body is None or body.text is None or body.truncated:
        return
    media_type = (body.media_type or response.header("content-type") or "").split(";")[0].strip().lower()
    if "json" not in media_type:
        return
    section = _cite("v1.1.1", "Error Codes")
    try:
        document = json.loads(body.text)
    except (ValueError, RecursionError):
        yield Finding("SHOULD", ex.id, "error-body", section, "a JSON error body is {\"errors\": [...]}",
                      "not JSON")
        return
    entries = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        yield Finding("SHOULD", ex.id, "error-body", section,
                      "a JSON error body is {\"errors\": [{\"code\", \"message\", \"detail\"}]}",
                      one_line(body.text, 80))
        return
    for entry in entries:
        code = entry.get("code")
        if not isinstance(code, str) or code in _OCI_CODES:
            if not isinstance(code, str):
                yield Finding("MUST", ex.id, "error-code", section, "each error has a string code", "no code")
            continue
        if code in _DOCKER_CODES:
            yield Finding("note", ex.id, "error-code", _cite("v1.1.1", "Legacy Docker support error codes"),
                          "an OCI code (code-1 … code-14); clients may meet Docker's own", code)
        else:
            yield Finding("MUST", ex.id, "error-code", section,
                          "code is one of the spec's codes (code-1 … code-14)", one_line(code, 60))
        message = entry.get("message")
        if message is not None and not isinstance(message, str):
            yield Finding("SHOULD", ex.id, "error-body", section, "message is a string", one_line(str(message), 60))


def _challenge_rules(item: AnnotatedExchange, context: dict[str, object]) -> Iterator[Finding]:
    ex = item.exchange
    response = ex.response
    assert response is not None
    values = response.header_list("www-authenticate")
    if response.status != 401 or not values:
        return
    try:
        found = challenge.parse_challenges(values)
    except MalformedHeader:
        yield Finding("MUST", ex.id, "www-authenticate", _cite("rfc9110", "§11.6.1 WWW-Authenticate"),
                      "WWW-Authenticate is a list of challenges (scheme, then auth-params)",
                      one_line(" | ".join(values), 80))
        return
    for ch in found:
        if ch.scheme.lower() == "bearer":
            if not ch.realm:
                yield Finding("MUST", ex.id, "www-authenticate", _cite("docker", "auth/token.md"),
                              "a Bearer challenge names the token server in realm", "no realm")
            elif ch.service:
                context["service"] = ch.service
            if ch.realm:
                context.setdefault("realms", set()).add(ch.realm.split("?")[0])  # type: ignore[union-attr]


def _list_rules(item: AnnotatedExchange, match: Match) -> Iterator[Finding]:
    ex = item.exchange
    response = ex.response
    assert response is not None
    if match.endpoint.id not in _LISTS or response.status != 200:
        return
    section = _cite("v1.1.1", "Listing Tags" if match.endpoint.id.startswith("end-8") else "Listing Referrers"
                    if match.endpoint.id.startswith("end-12") else "Listing Repositories (docker)")
    link = response.header("link")
    if link is not None:
        try:
            links = headers.parse_link(link)
        except MalformedHeader:
            yield Finding("MUST", ex.id, "link", section, "Link follows RFC 5988: <url>; rel=\"next\"",
                          one_line(link, 80))
            return
        if "next" not in links:
            yield Finding("MUST", ex.id, "link", section, "a Link header has the relation type rel=\"next\"",
                          one_line(link, 80))
    query = dict(parse_qsl(urlsplit(ex.request.url).query))
    n = query.get("n", "")
    body = response.body
    if not (n.isascii() and n.isdigit()) or body is None or body.text is None or body.truncated:
        return
    try:
        document = json.loads(body.text)
    except (ValueError, RecursionError):
        return
    entries = document.get("tags" if match.endpoint.id.startswith("end-8") else "repositories") \
        if isinstance(document, dict) else None
    count = len(entries) if isinstance(entries, list) else 0
    if count > int(n):
        yield Finding("MUST", ex.id, "pagination", section, f"at most n={n} results", f"{count} results")
    if int(n) == 0 and link is not None and match.endpoint.id.startswith("end-8"):
        yield Finding("MUST", ex.id, "pagination", section, "n=0 gives an empty list and no Link", "a Link")


def _client_rules(item: AnnotatedExchange, role: str, context: dict[str, object]) -> Iterator[Finding]:
    ex = item.exchange
    request = ex.request
    authorization = request.header("authorization")
    if authorization is not None and role in ("Storage", "Other"):
        yield Finding("MUST", ex.id, "authorization-host", _cite("main", "API (redirects)"),
                      "the client does not forward Authorization across host boundaries",
                      f"Authorization sent to {role.lower()} host {one_line(urlsplit(request.url).netloc, 60)}")
    if role == "Auth":
        query = dict(parse_qsl(urlsplit(request.url).query))
        form = {}
        if request.body is not None and request.body.text and request.method == "POST":
            form = dict(parse_qsl(request.body.text))
        if "service" not in query and "service" not in form:
            severity = "SHOULD" if context.get("service") else "note"
            yield Finding(severity, ex.id, "token-service", _cite("docker", "auth/token.md (Requesting a Token)"),
                          "the token request names the challenge's service", "no service parameter")
    response = ex.response
    if response is None:
        return
    if 300 <= response.status < 400 and role == "Registry":
        match = classify(request.method, request.url)
        location = response.header("location")
        if location and match is not None and match.endpoint.id == "end-2":
            context.setdefault("redirects", {})[urljoin(request.url, location)] = match.reference  # type: ignore[index]
    wanted = (context.get("redirects") or {}).get(request.url)  # type: ignore[union-attr]
    body = response.body
    if (role == "Storage" and wanted and request.method == "GET" and response.status == 200 and body is not None
            and body.complete and str(wanted).startswith("sha256:") and f"sha256:{body.sha256}" != wanted):
        yield Finding("MUST", ex.id, "body-matches-request", _cite("v1.1.1", "Pulling blobs"),
                      "the blob a redirect leads to is the content of the digest requested",
                      f"asked {wanted}, body sha256:{body.sha256}")
