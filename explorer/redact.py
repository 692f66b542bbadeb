"""Secret scrubbing, applied by the recorder BEFORE anything is stored.

Rule 1: pure and stdlib only (no httpx): values in, values out.
Rule 2: redaction keeps the shape and says so: ``Bearer <redacted>``,
``scope=repository:x:pull`` stays, ``X-Amz-Signature=<redacted>``.
Rule 3: query parameters are redacted by ALLOWLIST (as crane does): only the
parameters that teach the protocol stay visible; every other value (signed CDN
URLs, distribution's ``_state``) is replaced. Nothing unknown leaks.

Layers of defence, each applied to every stored string:
1. structural: secret headers, token fields in JSON, password fields in forms,
   user:password in URLs, non-allowlisted query values (also of the URLs,
   absolute or ``/path?query``, inside free text: ``redact_urls``);
2. known secrets: the credentials and every token the auth layer saw are
   registered in a ``Secrets`` set and replaced wherever they appear, in the
   forms a server may echo them (percent-, JSON- and HTML-escaped), and also
   when a shortened message cut one off (``abc…``): the part left goes too.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

__all__ = [
    "PLACEHOLDER",
    "Secrets",
    "redact_argv",
    "redact_header_value",
    "redact_headers",
    "redact_text",
    "redact_url",
    "redact_urls",
]

PLACEHOLDER = "<redacted>"

# headers whose whole value (after the scheme word, for Authorization) is secret
_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-registry-auth",
        "x-auth-token",
        "x-api-key",
        "x-amz-security-token",
    }
)
# headers whose value is (or contains) a URL that may be signed
_URL_HEADERS = frozenset({"location", "content-location", "referer", "link"})

# query parameters that teach the protocol and carry no secret
QUERY_ALLOWLIST = frozenset(
    {
        "scope",
        "service",
        "account",
        "mount",
        "from",
        "digest",
        "digest-algorithm",
        "n",
        "last",
        "artifacttype",
        "tag",
        "ns",
        "client_id",
        "offline_token",
        "x-amz-algorithm",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-signedheaders",
        "expires",
    }
)

# JSON keys whose string values are credentials (token responses, docker config)
_SECRET_JSON_KEYS = (
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "identity_token",
    "identitytoken",
    "password",
    "secret",
    "client_secret",
    "auth",
)
_JSON_SECRET_RE = re.compile(
    r'("(?:' + "|".join(_SECRET_JSON_KEYS) + r')"\s*:\s*")((?:[^"\\]|\\.)*)(")',
    re.IGNORECASE,
)
# form fields (application/x-www-form-urlencoded) that carry credentials
_SECRET_FORM_KEYS = frozenset(
    {"password", "refresh_token", "access_token", "token", "client_secret", "code", "id_token"}
)
# command-line options whose value is a secret
_SECRET_OPTIONS = ("--password", "--pass", "--token", "--identity-token", "--creds", "--dest-creds", "--src-creds")


# where a shortened message or header value was cut ("…" is ours, "..." other servers')
_CUT_MARK = re.compile(r"…|\.\.\.")


class Secrets:
    """A thread-safe set of secret strings to scrub wherever they appear.

    The auth layer registers passwords, identity tokens and every token it is
    issued; the recorder scrubs each stored string with ``scrub``. Encoded forms
    (percent-encoded, JSON- and HTML-escaped, Basic base64 of user:password) are
    registered too. Texts are often shortened before they are scrubbed (a
    registry's error message is cut to one line): a secret's first
    ``MIN_CUT`` or more characters right before a cut mark (``…``, ``...``) are
    replaced as well.
    """

    MIN_LENGTH = 4  # shorter strings would wreck the trace; structural redaction covers them
    MIN_CUT = 8  # what is left of a cut secret must be this long to be recognised (and worth hiding)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._compiled = 0  # how many values the pattern covers
        self._pending: list[str] = []  # added since: checked by substring until the next compile

    def add(self, value: str | None) -> None:
        if not value or len(value) < self.MIN_LENGTH:
            return
        forms = {
            value,
            quote(value, safe=""),
            quote_plus(value),
            json.dumps(value)[1:-1],  # a server echoing it inside a JSON string
            json.dumps(value, ensure_ascii=False)[1:-1],
            html.escape(value),  # ... or on an HTML error page
        }
        with self._lock:
            for form in forms:
                if len(form) >= self.MIN_LENGTH and form not in self._values:
                    self._values.add(form)
                    self._pending.append(form)

    def add_basic(self, username: str, password: str) -> None:
        """Register a password and the Basic credential built from it."""
        self.add(password)
        self.add(base64.b64encode(f"{username}:{password}".encode()).decode("ascii"))

    def __contains__(self, value: object) -> bool:
        with self._lock:
            return value in self._values

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def scrub(self, text: str) -> str:
        if not text:
            return text
        with self._lock:
            if not self._values:
                return text
            # One regex over every value, longest first; values added since it was compiled
            # (a push learns a signed upload URL per blob) are checked by substring, and the
            # regex is compiled again only when one of them occurs or they grew by half:
            # compiling a large alternation per new value made pushes quadratic.
            if (
                self._pattern is None
                or len(self._pending) > max(64, self._compiled // 2)
                or any(value in text for value in self._pending)
            ):
                alternatives = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))
                self._compiled, self._pending = len(alternatives), []
            pattern = self._pattern
            values = list(self._values) if ("…" in text or "..." in text) else []
        out = pattern.sub(PLACEHOLDER, text)
        return _scrub_cut(out, values, self.MIN_CUT) if values else out


def _scrub_cut(text: str, values: list[str], shortest: int) -> str:
    """``text`` with every cut-off secret (its first ``shortest``+ characters right before a cut mark) hidden."""
    pieces: list[str] = []
    done = 0
    for mark in _CUT_MARK.finditer(text):
        start = _cut_secret_start(text, mark.start(), values, shortest)
        if start is not None and start >= done:
            pieces += [text[done:start], PLACEHOLDER]
            done = mark.start()
    return "".join(pieces) + text[done:] if pieces else text


def _cut_secret_start(text: str, end: int, values: list[str], shortest: int) -> int | None:
    """Where the longest secret prefix ending at ``end`` starts, or None."""
    found: int | None = None
    for value in values:
        if len(value) <= shortest:
            continue
        head = value[:shortest]
        at = text.find(head, max(0, end - len(value) + 1), end)
        while at != -1 and at + shortest <= end:
            if value.startswith(text[at:end]):
                found = at if found is None else min(found, at)
                break
            at = text.find(head, at + 1, end)
    return found


def redact_url(url: str, secrets: Secrets | None = None) -> str:
    """Hide the password in ``user:password@`` and every non-allowlisted query value."""
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


def _redact_query(query: str) -> str:
    items = []
    for item in query.split("&"):
        key, sep, _value = item.partition("=")
        if sep and key.lower() not in QUERY_ALLOWLIST:
            items.append(f"{key}={PLACEHOLDER}")
        else:
            items.append(item)
    return "&".join(items)


def redact_header_value(name: str, value: str, secrets: Secrets | None = None) -> str:
    lname = name.lower()
    if lname in ("authorization", "proxy-authorization"):
        scheme, sep, _cred = value.partition(" ")
        out = f"{scheme} {PLACEHOLDER}" if sep else PLACEHOLDER
    elif lname == "cookie":
        out = "; ".join(_redact_cookie_pair(p) for p in value.split(";"))
    elif lname == "set-cookie":
        first, sep, attrs = value.partition(";")
        out = _redact_cookie_pair(first) + (sep + attrs if sep else "")
    elif lname in _SECRET_HEADERS:
        out = PLACEHOLDER
    elif lname == "link":
        out = re.sub(r"<([^>]*)>", lambda m: "<" + redact_url(m.group(1)) + ">", value)
    elif lname in _URL_HEADERS:
        out = redact_url(value)
    else:
        out = value
    return secrets.scrub(out) if secrets else out


def _redact_cookie_pair(pair: str) -> str:
    name, sep, _value = pair.strip().partition("=")
    return f"{name}={PLACEHOLDER}" if sep else name


def redact_headers(headers: Iterable[tuple[str, str]], secrets: Secrets | None = None) -> list[tuple[str, str]]:
    return [(name, redact_header_value(name, value, secrets)) for name, value in headers]


def redact_text(text: str, media_type: str | None = None, secrets: Secrets | None = None) -> str:
    """Scrub a body kept as text: token fields in JSON, credentials in forms, known secrets."""
    out = _JSON_SECRET_RE.sub(lambda m: m.group(1) + PLACEHOLDER + m.group(3), text)
    if media_type and "x-www-form-urlencoded" in media_type.lower():
        out = _redact_form(out)
    return secrets.scrub(out) if secrets else out


def _redact_form(text: str) -> str:
    items = []
    for item in text.split("&"):
        key, sep, _value = item.partition("=")
        if sep and key.lower() in _SECRET_FORM_KEYS:
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
        if name in _SECRET_OPTIONS:
            if eq:
                out.append(f"{name}={PLACEHOLDER}")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(redact_urls(arg, secrets))
    return out
