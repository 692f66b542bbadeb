"""What it takes to reproduce a trace: its parameters and the plan of requests a script sends again.

Rule: pure. Shared by the exports that re-run a trace (postman, curl, python).

:func:`parameters` finds what a user would change to point the flow elsewhere:
the registry hosts, repository names, the tag, the token realm and service, and
a readable variable name for every digest (``configDigest``, ``layer2Digest``,
…, named from the manifests the trace carries).

:func:`plan` reduces the exchanges to the *actions* a script performs itself:
token requests, the 401s that were retried with credentials, redirect hops and
the inner requests of an upload session are not actions: a script
authenticates on its own, follows redirects, and uploads a blob in one go.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

from explorer.annotate import AnnotatedExchange, AnnotatedTrace
from explorer.annotate.challenges import readable_challenges
from explorer.protocol import digest as digests, endpoints, mediatypes, urls
from explorer.trace import Exchange

__all__ = ["Action", "Parameters", "base_url", "digests_in_manifest", "manifest_text", "parameters", "plan",
           "repository_of"]

@dataclass(frozen=True)
class Parameters:
    """The values of a trace a user would change, each with the variable name it gets."""

    registries: dict[str, str]  # base URL "http://127.0.0.1:5000" → "registry", "registry2"
    repositories: dict[str, str]  # "test/small" → "repository", "repository2"
    reference: str | None  # the first tag the trace named (its variable is "reference")
    digests: dict[str, str]  # digest → "configDigest", "layer1Digest", "manifestDigest", ...
    auth: str  # how the registry was answered: "anonymous", "basic" or "bearer"
    credentials: bool  # credentials were sent (Basic to the registry or to the token server)
    realm: str | None  # the Bearer challenge's realm (token server URL)
    service: str | None

    @property
    def registry(self) -> str:
        """The first registry's base URL ("" for a trace without registry requests)."""
        return next(iter(self.registries), "")

    @property
    def repository(self) -> str:
        return next(iter(self.repositories), "")


ActionKind = Literal["ping", "manifest", "blob", "tags", "catalog", "referrers", "push-blob", "mount",
                     "push-manifest", "delete"]


@dataclass
class Action:
    """One thing a reproducing script does; ``exchanges`` are the trace numbers it stands for."""

    kind: ActionKind
    method: str
    registry: str  # base URL
    repository: str | None = None
    reference: str | None = None  # manifest tag or digest
    digest: str | None = None  # blob digest, or the manifest digest the trace saw
    size: int | None = None
    accept: str | None = None
    media_type: str | None = None
    body: str | None = None  # push-manifest: the manifest text as sent
    source: str | None = None  # mount: the repository mounted from
    query: str = ""  # tags, catalog, referrers: the query string as sent
    check_first: bool = False  # push-blob: HEAD first and skip when present
    chunks: list[int] = field(default_factory=list)  # push-blob: PATCH sizes; the closing PUT sends the rest
    step: str | None = None
    status: int | None = None  # the last status the trace saw for it
    exchanges: list[int] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The request path (and query) a script sends, for comments."""
        repo = self.repository or ""
        paths = {
            "ping": "/v2/", "catalog": "/v2/_catalog", "tags": f"/v2/{repo}/tags/list",
            "manifest": f"/v2/{repo}/manifests/{self.reference}", "push-manifest": f"/v2/{repo}/manifests/{self.reference}",
            "referrers": f"/v2/{repo}/referrers/{self.reference}", "blob": f"/v2/{repo}/blobs/{self.digest}",
            "push-blob": f"/v2/{repo}/blobs/uploads/", "mount": f"/v2/{repo}/blobs/uploads/",
            "delete": f"/v2/{repo}/{'blobs' if self.digest and not self.reference else 'manifests'}/"
                      f"{self.reference or self.digest}",
        }
        path = paths.get(self.kind, "/v2/")
        return f"{path}?{self.query}" if self.query else path


def base_url(url: str) -> str:
    parts = urls.split(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def repository_of(url: str) -> str | None:
    route = endpoints.parse_route(urls.split(url).path)
    return route.name if route is not None else None


def _query(url: str) -> tuple[tuple[str, str], ...]:
    return urls.query_pairs(url)


def _json(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def manifest_text(ex: Exchange) -> tuple[str | None, str | None]:
    """(manifest JSON text, its digest) carried by a manifest GET response or PUT request."""
    req, resp = ex.request, ex.response
    match = endpoints.classify(req.method, req.url)
    if match is None or resp is None:
        return None, None
    if match.endpoint.id == "end-3" and req.method == "GET" and resp.status == 200 and resp.body:
        body = resp.body
        got = resp.header("docker-content-digest") or f"sha256:{body.sha256}"
        return (None if body.truncated else body.text), got
    if match.endpoint.id.startswith("end-7") and req.body is not None:
        got = resp.header("docker-content-digest") or f"sha256:{req.body.sha256}"
        return (None if req.body.truncated else req.body.text), got
    return None, None


def digests_in_manifest(data: dict) -> list[tuple[str, str]]:
    """(role, digest) of a parsed manifest's descriptors: ``config``, ``layer`` or ``manifest`` (index)."""
    out: list[tuple[str, str]] = []
    config = data.get("config")
    if isinstance(config, dict) and isinstance(config.get("digest"), str):
        out.append(("config", config["digest"]))
    for key, role in (("layers", "layer"), ("manifests", "manifest"), ("blobs", "layer")):
        for item in data.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("digest"), str):
                out.append((role, item["digest"]))
    return out


