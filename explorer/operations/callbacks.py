"""A plain function as an operation's progress: the ``ProgressEvent`` it receives, and the adapter.

Rule: no typer, no rich, no printing. A module of its own, imported by ``as_progress`` when it is
given a function: an operation with a ``Progress`` object (the CLI's bars) or none creates no
class of it (each dataclass costs start-up, issue 17).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["CallbackProgress", "ProgressCallback", "ProgressEvent", "ProgressKind"]

ProgressKind = Literal["start", "advance", "finish", "message"]


@dataclass(frozen=True)
class ProgressEvent:
    """What a progress callback receives: ``kind`` is start, advance, finish or message."""

    kind: ProgressKind
    key: str = ""
    label: str = ""
    total: int | None = None
    amount: int = 0
    note: str | None = None


ProgressCallback = Callable[[ProgressEvent], None]


class CallbackProgress:
    """A plain function as the flows' ``Progress`` (called from several threads at once)."""

    def __init__(self, callback: ProgressCallback) -> None:
        self.callback = callback

    def start(self, key: str, label: str, total: int | None) -> None:
        self.callback(ProgressEvent("start", key, label, total))

    def advance(self, key: str, amount: int) -> None:
        self.callback(ProgressEvent("advance", key, amount=amount))

    def finish(self, key: str, note: str | None = None) -> None:
        self.callback(ProgressEvent("finish", key, note=note))

    def message(self, text: str) -> None:
        self.callback(ProgressEvent("message", label=text))
