"""Turn foreign request/response records into redacted trace exchanges, as the recorder would.

Rule 1: pure. Every rule and table of what is secret lives in ``explorer.recording.redact``:
this module only applies them, as the recorder does.

Rule 2: two passes. :meth:`CaptureRedactor.learn` first reads EVERY record of the
capture for the values redaction hides (``redact.hidden_header_values``: credentials of
``Authorization``, the password inside a Basic one, cookie values, secret and unknown
headers' values; ``redact.hidden_text_values``: secret JSON fields, token responses,
form fields, JWTs; ``redact.hidden_url_values``: passwords and signed query values);
then :meth:`exchange` builds each exchange with the recorder's structural redaction
plus those secrets scrubbed from every string. A token that a response issued and a later request carried in a
query string or another header is therefore gone everywhere, not just where it
was recognised.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from explorer.recording import redact
from explorer.protocol import mediatypes
from explorer.trace import TEXT_CAP, Body, Connection, Exchange, RecordedRequest, RecordedResponse, Timings

__all__ = ["CaptureRedactor", "Message", "Record"]



@dataclass
class Message:
    """One side of a foreign record: headers in order and the body bytes, when the capture had them."""

    headers: list[tuple[str, str]]
    content: bytes | None = None  # None: the capture did not include the body
    size: int | None = None  # the body size the capture states (defaults to len(content))
    media_type: str | None = None
    sha256: str | None = None  # hex, when the capture states it (our own HAR's _sha256)
    truncated: bool | None = None  # when the capture states whether the text is the whole body


@dataclass
class Record:
    """One foreign exchange, before redaction."""

    method: str
    url: str
    request: Message
    status: int | None  # None: no response (error says why)
    reason: str = ""
    http_version: str = "HTTP/1.1"
    response: Message = field(default_factory=lambda: Message([]))
    error: str | None = None
    started: str = ""
    duration_ms: float = 0.0
    step: str | None = None
    timings: Timings = field(default_factory=Timings)
    connection: Connection | None = None


class CaptureRedactor:
    def __init__(self, binary_cap: int = 0, text_cap: int = TEXT_CAP) -> None:
        self.secrets = redact.Secrets()
        self.binary_cap = binary_cap
        self.text_cap = text_cap

    # --- pass 1 -----------------------------------------------------------------------------
    def learn(self, records: Iterable[Record]) -> None:
        for record in records:
            self._learn_url(record.url)
            for message in (record.request, record.response):
                for name, value in message.headers:
                    self._learn_header(name, value, request=message is record.request)
                text = _as_text(message)
                if text is not None:  # textual, or a token body mislabelled as binary
                    self._learn_text(text, message.media_type)

    def _learn_url(self, url: str) -> None:
        for value in redact.hidden_url_values(url):
            self.secrets.add(value)

    def _learn_header(self, name: str, value: str, *, request: bool) -> None:
        for hidden in redact.hidden_header_values(name, value, request=request):
            self.secrets.add(hidden)

    def _learn_text(self, text: str, media_type: str | None) -> None:
        for hidden in redact.hidden_text_values(text, media_type):
            self.secrets.add(hidden)

    # --- pass 2 -----------------------------------------------------------------------------
    def body(self, message: Message) -> Body | None:
        content, size = message.content, message.size
        if not content and not size:
            return None
        media = message.media_type
        if content is None:  # described only: keep what the capture says
            sha = message.sha256 or hashlib.sha256(b"").hexdigest()
            return Body(size=size or 0, sha256=sha, media_type=media, truncated=True)
        # a stated hash (our own HAR's _sha256) is of the bytes on the wire, before redaction
        sha = message.sha256 or hashlib.sha256(content).hexdigest()
        textual = mediatypes.is_textual(media)
        cap = self.text_cap if textual else self.binary_cap
        head = content[:cap]
        text = b64 = None
        if head and textual:
            text = redact.redact_text(head.decode("utf-8", "replace"), media, self.secrets)
        elif head and _clean_bytes(head, media, self.secrets):
            b64 = base64.b64encode(head).decode("ascii")  # kept only when no secret is inside
        total = size if size is not None and size >= len(content) else len(content)
        truncated = message.truncated if message.truncated is not None else total > len(head)
        dropped = text is None and b64 is None and total > 0  # not kept: described only
        return Body(size=total, sha256=sha, media_type=media, text=text, base64=b64,
                    truncated=truncated or dropped or len(content) > len(head))

    def exchange(self, number: int, record: Record) -> Exchange:
        s = self.secrets
        request = RecordedRequest(
            method=record.method.upper(),
            url=redact.redact_url(record.url, s),
            headers=redact.redact_request_headers(_clean(record.request.headers), s),
            body=self.body(record.request),
        )
        response = None
        if record.status is not None:
            response = RecordedResponse(
                status=record.status, reason=s.scrub(record.reason), http_version=record.http_version,
                headers=redact.redact_response_headers(_clean(record.response.headers), s),
                body=self.body(record.response))
        return Exchange(
            id=number, step=s.scrub(record.step) if record.step else None, started=record.started,
            duration_ms=max(record.duration_ms, 0.0), request=request, response=response,
            error=s.scrub(record.error or "no response") if response is None
            else s.scrub(record.error) if record.error else None,  # with a response: its body broke off
            timings=record.timings, connection=record.connection)


def _as_text(message: Message) -> str | None:
    """The body as text when it is textual or decodes as UTF-8 (small bodies only), else None."""
    if message.content is None:
        return None
    if mediatypes.is_textual(message.media_type):
        return message.content.decode("utf-8", "replace")
    if len(message.content) > TEXT_CAP:
        return None
    try:
        return message.content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _clean_bytes(data: bytes, media_type: str | None, secrets: redact.Secrets) -> bool:
    """Whether bytes kept as base64 hold no known secret and, read as text, nothing redaction would hide
    (a form holding ``password=`` or a token response labelled as binary)."""
    as_latin1 = data.decode("latin-1")
    if secrets.scrub(as_latin1) != as_latin1:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return redact.redact_text(text, media_type) == text


def _clean(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop HTTP/2 pseudo-headers (``:authority``, …) that browsers put into HARs."""
    return [(k, v) for k, v in headers if not k.startswith(":")]