class _Namer:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def name(self, value: str, stem: str, numbered: bool = False) -> None:
        if value in self.names or not digests.is_valid(value):
            return
        n = self.counts.get(stem, 0) + 1
        self.counts[stem] = n
        self.names[value] = f"{stem}{n}Digest" if numbered else (f"{stem}Digest" if n == 1 else f"{stem}{n}Digest")


def _digest_names(exchanges: Iterable[Exchange]) -> dict[str, str]:
    namer = _Namer()
    exchanges = list(exchanges)
    fetched = {m.reference for ex in exchanges
               if (m := endpoints.classify(ex.request.method, ex.request.url)) and m.endpoint.id == "end-3"}
    for ex in exchanges:
        text, got = manifest_text(ex)
        data = _json(text)
        if data is None or got is None:
            continue
        media = ex.response.header("content-type") if ex.request.method == "GET" and ex.response else None
        is_index = any(mediatypes.is_index(m) for m in (data.get("mediaType"), media)) or "manifests" in data
        namer.name(got, "index" if is_index else "manifest")
        for role, value in digests_in_manifest(data):
            if role == "manifest" and value not in fetched:
                continue
            namer.name(value, role, numbered=role == "layer")
    for ex in exchanges:  # everything else a URL names
        route = endpoints.parse_route(urls.split(ex.request.url).path)
        if route is not None and route.reference and digests.is_valid(route.reference):
            namer.name(route.reference, "manifest" if route.kind == "manifest" else "blob", numbered=True)
        for key, value in _query(ex.request.url):
            if key in ("digest", "mount"):
                namer.name(value, "blob", numbered=True)
    return namer.names


def parameters(annotated: AnnotatedTrace) -> Parameters:
    registries: dict[str, str] = {}
    repositories: dict[str, str] = {}
    reference = realm = service = None
    auth, credentials = "anonymous", False

    def add(table: dict[str, str], value: str, stem: str) -> None:
        if value not in table:
            table[value] = stem if not table else f"{stem}{len(table) + 1}"

    for a in annotated.exchanges:
        if a.https_probe:  # the registry is the plain-http one the client went on with
            continue
        req, resp = a.exchange.request, a.exchange.response
        authorization = (req.header("authorization") or "").split(" ")[0].lower()
        if a.participant.role.startswith("Registry"):
            add(registries, base_url(req.url), "registry")
            route = endpoints.parse_route(urls.split(req.url).path)
            if route is not None and route.name:
                add(repositories, route.name, "repository")
                if route.kind == "manifest" and reference is None and not digests.is_valid(route.reference or ""):
                    reference = route.reference
            for key, value in _query(req.url):
                if key == "from":
                    add(repositories, value, "repository")
            if authorization == "bearer":
                auth = "bearer"
            elif authorization == "basic":
                auth, credentials = ("basic" if auth == "anonymous" else auth), True
        elif a.participant.role.startswith("Auth") and authorization == "basic":
            credentials = True
        for ch in readable_challenges(resp.header_list("www-authenticate") if resp else []):
            if ch.scheme == "bearer" and realm is None:
                realm, service = ch.realm, ch.service
    return Parameters(registries, repositories, reference, _digest_names(a.exchange for a in annotated.exchanges),
                      auth, credentials, realm, service)


