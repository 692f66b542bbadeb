"""The recording layer: a transport that writes down every HTTP hop as an Exchange.

Rule 1: no protocol logic. The recorder watches, times and writes down what
goes over the wire; it never decides anything.
Rule 2: redaction happens here, before an exchange is stored (``explorer/recording/redact/``);
values hidden structurally (signed query values, cookies) are also registered
as known secrets, so errors and debug logs lose them too.
Rule 3: bodies stream through. A tap counts and hashes every chunk and keeps
only the first ``text_cap`` bytes of textual bodies; nothing is buffered.

``RecordingTransport`` wraps an inner ``httpx.BaseTransport``. Because httpx
calls the transport once per wire exchange, the anonymous 401, the token
request, the retried request and each redirect hop each become one Exchange,
appended in true start order (ids are given when a request starts).

Intent comes from the flows: ``with recorder.step(Intent("fetch-layer", …)):``
(thread-local, so concurrent blob transfers keep their own); the client
refines it per request (``with recorder.refine(kind="upload-chunk",
endpoint="end-5"):``), and the step label is derived from it
(``Intent.label``). A request may carry ``extensions["regexplore.step"]`` =
``"authenticate"`` (the auth layer's token requests): it keeps the current
step's transfer, so a token fetched mid-transfer is drawn with its blob.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import httpx

from explorer.protocol import mediatypes
from explorer.recording import redact
from explorer.recording.connections import Connections
from explorer.recording.extensions import BODY_TAP_EXTENSION, STEP_EXTENSION, VIA_EXTENSION
from explorer.recording.phases import PhaseClock, connection, timings
from explorer.recording.taps import BodyTap, TappedRequestStream, TappedResponseStream
from explorer.trace import TEXT_CAP, Exchange, Intent, RecordedRequest, RecordedResponse, Trace, Via, iso_time

__all__ = ["BodyTap", "Recorder", "RecordingTransport", "StepHandle"]



class StepHandle:
    """A step's intent and label; flows can rename it once they know more ("… already present, skipped")."""

    def __init__(self, recorder: Recorder, label: str | None, intent: Intent | None = None,
                 parent: StepHandle | None = None) -> None:
        self._recorder = recorder
        self.intent = intent
        self.label = label if label is not None else (intent.label() if intent else None)
        self.parent = parent
        self.exchanges: list[Exchange] = []

    @property
    def root(self) -> StepHandle:
        return self.parent.root if self.parent is not None else self

    def rename(self, label: str) -> None:
        with self._recorder._lock:
            self.label = label
            for ex in self.exchanges:
                ex.step = label


