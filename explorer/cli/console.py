"""Terminal output for the CLI: progress bars (rich, only on a terminal) and message lines.

Rule: only the CLI imports this module; flows report through ``explorer.flows.progress``.
rich is imported lazily, when a terminal actually gets progress bars. Labels and
messages can hold registry values (tags, platforms, digests): they reach rich
as plain text (control sequences removed, rich markup escaped).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from explorer.printable import printable
from explorer.flows.progress import NullProgress, Progress

__all__ = ["make_progress", "plain"]


def plain(text: str) -> str:
    """``text`` as rich shows it literally: no control sequences, ``[markup]`` escaped."""
    from rich.markup import escape

    return escape(printable(text))


class _RichProgress:
    """One bar per blob transfer plus a total, drawn by rich on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress as RichBars,
            TextColumn,
            TransferSpeedColumn,
        )

        self._bars = RichBars(
            TextColumn("{task.description}", justify="left"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._total = self._bars.add_task("total", total=0)
        self._bars.start()

    def start(self, key: str, label: str, total: int | None) -> None:
        with self._lock:
            self._tasks[key] = self._bars.add_task(plain(label), total=total)
            if total:
                current = self._bars.tasks[self._total].total or 0
                self._bars.update(self._total, total=current + total)

    def advance(self, key: str, amount: int) -> None:
        task = self._tasks.get(key)
        if task is not None:
            self._bars.advance(task, amount)
            self._bars.advance(self._total, amount)

    def finish(self, key: str, note: str | None = None) -> None:
        with self._lock:
            task = self._tasks.pop(key, None)
        if task is not None:
            self._bars.remove_task(task)

    def message(self, text: str) -> None:
        self._bars.update(self._total, description=plain(text))

    def close(self) -> None:
        self._bars.stop()


class _Quiet(NullProgress):
    def close(self) -> None:
        pass


def make_progress(quiet: bool) -> Progress:
    """Bars on a terminal; silence when piped, redirected or ``--quiet``."""
    if quiet or not sys.stderr.isatty() or not sys.stdout.isatty():
        return _Quiet()
    return _RichProgress()
