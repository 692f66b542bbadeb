"""The trace data model and the only code that reads or writes trace files.

Rule 1: a trace holds facts plus intent: what went on the wire (already
redacted), when, and what the flow made each request FOR (an :class:`Intent`:
step kind, endpoint, repository, digest, index/total, platform and the
transfer id tying one blob's exchanges together), with the step label derived
from it. Explanations and roles are derived later by ``explorer.annotate``,
so a better classifier improves old recordings; a trace without intent
(format 1, an import) is annotated by inference there.

Rule 2: no httpx: rendering a saved trace must load no network code.

Format history (bump ``FORMAT_VERSION`` with one line here on every change):
    1: first format: exchanges with request/response/body/timings/connection,
       ``outcome`` and ``operation`` at the top level.
    2: adds ``intent`` (an object or null) to each exchange; nothing else changes,
       so format-1 files load as they are (``intent`` null).
"""

from __future__ import annotations

import json
import os
from dataclasses import field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, get_args

from explorer import collector
from explorer import jsonfields as fields
from explorer.atomic import write_atomic
from explorer.errors import TraceFormatError
from explorer.intent import BLOB_KINDS, STEP_KINDS, UPLOAD_KINDS, Intent, StepKind
from explorer.records import record

__all__ = [
    "FORMAT_VERSION",
    "TEXT_CAP",
    "Body",
    "Connection",
    "Exchange",
    "BLOB_KINDS",
    "Intent",
    "STEP_KINDS",
    "StepKind",
    "UPLOAD_KINDS",
    "OUTCOME_STATUSES",
    "Outcome",
    "OutcomeStatus",
    "RecordedRequest",
    "RecordedResponse",
    "Timings",
    "Trace",
    "Via",
    "dumps",
    "iso_now",
    "load",
    "loads",
    "read_input",
    "save",
]

FORMAT_VERSION = 2
TEXT_CAP = 64 * 1024  # text bodies (JSON, errors) are kept up to this size; beyond, truncated

Headers = list[tuple[str, str]]


def iso_now() -> str:
    """The current UTC time as ISO-8601 with milliseconds and ``Z``."""
    return iso_time(datetime.now(timezone.utc))


def iso_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@record
class Body:
    """What we know of a message body: always its size and sha256; text kept when small."""

    size: int
    sha256: str  # hex of the bytes as sent/received on the wire
    media_type: str | None = None
    text: str | None = None  # kept for JSON/text bodies up to the recorder's cap
    base64: str | None = None  # kept for small binary bodies (rare)
    truncated: bool = False  # text/base64 is only the first part of the body
    complete: bool = True  # False when the body was abandoned or cut before its end

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "sha256": self.sha256,
            "media_type": self.media_type,
            "text": self.text,
            "base64": self.base64,
            "truncated": self.truncated,
            "complete": self.complete,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Body | None:
        if data is None:
            return None
        d = fields.mapping(data, "body")
        return cls(
            size=fields.integer(d, "size"),
            sha256=fields.string(d, "sha256"),
            media_type=fields.optional_str(d, "media_type"),
            text=fields.optional_str(d, "text"),
            base64=fields.optional_str(d, "base64"),
            truncated=bool(d.get("truncated", False)),
            complete=bool(d.get("complete", True)),
        )


@record
class RecordedRequest:
    method: str
    url: str
    headers: Headers = field(default_factory=list)
    body: Body | None = None

    def header(self, name: str) -> str | None:
        return _first(self.headers, name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": [list(h) for h in self.headers],
            "body": self.body.to_dict() if self.body else None,
        }

    @classmethod
    def from_dict(cls, data: Any) -> RecordedRequest:
        d = fields.mapping(data, "request")
        return cls(
            method=fields.string(d, "method"),
            url=fields.string(d, "url"),
            headers=_headers(d.get("headers", [])),
            body=Body.from_dict(d.get("body")),
        )


@record
class RecordedResponse:
    status: int
    reason: str = ""
    http_version: str = "HTTP/1.1"
    headers: Headers = field(default_factory=list)
    body: Body | None = None

    def header(self, name: str) -> str | None:
        return _first(self.headers, name)

    def header_list(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "http_version": self.http_version,
            "headers": [list(h) for h in self.headers],
            "body": self.body.to_dict() if self.body else None,
        }

    @classmethod
    def from_dict(cls, data: Any) -> RecordedResponse | None:
        if data is None:
            return None
        d = fields.mapping(data, "response")
        return cls(
            status=fields.integer(d, "status"),
            reason=fields.optional_str(d, "reason") or "",
            http_version=fields.optional_str(d, "http_version") or "HTTP/1.1",
            headers=_headers(d.get("headers", [])),
            body=Body.from_dict(d.get("body")),
        )


