"""What a traced operation returns (``Traced``) and what a pull does (``Pulled``), with the trace it recorded.

Rule: plain data. Fields are facts (digests, counts, files written); the CLI words them.
Push's and copy's results are in ``push_results.py``, the other operations' in ``api_results.py``,
a render's in ``outputs.py``: a pull creates no class it does not use (each dataclass costs
its start-up, issue 17).
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.records import record
from explorer.units import human_duration, human_size

if TYPE_CHECKING:  # annotations only
    from explorer.protocol.mediatypes import Platform
    from explorer.trace import Trace

__all__ = ["Pulled", "Traced"]


@record(kw_only=True)
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


@record(kw_only=True)
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
