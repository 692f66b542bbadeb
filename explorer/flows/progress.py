"""The progress contract between flows and whoever shows progress (the CLI's rich bars).

Rule: flows report; they never draw. ``NullProgress`` is the
default so library users and tests get silence.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["NullProgress", "Progress"]


class Progress(Protocol):
    """Called from several threads at once (concurrent blob transfers)."""

    def start(self, key: str, label: str, total: int | None) -> None:
        """A transfer of ``total`` bytes (None: unknown) begins."""

    def advance(self, key: str, amount: int) -> None:
        """``amount`` more bytes of ``key`` were transferred."""

    def finish(self, key: str, note: str | None = None) -> None:
        """The transfer ended (``note``: e.g. "skipped", "mounted")."""

    def message(self, text: str) -> None:
        """A one-line status message (the current step)."""


class NullProgress:
    def start(self, key: str, label: str, total: int | None) -> None:
        pass

    def advance(self, key: str, amount: int) -> None:
        pass

    def finish(self, key: str, note: str | None = None) -> None:
        pass

    def message(self, text: str) -> None:
        pass