@record
class Timings:
    """Connection-level phases in milliseconds (None: not applicable or not observed).

    ``connect`` includes ``tls`` (as in HAR); both are None on a reused connection.
    """

    blocked: float | None = None
    connect: float | None = None
    tls: float | None = None
    send: float | None = None
    wait: float | None = None
    receive: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {
            "blocked": self.blocked,
            "connect": self.connect,
            "tls": self.tls,
            "send": self.send,
            "wait": self.wait,
            "receive": self.receive,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Timings:
        if data is None:
            return cls()
        d = fields.mapping(data, "timings")
        return cls(**{k: fields.optional_float(d, k) for k in ("blocked", "connect", "tls", "send", "wait", "receive")})


@record
class Connection:
    """Which TCP connection carried the exchange (local address = a connection id)."""

    local: str | None = None
    remote: str | None = None
    reused: bool = False
    tls: str | None = None  # e.g. "TLSv1.3"

    def to_dict(self) -> dict[str, Any]:
        return {"local": self.local, "remote": self.remote, "reused": self.reused, "tls": self.tls}

    @classmethod
    def from_dict(cls, data: Any) -> Connection | None:
        if data is None:
            return None
        d = fields.mapping(data, "connection")
        return cls(
            local=fields.optional_str(d, "local"),
            remote=fields.optional_str(d, "remote"),
            reused=bool(d.get("reused", False)),
            tls=fields.optional_str(d, "tls"),
        )


@record
class Via:
    """How a recording proxy received this exchange from its client (``regexplore proxy``).

    The exchange itself is recorded as it went upstream (the real registry, realm or
    storage URL); ``url`` is the (redacted) proxy URL the client asked for, ``client``
    numbers the client's connection to the proxy (1, 2, … in order of arrival).
    """

    proxy: str
    url: str
    client: int

    def to_dict(self) -> dict[str, Any]:
        return {"proxy": self.proxy, "url": self.url, "client": self.client}

    @classmethod
    def from_dict(cls, data: Any) -> Via | None:
        if data is None:
            return None
        d = fields.mapping(data, "via")
        return cls(proxy=fields.string(d, "proxy"), url=fields.string(d, "url"), client=fields.integer(d, "client"))


@record
class Exchange:
    """One HTTP request and its response (or the error that replaced it): one hop on the wire."""

    id: int
    step: str | None
    started: str
    duration_ms: float
    request: RecordedRequest
    response: RecordedResponse | None = None
    error: str | None = None
    timings: Timings = field(default_factory=Timings)
    connection: Connection | None = None
    intent: Intent | None = None  # format 2: what the flow made the request for
    via: Via | None = None  # set when a recording proxy forwarded this exchange for another client

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "step": self.step,
            "started": self.started,
            "duration_ms": round(self.duration_ms, 3),
            "request": self.request.to_dict(),
            "response": self.response.to_dict() if self.response else None,
            "error": self.error,
            "timings": self.timings.to_dict(),
            "connection": self.connection.to_dict() if self.connection else None,
            "intent": self.intent.to_dict() if self.intent else None,
        }
        if self.via is not None:
            out["via"] = self.via.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Exchange:
        d = fields.mapping(data, "exchange")
        response = RecordedResponse.from_dict(d.get("response"))
        error = fields.optional_str(d, "error")
        if response is None and error is None:
            raise TraceFormatError("an exchange has neither a response nor an error")
        return cls(
            id=fields.integer(d, "id"),
            step=fields.optional_str(d, "step"),
            started=fields.string(d, "started"),
            duration_ms=float(fields.number(d, "duration_ms")),
            request=RecordedRequest.from_dict(d.get("request")),
            response=response,
            error=error,
            timings=Timings.from_dict(d.get("timings")),
            connection=Connection.from_dict(d.get("connection")),
            intent=Intent.from_dict(d.get("intent")),
            via=Via.from_dict(d.get("via")),
        )


OutcomeStatus = Literal["ok", "failed", "interrupted"]
OUTCOME_STATUSES: tuple[str, ...] = get_args(OutcomeStatus)


@record
class Outcome:
    """How the traced operation ended: ``ok``, ``failed`` or ``interrupted``, with the message."""

    status: OutcomeStatus = "ok"
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message}

    @classmethod
    def from_dict(cls, data: Any) -> Outcome:
        if data is None:
            return cls()
        d = fields.mapping(data, "outcome")
        status = fields.string(d, "status")
        if status not in OUTCOME_STATUSES:
            raise TraceFormatError(f"unknown outcome status {status!r}")
        return cls(status=status,  # type: ignore[arg-type]  # checked against OUTCOME_STATUSES
                   message=fields.optional_str(d, "message"))


