"""What a request was FOR: the structured intent a flow records with each exchange (trace format 2).

Rule: ``explorer.trace`` re-exports everything here, so callers import it from there.

``Intent.label`` derives the step label diagrams show; ``transfer`` ties one
blob's exchanges together (see docs/trace-format.md, "Intent").
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from explorer import jsonfields as fields
from explorer.errors import TraceFormatError
from explorer.records import record

__all__ = ["BLOB_KINDS", "STEP_KINDS", "UPLOAD_KINDS", "Intent", "StepKind"]

#: what a request is for, recorded by the flow that makes it (closed vocabulary)
StepKind = Literal[
    "ping", "authenticate", "resolve", "fetch-manifest", "fetch-config", "fetch-layer", "fetch-blob",
    "check-blob", "mount", "open-upload", "upload-chunk", "upload-status", "close-upload", "cancel-upload",
    "check-manifest", "push-manifest", "list-tags", "catalog", "referrers", "delete", "other",
]
STEP_KINDS: tuple[str, ...] = get_args(StepKind)
#: kinds that move or check one blob: they belong to a transfer
BLOB_KINDS = frozenset({"fetch-config", "fetch-layer", "fetch-blob", "check-blob", "mount", "open-upload",
                        "upload-chunk", "upload-status", "close-upload", "cancel-upload"})
UPLOAD_KINDS = frozenset({"open-upload", "upload-chunk", "upload-status", "close-upload", "cancel-upload"})


@record(frozen=True)
class Intent:
    """What the flow made a request FOR; recorded with the exchange (format 2), inferred for older traces.

    ``transfer`` ties together every exchange of one blob (HEAD → POST → PATCH…
    → PUT, GET 307 → storage GET, the token request in between, retries and
    resumes): diagrams draw a transfer as one block. ``item`` says what the
    blob or manifest is (``config``, ``layer``, ``manifest``, ``index``);
    ``index``/``total`` count layers or pages; ``source`` is the repository the
    bytes come from (a mount's ``from``, a copy's source).
    """

    kind: StepKind
    endpoint: str | None = None  # the spec's endpoint id, "end-3"; None for token and storage requests
    repository: str | None = None
    digest: str | None = None
    item: str | None = None  # config | layer | manifest | index | tag
    index: int | None = None
    total: int | None = None
    platform: str | None = None  # "linux/arm64/v8"
    transfer: str | None = None
    source: str | None = None

    def but(self, **changes: Any) -> Intent:
        """A copy with some fields changed (``dataclasses.replace``, in half its time: the recorder makes one
        a request, annotation one an inferred storage hop; an unknown field is a ``TypeError`` all the same)."""
        return Intent(**{**self.__dict__, **changes})

    @property
    def what(self) -> str:
        """``config``, ``layer 2/5``, ``manifest linux/amd64``, ``index``: the item with its counter."""
        if self.item == "layer" and self.index is not None:
            return f"layer {self.index}/{self.total}" if self.total else f"layer {self.index}"
        if self.item in ("manifest", "index") and self.platform:
            return f"{self.item} {self.platform}"
        return self.item or ("blob" if self.kind in BLOB_KINDS else "manifest")

    def label(self, *, skipped: bool = False) -> str:
        """The step label diagrams show, derived from the intent alone (``fetch layer 2/5``)."""
        kind, what = self.kind, self.what
        if skipped:
            return f"{what} already present, skipped"
        if kind in UPLOAD_KINDS:
            return f"{'copy' if self.source else 'upload'} {what}"
        fixed = {"ping": "ping", "authenticate": "authenticate", "resolve": "resolve tag",
                 "referrers": "list referrers", "other": "request"}
        if kind in fixed:
            return fixed[kind]
        if kind == "fetch-manifest":
            return "fetch manifest" + (f" {self.platform}" if self.platform else "")
        if kind in ("fetch-config", "fetch-layer", "fetch-blob"):
            return f"fetch {what}"
        if kind in ("check-blob", "mount"):
            return f"{'check' if kind == 'check-blob' else 'mount'} {what}"
        if kind in ("check-manifest", "push-manifest"):
            if self.item == "tag":
                return "update referrers tag"
            return f"push {what}"
        if kind in ("list-tags", "catalog"):
            noun = "tags" if kind == "list-tags" else "repositories"
            return f"list {noun} page {self.index}" if self.index else f"list {noun}"
        return "delete blob" if self.endpoint == "end-10" else "delete manifest"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Any) -> Intent | None:
        if data is None:
            return None
        d = fields.mapping(data, "intent")
        kind = d.get("kind")
        if kind not in STEP_KINDS:
            raise TraceFormatError(f"unknown intent kind {kind!r}")
        texts = {k: fields.optional_str(d, k) for k in ("endpoint", "repository", "digest", "item", "platform",
                                             "transfer", "source")}
        numbers = {k: fields.optional_int(d, k) for k in ("index", "total")}
        return cls(kind=kind, **texts, **numbers)
