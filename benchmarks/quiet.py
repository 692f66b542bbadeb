"""Wait for a quiet machine before a page run: dirty pages written out, the CPUs idle.

    settled = settle()           # os.sync(), then 1-s samples of /proc/stat until one is 90 % idle
    settled.line()               # "Before it began the machine was 97 % idle (waited 3 s after `sync`)."

A run that starts right after the test suite (three minutes of both cores and the registries'
files still being written out) measured every client slower, and unevenly: in one such run
skopeo's pull-big took 1.63 s of CPU against 1.26 s in the run before it, ours 0.84 against 0.42
(``findings.md``, late night of December 3). Waiting does not make a noisy neighbour quiet; the
page says how idle the machine was, so that a reader can tell such a run from a quiet one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settled", "cpu_idle", "settle"]

_STAT = Path("/proc/stat")


@dataclass(frozen=True)
class Settled:
    idle: float | None  # the last sample's idle share of all CPUs (None: no /proc/stat)
    waited: float  # seconds from the sync to that sample's end
    quiet: bool  # the sample reached the wanted share before the timeout

    def line(self) -> str:
        if self.idle is None:
            return "The machine's idle share is unknown here (no /proc/stat)."
        if self.quiet:
            return f"Before it began the machine was {self.idle:.0%} idle (waited {self.waited:.0f} s after `sync`)."
        return (f"The machine did not settle: {self.idle:.0%} idle after {self.waited:.0f} s "
                "(other work was running; read this run's ratios with that in mind).")


def _times() -> tuple[int, int] | None:
    """(idle jiffies, all jiffies) of all CPUs; iowait counts as busy (writeback is what we wait out)."""
    try:
        fields = _STAT.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    values = [int(v) for v in fields[1:]]
    return values[3], sum(values[:8])  # user nice system idle iowait irq softirq steal


def cpu_idle(seconds: float = 1.0) -> float | None:
    """The idle share of all CPUs over the next ``seconds`` (0.0–1.0), or None without /proc/stat."""
    before = _times()
    time.sleep(seconds)
    after = _times()
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def settle(want: float = 0.9, timeout: float = 60.0, sample: float = 1.0) -> Settled:
    """``os.sync()``, then sample until the CPUs are ``want`` idle or ``timeout`` seconds have passed."""
    began = time.monotonic()
    os.sync()
    while True:
        idle = cpu_idle(sample)
        waited = time.monotonic() - began
        if idle is None or idle >= want or waited >= timeout:
            return Settled(idle, waited, idle is not None and idle >= want)
