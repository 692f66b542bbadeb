"""The registry API's endpoint table as data, and ``classify(method, url)``.

Rule 1: the table is the OCI distribution-spec's "Endpoints" table (v1.1.1,
plus the ``main`` rows end-4c, end-7b and end-14, flagged ``oci-main``) and
Docker's ``/v2/_catalog`` extension (id ``catalog``). Ids, methods, paths and
status codes are the spec's; ``title`` and ``meaning`` are ours, for teaching.
Rule 2: ``classify`` only recognises what the table describes; anything else
(a token realm, a CDN redirect target, an unknown method) is ``None``.

Paths: ``<name>`` is a repository name (it may hold ``/``: ``/v2/a/b/c/manifests/x``),
so a URL is split at the LAST ``/manifests/``, ``/blobs/``, ``/tags/list`` or
``/referrers/`` whose left side is a valid repository name (reference.py) and
whose right side has the endpoint's shape. ``<blob-push-location>`` is the opaque
upload URL from ``Location``; distribution's form ``/v2/<name>/blobs/uploads/<id>``
is what we recognise.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import unquote

from explorer.protocol import urls
from explorer.protocol.reference import is_repository
from explorer.records import record

__all__ = ["ENDPOINTS", "Endpoint", "Match", "Route", "RouteKind", "by_id", "classify", "parse_route", "path"]


@record(frozen=True)
class Endpoint:
    """One row of the spec's endpoint table."""

    id: str  # "end-3", "catalog"
    methods: tuple[str, ...]
    path: str  # the spec's path template
    success: tuple[int, ...]
    failure: tuple[int, ...]
    category: str  # pull | push | discovery | management
    title: str  # a few words for diagrams
    meaning: str  # one teaching sentence
    source: str = "oci"  # oci (v1.1.1) | oci-main (unreleased) | docker (extension)


