"""The values annotation produces: participants, annotated exchanges, the trace summary.

Rule: frozen dataclasses only; no logic beyond small derived properties.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from explorer.annotate.texts import StepCounter, one_line
from explorer.trace import Exchange, Intent, OutcomeStatus, Trace
from explorer.units import human_duration, human_size

__all__ = ["CLIENT", "AnnotatedExchange", "AnnotatedTrace", "ErrorInfo", "Participant", "Role", "Summary"]

#: the typed role of a participant; ``Participant.role`` is only its display name ("Registry 2")
Role = Literal["client", "registry", "auth", "storage", "other"]


@dataclass(frozen=True)
class Participant:
    """A lane of the sequence diagram: ``id`` is a safe identifier (``[A-Za-z0-9]+``)."""

    id: str  # "Client", "Registry", "Registry2", "Auth", "Storage", "Other"
    role: str  # display name: "Client", "Registry", "Registry 2", ...
    host: str  # netloc ("" for the client)
    kind: Role = "other"  # what the participant is: compare this, never the display name


CLIENT = Participant("Client", "Client", "", "client")


@dataclass(frozen=True)
class ErrorInfo:
    """One entry of an ``{"errors": [...]}`` body, named with the spec's meaning."""

    code: str
    message: str
    meaning: str
    oci_id: str | None  # "code-7"

    @property
    def line(self) -> str:
        ref = f" ({self.oci_id})" if self.oci_id else ""
        extra = f": {self.message}" if self.message and self.message.lower() != self.meaning.lower() else ""
        return one_line(f"{self.code}{ref} {self.meaning}{extra}")


@dataclass(frozen=True)
class AnnotatedExchange:
    exchange: Exchange
    number: int  # the exchange's id, the one number every output shows (its position if ids repeat)
    participant: Participant
    endpoint_id: str | None  # "end-3"; None for token, storage and unknown requests
    endpoint: str  # short title: "pull manifest", "token request", "redirect to storage"
    meaning: str  # one line from the spec table
    request_label: str
    response_label: str
    why: str
    errors: tuple[ErrorInfo, ...]
    step: str | None  # the label drawn: recorded, or derived from the intent (imports)
    family: str | None  # what the step is, without its counter (from the intent: "fetch-layer layer")
    counter: StepCounter | None  # index/total of the layer or page (from the intent)
    kind: str  # shape of the exchange, equal for "the same kind of exchange"
    failed: bool  # no response (connection error)
    unusual: bool  # failed, unexpected error status, or a notable fallback
    retry_of: int | None  # number of the earlier exchange this one repeats after a 401
    bytes_down: int
    bytes_up: int
    intent: Intent = Intent("other")  # recorded (format 2) or inferred: kind, digest, transfer, …

    @property
    def transfer(self) -> str | None:
        """The id tying this exchange to the other exchanges of one blob (None: not part of a transfer)."""
        return self.intent.transfer

    @property
    def https_probe(self) -> bool:
        """A failed https attempt the client then made over plain http: not a failure, not replayed."""
        return self.exchange.response is None and not self.failed

    @property
    def note(self) -> str:
        """``end-3 · Fetch manifest: <meaning>``; "" when the request is not one we know."""
        head = f"{self.endpoint_id} · {self.endpoint}" if self.endpoint_id else self.endpoint
        return f"{head}: {self.meaning}" if self.meaning else ""


@dataclass(frozen=True)
class Summary:
    title: str
    operation: str | None
    target: str | None
    exchanges: int
    failed: int
    bytes_down: int
    bytes_up: int
    wall_ms: float
    participants: tuple[Participant, ...]
    outcome: OutcomeStatus
    outcome_message: str | None

    @property
    def line(self) -> str:
        return (f"{self.exchanges} exchanges · {human_size(self.bytes_down)} down · "
                f"{human_size(self.bytes_up)} up · {human_duration(self.wall_ms)}")


@dataclass(frozen=True)
class AnnotatedTrace:
    trace: Trace
    participants: tuple[Participant, ...]  # Client first, then role order
    exchanges: tuple[AnnotatedExchange, ...]
    summary: Summary
