"""Header values: request headers by allowlist, response headers by name and shape, cookies field by field.

Rule: pure. Names always stay (they teach); values go:
- request headers: only those on ``HARMLESS_REQUEST_HEADERS`` keep their value
  (``Private-Token``, ``X-JFrog-Art-Api``, any unknown header: ``<redacted>``);
- response headers: those on ``HARMLESS_RESPONSE_HEADERS`` stay; an unknown one is
  redacted when its name contains a secret word (``X-Upstream-Token``) or its value
  looks like a credential (``shapes.py``);
- both: ``Authorization`` keeps its scheme word, cookies keep their names and
  ``Set-Cookie`` attributes, URL headers keep everything but secret query values,
  and a JWT anywhere in a kept value is replaced.
``hidden_header_values`` gives what was hidden, for scrubbing it wherever else it turns up.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

from explorer.recording.redact import shapes
from explorer.recording.redact.names import (
    COOKIE_ATTRIBUTES,
    HARMLESS_REQUEST_HEADERS,
    HARMLESS_RESPONSE_HEADERS,
    SCHEME_HEADERS,
    URL_HEADERS,
    secret_name,
)
from explorer.recording.redact.secrets import PLACEHOLDER, Secrets
from explorer.recording.redact.urls import hidden_url_values, redact_url

__all__ = [
    "LEARNED_VALUE_MIN", "hidden_header_values", "redact_header_value", "redact_request_headers",
    "redact_response_headers",
]

LEARNED_VALUE_MIN = 8  # a hidden value shorter than this is not scrubbed elsewhere (it would wreck text)
_COOKIE_SPLIT = re.compile(r"([;,])")


def redact_header_value(name: str, value: str, secrets: Secrets | None = None, *, request: bool) -> str:
    """``value`` of header ``name`` as stored: redacted by the request or the response rules."""
    lname = name.lower()
    if lname in SCHEME_HEADERS:
        scheme, sep, _cred = value.partition(" ")
        out = f"{scheme} {PLACEHOLDER}" if sep else PLACEHOLDER
    elif lname in ("cookie", "set-cookie"):
        out = _redact_cookies(value, set_cookie=lname == "set-cookie")
    elif lname == "link":
        out = re.sub(r"<([^>]*)>", lambda m: "<" + redact_url(m.group(1)) + ">", value)
    elif lname in URL_HEADERS:
        out = redact_url(value)
    elif not value.strip() or lname in (HARMLESS_REQUEST_HEADERS if request else HARMLESS_RESPONSE_HEADERS):
        out = value
    elif request or secret_name(lname) or shapes.looks_like_credential(value):
        out = PLACEHOLDER
    else:
        out = value
    out = shapes.scrub_jwts(out, PLACEHOLDER)
    return secrets.scrub(out) if secrets else out


def redact_request_headers(headers: Iterable[tuple[str, str]], secrets: Secrets | None = None) -> list[tuple[str, str]]:
    return [(name, redact_header_value(name, value, secrets, request=True)) for name, value in headers]


def redact_response_headers(
    headers: Iterable[tuple[str, str]], secrets: Secrets | None = None
) -> list[tuple[str, str]]:
    return [(name, redact_header_value(name, value, secrets, request=False)) for name, value in headers]


def _cookie_pairs(value: str, set_cookie: bool) -> list[tuple[str, str, bool]]:
    """(text, separator after it, is a cookie value to hide) for each piece of a cookie header.

    ``Cookie``: every piece is a cookie (a piece without ``=`` is a nameless cookie's value).
    ``Set-Cookie``: the first piece, and any ``name=value`` after a ``,`` (folded headers) or
    after a ``;`` that is not an attribute (``Path``, ``Expires``, …), is a cookie; the date
    of ``Expires=Wed, 21 Oct …`` is not.
    """
    parts = _COOKIE_SPLIT.split(value)
    pieces, seps = parts[0::2], parts[1::2] + [""]
    out = []
    in_date = False
    for i, (piece, sep) in enumerate(zip(pieces, seps)):
        key, eq, _ = piece.strip().partition("=")
        before = seps[i - 1] if i else ""
        if not set_cookie:
            hide = bool(piece.strip())
        elif not eq:
            hide = i == 0 or (before == "," and not in_date and bool(piece.strip()))
        else:
            hide = key.lower() not in COOKIE_ATTRIBUTES
        in_date = (eq and key.lower() == "expires") or (in_date and not eq and before == ",")
        out.append((piece, sep, hide))
    return out


def _redact_cookies(value: str, *, set_cookie: bool) -> str:
    out = []
    for piece, sep, hide in _cookie_pairs(value, set_cookie):
        if hide:
            key, eq, rest = piece.partition("=")
            lead = piece[: len(piece) - len(piece.lstrip())]
            piece = f"{key}={PLACEHOLDER}" if eq and rest.strip() else (key if eq else f"{lead}{PLACEHOLDER}")
        out.append(piece + sep)
    return "".join(out)


def hidden_header_values(name: str, value: str, *, request: bool) -> list[str]:
    """The values ``redact_header_value`` hides that are worth scrubbing from every other string.

    The credential of ``Authorization`` (and the password inside a Basic one), cookie values,
    signed query values of URL headers, and whole values hidden because their header's name is
    secret, they look like a credential or they are an unknown request header's (a server may
    echo a request's headers in an error body). Short values (under ``LEARNED_VALUE_MIN``) are
    left out, except credentials.
    """
    lname = name.lower()
    if lname.startswith(":"):  # HTTP/2 pseudo-headers repeat the request line (host, path): nothing to learn
        return []
    if lname in SCHEME_HEADERS:
        scheme, _, credential = value.strip().partition(" ")
        credential = credential.strip() or scheme
        found = [credential]
        if scheme.lower() == "basic":
            try:
                found.append(base64.b64decode(credential, validate=True).decode("utf-8").partition(":")[2])
            except (binascii.Error, UnicodeDecodeError, ValueError):
                pass
        return [v for v in found if v]
    if lname in ("cookie", "set-cookie"):
        found = [piece.partition("=")[2].strip() if "=" in piece else piece.strip()
                 for piece, _sep, hide in _cookie_pairs(value, lname == "set-cookie") if hide]
        return [v for v in found if len(v) >= LEARNED_VALUE_MIN]
    if lname == "link":
        return [v for url in re.findall(r"<([^>]*)>", value) for v in hidden_url_values(url)]
    if lname in URL_HEADERS:
        return hidden_url_values(value)
    if lname in (HARMLESS_REQUEST_HEADERS if request else HARMLESS_RESPONSE_HEADERS):
        return []
    v = value.strip()
    hidden = request or secret_name(lname) or shapes.looks_like_credential(v)
    return [v] if hidden and len(v) >= LEARNED_VALUE_MIN else []
