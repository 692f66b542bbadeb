"""RegistryClient: one method per registry endpoint over a recorded, authenticated httpx.Client.

Rule 1: the client knows HTTP mechanics (URLs, headers, statuses, retries,
error bodies); the *order* of calls belongs to ``flows/``.
Rule 2: every non-success status becomes a typed error here
(``RegistryError`` with the registry's error code and message), with the
image or repository it concerned, so flows and the CLI never look at statuses.
Rule 3: one place sends requests (``Sending.request`` in ``explorer/client/sending.py``):
retries with backoff and ``Retry-After`` live there, and every attempt is its
own exchange in the trace.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx

from explorer import __version__
from explorer.client.auth import RegistryAuth, same_origin
from explorer.client.bounded import BodyTooLarge, GuardedTransport
from explorer.client.credentials import CredentialSource
from explorer.errors import ExplorerError, ManifestError, ProtocolViolation, RegistryError
from explorer.protocol import digest as digests
from explorer.protocol import endpoints, headers, mediatypes
from explorer.protocol.reference import is_loopback
from explorer.recording.extensions import BODY_TAP_EXTENSION, PING_EXTENSION
from explorer.recording.recorder import Recorder, RecordingTransport, StepHandle
from explorer.client.schemes import Schemes, SchemeTransport
from explorer.recording.taps import BodyTap
from explorer.records import record
from explorer.trace import Intent
from explorer.client.sending import Sending

__all__ = ["BodyTooLarge", "Manifest", "RegistryClient", "UploadSession", "next_page_url"]

CANCEL_TIMEOUT = 1.0  # seconds (connect, write, read) for the courtesy DELETE of an abandoned upload
DEFAULT_TIMEOUT = 30.0  # seconds without bytes (or with fewer than bounded.STALL_BYTES) before a request fails
USER_AGENT = f"regexplore/{__version__}"


@record(frozen=True)
class Manifest:
    """A manifest exactly as received: its bytes, media type and computed digest."""

    data: bytes
    media_type: str
    digest: str
    header_digest: str | None

    def parsed(self) -> dict[str, Any]:
        try:
            value = json.loads(self.data)
        except ValueError as exc:
            raise ManifestError(f"manifest {digests.short(self.digest)} is not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise ManifestError(f"manifest {digests.short(self.digest)} is not a JSON object")
        return value


@record(frozen=True)
class UploadSession:
    """An open blob upload: where to send the next request (absolute URL) and what the registry asked."""

    location: str
    uuid: str | None = None
    min_chunk: int | None = None
    offset: int = 0  # bytes the registry has received


class RegistryClient(Sending):
    """Talks to one registry. Use as a context manager; ``step`` labels the exchanges that follow.

    Every method ends in ``request`` (from ``explorer.client.sending``): retries and typed errors live there.
    """

    def __init__(
        self,
        registry: str,
        *,
        recorder: Recorder,
        credentials: CredentialSource,
        plain_http: bool | None = None,
        insecure: bool = False,
        schemes: Schemes | None = None,
        timeout: httpx.Timeout | None = None,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        warn: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.registry = registry
        self.recorder = recorder
        self.schemes = schemes if schemes is not None else Schemes(plain_http)  # http, https, or https first
        self.retries = max(0, retries)
        self._sleep = sleep
        self.transport = (
            transport
            if isinstance(transport, RecordingTransport)
            else RecordingTransport(recorder, transport, verify=not insecure)
        )
        self.auth = RegistryAuth(credentials, recorder.secrets, registry=registry, warn=warn)
        self.credentials = credentials
        timeout = timeout or httpx.Timeout(DEFAULT_TIMEOUT)
        self.http = httpx.Client(
            transport=GuardedTransport(SchemeTransport(self.transport, self.schemes), stall=timeout.read),
            auth=self.auth,
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            trust_env=False,
        )

    # --- plumbing ----------------------------------------------------------------
    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def step(self, what: Intent | str, label: str | None = None) -> AbstractContextManager[StepHandle]:
        """Context manager: the exchanges sent inside carry this intent (per thread); label from it."""
        return self.recorder.step(what, label)

    def _as(self, endpoint: str | None, kind: str | None = None, **more: Any) -> AbstractContextManager[None]:
        """This request's own endpoint id (and kind or repository, when they differ from the step's)."""
        return self.recorder.refine(endpoint=endpoint, **({"kind": kind} if kind else {}), **more)

    def _step_kind(self, keep: tuple[str, ...], default: str) -> str:
        """The step's kind when it is one of ``keep``, else ``default`` (a GET inside another step)."""
        current = self.recorder.current_step()
        intent = current.intent if current is not None else None
        if intent is not None and intent.kind in keep:
            return intent.kind
        item = intent.item if intent is not None else None
        if default == "fetch-blob" and item in ("config", "layer"):
            return f"fetch-{item}"  # a copy reads the source's blob inside the destination's upload step
        return default

    @property
    def scheme(self) -> str:
        """``https`` or ``http``: a loopback registry is ``https`` until its probe found plain http."""
        return self.schemes.scheme(self.registry)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.registry}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @staticmethod
    def recorded_body(response: httpx.Response) -> BodyTap | None:
        """The recorder's tap of ``response`` when it hashes exactly the content bytes, else None.

        A download can then verify its digest with the recorder's sha256 instead
        of hashing every byte a second time (no tap when recording is off, and
        none to trust when the body came content-encoded).
        """
        tap = response.extensions.get(BODY_TAP_EXTENSION)
        if not isinstance(tap, BodyTap) or response.headers.get("content-encoding", "identity") != "identity":
            return None
        return tap

    def expect_scopes(self, *scopes: str) -> None:
        """Scopes the operation will need on this registry, asked for at the first token request."""
        self.auth.expect_scopes(self.registry, scopes)

    # --- end-1 ---------------------------------------------------------------------
    def ping(self) -> httpx.Response:
        """GET /v2/: 200 (no auth needed, or auth accepted) or 401 (auth will be needed)."""
        with self._as("end-1", "ping"):
            return self.request("GET", self.url(endpoints.path("end-1")), ok=(200, 401),
                                context=f"{self.registry}/v2/", extensions={PING_EXTENSION: True})

    # --- end-3 / end-7 / end-9 -------------------------------------------------
    def get_manifest(self, repository: str, reference: str, *, context: str) -> Manifest:
        url = self.url(endpoints.path("end-3", repository, reference))
        try:
            with self._as("end-3", self._step_kind(("resolve", "fetch-manifest"), "fetch-manifest")):
                response = self.request(
                    "GET", url, ok=(200,), context=context, headers={"Accept": mediatypes.accept_header()},
                    limit=mediatypes.MANIFEST_LIMIT,
                )
        except BodyTooLarge as exc:
            size = f"is {exc.size} bytes," if exc.size is not None else "is"
            raise ManifestError(f"manifest of {context} {size} more than the 4 MiB limit; refusing it") from None
        data = response.content
        media_type = mediatypes.base(response.headers.get("content-type", ""))
        if media_type in ("text/html", "application/xhtml+xml"):
            raise ManifestError(
                f"{context}: the registry answered with an HTML page (a login or proxy page?) instead of a manifest",
                "check the registry address; a proxy or single sign-on page may be in the way",
            )
        header_digest = response.headers.get("docker-content-digest")
        return Manifest(data, media_type, digests.compute(data), header_digest)

    def head_manifest(self, repository: str, reference: str, *, context: str) -> httpx.Response | None:
        """HEAD a manifest: the response (digest/size/type in headers), or None when it does not exist."""
        url = self.url(endpoints.path("end-3", repository, reference))
        with self._as("end-3", "check-manifest"):
            response = self.request(
                "HEAD", url, ok=(200, 404), context=context, headers={"Accept": mediatypes.accept_header()}
            )
        return response if response.status_code == 200 else None

    def put_manifest(
        self, repository: str, reference: str, data: bytes, media_type: str, *, context: str
    ) -> httpx.Response:
        url = self.url(endpoints.path("end-7", repository, reference))
        with self._as("end-7", "push-manifest"):
            return self.request(
                "PUT", url, ok=(201,), context=context, headers={"Content-Type": media_type}, content=data
            )

    def delete_manifest(self, repository: str, reference: str, *, context: str) -> httpx.Response:
        with self._as("end-9", "delete"):
            return self.request("DELETE", self.url(endpoints.path("end-9", repository, reference)), ok=(202,),
                                context=context)

    # --- end-2 / end-10 --------------------------------------------------------
    @contextmanager
    def open_blob(
        self, repository: str, digest: str, *, context: str, offset: int = 0
    ) -> Iterator[httpx.Response]:
        """Stream a blob (following a 307 to storage); with ``offset`` asks for the rest by Range."""
        digests.validate(digest)
        extra = {"Range": f"bytes={offset}-"} if offset else None
        kind = self._step_kind(("fetch-config", "fetch-layer", "fetch-blob"), "fetch-blob")
        with self._as("end-2", kind, repository=repository):
            response = self.request(
                "GET",
                self.url(endpoints.path("end-2", repository, digest)),
                ok=(200, 206),
                context=context,
                headers=extra,
                stream=True,
            )
        try:
            yield response
        finally:
            response.close()

    def head_blob(self, repository: str, digest: str, *, context: str) -> int | None:
        """The blob's size when the repository has it, else None."""
        digests.validate(digest)
        with self._as("end-2", "check-blob"):
            response = self.request(
                "HEAD", self.url(endpoints.path("end-2", repository, digest)), ok=(200, 404), context=context
            )
        if response.status_code == 404:
            return None
        length = headers.parse_content_length(response.headers.get("content-length"))
        return -1 if length is None else length

    def delete_blob(self, repository: str, digest: str, *, context: str) -> httpx.Response:
        digests.validate(digest)
        with self._as("end-10", "delete"):
            return self.request("DELETE", self.url(endpoints.path("end-10", repository, digest)), ok=(202,),
                                context=context)

    # --- uploads: end-4a, end-11, end-5, end-6, end-13, end-14 ------------------------
    def start_upload(
        self, repository: str, *, context: str, mount: str | None = None, from_repository: str | None = None
    ) -> UploadSession | None:
        """POST an upload; returns the session, or None when a cross-repository mount succeeded (201)."""
        params = [("mount", mount), ("from", from_repository)] if mount and from_repository else None
        eid = "end-11" if params else "end-4a"
        with self._as(eid, "mount" if params else "open-upload"):
            response = self.request(
                "POST",
                self.url(endpoints.path("end-4a", repository)),
                ok=(201, 202),
                context=context,
                params=params,
                headers={"Content-Length": "0"},
            )
        if response.status_code == 201:
            return None
        return self._session(response)

    def _session(self, response: httpx.Response, previous: UploadSession | None = None) -> UploadSession:
        location = response.headers.get("location")
        if not location:
            raise RegistryError(
                f"the registry answered {response.status_code} to an upload without a Location header",
                status=response.status_code,
            )
        offset = previous.offset if previous else 0
        rng = response.headers.get("range")
        if rng:
            start, end = headers.parse_upload_range(rng)
            offset = end + 1 if (end > 0 or (previous and previous.offset > 0)) else 0
        min_chunk = response.headers.get("oci-chunk-min-length")
        return UploadSession(
            location=headers.resolve_location(str(response.request.url), location),
            uuid=response.headers.get("docker-upload-uuid") or (previous.uuid if previous else None),
            min_chunk=int(min_chunk) if min_chunk and min_chunk.isdigit() else (previous.min_chunk if previous else None),
            offset=offset,
        )

    def upload_chunk(
        self, session: UploadSession, body: Any, start: int, end: int, *, context: str
    ) -> UploadSession:
        """PATCH bytes ``start..end`` (inclusive); returns the session at its new Location."""
        with self._as("end-5", "upload-chunk"):
            response = self._patch(session, body, start, end, context)
        new = self._session(response, session)
        return UploadSession(new.location, new.uuid, new.min_chunk, end + 1)

    def _patch(self, session: UploadSession, body: Any, start: int, end: int, context: str) -> httpx.Response:
        return self.request(
            "PATCH",
            session.location,
            ok=(202,),
            context=context,
            content=body,
            headers={
                "Content-Type": mediatypes.OCTET_STREAM,
                "Content-Range": headers.format_content_range(start, end),
                "Content-Length": str(end - start + 1),
            },
        )

    def upload_status(self, session: UploadSession, *, context: str) -> UploadSession:
        with self._as("end-13", "upload-status"):
            response = self.request("GET", session.location, ok=(204,), context=context)
        return self._session(response, session)

    def finish_upload(
        self, session: UploadSession, digest: str, *, context: str, body: Any = None, size: int = 0
    ) -> httpx.Response:
        """PUT ``?digest=`` (with the whole blob as ``body`` for a monolithic upload)."""
        digests.validate(digest)
        url = headers.add_query(session.location, [("digest", digest)])
        with self._as("end-6", "close-upload"):
            return self._put(url, body, size, context)

    def _put(self, url: str, body: Any, size: int, context: str) -> httpx.Response:
        return self.request(
            "PUT",
            url,
            ok=(201,),
            context=context,
            content=body if body is not None else b"",
            headers={"Content-Type": mediatypes.OCTET_STREAM, "Content-Length": str(size)},
        )

    def cancel_upload(self, session: UploadSession, *, context: str) -> None:
        """DELETE the session, best effort: one short try, failures ignored (servers time sessions out anyway).

        Short because it runs while giving up (a failure, Ctrl-C): a registry that
        stalls must not keep the user waiting for a courtesy. Sent only to an upload
        URL on the registry's own origin: a hostile registry's ``Location`` must not
        make it delete something elsewhere (a manifest, another registry's anything).
        """
        if not self.is_own_upload_url(session.location):
            return
        try:
            with self._as("end-14", "cancel-upload"):
                self.request(
                    "DELETE", session.location, ok=(204, 404), context=context, retries=0, timeout=CANCEL_TIMEOUT
                )
        except ExplorerError:  # whatever went wrong, the error being reported is the one that made us give up
            pass

    def is_own_upload_url(self, url: str) -> bool:
        """``url`` is an upload session (``/v2/<name>/blobs/uploads/<id>``) on this registry's origin."""
        target = httpx.URL(url)
        route = endpoints.parse_route(target.path)
        return same_origin(target, self.registry) and route is not None and route.kind == "upload"

    # --- end-8 / catalog / end-12 ----------------------------------------------------
    def list_page(self, url: str, *, context: str) -> tuple[dict[str, Any], str | None]:
        """One page of tags/list or _catalog: (body, absolute next URL from Link or None)."""
        match = endpoints.classify("GET", url)
        with self._as(match.endpoint.id if match else None):
            response = self.request("GET", url, ok=(200,), context=context)
        try:
            body = response.json()
        except ValueError:
            raise RegistryError(f"the listing at {context} is not JSON", status=response.status_code) from None
        return (body if isinstance(body, dict) else {}), self.next_page_url(response, context=context)

    def next_page_url(self, response: httpx.Response, *, context: str) -> str | None:
        """``next_page_url``, refused when the ``Link`` leads to another origin (a listing is the registry's)."""
        url = next_page_url(response)
        if url is not None and not same_origin(httpx.URL(url), self.registry):
            target = httpx.URL(url)
            raise ProtocolViolation(
                f"the registry's Link header for {context} leads to another host "
                f"({target.scheme}://{target.netloc.decode('ascii')}); refusing to follow it",
                "a registry's next page is on the registry itself: check the registry (or a proxy in front of it)",
            )
        return url

    def referrers(self, repository: str, digest: str, *, context: str, artifact_type: str | None = None) -> httpx.Response:
        digests.validate(digest)
        params = [("artifactType", artifact_type)] if artifact_type else None
        with self._as("end-12b" if params else "end-12a", "referrers"):
            return self.request(
                "GET", self.url(endpoints.path("end-12a", repository, digest)), ok=(200, 404), context=context,
                params=params,
            )


def next_page_url(response: httpx.Response) -> str | None:
    """The absolute URL of the ``Link: <…>; rel="next"`` of a listing response, or None at the end."""
    link = response.headers.get("link")
    if not link:
        return None
    target = headers.parse_link(link).get("next")
    return headers.resolve_location(str(response.request.url), target) if target else None