_UPLOAD = "<blob-push-location>"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("end-1", ("GET",), "/v2/", (200,), (404, 401), "pull", "API version check",
             "Is this a v2 registry, and how must we authenticate? 200 = go ahead; 401 + WWW-Authenticate"
             " = the challenge that says where to get credentials."),
    Endpoint("end-2", ("GET", "HEAD"), "/v2/<name>/blobs/<digest>", (200,), (404,), "pull", "Fetch blob",
             "Download (GET) or check (HEAD) a layer or config by digest; GET may first answer 307 to a CDN"
             " or object store, and Range gives 206 partial content."),
    Endpoint("end-3", ("GET", "HEAD"), "/v2/<name>/manifests/<reference>", (200,), (404,), "pull",
             "Fetch manifest",
             "Resolve a tag or digest to a manifest or index; the Accept header lists the formats we can read"
             " and Docker-Content-Digest names the exact bytes."),
    Endpoint("end-4a", ("POST",), "/v2/<name>/blobs/uploads/", (202,), (404,), "push", "Open upload session",
             "Start a blob upload; the 202's Location is the URL to PATCH chunks to or PUT the blob to."),
    Endpoint("end-4b", ("POST",), "/v2/<name>/blobs/uploads/?digest=<digest>", (201, 202), (404, 400),
             "push", "Monolithic upload (POST)",
             "Upload a whole blob in one request; 202 means the registry does not do this and opened a normal"
             " session instead, so the bytes must be sent again with PUT."),
    Endpoint("end-4c", ("POST",), "/v2/<name>/blobs/uploads/?digest-algorithm=<algorithm>", (201, 202),
             (404, 400), "push", "Open upload session (algorithm)",
             "Start an upload that will be verified with a digest algorithm other than sha256.", "oci-main"),
    Endpoint("end-5", ("PATCH",), _UPLOAD, (202,), (404, 416), "push", "Upload chunk",
             "Send one chunk (Content-Range start-end, inclusive); the Range response header says how many"
             " bytes the registry now holds, and Location where to send the next one."),
    Endpoint("end-6", ("PUT",), f"{_UPLOAD}?digest=<digest>", (201,), (404, 400, 416), "push", "Close upload",
             "Finish the upload, optionally with the last bytes; the registry checks the digest and the blob"
             " becomes pullable."),
    Endpoint("end-7", ("PUT",), "/v2/<name>/manifests/<reference>", (201,), (404, 413), "push",
             "Push manifest",
             "Store a manifest under a tag (moving the tag) or a digest; every blob it references must"
             " already be in the repository."),
    Endpoint("end-7b", ("PUT",), "/v2/<name>/manifests/<digest>?tag=<tag>", (201,), (404, 413, 414, 431),
             "push", "Push manifest with tags",
             "Store a manifest by digest and tag it in the same request; OCI-Tag lists the tags accepted.",
             "oci-main"),
    Endpoint("end-8a", ("GET",), "/v2/<name>/tags/list", (200,), (404,), "discovery", "List tags",
             "List the repository's tags; the registry may still paginate and say so with a Link header."),
    Endpoint("end-8b", ("GET",), "/v2/<name>/tags/list?n=<integer>&last=<tag>", (200,), (404,), "discovery",
             "List tags (page)",
             "One page of at most n tags after `last`; a Link rel=\"next\" header points to the next page."),
    Endpoint("end-9", ("DELETE",), "/v2/<name>/manifests/<reference>", (202,), (404, 400, 405), "management",
             "Delete manifest",
             "Delete a manifest by digest (or remove just a tag, where supported); 405 = deletes are"
             " disabled."),
    Endpoint("end-10", ("DELETE",), "/v2/<name>/blobs/<digest>", (202,), (404, 400, 405), "management",
             "Delete blob", "Delete a blob from the repository; 405 = deletes are disabled."),
    Endpoint("end-11", ("POST",), "/v2/<name>/blobs/uploads/?mount=<digest>&from=<other_name>", (201, 202),
             (404,), "push", "Mount blob",
             "Link a blob from another repository instead of uploading it; 201 = mounted, 202 = not mounted,"
             " an ordinary upload session was opened instead."),
    Endpoint("end-12a", ("GET",), "/v2/<name>/referrers/<digest>", (200,), (404, 400), "discovery",
             "List referrers",
             "Which manifests (signatures, SBOMs, attestations) name this digest as their subject; 404 = the"
             " registry has no referrers API and the fallback tag is used."),
    Endpoint("end-12b", ("GET",), "/v2/<name>/referrers/<digest>?artifactType=<artifactType>", (200,),
             (404, 400), "discovery", "List referrers (filtered)",
             "Referrers of one artifact type only; OCI-Filters-Applied says whether the filter was applied."),
    Endpoint("end-13", ("GET",), _UPLOAD, (204,), (404,), "push", "Upload status",
             "Ask how many bytes the upload session holds (Range header), e.g. to resume after a 416."),
    Endpoint("end-14", ("DELETE",), _UPLOAD, (204,), (404, 400), "push", "Cancel upload",
             "Abandon the upload session; clients should send it when giving up.", "oci-main"),
    Endpoint("catalog", ("GET",), "/v2/_catalog", (200,), (400, 401, 404), "discovery", "List repositories",
             "Docker extension, not OCI: list repository names, paginated with n, last and Link; many"
             " registries (Docker Hub included) disable it.", "docker"),
)

_BY_ID = {endpoint.id: endpoint for endpoint in ENDPOINTS}


def by_id(endpoint_id: str) -> Endpoint:
    """The endpoint with this id (``"end-3"``, ``"catalog"``); KeyError for an unknown id."""
    return _BY_ID[endpoint_id]


def path(endpoint_id: str, name: str | None = None, reference: str | None = None) -> str:
    """The path of an endpoint, built from its row: ``path("end-3", "a/b", "1.0")`` → ``/v2/a/b/manifests/1.0``.

    The query of the spec's template (``?digest=``, ``?mount=&from=``, ``?n=``)
    is left to the caller, who adds it with its values. ValueError for an
    endpoint whose URL is the opaque upload ``Location`` (end-5, end-6, end-13,
    end-14), or when ``name``/``reference`` is missing where the template needs it.
    """
    template = by_id(endpoint_id).path.split("?", 1)[0]
    if template.startswith(_UPLOAD):
        raise ValueError(f"{endpoint_id} is sent to the upload's Location, not to a path of its own")
    out = template
    if "<name>" in out:
        if not name:
            raise ValueError(f"{endpoint_id} needs a repository name")
        out = out.replace("<name>", name)
    for slot in ("<reference>", "<digest>"):
        if slot in out:
            if not reference:
                raise ValueError(f"{endpoint_id} needs a {slot.strip('<>')}")
            out = out.replace(slot, reference)
    return out


RouteKind = Literal["base", "catalog", "manifest", "blob", "uploads", "upload", "tags", "referrers"]


