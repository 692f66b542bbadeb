"""The sandbox registry as a WSGI application: routing, the auth gate, error answers.

Rule 1: ``protocol/endpoints.parse_route`` recognises paths exactly as the trace
annotator does; ``protocol/challenge.scopes_for_request`` says what access a request
needs. It holds
no endpoint logic itself: each route kind maps to handler functions.
Rule 2: every answer carries ``Docker-Distribution-API-Version: registry/2.0``.
Order of checks, as in distribution: route (unknown path: 404 text page),
repository name (400 ``NAME_INVALID``), auth (401/403), method (405
``UNSUPPORTED`` with ``Allow``), then the handler.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from explorer.protocol import challenge
from explorer.protocol.endpoints import Route, parse_route
from explorer.sandbox import blobs, listing, manifests, uploads
from explorer.sandbox.access import AccessControl, OpenAccess
from explorer.sandbox.cdn import BlobRedirector
from explorer.sandbox.storage import Storage
from explorer.sandbox.wsgi import JSON_TYPE, ApiError, Request, Response

__all__ = ["API_VERSION", "RegistryApp", "RegistryOptions"]

API_VERSION = ("Docker-Distribution-API-Version", "registry/2.0")

Handler = Callable[["RegistryApp", Request, Route], Response]


@dataclass(frozen=True)
class RegistryOptions:
    """Behaviour switches; the defaults are the OCI-friendly ones (see the package docstring)."""

    delete_enabled: bool = True  # False: DELETE answers 405 UNSUPPORTED, as distribution by default
    monolithic_post: bool = True  # POST ?digest= stores the blob (201); False: 202 + session, as distribution 2.8
    chunk_min_length: int | None = None  # advertised as OCI-Chunk-Min-Length on upload POSTs
    upload_state: bool = True  # False: upload Locations without _state, a session named by its UUID alone (as zot)
    max_manifest_size: int = 4 * 1024 * 1024  # larger manifest PUTs get 413


def _base(registry: RegistryApp, request: Request, route: Route) -> Response:
    return Response(200, [("Content-Type", JSON_TYPE)], b"{}")  # end-1: byte for byte distribution's


_ROUTES: dict[str, dict[str, Handler]] = {
    "base": {"*": _base},  # distribution answers /v2/ to any method
    "catalog": {"GET": listing.list_catalog},
    "tags": {"GET": listing.list_tags},
    "manifest": {"GET": manifests.get_manifest, "HEAD": manifests.get_manifest,
                 "PUT": manifests.put_manifest, "DELETE": manifests.delete_manifest},
    "referrers": {"GET": manifests.list_referrers},
    "blob": {"GET": blobs.get_blob, "HEAD": blobs.get_blob, "DELETE": blobs.delete_blob},
    "uploads": {"POST": uploads.start_upload},
    "upload": {"GET": uploads.upload_status, "PATCH": uploads.patch_upload,
               "PUT": uploads.finish_upload, "DELETE": uploads.cancel_upload},
}

# A path with a repository route's shape but a name parse_route refused: answer NAME_INVALID.
_REPOSITORY_SHAPED = re.compile(r"/v2/(?P<name>.+?)/(?:manifests/[^/]+|blobs/.+|tags/list|referrers/[^/]+)")


class RegistryApp:
    """An OCI distribution registry over a :class:`Storage`.

        app = RegistryApp(Storage())                      # anonymous, no redirects
        httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://registry.test")
    """

    def __init__(
        self,
        storage: Storage,
        *,
        access: AccessControl | None = None,
        redirector: BlobRedirector | None = None,
        options: RegistryOptions | None = None,
        secret: bytes | None = None,
    ) -> None:
        self.storage = storage
        self.access: AccessControl = access or OpenAccess()
        self.redirector = redirector
        self.options = options or RegistryOptions()
        self.upload_state = uploads.UploadState(secret or secrets.token_bytes(32))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self.handle(request)
        except ApiError as error:
            response = error.response()
        response.headers.append(API_VERSION)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.path == "/v2":
            return Response(301, [("Location", "/v2/"), ("Content-Type", "text/html; charset=utf-8")],
                            b'<a href="/v2/">Moved Permanently</a>.\n\n')
        route = parse_route(request.path)
        if route is None:
            shaped = _REPOSITORY_SHAPED.fullmatch(request.path)
            if shaped is not None:
                raise ApiError("NAME_INVALID", {"name": shaped.group("name")})
            return Response(404, [("Content-Type", "text/plain; charset=utf-8")], b"404 page not found\n")
        self.access.check(request, challenge.scopes_for_request(request.method, request.path, request.query_string))
        methods = _ROUTES[route.kind]
        handler = methods.get(request.method) or methods.get("*")
        if handler is None:
            raise ApiError("UNSUPPORTED", f"{request.method} is not allowed here",
                           headers=[("Allow", ", ".join(sorted(methods)))])
        return handler(self, request, route)
