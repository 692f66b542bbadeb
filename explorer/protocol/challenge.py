"""WWW-Authenticate challenges, scopes, and the token request and response.

Rule 1: it builds parameter lists, never requests: ``explorer/client/auth.py`` sends them.
Rule 2: never split a challenge on raw commas. A ``scope`` value contains
commas (``repository:a/b:pull,push``) and may hold several scopes separated
by spaces (protocol.md §3.2); values may carry ``\\"`` escapes.
Rule 3: the GET token request has one ``scope`` parameter per scope; the
OAuth2 POST form has ONE ``scope`` field, space-separated (§3.3, §3.4).

Grammar (RFC 9110 §11.6.1, formerly RFC 7235 §4.1; tokens and quoted strings
from RFC 9110 §5.6.2 and §5.6.4)::

    WWW-Authenticate = 1#challenge
    challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    auth-param       = token BWS "=" BWS ( token / quoted-string )
    token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    quoted-string    = DQUOTE *( qdtext / quoted-pair ) DQUOTE
    quoted-pair      = "\\" ( HTAB / SP / VCHAR / obs-text )

Several challenges in one line (``Basic realm="x", Bearer realm="y"``) are
legal: a new one starts where a comma is followed by a token that is not
followed by ``=``. Scheme and parameter names are case-insensitive and are
lower-cased here. Scope grammar: distribution ``docs/spec/auth/scope.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

from explorer.errors import AuthError, MalformedHeader
from explorer.protocol.endpoints import parse_route
from explorer.protocol.quoting import quote
from explorer.protocol.reference import is_repository
from explorer.records import record

__all__ = [
    "Challenge", "Scope", "TokenGrant", "covers", "merge_scopes", "parse_challenges", "parse_scope",
    "parse_token_response", "scopes_for_request", "token_form", "token_query",
]

# token = 1*tchar
# tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
#       / DIGIT / ALPHA
# compiled (and cached) by ``re`` when a first challenge is read: anonymous registries send none
_TOKEN = r"(?a)[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN68 = r"(?a)[A-Za-z0-9\-._~+/]+=*"
_SPACES = r"[ \t]*"
_BARE_VALUE = r'[^\s,"]*'


@record(frozen=True)
class Challenge:
    """One challenge: ``Bearer realm="…",service="…",scope="…"`` (scheme and names lower-cased)."""

    scheme: str
    params: tuple[tuple[str, str], ...]
    token68: str | None = None  # ``Negotiate abc==`` style; registries do not use it

    def param(self, name: str) -> str | None:
        """The first value of parameter ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.params if key == wanted), None)

    @property
    def realm(self) -> str | None:
        """The token service URL (Bearer) or protection space (Basic), exactly as given."""
        return self.param("realm")

    @property
    def service(self) -> str | None:
        return self.param("service")

    @property
    def error(self) -> str | None:
        """``invalid_token`` or ``insufficient_scope`` (RFC 6750 §3.1), when the server says why."""
        return self.param("error")

    @property
    def scopes(self) -> tuple[str, ...]:
        """Every scope named, from all ``scope`` parameters, split on spaces."""
        return tuple(item for key, value in self.params if key == "scope" for item in value.split())


