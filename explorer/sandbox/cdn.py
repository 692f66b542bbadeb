"""A CDN / object-store stand-in: signed, expiring blob URLs on a second origin (the "Storage" participant).

Rule 1: it knows blob paths and URL signing, nothing about registry auth: like S3 or
CloudFront, it trusts only its own signature.
Rule 2: the registry answers a blob GET/HEAD with ``307`` to
``<cdn>/docker/registry/v2/blobs/<alg>/<hex[:2]>/<hex>/data?Expires=<unix>&Signature=<hmac>``
(the path distribution's redirect middleware produces, plus a signed query
so redaction of ``Signature`` can be tested). The CDN serves the bytes with
``Range`` support, and, like S3, refuses a request that ALSO carries an
``Authorization`` header (``400 InvalidArgument``): a client that forwards
the registry token across origins is caught in the act.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from explorer.protocol import digest as digests
from explorer.sandbox.byteranges import serve_file
from explorer.sandbox.storage import Storage
from explorer.sandbox.wsgi import Request, Response

__all__ = ["BlobRedirector", "CdnApp"]

_BLOB_PATH = re.compile(r"/docker/registry/v2/blobs/(sha256|sha512)/([0-9a-f]{2})/([0-9a-f]+)/data", re.ASCII)


class BlobRedirector:
    """Makes and checks the CDN's signed URLs."""

    def __init__(self, base_url: str, secret: bytes, ttl: int = 1200, clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.ttl = ttl
        self.clock = clock

    def location(self, digest: str) -> str:
        """The signed URL of a stored blob."""
        algorithm, encoded = digests.require_verifiable(digest)
        path = f"/docker/registry/v2/blobs/{algorithm}/{encoded[:2]}/{encoded}/data"
        expires = int(self.clock()) + self.ttl
        query = urlencode([("Expires", str(expires)), ("Signature", self._sign(path, expires))])
        return f"{self.base_url}{path}?{query}"

    def _sign(self, path: str, expires: int) -> str:
        mac = hmac.new(self.secret, f"GET\n{path}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")

    def check(self, path: str, expires: str | None, signature: str | None) -> str | None:
        """Why the URL is refused (``AccessDenied`` message), or None when it is good."""
        if not expires or not signature or not expires.isascii() or not expires.isdigit():
            return "Query-string authentication requires the Signature and Expires parameters"
        if not hmac.compare_digest(self._sign(path, int(expires)), signature):
            return "The request signature we calculated does not match the signature you provided"
        if self.clock() > int(expires):
            return "Request has expired"
        return None


class CdnApp:
    """The WSGI app of the CDN origin: GET/HEAD of signed blob URLs."""

    def __init__(self, storage: Storage, redirector: BlobRedirector) -> None:
        self.storage = storage
        self.redirector = redirector

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        return self._answer(request)(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        found = _BLOB_PATH.fullmatch(request.path)
        if found is None or not found.group(3).startswith(found.group(2)):
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        if request.header("Authorization"):
            return _s3_error(400, "InvalidArgument",
                             "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                             "Signature query string parameter or the Authorization header should be specified")
        refusal = self.redirector.check(request.path, request.arg("Expires"), request.arg("Signature"))
        if refusal is not None:
            return _s3_error(403, "AccessDenied", refusal)
        digest = f"{found.group(1)}:{found.group(3)}"
        if not digests.is_valid(digest) or not self.storage.has_content(digest):
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        path = self.storage.blob_path(digest)
        size = path.stat().st_size
        headers = [("Content-Type", "application/octet-stream"), ("Cache-Control", "max-age=86400")]
        return serve_file(request, lambda: open(path, "rb"), size, headers, etag=f'"{found.group(3)[:32]}"')


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>\n"
    ).encode()
    return Response(status, [("Content-Type", "application/xml")], body)
