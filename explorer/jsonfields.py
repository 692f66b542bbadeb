"""Reading the fields of an untrusted JSON object (a trace file): each reader checks the type it returns.

Rule: every wrong shape is a ``TraceFormatError``
naming the field, never a ``KeyError``/``TypeError`` deep in a renderer.
"""

from __future__ import annotations

from typing import Any

from explorer.errors import TraceFormatError

__all__ = ["integer", "mapping", "number", "optional_float", "optional_int", "optional_str", "string"]


def mapping(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TraceFormatError(f"{what} must be a JSON object")
    return data


def string(d: dict[str, Any], key: str) -> str:
    v = d.get(key)
    if not isinstance(v, str):
        raise TraceFormatError(f"field {key!r} must be a string")
    return v


def optional_str(d: dict[str, Any], key: str) -> str | None:
    v = d.get(key)
    if v is not None and not isinstance(v, str):
        raise TraceFormatError(f"field {key!r} must be a string or null")
    return v


def number(d: dict[str, Any], key: str) -> float | int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TraceFormatError(f"field {key!r} must be a number")
    return v


def integer(d: dict[str, Any], key: str) -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise TraceFormatError(f"field {key!r} must be an integer")
    return v


def optional_int(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
        raise TraceFormatError(f"field {key!r} must be an integer or null")
    return v


def optional_float(d: dict[str, Any], key: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TraceFormatError(f"field {key!r} must be a number or null")
    return float(v)
