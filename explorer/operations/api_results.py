"""What the registry API operations return (tags, catalog, manifest, tag, delete, referrers, probe).

Rule: plain data, as ``results.py`` (whose ``Traced`` each extends); apart from it so that a
pull does not create these classes (start-up, issue 17).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from explorer.operations.results import Traced

if TYPE_CHECKING:  # annotations only
    from explorer.flows.probe import Feature, ProbeResult

__all__ = ["Deleted", "Listed", "ManifestFound", "Probed", "Referrers", "Tagged"]


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