class _Reader:
    """A cursor over one header value."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def match(self, pattern: str) -> str | None:
        """Consume ``pattern`` at the cursor and return it, or None (cursor unmoved)."""
        found = re.compile(pattern).match(self.text, self.pos)
        if found is None:
            return None
        self.pos = found.end()
        return found.group()

    def quoted_string(self) -> str:
        """Read ``"…"`` starting at the opening quote; unescape quoted-pairs."""
        chars: list[str] = []
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(chars)
            if char == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
                char = self.text[self.pos]
            chars.append(char)
            self.pos += 1
        raise MalformedHeader(f"unterminated quoted string in WWW-Authenticate {quote(self.text)}")


def parse_challenges(values: list[str] | str, *, strict: bool = True) -> list[Challenge]:
    """Every challenge in ``WWW-Authenticate`` values; ``strict=False`` (recorded values) gives [] for garbage."""
    lines = [values] if isinstance(values, str) else list(values)
    try:
        return [challenge for line in lines for challenge in _parse_line(line)]
    except MalformedHeader:
        if strict:
            raise
        return []


def _parse_line(text: str) -> list[Challenge]:
    reader = _Reader(text)
    found: list[Challenge] = []
    while True:
        while reader.peek() in (" ", "\t", ","):  # empty list elements are allowed (RFC 9110 §5.6.1)
            reader.pos += 1
        if not reader.peek():
            return found
        scheme = reader.match(_TOKEN)
        if scheme is None or reader.peek() not in ("", " ", "\t", ","):
            raise MalformedHeader(f"WWW-Authenticate must start each challenge with a scheme: {quote(text)}")
        found.append(_parse_rest(reader, scheme.lower(), text))


def _parse_rest(reader: _Reader, scheme: str, text: str) -> Challenge:
    """Parameters after the scheme, up to the end or to the next challenge's scheme."""
    reader.match(_SPACES)
    token68 = re.compile(_TOKEN68).match(reader.text, reader.pos)
    if token68 is not None and token68.group().endswith("="):
        after = re.compile(_SPACES).match(reader.text, token68.end()).end()  # type: ignore[union-attr]
        if after == len(reader.text) or reader.text[after] == ",":
            reader.pos = after
            return Challenge(scheme, (), token68.group())
    params: list[tuple[str, str]] = []
    while True:
        while reader.peek() in (" ", "\t", ","):
            reader.pos += 1
        start = reader.pos
        name = reader.match(_TOKEN)
        if name is None:
            if not reader.peek():
                return Challenge(scheme, tuple(params))
            raise MalformedHeader(
                f"expected a parameter name at position {start} of WWW-Authenticate {quote(text)}"
            )
        reader.match(_SPACES)
        if reader.peek() != "=":  # no "=": this token is the next challenge's scheme
            reader.pos = start
            return Challenge(scheme, tuple(params))
        reader.pos += 1
        reader.match(_SPACES)
        if reader.peek() == '"':
            value = reader.quoted_string()
        else:  # a token; we also take an unquoted URL such as realm=https://h/token
            value = reader.match(_BARE_VALUE) or ""
        params.append((name.lower(), value))
        reader.match(_SPACES)
        if reader.peek() not in ("", ","):
            raise MalformedHeader(
                f"expected ',' after parameter {quote(name)} in WWW-Authenticate {quote(text)}"
            )


# --- scopes (distribution docs/spec/auth/scope.md) ---------------------------------------
# resourcetype := resourcetypevalue [ "(" resourcetypevalue ")" ] ; resourcetypevalue := [a-z0-9]+
_RESOURCE_TYPE = re.compile(r"[a-z0-9]+(?:\([a-z0-9]+\))?", re.ASCII)
# action := [a-z]* in scope.md; we also accept "*" (registry:catalog:*) and the digits, "_", "-"
# and "." other servers use (Azure's metadata_read), since scopes are passed back verbatim.
_ACTION = re.compile(r"\*|[a-zA-Z0-9_.-]+", re.ASCII)


@record(frozen=True)
class Scope:
    """``type:name:actions``, e.g. ``repository:team/app:pull,push`` (actions sorted, deduplicated)."""

    type: str
    name: str
    actions: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "actions", tuple(sorted(set(self.actions))))

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"

    @property
    def resource(self) -> tuple[str, str]:
        """``(type, name)``: what the actions apply to."""
        return self.type, self.name


