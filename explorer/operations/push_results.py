"""What a push and a copy return: typed results, each with the trace it recorded.

Rule: plain data, as in ``results.py`` (``Traced``, ``Pulled``); a module of their own, so a pull
creates neither class (each dataclass costs its start-up, issue 17).
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING

from explorer.operations.results import Traced
from explorer.records import record

if TYPE_CHECKING:  # annotations only
    from explorer.protocol.mediatypes import Platform

__all__ = ["Copied", "Pushed"]


@record(kw_only=True)
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


@record(kw_only=True)
class Copied(Pushed):
    source: str
    platform: Platform | None  # the index entry copied; None for a single-platform image or every platform
