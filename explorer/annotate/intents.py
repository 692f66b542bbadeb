"""What each exchange was for: the recorded :class:`~explorer.trace.Intent`, or one inferred from the wire.

Rule 1: pure; derived from the trace alone, so a format-1 recording, a user's
old file and an imported HAR capture (skopeo, docker, a browser) get the same
fields a format-2 flow records: step kind, endpoint, repository, digest,
config/layer ``i``/``n``, platform, and the transfer id tying one blob's
exchanges together. Nothing here reads a step label.

Rule 2: a recorded intent wins; inference fills only exchanges without one.

How the fallback links a blob's exchanges (``transfer`` = the blob's digest):

* a blob ``HEAD``/``GET`` names the digest in its path;
* an upload session is followed from the ``POST``'s ``Location`` through every
  ``PATCH``/``GET``/``DELETE`` and their new ``Location``s to the ``PUT ?digest=``
  that names the digest (a mount's ``?mount=`` names it at once);
* a storage ``GET`` belongs to the registry ``3xx`` whose ``Location`` it follows;
* a token request belongs to the request whose 401 sent the client to it.

``config``/``layer i/n`` and platforms come from the manifests in the trace
(a pulled manifest's response body, a pushed manifest's request body).
"""

from __future__ import annotations

import json

from explorer.annotate.roles import Roles
from explorer.annotate.texts import one_line
from explorer.protocol import digest as digests
from explorer.protocol import endpoints, mediatypes, urls
from explorer.trace import BLOB_KINDS, Body, Exchange, Intent, Trace

__all__ = ["infer", "push_context", "step_labels"]

_SIMPLE = {"end-1": "ping", "end-4a": "open-upload", "end-4b": "open-upload", "end-4c": "open-upload",
           "end-11": "mount", "end-5": "upload-chunk", "end-6": "close-upload", "end-13": "upload-status",
           "end-14": "cancel-upload", "end-7": "push-manifest", "end-7b": "push-manifest", "end-8a": "list-tags",
           "end-8b": "list-tags", "catalog": "catalog", "end-12a": "referrers", "end-12b": "referrers",
           "end-9": "delete", "end-10": "delete"}
_PUSH_ENDPOINTS = frozenset({"end-4a", "end-4b", "end-4c", "end-11", "end-5", "end-6", "end-7", "end-7b"})


def _json(body: Body | None) -> object:
    if body is None or body.text is None or body.truncated:
        return None
    try:
        return json.loads(body.text)
    except ValueError:
        return None


def _path_of(url: str) -> tuple[str, str]:
    return urls.netloc(url), urls.split(url).path


class _Catalogue:
    """Blobs and manifests named by the manifests in the trace: digest → (item, index, total) / platform."""

    def __init__(self, exchanges: list[Exchange]) -> None:
        self.blobs: dict[str, tuple[str, int | None, int | None]] = {}
        self.platforms: dict[str, str] = {}
        for ex in exchanges:
            for body in (ex.response.body if ex.response else None, ex.request.body):
                self._read(_json(body))

    def _read(self, data: object) -> None:
        if not isinstance(data, dict):
            return
        config, layers, entries = data.get("config"), data.get("layers"), data.get("manifests")
        if isinstance(config, dict) and isinstance(config.get("digest"), str):
            self.blobs.setdefault(config["digest"], ("config", None, None))
        if isinstance(layers, list):
            for i, layer in enumerate(layers, 1):
                if isinstance(layer, dict) and isinstance(layer.get("digest"), str):
                    self.blobs.setdefault(layer["digest"], ("layer", i, len(layers)))
        if isinstance(entries, list):
            for entry in entries:
                platform = mediatypes.platform_of(entry) if isinstance(entry, dict) else None
                if platform is not None and isinstance(entry.get("digest"), str):
                    self.platforms.setdefault(entry["digest"], str(platform))


def push_context(trace: Trace) -> bool:
    """The trace uploads something (its operation, or any upload or manifest PUT on the wire)."""
    if trace.operation in ("push", "copy"):
        return True
    for ex in trace.exchanges:
        match = endpoints.classify(ex.request.method, ex.request.url)
        if match is not None and match.endpoint.id in _PUSH_ENDPOINTS:
            return True
    return False


def step_labels(trace: Trace) -> list[str | None]:
    """The step label of every exchange, one printable line: the recorded one, else its (inferred) intent's."""
    intents = infer(trace, Roles(trace.exchanges))
    labels = [ex.step if ex.step is not None else (None if i.kind == "other" else i.label())
              for ex, i in zip(trace.exchanges, intents)]
    return [None if label is None else one_line(label, 160) for label in labels]  # recorded text is untrusted


