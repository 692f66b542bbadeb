"""URLs, URLs inside free text, and command lines: passwords and non-allowlisted query values hidden.

Rule: pure. Query parameters are redacted by ALLOWLIST
(``names.QUERY_ALLOWLIST``, as crane does): signed CDN URLs and distribution's
``_state`` lose their values, ``scope``/``service``/``digest``/``n``/``last`` stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

from explorer.recording.redact.names import QUERY_ALLOWLIST, SECRET_OPTIONS
from explorer.recording.redact.secrets import PLACEHOLDER, Secrets

__all__ = ["LEARNED_QUERY_MIN", "hidden_url_values", "redact_argv", "redact_url", "redact_urls"]

LEARNED_QUERY_MIN = 16  # signed query values (X-Amz-Signature, _state, sig) are long; short ones would wreck text


def redact_url(url: str, secrets: Secrets | None = None) -> str:
    """Hide the password in ``user:password@`` and every non-allowlisted query value."""
    if _hides_nothing(url):  # kept as it is, unparsed
        return secrets.scrub(url) if secrets else url
    spliced = _spliced(url)
    if spliced is not None:
        return secrets.scrub(spliced) if secrets else spliced
    try:
        parts = urlsplit(url)
    except ValueError:
        return secrets.scrub(url) if secrets else url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{PLACEHOLDER}@{hostport}" if ":" in userinfo else f"{PLACEHOLDER}@{hostport}"
    query = _redact_query(parts.query) if parts.query else parts.query
    out = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return secrets.scrub(out) if secrets else out


def _spliced(url: str) -> str | None:
    """``redact_url``'s answer without ``urlsplit``, for the URL a client sends (a push's every upload
    URL is a new one): an ``http(s)://host`` URL with a query, no ``@``, nothing ``urlsplit`` would drop or
    change (a tab or line break, an empty query or fragment), is itself with its query redacted. None: parse it.
    A URL ``urlsplit`` refuses (a bad bracket in its host) gets its query redacted all the same."""
    if "@" in url or not url.startswith(("http://", "https://")) or _has_removed_characters(url):
        return None
    if url.partition("://")[2][:1] in ("", "/", "?", "#"):  # no host: urlunsplit writes it otherwise
        return None
    base, hash_mark, fragment = url.partition("#")
    head, _, query = base.partition("?")
    if not query or (hash_mark and not fragment):
        return None
    return f"{head}?{_redact_query(query)}{hash_mark}{fragment}"


def hidden_url_values(url: str) -> list[str]:
    """What ``redact_url`` hides that is long enough to be scrubbed wherever else it turns up.

    Without a ``@`` there is no password, and the query is found as ``urlsplit`` finds it without the
    rest of its parse (a push's every upload URL is a new one: 6.7 -> 1.5 us); such a URL that
    ``urlsplit`` refuses (a hostile Location's bad brackets) teaches its query's values all the same.
    """
    if _hides_nothing(url):
        return []
    if "@" not in url:
        found, query = [], _query(url)
    else:
        try:
            parts = urlsplit(url)
        except ValueError:  # not a URL (a hostile Location): nothing to learn, redaction still applies
            return []
        found, query = [parts.password] if parts.password else [], parts.query
    return found + _hidden_query_values(query) if query else found


def _query(url: str) -> str:
    """``urlsplit(url).query``: tabs and line breaks removed, then what follows the first ``?`` before a ``#``."""
    if _has_removed_characters(url):
        url = url.replace("\t", "").replace("\r", "").replace("\n", "")
    return url.partition("#")[0].partition("?")[2]


def _has_removed_characters(url: str) -> bool:
    """Whether ``url`` holds what ``urlsplit`` removes wherever it is: a tab or a line break."""
    return "\t" in url or "\r" in url or "\n" in url


def _hidden_query_values(query: str) -> list[str]:
    """``[value for key, value in parse_qsl(query) if key is not allowlisted and value is long]``, without
    unquoting the values it keeps out (a push's every upload URL: ``_state`` and ``digest``)."""
    found = []
    for item in query.split("&"):
        key, _, value = item.partition("=")
        if not value:  # parse_qsl drops "k", "k=" and ""
            continue
        key = key.replace("+", " ")
        if unquote(key).lower() in QUERY_ALLOWLIST or len(value) < LEARNED_QUERY_MIN:
            continue  # unquoted, a value is at most as long as it is quoted
        value = unquote(value.replace("+", " "))
        if len(value) >= LEARNED_QUERY_MIN:
            found.append(value)
    return found


# an absolute URL, or a path with a query (``/v2/x/blobs/uploads/u?_state=…``), inside free text
_URL_IN_TEXT = re.compile(r"https?://[^\s'\"<>]+|/[^\s'\"<>?]*\?[^\s'\"<>]+")


# ``user:password@host[:port][/…]`` without a scheme (a pasted reference); not ``name:tag@sha256:…``
_USERINFO_IN_TEXT = re.compile(
    r"([^\s:/@'\"<>]+):[^\s/@'\"<>]+@(?=(?:\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?(?:[/\s'\"<>]|$))")


def redact_urls(text: str, secrets: Secrets | None = None) -> str:
    """Free text (an error message, a log line, an argument) with every URL in it redacted like
    ``redact_url`` (``user:password@host/…`` without a scheme too), then every known secret scrubbed."""
    out = _URL_IN_TEXT.sub(lambda m: redact_url(m.group()), text)
    out = _USERINFO_IN_TEXT.sub(lambda m: f"{m.group(1)}:{PLACEHOLDER}@", out)
    return secrets.scrub(out) if secrets else out


def _hides_nothing(url: str) -> bool:
    """No query and no ``user:password@`` (most URLs): nothing for ``redact_url`` to hide, nothing to parse."""
    return "?" not in url and "@" not in url


def _redact_query(query: str) -> str:
    items = []
    for item in query.split("&"):
        key, sep, _value = item.partition("=")
        if sep and key.lower() not in QUERY_ALLOWLIST:
            items.append(f"{key}={PLACEHOLDER}")
        else:
            items.append(item)
    return "&".join(items)


def redact_argv(argv: Iterable[str], secrets: Secrets | None = None) -> list[str]:
    """A command line with the values of secret options hidden (``--password X``, ``--password=X``)."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(PLACEHOLDER)
            hide_next = False
            continue
        name, eq, _value = arg.partition("=")
        if name in SECRET_OPTIONS:
            if eq:
                out.append(f"{name}={PLACEHOLDER}")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(redact_urls(arg, secrets))
    return out