class Recorder:
    """Collects exchanges into a ``Trace``. Thread-safe; one per traced operation."""

    def __init__(
        self,
        trace: Trace | None = None,
        *,
        secrets: redact.Secrets | None = None,
        text_cap: int = TEXT_CAP,
        binary_cap: int = 0,
        on_exchange: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.trace = trace if trace is not None else Trace()
        self.secrets = secrets if secrets is not None else redact.Secrets()
        self.text_cap = text_cap
        self.binary_cap = binary_cap
        self.on_exchange = on_exchange
        self._lock = threading.Lock()
        self._local = threading.local()
        self._next_id = 1 + max((e.id for e in self.trace.exchanges), default=0)
        self._sealed = False
        self._stored_headers: dict[tuple[tuple[bytes, bytes], bool], _StoredHeader] = {}

    # --- step labels -------------------------------------------------------
    @contextmanager
    def step(self, what: Intent | str, label: str | None = None) -> Iterator[StepHandle]:
        """Exchanges sent inside carry ``what`` (an Intent; a bare string is a label without intent)."""
        if isinstance(what, str):
            handle = StepHandle(self, what)
        else:
            handle = StepHandle(self, label, what)
        stack = self._stack()
        stack.append(handle)
        try:
            yield handle
        finally:
            stack.pop()

    @contextmanager
    def refine(self, **changes: object) -> Iterator[None]:
        """Within the current step, this request's own kind/endpoint (the step's label is kept)."""
        stack = self._stack()
        parent = stack[-1] if stack else None
        base = parent.intent if parent is not None and parent.intent is not None else None
        if base is None and "kind" not in changes:
            yield
            return
        intent = base.but(**changes) if base is not None else Intent(**changes)  # type: ignore[arg-type]
        stack.append(StepHandle(self, parent.label if parent else None, intent, parent))
        try:
            yield
        finally:
            stack.pop()

    def current_step(self) -> StepHandle | None:
        stack = self._stack()
        return stack[-1] if stack else None

    def _stack(self) -> list[StepHandle]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    # --- exchanges ---------------------------------------------------------
    def begin(self, request: RecordedRequest, step_override: str | None) -> Exchange:
        current = self.current_step()
        handle = None if step_override else current
        intent = handle.intent if handle is not None else None
        if step_override == "authenticate":
            base = current.intent if current is not None else None
            intent = Intent("authenticate", repository=base.repository if base else None,
                            transfer=base.transfer if base else None)
        label = step_override or (handle.label if handle else None)
        with self._lock:
            exchange = Exchange(
                id=self._next_id,
                step=label,
                started=iso_time(datetime.now(timezone.utc)),
                duration_ms=0.0,
                request=request,
                intent=intent,
            )
            self._next_id += 1
            if self._sealed:  # a straggling thread after Ctrl-C: the saved trace no longer changes
                return exchange
            self.trace.exchanges.append(exchange)
            if handle is not None:
                handle.root.exchanges.append(exchange)
        return exchange

    def finished(self, exchange: Exchange) -> None:
        if self.on_exchange is not None:
            self.on_exchange(exchange)

    def stored_headers(self, headers: httpx.Headers, *, request: bool) -> list[tuple[str, str]]:
        """``headers`` redacted structurally (``redact.redact_header_value``, known secrets NOT yet scrubbed);
        the values that redaction hides are registered as known secrets first (see ``_learn_hidden_values``).

        Structural redaction depends on a header's raw name, raw value and direction only, and a
        session's exchanges repeat most of their headers (``Host``, ``Accept``, ``User-Agent``,
        ``Content-Type``, …): each distinct short header is redacted once per recorder, then looked up.
        Known secrets grow as the run goes: they are scrubbed after (``Secrets.scrub_headers``), never cached.
        """
        cache = self._stored_headers
        stored = [cache.get((raw, request)) or self._store_header(raw, request) for raw in headers.raw]
        for _header, hidden in stored:
            for value in hidden:
                self.secrets.add(value)
        return [header for header, _hidden in stored]

    def _store_header(self, raw: tuple[bytes, bytes], request: bool) -> _StoredHeader:
        stored = _stored_header(raw[0].decode("latin-1"), raw[1].decode("latin-1"), request)
        if len(raw[1]) <= _CACHED_VALUE_MAX:
            if len(self._stored_headers) >= _CACHED_HEADERS_MAX:
                self._stored_headers.clear()
            self._stored_headers[(raw, request)] = stored
        return stored

    def scrub_text(self, text: str, media_type: str | None) -> str:
        """A kept body, redacted; what it hides (a ``session_key``, a JWT) is learned, so ``seal`` scrubs it
        from every other exchange, error and log line too."""
        return redact.redact_text(text, media_type, self.secrets, learn=True)

    def seal(self) -> Trace:
        """Make the trace consistent for saving: pending exchanges get an error, secrets re-scrubbed.

        Secrets learned late (a token issued after an earlier exchange was
        stored) are scrubbed from everything once more here. Exchanges begun
        after sealing (threads still winding down after Ctrl-C) are not added.
        """
        with self._lock:
            self._sealed = True
            for ex in self.trace.exchanges:
                if ex.response is None and ex.error is None:
                    ex.error = "no response: the operation was interrupted"
                _rescrub(ex, self.secrets)
        return self.trace


def _rescrub(ex: Exchange, secrets: redact.Secrets) -> None:
    if not len(secrets):
        return
    ex.request.url = secrets.scrub(ex.request.url)
    if ex.via is not None:
        ex.via.url = secrets.scrub(ex.via.url)
    ex.request.headers = secrets.scrub_headers(ex.request.headers)
    for body in (ex.request.body, ex.response.body if ex.response else None):
        if body is not None:
            if body.text:
                body.text = secrets.scrub(body.text)
            if body.media_type:
                body.media_type = secrets.scrub(body.media_type)
    if ex.response is not None:
        ex.response.headers = secrets.scrub_headers(ex.response.headers)
        ex.response.reason = secrets.scrub(ex.response.reason)
    if ex.error:
        ex.error = secrets.scrub(ex.error)


class RecordingTransport(httpx.BaseTransport):
    """Wraps an inner transport; records every request/response pair into a ``Recorder``.

    Without ``inner``, ``connections.Connections`` holds the pools, each made on
    first use (plain http loads no CA bundle); https verifies TLS unless ``verify=False``.
    """

    def __init__(
        self,
        recorder: Recorder,
        inner: httpx.BaseTransport | None = None,
        *,
        verify: bool = True,
        limits: httpx.Limits | None = None,
        record: bool = True,
    ) -> None:
        self.recorder = recorder
        self.record = record  # False: a plain pass-through (benchmarks measure the recorder's cost)
        self._inner = inner if inner is not None else Connections(verify=verify, limits=limits)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.record:
            return self._inner.handle_request(request)
        rec = self.recorder
        secrets = rec.secrets
        url = str(request.url)
        _learn_hidden_values(secrets, url)
        recorded_request = RecordedRequest(
            method=request.method,
            url=redact.redact_url(url, secrets),
            headers=secrets.scrub_headers(rec.stored_headers(request.headers, request=True)),
            body=None,
        )
        # the media type as stored (read from the stored headers: asking httpx's ``Headers`` would decode
        # every header once more to find their encoding, about 15 calls a side of every exchange)
        req_media = recorded_request.header("content-type")
        req_textual = mediatypes.is_textual(req_media)
        exchange = rec.begin(recorded_request, request.extensions.get(STEP_EXTENSION))
        via = request.extensions.get(VIA_EXTENSION)
        if via is not None:
            exchange.via = Via(via.proxy, redact.redact_url(via.url, secrets), via.client)
        t0 = time.perf_counter()

        # request body: in memory -> describe it now; streamed -> tap it
        original_stream = request.stream
        request_tap: TappedRequestStream | None = None
        try:
            content = request.content
        except httpx.RequestNotRead:
            content = None
            keep_req = rec.text_cap if req_textual else 0
            request_tap = TappedRequestStream(original_stream, lambda: BodyTap(keep_req))
            request.stream = request_tap
        if content:
            tap = BodyTap(rec.text_cap if req_textual else rec.binary_cap)
            tap.feed(content)
            tap.complete = True
            recorded_request.body = tap.body(req_media, rec.scrub_text, binary=not req_textual)

        clock = PhaseClock(request.extensions.get("trace"))
        original_extensions = request.extensions
        request.extensions = {**original_extensions, "trace": clock}
        try:
            response = self._inner.handle_request(request)
        except BaseException as exc:
            exchange.duration_ms = (time.perf_counter() - t0) * 1000
            exchange.error = _error_text(exc, secrets)
            exchange.timings = timings(clock, t0, None)
            if request_tap is not None:
                recorded_request.body = request_tap.tap.body(req_media, rec.scrub_text, binary=True)
            rec.finished(exchange)
            raise
        finally:
            request.extensions = original_extensions
            if request_tap is not None:
                request.stream = original_stream
        t_headers = time.perf_counter()
        if request_tap is not None:
            recorded_request.body = request_tap.tap.body(req_media, rec.scrub_text, binary=not req_textual)

        reason = response.extensions.get("reason_phrase", b"")
        http_version = response.extensions.get("http_version", b"HTTP/1.1")
        exchange.response = recorded_response = RecordedResponse(
            status=response.status_code,
            reason=secrets.scrub(reason.decode("ascii", "replace") if isinstance(reason, bytes) else str(reason)),
            http_version=http_version.decode("ascii", "replace")
            if isinstance(http_version, bytes)
            else str(http_version),
            headers=secrets.scrub_headers(rec.stored_headers(response.headers, request=False)),
        )
        media = recorded_response.header("content-type")
        textual = mediatypes.is_textual(media)
        exchange.connection = connection(response, clock)
        exchange.duration_ms = (t_headers - t0) * 1000
        tap = BodyTap(rec.text_cap if textual else rec.binary_cap)

        def on_close() -> None:
            t_end = time.perf_counter()
            exchange.duration_ms = (t_end - t0) * 1000
            exchange.timings = timings(clock, t0, (t_headers, t_end))
            if request.method == "HEAD" and tap.size == 0:
                tap.complete = True
            if tap.broken is not None:  # the response came, its body broke off: why, as for no response
                exchange.error = _error_text(tap.broken, secrets)
            exchange.response.body = tap.body(media, rec.scrub_text, binary=not textual)  # type: ignore[union-attr]
            rec.finished(exchange)

        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        if not response.is_closed:  # its body still streams: the tap goes between it and its reader
            response.stream = TappedResponseStream(stream, tap, on_close)
            response.extensions[BODY_TAP_EXTENSION] = tap
            return response
        # an inner response holding its content already (MockTransport) would not read its stream
        # again: a new one reads it through the tap
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=TappedResponseStream(stream, tap, on_close),
            extensions={**response.extensions, BODY_TAP_EXTENSION: tap},
        )

    def close(self) -> None:
        self._inner.close()