def infer(trace: Trace, roles: Roles) -> list[Intent]:
    """One intent per exchange of ``trace``, in order (recorded ones kept as they are)."""
    exchanges = trace.exchanges
    catalogue = _Catalogue(exchanges)
    push = push_context(trace)
    sessions: dict[tuple[str, str], int] = {}  # upload location (host, path) → index of the POST
    session_of: dict[int, int] = {}  # exchange index → index of its session's POST
    session_digest: dict[int, str] = {}
    redirects: dict[tuple[str, str], int] = {}  # Location (host, path) → index of the 3xx
    last_401: int | None = None
    resolved = False
    pages: dict[str, int] = {}
    out: list[Intent] = []
    links: dict[int, int] = {}  # token request or storage GET → the exchange it belongs with
    for i, ex in enumerate(exchanges):
        req, resp = ex.request, ex.response
        kind_of_role = roles.key(ex)[0]
        match = endpoints.classify(req.method, req.url) if kind_of_role == "Registry" else None
        eid = match.endpoint.id if match else None
        q = urls.query_params(req.url)
        # follow upload sessions and redirects whatever the intent (the recorded one is kept below)
        if eid in ("end-5", "end-6", "end-13", "end-14"):
            session = sessions.get(_path_of(req.url))
            if session is not None:
                session_of[i] = session
                if eid == "end-6" and q.get("digest"):
                    session_digest[session] = q["digest"][0]
        elif eid in ("end-4a", "end-4b", "end-4c", "end-11"):
            session_of[i] = i
            named = (q.get("mount") or q.get("digest") or [None])[0]
            if named:
                session_digest[i] = named
        if resp is not None:
            location = resp.header("location")
            if location and i in session_of and resp.status < 300:
                sessions[_path_of(urls.join(req.url, location))] = session_of[i]
            if location and 300 <= resp.status < 400:
                redirects[_path_of(urls.join(req.url, location))] = i
            if resp.status == 401 and kind_of_role == "Registry":
                last_401 = i
        if ex.intent is not None:
            out.append(ex.intent)
            continue
        repository = match.name if match else None
        reference = match.reference if match else None
        digest = reference if reference and digests.is_valid(reference) else None
        if kind_of_role == "Auth":
            if last_401 is not None:
                links[i] = last_401
            out.append(Intent("authenticate"))
            continue
        if kind_of_role != "Registry" or eid is None:
            origin = redirects.get(_path_of(req.url))
            if origin is not None:
                links[i] = origin
            out.append(Intent("other"))
            continue
        item = index = total = platform = None
        if eid == "end-2":
            item, index, total = catalogue.blobs.get(digest or "", (None, None, None))
            if req.method == "HEAD":
                kind = "check-blob" if push else "fetch-blob"
            else:
                kind = {"config": "fetch-config", "layer": "fetch-layer"}.get(item or "", "fetch-blob")
        elif eid == "end-3":
            item = "tag" if reference and reference.startswith("sha256-") else "manifest"
            platform = catalogue.platforms.get(digest or "")
            if req.method == "HEAD":
                kind = "check-manifest" if push else "fetch-manifest"
            elif digest is None and not resolved and not push:
                kind, resolved = "resolve", True
            else:
                kind = "fetch-manifest"
        else:
            kind = _SIMPLE.get(eid, "other")
            if kind in ("list-tags", "catalog"):
                key = f"{kind} {repository}"
                pages[key] = index = pages.get(key, 0) + 1
            if kind == "delete" and eid == "end-9":
                item = "manifest"
        transfer = digest if kind in BLOB_KINDS else None
        source = (q.get("from") or [None])[0] if eid == "end-11" else None
        out.append(Intent(kind, endpoint=eid, repository=repository, digest=digest, item=item,  # type: ignore[arg-type]
                          index=index, total=total, platform=platform, transfer=transfer, source=source))
    recorded = {i for i, ex in enumerate(exchanges) if ex.intent is not None}
    for i, session in session_of.items():  # the PUT named the digest after the POST and PATCHes were seen
        digest = session_digest.get(session)
        if i not in recorded and digest and out[i].digest is None:
            item, index, total = catalogue.blobs.get(digest, (None, None, None))
            out[i] = out[i].but(digest=digest, transfer=digest, item=item, index=index, total=total)
    for i, origin in sorted(links.items()):  # in order: a storage GET may follow a retried, token-backed GET
        if i in recorded:
            continue
        if out[i].kind == "authenticate":
            out[i] = out[i].but(repository=out[origin].repository, transfer=out[origin].transfer)
        else:
            out[i] = out[origin].but(endpoint=None)
    return out
