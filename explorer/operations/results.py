"""What the operations return: typed results, each with the trace it recorded.

Rule: plain data. Fields are facts (digests, counts, files written); the CLI words them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.units import human_duration, human_size

if TYPE_CHECKING:  # annotations only: a pull imports neither the probe flow nor more than it uses
    from explorer.flows.probe import Feature, ProbeResult
    from explorer.protocol.mediatypes import Platform
    from explorer.trace import Trace

__all__ = ["Copied", "Deleted", "Listed", "ManifestFound", "Probed", "Pulled", "Pushed", "Referrers",
           "Rendered", "Tagged", "Traced"]


@dataclass(kw_only=True)
class Traced:
    """Every traced operation's result: the trace (always), the file it went to (when asked for one)."""

    trace: Trace = field(repr=False)
    trace_file: Path | None = None

    def summary(self) -> str:
        """``15 exchanges, 10.3 KB down, 2.1 KB up, 181 ms``."""
        exchanges = self.trace.exchanges
        down = sum(e.response.body.size for e in exchanges if e.response and e.response.body)
        up = sum(e.request.body.size for e in exchanges if e.request.body)
        parts = [f"{len(exchanges)} exchanges", f"{human_size(down)} down"]
        if up:
            parts.append(f"{human_size(up)} up")
        parts.append(human_duration(self.trace.wall_ms()))
        return ", ".join(parts)


@dataclass(kw_only=True)
class Pulled(Traced):
    reference: str
    digest: str  # of the platform's manifest
    media_type: str
    platform: Platform | None  # the index entry picked; None for a single-platform image
    index_digest: str | None
    config_digest: str | None
    layers: int  # every one downloaded and verified
    bytes_downloaded: int
    layout: Path | None  # the OCI image layout written, if asked for
    warnings: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class Pushed(Traced):
    reference: str
    digest: str  # of the root manifest or index
    media_type: str
    uploaded: int  # blobs sent
    mounted: int  # blobs mounted from another repository
    skipped: int  # blobs already there
    manifests_pushed: int
    manifests_skipped: int
    referrers_tags: list[str] = field(default_factory=list)  # fallback tags updated for subjects

    def counts(self, verb: str = "uploaded") -> str:
        """``3 blobs uploaded, 1 mounted, 1 skipped, manifest sha256:…``."""
        parts = [f"{self.uploaded} blobs {verb}"]
        if self.mounted:
            parts.append(f"{self.mounted} mounted")
        parts.append(f"{self.skipped} skipped")
        parts.append(f"manifest {self.digest}" + ("" if self.manifests_pushed else " (already there)"))
        return ", ".join(parts)


@dataclass(kw_only=True)
class Copied(Pushed):
    source: str
    platform: Platform | None  # the index entry copied; None for a single-platform image or every platform


@dataclass(kw_only=True)
class Listed(Traced):
    """``tags`` (tag names) and ``catalog`` (repository names), every page followed."""

    items: list[str]
    pages: int


@dataclass(kw_only=True)
class ManifestFound(Traced):
    reference: str
    digest: str
    media_type: str
    data: bytes  # exactly as served

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass(kw_only=True)
class Tagged(Traced):
    source: str
    reference: str  # the new tag
    digest: str
    pushed: bool  # False: the new tag already named this manifest


@dataclass(kw_only=True)
class Deleted(Traced):
    reference: str
    referrers_tag: str | None  # the subject's fallback tag, when it was updated


@dataclass(kw_only=True)
class Referrers(Traced):
    reference: str
    subject: str
    referrers: list[dict[str, Any]]  # descriptors
    via: str  # "referrers API" or "tag sha256-<hex>"


@dataclass(kw_only=True)
class Probed(Traced):
    registry: str
    result: ProbeResult  # ``result.features``: name -> Feature(supported, evidence, note)

    @property
    def features(self) -> dict[str, Feature]:
        return self.result.features

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict()


@dataclass
class Rendered:
    """A render or export: its text, and the file written (None when not asked to write one)."""

    format: str
    text: str
    file: Path | None = None
    warnings: list[str] = field(default_factory=list)