@record
class Trace:
    """A recorded operation: the command that ran and every exchange, in start order."""

    command: list[str] = field(default_factory=list)
    operation: str | None = None  # "pull", "push", ... (the flow's verb)
    target: str | None = None  # the image reference or registry the operation was about
    created: str = field(default_factory=iso_now)
    tool: dict[str, str] = field(default_factory=lambda: {"name": "regexplore", "version": _version()})
    exchanges: list[Exchange] = field(default_factory=list)
    outcome: Outcome = field(default_factory=Outcome)

    def wall_ms(self) -> float:
        """Milliseconds from the first request's start to the last exchange's end (0 without exchanges)."""
        spans = []
        for ex in self.exchanges:
            try:
                start = datetime.fromisoformat(ex.started).timestamp() * 1000
            except ValueError:
                continue
            spans.append((start, start + ex.duration_ms))
        return max(end for _, end in spans) - min(start for start, _ in spans) if spans else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "tool": dict(self.tool),
            "created": self.created,
            "command": list(self.command),
            "operation": self.operation,
            "target": self.target,
            "outcome": self.outcome.to_dict(),
            "exchanges": [e.to_dict() for e in self.exchanges],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Trace:
        d = fields.mapping(data, "trace")
        fmt = d.get("format")
        if not isinstance(fmt, int) or isinstance(fmt, bool):
            raise TraceFormatError(
                "not a regexplore trace (no integer 'format' field)",
                "pass a file written by `regexplore trace ...` or `regexplore import ...`",
            )
        if fmt > FORMAT_VERSION:
            raise TraceFormatError(
                f"trace format {fmt} is newer than this regexplore understands ({FORMAT_VERSION})",
                "upgrade regexplore: pip install -U regexplore",
            )
        if fmt < 1:
            raise TraceFormatError(f"unknown trace format {fmt}")
        tool = d.get("tool") or {}
        if not isinstance(tool, dict):
            raise TraceFormatError("'tool' must be an object")
        command = d.get("command") or []
        if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
            raise TraceFormatError("'command' must be a list of strings")
        exchanges = d.get("exchanges")
        if not isinstance(exchanges, list):
            raise TraceFormatError("'exchanges' must be a list")
        return cls(
            command=list(command),
            operation=fields.optional_str(d, "operation"),
            target=fields.optional_str(d, "target"),
            created=fields.string(d, "created"),
            tool={str(k): str(v) for k, v in tool.items()},
            exchanges=[Exchange.from_dict(e) for e in exchanges],
            outcome=Outcome.from_dict(d.get("outcome")),
        )


def dumps(trace: Trace) -> str:
    """The trace as the JSON text written to disk: UTF-8, stable key order, one exchange per line.

    One line per exchange keeps diffs of recordings readable, and lets json use
    its C encoder (``indent`` would force the pure-Python one: 10x slower).
    """
    data = trace.to_dict()
    exchanges = data.pop("exchanges")
    # what json.dumps(…, ensure_ascii=False) builds per call, without its check for reference cycles: to_dict
    # builds a tree (a set of the containers seen, added to and removed from for each: 12 % of the encoding)
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    head = encode(data)[:-1]
    if not exchanges:
        return head + ', "exchanges": []}\n'
    lines = ",\n".join(map(encode, exchanges))
    return f'{head}, "exchanges": [\n{lines}\n]}}\n'


def loads(text: str | bytes) -> Trace:
    """The trace in ``text``, built with the cyclic collector paused (``explorer.collector``: a trace of 5,000
    exchanges is some 100,000 objects, none in a cycle; the collector's passes over them were 12 % of loading)."""
    with collector.paused():
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            raise TraceFormatError(
                f"not a JSON trace file ({exc.__class__.__name__}: {exc})",
                "pass a file written by `regexplore trace ...`",
            ) from None
        return Trace.from_dict(data)


def read_input(path: str | os.PathLike[str], what: str = "trace file") -> bytes:
    """The bytes of an input file; TraceFormatError (exit 2) saying ``<what> not found: <path>`` etc."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise TraceFormatError(f"{what} not found: {p}", "check the path") from None
    except IsADirectoryError:
        raise TraceFormatError(f"{p} is a directory, not a {what}") from None
    except OSError as exc:
        raise TraceFormatError(f"cannot read {p}: {exc.strerror}") from None


def load(path: str | os.PathLike[str]) -> Trace:
    """Read a trace file; raises TraceFormatError (a UsageError) for anything we cannot read."""
    p = Path(path)
    raw = read_input(p)
    try:
        return loads(raw)
    except TraceFormatError as exc:
        raise TraceFormatError(f"{p}: {exc.message}", exc.hint) from None


def save(trace: Trace, path: str | os.PathLike[str]) -> Path:
    """Write a trace atomically (temp file + rename)."""
    return write_atomic(path, dumps(trace))


# --- small validating accessors (the loader must raise TraceFormatError, never KeyError) ---


def _version() -> str:
    from explorer import __version__

    return __version__


def _first(headers: Headers, name: str) -> str | None:
    lname = name.lower()
    for k, v in headers:
        if k.lower() == lname:
            return v
    return None


def _headers(data: Any) -> Headers:
    if not isinstance(data, list):
        raise TraceFormatError("headers must be a list of [name, value] pairs")
    out: Headers = []
    for pair in data:
        if (
            not isinstance(pair, (list, tuple))
            or len(pair) != 2
            or not isinstance(pair[0], str)
            or not isinstance(pair[1], str)
        ):
            raise TraceFormatError("headers must be a list of [name, value] pairs")
        out.append((pair[0], pair[1]))
    return out