def parse_scope(text: str) -> Scope:
    """Parse one scope; the type ends at the FIRST ':' and the actions start after the LAST one.

    So ``repository:localhost:5000/x:pull`` names ``localhost:5000/x``. A class
    (``repository(plugin)``) is accepted and kept.
    """
    kind, colon, rest = text.partition(":")
    name, colon2, actions = rest.rpartition(":")
    if not colon or not colon2:
        raise MalformedHeader(
            f"invalid scope {quote(text)}: expected type:name:actions, e.g. repository:team/app:pull"
        )
    if not _RESOURCE_TYPE.fullmatch(kind):
        raise MalformedHeader(f"invalid scope {quote(text)}: the type must be lower-case letters and digits")
    if not name or any(char.isspace() for char in name):
        raise MalformedHeader(f"invalid scope {quote(text)}: the resource name is empty or holds spaces")
    items = [action for action in actions.split(",") if action]
    if not all(_ACTION.fullmatch(action) for action in items):
        raise MalformedHeader(f"invalid scope {quote(text)}: actions are words or *, comma-separated")
    return Scope(kind, name, tuple(items))


def _scope_strings(items: Iterable[str | Scope]) -> list[str]:
    """Scopes as given, one per item: strings split on spaces, Scope objects formatted."""
    return [part for item in items for part in (str(item).split() if isinstance(item, str) else [str(item)])]


def _scopes(items: Iterable[str | Scope]) -> list[Scope]:
    """Scope objects; strings are split on spaces and parsed."""
    found: list[Scope] = []
    for item in items:
        found += [item] if isinstance(item, Scope) else [parse_scope(part) for part in item.split()]
    return found


def merge_scopes(scopes: Iterable[str | Scope]) -> tuple[str, ...]:
    """Merge the actions of each resource: ``[a:pull, a:push, b:pull]`` → ``(a:pull,push, b:pull)``.

    Resources keep the order in which they first appear; strings may hold several space-separated scopes.
    """
    merged: dict[tuple[str, str], set[str]] = {}
    for scope in _scopes(scopes):
        merged.setdefault(scope.resource, set()).update(scope.actions)
    return tuple(str(Scope(kind, name, tuple(actions))) for (kind, name), actions in merged.items())


def covers(granted: Iterable[str | Scope], needed: Iterable[str | Scope]) -> bool:
    """True when every needed action is granted for its resource (``*`` grants everything)."""
    held: dict[tuple[str, str], set[str]] = {}
    for scope in _scopes(granted):
        held.setdefault(scope.resource, set()).update(scope.actions)
    for scope in _scopes(needed):
        have = held.get(scope.resource, set())
        if "*" not in have and not set(scope.actions) <= have:
            return False
    return True


def scopes_for_request(method: str, path: str, query: str = "") -> tuple[str, ...]:
    """The scopes a request needs, by distribution's rules (``registry/handlers/app.go``).

    ``/v2/`` → none; ``/v2/_catalog`` → ``registry:catalog:*``; GET/HEAD → pull;
    POST/PUT/PATCH → pull,push; DELETE → delete; a mount's ``from=`` adds pull
    on the source. ``path`` may also be a full URL with its query.
    """
    parts = urlsplit(path) if "://" in path or "?" in path else None
    if parts is not None:
        path, query = parts.path, query or parts.query
    route = parse_route(path)
    if route is None or route.kind == "base":
        return ()
    if route.kind == "catalog":
        return ("registry:catalog:*",)
    verb = method.strip().upper()
    actions = {"GET": "pull", "HEAD": "pull", "POST": "pull,push", "PUT": "pull,push",
               "PATCH": "pull,push", "DELETE": "delete"}.get(verb)
    if actions is None:
        return ()
    scopes = [f"repository:{route.name}:{actions}"]
    if route.kind == "uploads":
        sources = [value for key, value in parse_qsl(query, keep_blank_values=True) if key == "from"]
        scopes += [f"repository:{source}:pull" for source in sources if is_repository(source)]
    return merge_scopes(scopes)


