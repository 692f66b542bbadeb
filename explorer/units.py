"""Human units for sizes and durations, the same everywhere regexplore prints them.

Rule: pure; every layer may use it. Sizes use decimal units, as
registries and docker print them.
"""

from __future__ import annotations

__all__ = ["human_duration", "human_size"]


def human_size(n: int | None) -> str:
    """Decimal units as registries and Docker print them: ``532 B``, ``1.2 KB``, ``34 MB``."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_duration(ms: float) -> str:
    """``0.42 ms``, ``17 ms``, ``1.3 s``, ``2.5 min``."""
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s" if ms < 60_000 else f"{ms / 60_000:.1f} min"
