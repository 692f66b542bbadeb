"""A built-in OCI distribution registry, served in-process: the embedded default and the fast test double.

Rule 1: the sandbox never uses httpx, the recorder or the client, so the registry
cannot share a bug with the code that tests it.
Rule 2: it answers like CNCF distribution 2.8 (statuses, headers, ``Location``
forms, upload ``Range`` format, error codes); where it differs, the difference
is allowed by the OCI distribution spec and listed below.

Modules::

    sandbox.py     Sandbox (context manager: registry + token server + CDN on loopback), serve()
    app.py         RegistryApp: routing, auth gate, error answers
    manifests.py   end-3, end-7, end-9, referrers (end-12a/b)
    blobs.py       end-2 (with 307 to the CDN), end-10
    uploads.py     end-4a/4b, end-5, end-6, end-11, end-13, end-14
    listing.py     tags (end-8a/8b) and _catalog, n/last/Link
    access.py      none / basic / bearer gatekeepers; accounts.py: who may do what
    tokens.py      the token server (HS256 JWT, GET and OAuth2 POST)
    cdn.py         the CDN stand-in: signed expiring blob URLs on another origin
    storage.py     content-addressed blobs, per-repository links, tags, upload sessions
    byteranges.py  Range / If-None-Match for file answers
    wsgi.py        request, response, the {"errors": [...]} answer
    server.py      threaded HTTP/1.1 WSGI server (keep-alive, 100-continue, sendfile)
    request_body.py  request bodies: Content-Length framed or chunked

In-process use: ``Sandbox(...).app`` dispatches on ``Host`` to the registry,
token server and CDN apps, so ``httpx.WSGITransport(app=sandbox.app)`` works
for every auth mode and with redirects; ``Sandbox(listen=False)`` opens no
sockets at all.

Deliberate differences from distribution 2.8.2 (measured against it), all within the OCI spec:

- Out-of-order or malformed ``Content-Range`` on a PATCH/PUT: 416 ``RANGE_INVALID``
  with ``Location``/``Range``/``Docker-Upload-UUID`` of the unchanged session (the
  OCI and Docker texts). 2.8.2 ignores ``Content-Range`` and appends the bytes.
- ``POST …/blobs/uploads/?digest=`` with the blob as body: 201, blob stored (end-4b).
  2.8 answers 202 and opens a session. ``RegistryOptions(monolithic_post=False)``
  restores the 2.8 answer.
- Tags list: sorted (ASCII), paginated with ``n``/``last``/``Link``, bad ``n`` is 400
  ``PAGINATION_NUMBER_INVALID`` (distribution v3; 2.8 ignores ``n``/``last`` and lists
  in directory order). An emptied tag list is ``[]``, not 2.8's ``null``.
- ``_catalog`` with a bad ``n``: 400 ``PAGINATION_NUMBER_INVALID`` (v3); 2.8 ignores it.
- ``DELETE /v2/<name>/manifests/<tag>`` removes the tag (202, v3 and OCI); 2.8 says
  400 ``DIGEST_INVALID``.
- Referrers API (``GET /v2/<name>/referrers/<digest>``) and ``OCI-Subject`` on manifest
  PUT: OCI 1.1; 2.8 has neither (404 page), so clients use the fallback tag there.
- A manifest over 4 MiB: 413 ``MANIFEST_INVALID``; 2.8 answers 400 ``MANIFEST_INVALID``.
- An invalid repository name in a repository-shaped path: 400 ``NAME_INVALID``; 2.8's
  router does not match such paths and answers ``404 page not found`` (text/plain).
  An invalid tag on manifest PUT is 400 ``TAG_INVALID`` (2.8: the 404 page).
- A manifest GET whose ``Accept`` lists neither its type nor ``*/*``: 404
  ``MANIFEST_UNKNOWN`` like 2.8; but with no ``Accept`` (or ``*/*``) we serve OCI
  manifests, where 2.8 refuses them ("accept header does not support OCI manifests").
- A method a route lacks: 405 ``UNSUPPORTED`` JSON with ``Allow`` (2.8: text/plain).
- An upload URL without ``_state``, or with a stale one, is 404 ``BLOB_UPLOAD_INVALID``
  as in 2.8, but the session is not cancelled (2.8 cancels it). ``RegistryOptions(upload_state=False)``
  sends Locations without ``_state`` instead, as zot does (every Location of a session stays valid). PATCH bodies of any ``Content-Type`` are accepted (2.8: 500 unless
  ``application/octet-stream``).
- A failed closing PUT ends the session (400 ``DIGEST_INVALID``, then a DELETE of it is
  404 ``BLOB_UPLOAD_UNKNOWN``); 2.8 fails to cancel its committed writer, keeps the
  session, and calls the client's now-stale ``_state`` 404 ``BLOB_UPLOAD_INVALID``.
- Token auth: HS256 JWTs from our own token server (distribution needs RS256 +
  certificates); no clock-skew leeway on ``exp``. Basic auth: read-only accounts get
  403 ``DENIED`` for push/delete (htpasswd users are all-powerful in 2.8).
- Redirects: the 307 carries no ``Docker-Content-Digest`` (like 2.8's middleware);
  the CDN URL is signed (``Expires``, ``Signature``) and refuses ``Authorization``
  (400, as S3 does), where 2.8's ``baseurl`` targets are unsigned.
- Schema1 manifests are refused (400 ``MANIFEST_INVALID``).
"""

from __future__ import annotations

from explorer.sandbox.app import RegistryApp, RegistryOptions
from explorer.sandbox.sandbox import AUTH_MODES, Sandbox, describe, serve
from explorer.sandbox.storage import Storage

__all__ = ["AUTH_MODES", "RegistryApp", "RegistryOptions", "Sandbox", "Storage", "describe", "serve"]