@record(frozen=True)
class Route:
    """What a ``/v2/...`` path addresses, before the method is considered.

    ``uploads`` is the collection POSTed to, ``upload`` a session.
    """

    kind: RouteKind
    name: str | None = None
    reference: str | None = None


@record(frozen=True)
class Match:
    """A request recognised as an endpoint: the repository and the tag/digest/upload id it names."""

    endpoint: Endpoint
    name: str | None
    reference: str | None


@lru_cache(maxsize=1 << 14)  # a trace's renderers ask about each path again and again; a Route is immutable
def parse_route(path: str) -> Route | None:
    """Recognise a registry API path (a query, if any, is ignored); None for anything else."""
    path = path.split("?", 1)[0]
    if path in ("/v2", "/v2/"):
        return Route("base")
    if not path.startswith("/v2/"):
        return None
    segments = [unquote(segment) for segment in path[len("/v2/"):].split("/")]
    if segments in (["_catalog"], ["_catalog", ""]):
        return Route("catalog")
    for index in range(len(segments) - 1, 0, -1):  # the rightmost marker that fits wins
        route = _route_at(segments, index)
        if route is not None:
            return route
    return None


def _route_at(segments: list[str], index: int) -> Route | None:
    marker, tail = segments[index], segments[index + 1:]
    if marker not in ("manifests", "blobs", "tags", "referrers"):
        return None
    name = "/".join(segments[:index])
    if not is_repository(name):
        return None
    single = tail[0] if len(tail) == 1 and tail[0] else None
    if marker == "manifests" and single:
        return Route("manifest", name, single)
    if marker == "tags" and tail == ["list"]:
        return Route("tags", name)
    if marker == "referrers" and single:
        return Route("referrers", name, single)
    if marker == "blobs" and tail and tail[0] == "uploads":
        upload_id = "/".join(tail[1:])
        return Route("upload", name, upload_id) if upload_id else Route("uploads", name)
    if marker == "blobs" and single:
        return Route("blob", name, single)
    return None


# (route kind, method) → endpoint id; None means "look at the query" (see _refine).
_BY_ROUTE: dict[tuple[str, str], str | None] = {
    ("base", "GET"): "end-1",
    ("catalog", "GET"): "catalog",
    ("blob", "GET"): "end-2", ("blob", "HEAD"): "end-2", ("blob", "DELETE"): "end-10",
    ("manifest", "GET"): "end-3", ("manifest", "HEAD"): "end-3", ("manifest", "PUT"): None,
    ("manifest", "DELETE"): "end-9",
    ("uploads", "POST"): None,
    ("upload", "PATCH"): "end-5", ("upload", "PUT"): "end-6", ("upload", "GET"): "end-13",
    ("upload", "DELETE"): "end-14",
    ("tags", "GET"): None,
    ("referrers", "GET"): None,
}


def _refine(kind: str, query: set[str]) -> str:
    """Endpoints told apart by their query parameters (the spec's a/b/c rows)."""
    if kind == "uploads":  # distribution checks mount first, then digest
        if "mount" in query:
            return "end-11"
        if "digest" in query:
            return "end-4b"
        return "end-4c" if "digest-algorithm" in query else "end-4a"
    if kind == "manifest":
        return "end-7b" if "tag" in query else "end-7"
    if kind == "tags":
        return "end-8b" if query & {"n", "last"} else "end-8a"
    return "end-12b" if "artifactType" in query else "end-12a"  # referrers


@lru_cache(maxsize=1 << 14)  # annotation and renderers ask about each request again and again; a Match is immutable
def classify(method: str, url: str) -> Match | None:
    """Which endpoint a request is: ``classify("GET", "https://r/v2/a/b/manifests/1")`` → end-3 match.

    ``url`` may be absolute or just path and query. None for non-registry URLs
    (token realms, CDN redirect targets) and for methods the endpoint lacks.
    """
    try:
        parts = urls.split(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    route = parse_route(parts.path)
    if route is None:
        return None
    key = (route.kind, method.strip().upper())
    if key not in _BY_ROUTE:
        return None
    endpoint_id = _BY_ROUTE[key]
    if endpoint_id is None:
        query = {name for name, _ in urls.query_pairs(url)}
        endpoint_id = _refine(route.kind, query)
    return Match(by_id(endpoint_id), route.name, route.reference)
