"""Which upstream URL a proxy path reaches, and how upstream URLs are shown to the client.

Rule 1: pure: URLs in, URLs out.
Rule 2: the client sees one origin, the proxy's. Paths under ``/v2/`` go to the
upstream registry; every other origin the registry sends the client to (the
``realm`` of its challenge, a 307 to storage, an absolute upload ``Location``, a
``Link`` page) gets a route of its own, ``/_upstream/<n>/<path>``, numbered in
the order the proxy first saw it.
Rule 3: each origin has a role, and only ``registry`` and ``realm`` may receive
the client's credentials (DESIGN.md: credentials are bound to the registry and
to the realm that the registry's own challenge names). A realm named by any
other host's challenge is ``other``.
"""

from __future__ import annotations

import re
import threading
from typing import Literal
from urllib.parse import urljoin, urlsplit

__all__ = ["PREFIX", "Role", "Routes", "origin_of"]

PREFIX = "/_upstream/"
Role = Literal["registry", "realm", "storage", "other"]
CREDENTIAL_ROLES: frozenset[str] = frozenset({"registry", "realm"})
_REALM = re.compile(r'(realm\s*=\s*")([^"]*)(")', re.IGNORECASE)
_LINK_TARGET = re.compile(r"<([^>]*)>")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL, lower-cased, default ports dropped."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def _path_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class Routes:
    """The proxy's map from its own paths to upstream origins. Thread-safe."""

    def __init__(self, upstream: str, public: str) -> None:
        self.upstream = origin_of(upstream)
        self.public = public.rstrip("/")
        self._origins: list[str] = []
        self._roles: dict[str, Role] = {self.upstream: "registry"}
        self._lock = threading.Lock()

    # --- client → upstream ----------------------------------------------------------
    def to_upstream(self, raw_target: str) -> tuple[str, Role]:
        """The upstream URL and role for the request target the client sent (``/v2/…`` or a route)."""
        if raw_target.startswith(PREFIX):
            number, _, rest = raw_target[len(PREFIX):].partition("/")
            with self._lock:
                if number.isdigit() and 1 <= int(number) <= len(self._origins):
                    origin = self._origins[int(number) - 1]
                    return origin + "/" + rest, self._roles[origin]
            raise LookupError(f"unknown proxy route {PREFIX}{number}/")
        return self.upstream + (raw_target if raw_target.startswith("/") else "/" + raw_target), "registry"

    def role(self, url: str) -> Role:
        with self._lock:
            return self._roles.get(origin_of(url), "other")

    # --- upstream → client ----------------------------------------------------------
    def to_client(self, url: str, base: str, role: Role) -> str:
        """``url`` (absolute, or relative to the upstream request ``base``) as a URL of the proxy.

        A relative URL that stays on the registry is left relative, as the registry sent it.
        """
        absolute = urljoin(base, url)
        origin = origin_of(absolute)
        if origin == self.upstream:
            return url if not urlsplit(url).scheme and url.startswith("/") else self.public + _path_query(absolute)
        return f"{self.public}{PREFIX}{self._number(origin, role)}{_path_query(absolute)}"

    def location(self, value: str, base: str, status: int, from_role: Role) -> str:
        """A ``Location`` header: a 3xx from the registry points at storage, anything else stays ``other``."""
        role: Role = "storage" if 300 <= status < 400 and from_role == "registry" else "other"
        return self.to_client(value, base, role)

    def challenge(self, value: str, base: str, from_role: Role) -> str:
        """A ``WWW-Authenticate`` value with a URL ``realm`` routed through the proxy.

        Only the registry's own challenge names a ``realm`` role; another host's realm is ``other``.
        """
        def swap(match: re.Match[str]) -> str:
            realm = match.group(2)
            if not realm.lower().startswith(("http://", "https://")):
                return match.group(0)  # Basic realm="name": not a URL
            role: Role = "realm" if from_role == "registry" else "other"
            return match.group(1) + self.to_client(realm, base, role) + match.group(3)

        return _REALM.sub(swap, value)

    def link(self, value: str, base: str) -> str:
        """A ``Link`` header with each ``<target>`` routed through the proxy."""
        return _LINK_TARGET.sub(lambda m: "<" + self.to_client(m.group(1), base, "other") + ">", value)

    def _number(self, origin: str, role: Role) -> int:
        with self._lock:
            if origin not in self._roles or (role == "realm" and self._roles[origin] == "other"):
                self._roles[origin] = role
            if origin not in self._origins:
                self._origins.append(origin)
            return self._origins.index(origin) + 1