# --- the plan -----------------------------------------------------------------------------


def _session_id(url: str) -> str | None:
    route = endpoints.parse_route(urls.split(url).path)
    return route.reference if route is not None and route.kind == "upload" else None


class _Planner:
    def __init__(self, annotated: AnnotatedTrace) -> None:
        self.annotated = annotated
        self.actions: list[Action] = []
        self.sessions: dict[str, Action] = {}  # upload id → the push-blob/mount action it belongs to
        self.pending: dict[tuple[str, str], Action] = {}  # (repository, digest) → push-blob checked, not uploaded
        retried = {a.retry_of for a in annotated.exchanges if a.retry_of is not None}
        self.skip = retried

    def run(self) -> list[Action]:
        items = list(self.annotated.exchanges)
        for i, a in enumerate(items):
            ex = a.exchange
            nxt = items[i + 1].exchange if i + 1 < len(items) else None
            if a.number in self.skip or a.https_probe or not a.participant.role.startswith("Registry"):
                continue
            if nxt is not None and (nxt.request.method, nxt.request.url) == (ex.request.method, ex.request.url) and (
                    ex.response is None or ex.response.status >= 500):
                continue  # retried after a failure: the retry stands for both
            self.one(a)
        return self.actions

    def storage_hop(self, a: AnnotatedExchange) -> AnnotatedExchange | None:
        """The request that followed a registry redirect (the next one to the Location's host)."""
        location = a.exchange.response.header("location") if a.exchange.response else None
        if not location:
            return None
        target = urls.join(a.exchange.request.url, location)
        items = self.annotated.exchanges  # read from a.number on, in place: no copy of the rest per redirect
        return next((items[i] for i in range(a.number, len(items)) if items[i].exchange.request.url == target), None)

    def add(self, a: AnnotatedExchange, kind: ActionKind, **fields: object) -> Action:
        ex = a.exchange
        action = Action(kind=kind, method=ex.request.method, registry=base_url(ex.request.url), step=a.step,
                        status=ex.response.status if ex.response else None, exchanges=[a.number], **fields)  # type: ignore[arg-type]
        self.actions.append(action)
        return action

    def join(self, action: Action, a: AnnotatedExchange) -> None:
        action.exchanges.append(a.number)
        action.status = a.exchange.response.status if a.exchange.response else None

    def one(self, a: AnnotatedExchange) -> None:
        ex = a.exchange
        req, resp = ex.request, ex.response
        match = endpoints.classify(req.method, req.url)
        if match is None:
            return
        eid, repo, ref = match.endpoint.id, match.name, match.reference
        query = urls.split(req.url).query
        q = dict(_query(req.url))
        got = resp.header("docker-content-digest") if resp else None
        if eid == "end-1":
            if not any(x.kind == "ping" and x.registry == base_url(req.url) for x in self.actions):
                self.add(a, "ping")
        elif eid == "end-3":
            got = got or (f"sha256:{resp.body.sha256}" if resp and resp.body and req.method == "GET" and
                          resp.status == 200 and not resp.body.truncated else None)
            self.add(a, "manifest", repository=repo, reference=ref, digest=got, accept=req.header("accept"))
        elif eid == "end-2" and req.method == "HEAD" and a.intent.kind == "check-blob":
            size = resp.header("content-length") if resp else None
            action = self.add(a, "push-blob", repository=repo, digest=ref, check_first=True,
                              size=int(size) if size and size.isdigit() and resp and resp.status == 200 else None)
            self.pending[(repo or "", ref or "")] = action
        elif eid == "end-2":
            hop = self.storage_hop(a) if resp is not None and 300 <= resp.status < 400 else None
            answer = hop.exchange.response if hop is not None else resp
            size = answer.body.size if answer and answer.body and answer.status == 200 else None
            action = self.add(a, "blob", repository=repo, digest=ref, size=size)
            if hop is not None:
                self.join(action, hop)
        elif eid in ("end-4a", "end-4b", "end-4c", "end-11"):
            self.upload_opened(a, eid, repo, q)
        elif eid in ("end-5", "end-6", "end-13", "end-14"):
            self.upload_continued(a, eid, repo, ref, q)
        elif eid.startswith("end-7"):
            body = req.body
            self.add(a, "push-manifest", repository=repo, reference=ref, digest=got,
                     media_type=req.header("content-type"), size=body.size if body else 0,
                     body=None if body is None or body.truncated else body.text)
        elif eid.startswith("end-8"):
            self.add(a, "tags", repository=repo, query=query)
        elif eid == "catalog":
            self.add(a, "catalog", query=query)
        elif eid.startswith("end-12"):
            self.add(a, "referrers", repository=repo, reference=ref, query=query)
        elif eid in ("end-9", "end-10"):
            fields = {"reference": ref} if eid == "end-9" else {"digest": ref}
            self.add(a, "delete", repository=repo, **fields)

    def upload_opened(self, a: AnnotatedExchange, eid: str, repo: str | None, q: dict[str, str]) -> None:
        req, resp = a.exchange.request, a.exchange.response
        wanted = q.get("digest")
        if eid == "end-11":
            action = self.add(a, "mount", repository=repo, digest=q.get("mount"), source=q.get("from"))
            checked = self.pending.pop((repo or "", q.get("mount") or ""), None)
            if checked is not None:  # the HEAD that found it missing is part of the mount
                self.actions.remove(checked)
                action.exchanges = sorted({*checked.exchanges, *action.exchanges})
        elif wanted and (repo or "", wanted) in self.pending:
            action = self.pending.pop((repo or "", wanted))
            self.join(action, a)
        else:
            action = self.add(a, "push-blob", repository=repo, digest=wanted)
        if wanted and req.body is not None and req.body.size:
            action.size = req.body.size
        location = resp.header("location") if resp else None
        session = _session_id(urls.join(req.url, location)) if location else None
        if session:
            self.sessions[session] = action

    def upload_continued(self, a: AnnotatedExchange, eid: str, repo: str | None, ref: str | None,
                         q: dict[str, str]) -> None:
        req = a.exchange.request
        action = self.sessions.get(unquote(ref or ""))
        if action is None:
            action = self.add(a, "push-blob", repository=repo, digest=q.get("digest"))
        else:
            self.join(action, a)
        body_size = req.body.size if req.body else 0
        if eid == "end-5":
            action.chunks.append(body_size)
        if eid != "end-6" or action.kind != "push-blob":
            return
        action.digest = action.digest or q.get("digest")
        action.size = sum(action.chunks) + body_size if action.chunks or body_size else action.size
        checked = self.pending.pop((repo or "", action.digest or ""), None)
        if checked is not None and checked is not action:  # the HEAD that found it missing comes first
            checked.exchanges = sorted({*checked.exchanges, *action.exchanges})
            checked.chunks, checked.size, checked.status = action.chunks, action.size, action.status
            self.actions.remove(action)
            self.sessions = {k: (checked if v is action else v) for k, v in self.sessions.items()}


def plan(annotated: AnnotatedTrace) -> list[Action]:
    """The actions a script performs to do again what the trace shows, in trace order.

    A mount that fell back to an upload is placed where its upload finished: in a copy
    the client fetched the blob from the source in between, and a script must too.
    """
    def position(action: Action) -> int:
        return action.exchanges[-1] if action.kind == "mount" else action.exchanges[0]

    return sorted(_Planner(annotated).run(), key=position)