# --- the token request (protocol.md §3.3, §3.4) ------------------------------------------

def token_query(
    service: str | None,
    scopes: Iterable[str | Scope],
    account: str | None = None,
    *,
    offline_token: bool = False,
    client_id: str | None = None,
) -> list[tuple[str, str]]:
    """Query parameters of ``GET <realm>``: ``service``, one ``scope`` per scope, then ``account``.

    Scope strings are passed on verbatim (split on spaces): the server's own spelling is what it expects.
    """
    params = [("service", service)] if service else []
    params += [("scope", scope) for scope in _scope_strings(scopes)]
    if account:
        params.append(("account", account))
    if offline_token:
        params.append(("offline_token", "true"))
    if client_id:
        params.append(("client_id", client_id))
    return params


def token_form(
    service: str | None,
    scopes: Iterable[str | Scope],
    *,
    client_id: str = "regexplore",
    username: str | None = None,
    password: str | None = None,
    refresh_token: str | None = None,
    offline: bool = False,
) -> list[tuple[str, str]]:
    """Fields of the OAuth2 ``POST <realm>`` form: a refresh_token grant if given, else a password grant."""
    if refresh_token:
        grant = [("grant_type", "refresh_token")]
        credentials = [("refresh_token", refresh_token)]
    elif username is not None and password is not None:
        grant = [("grant_type", "password")]
        credentials = [("username", username), ("password", password)]
    else:
        raise AuthError("the OAuth2 token form needs a refresh token or a username and password")
    fields = grant + ([("service", service)] if service else []) + [("client_id", client_id)]
    if offline:
        fields.append(("access_type", "offline"))
    scope = " ".join(_scope_strings(scopes))
    if scope:
        fields.append(("scope", scope))
    return fields + credentials


@record(frozen=True)
class TokenGrant:
    """A token server's answer (distribution ``docs/spec/auth/token.md``, ``oauth.md``)."""

    token: str
    expires_in: int
    issued_at: str | None
    refresh_token: str | None
    scope: str | None


_MINIMUM_EXPIRY = 60  # seconds: the default, and the floor distribution clamps to
# a token as a header carries it (RFC 6750's b64token is stricter; httpx raises on the rest)
_SENDABLE = re.compile(r"[!-~]+")


def parse_token_response(data: object) -> TokenGrant:
    """Read a token response (decoded JSON, or its bytes/text); AuthError when it holds no token."""
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            raise AuthError("the token server answered with something that is not JSON") from None
    if not isinstance(data, dict):
        raise AuthError("the token server answered with JSON that is not an object")
    document: dict[str, object] = data
    access_token, token = document.get("access_token"), document.get("token")
    chosen = access_token if isinstance(access_token, str) and access_token else token
    if not isinstance(chosen, str) or not chosen:
        raise AuthError("the token server's answer holds neither 'token' nor 'access_token'")
    if not _SENDABLE.fullmatch(chosen):  # the message shows no piece of it
        raise AuthError("the token server's token is not printable ASCII without spaces: it cannot be sent "
                        "in an Authorization header", "the token server is broken or not a registry's")
    expires_in = document.get("expires_in")
    if isinstance(expires_in, str) and expires_in.isascii() and expires_in.isdigit() and len(expires_in) < 10:
        expires_in = int(expires_in)
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or expires_in != expires_in:
        expires_in = _MINIMUM_EXPIRY
    seconds = int(min(max(expires_in, _MINIMUM_EXPIRY), 10**9))

    def text(key: str) -> str | None:
        value = document.get(key)
        return value if isinstance(value, str) and value else None

    refresh = text("refresh_token")  # sent in a form (UTF-8): one that UTF-8 cannot encode (a lone surrogate) is none
    sendable = refresh is not None and refresh.encode("utf-8", "replace").decode("utf-8") == refresh
    return TokenGrant(chosen, seconds, text("issued_at"), refresh if sendable else None, text("scope"))