def _learn_hidden_values(secrets: redact.Secrets, url: str) -> None:
    """Register the values of ``url`` that structural redaction hides (signed query values, a password).

    Then those values are scrubbed wherever else they turn up too: error
    messages, ``--debug`` log lines, another exchange (headers: ``Recorder.stored_headers``).
    """
    for value in redact.hidden_url_values(url):
        secrets.add(value)


def _error_text(exc: BaseException, secrets: redact.Secrets) -> str:
    """An exchange's ``error``: the exception's class and message, known secrets scrubbed."""
    return secrets.scrub(f"{type(exc).__name__}: {exc}") or type(exc).__name__


_StoredHeader = tuple[tuple[str, str], tuple[str, ...]]
_CACHED_VALUE_MAX = 512  # longer values (a hostile or huge header) are redacted each time, never kept
_CACHED_HEADERS_MAX = 1024  # distinct headers a recorder keeps (digests, dates and upload URLs vary)
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization")


def _stored_header(name: str, value: str, request: bool) -> _StoredHeader:
    """A header as stored before known secrets are scrubbed, and the values its redaction hides.

    ``Authorization`` has none to learn here: the auth layer registers the credentials it sends.
    Short hidden values are left out (they would wreck unrelated text: ``redact.LEARNED_VALUE_MIN``).
    """
    hidden = () if name.lower() in _CREDENTIAL_HEADERS else tuple(
        redact.hidden_header_values(name, value, request=request))
    return (name, redact.redact_header_value(name, value, request=request)), hidden
