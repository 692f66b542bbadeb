"""Which lane each request goes to: Registry, Auth, Storage or Other, with its host.

Rule: pure; derived from the trace alone (hosts of ``/v2/`` requests, Bearer
realms seen in challenges, 3xx ``Location`` targets), so old recordings get
the same lanes.
"""

from __future__ import annotations

from explorer.annotate.challenges import readable_challenges
from explorer.annotate.model import Participant
from explorer.protocol import urls
from explorer.trace import Exchange

def is_registry_path(path: str) -> bool:
    return path == "/v2" or path.startswith("/v2/")


# --- participants -------------------------------------------------------------------------


class Roles:
    """Which lane each request goes to: a role kind plus the host (see the module docstring)."""

    KINDS = ("Registry", "Auth", "Storage", "Other")

    def __init__(self, exchanges: list[Exchange]) -> None:
        self.realms: set[str] = set()  # token realm URLs without query
        self.storage: set[str] = set()
        self.registry: set[str] = set()
        for ex in exchanges:
            url, resp = ex.request.url, ex.response
            if is_registry_path(urls.split(url).path):
                self.registry.add(urls.netloc(url))
            if resp is None:
                continue
            for ch in readable_challenges(resp.header_list("www-authenticate")):
                if ch.scheme.lower() == "bearer" and ch.realm:
                    self.realms.add(ch.realm.split("?")[0])
            location = resp.header("location")
            if 300 <= resp.status < 400 and location and is_registry_path(urls.split(url).path):
                self.storage.add(urls.netloc(urls.join(url, location)))
        self.lanes: dict[tuple[str, str], Participant] = {}
        self._keys: dict[int, tuple[str, str]] = {id(ex): self._key(ex) for ex in exchanges}
        keys = list(dict.fromkeys(self._keys.values()))
        for kind in self.KINDS:
            hosts = [host for k, host in keys if k == kind]
            for n, host in enumerate(hosts, start=1):
                role = kind if n == 1 else f"{kind} {n}"
                self.lanes[(kind, host)] = Participant(role.replace(" ", ""), role, host, kind.lower())  # type: ignore[arg-type]

    def key(self, ex: Exchange) -> tuple[str, str]:
        """(role kind, host) of the exchange's request (worked out once per exchange)."""
        known = self._keys.get(id(ex))
        return known if known is not None else self._key(ex)

    def _key(self, ex: Exchange) -> tuple[str, str]:
        url = ex.request.url
        host, path = urls.netloc(url), urls.split(url).path
        if is_registry_path(path):
            return "Registry", host
        if url.split("?")[0] in self.realms or {"service", "scope"} & urls.query_params(url).keys():
            return "Auth", host  # a token request, even when the realm is on the registry's host
        if host in self.storage and host not in self.registry:
            return "Storage", host
        return ("Registry" if host in self.registry else "Other"), host

    def __call__(self, ex: Exchange) -> Participant:
        return self.lanes[self.key(ex)]
