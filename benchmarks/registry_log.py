"""Where a run's wall time goes, seen from the registry: before its first request, at the registry, after.

Rule: stdlib only. The CNCF registry logs every answer it completes (``msg="response completed"``,
or ``... with error``) with the time it completed and how long it took (``http.response.duration``,
a Go duration), so a run's requests are the log lines of its time window. Three parts of a run's wall:

- *before*: process start → the first request reaches the registry (the interpreter or the binary,
  imports, reading the layout; both clients' https probe on loopback is a TLS hello, not an answer);
- *at the registry*: the first request's arrival → the last answer's completion (what the transfer
  itself takes, the registry's work included);
- *after*: the last answer → process end (writing the trace, the interpreter's exit).

Through the 25 ms link the registry answers the latency proxy, not the client: a body the registry
has handed to the proxy but the proxy still forwards (most of a 200 MiB blob) falls in *after*.

Push-big is decided by the registry's own receiving and committing of 200 MiB, the same for any
client; this split shows, in every page run, how much of a client's wall is its start-up and how
much its transfer.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = ["Phases", "answers", "go_duration", "phases", "settled_size"]

_ANSWER = re.compile(r'^time="(?P<time>[^"]+)".*msg="response completed(?: with error)?".*'
                     r'http\.response\.duration="?(?P<duration>[0-9.a-zµ]+)"?')
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}
_PART = re.compile(r"([0-9.]+)(h|ms|m|s|µs|us|ns)")


def go_duration(text: str) -> float:
    """Seconds of a Go ``time.Duration`` as it prints (``1.5s``, ``742.1ms``, ``972.744µs``, ``1m2.5s``)."""
    parts = _PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"not a Go duration: {text!r}")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def answers(text: str) -> list[tuple[float, float]]:
    """(arrival, completion) in seconds since the epoch of every answer the log ``text`` records."""
    found = []
    for line in text.splitlines():
        match = _ANSWER.match(line)
        if match:
            done = datetime.fromisoformat(match["time"]).timestamp()
            found.append((done - go_duration(match["duration"]), done))
    return found


@dataclass(frozen=True)
class Phases:
    before: float  # process start -> the first request's arrival
    at_registry: float  # the first arrival -> the last completion
    after: float  # the last completion -> process end
    requests: int


def phases(log: Path, offset: int, began: float, wall: float, *, settled: int, slack: float = 0.005) -> Phases | None:
    """The phases of the run that began at ``began`` (epoch) and took ``wall`` seconds, from the answers the
    registry logged between bytes ``offset`` and ``settled`` of ``log`` inside that window (None: it logged none)."""
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read(max(settled - offset, 0)).decode("utf-8", "replace")
    # an answer starts after the process did (its duration counts from the handler's start); it is logged just
    # after it was sent, so its logged end may follow the exit of a client that read it and stopped (``slack``)
    inside = [(start, end) for start, end in answers(text) if start >= began and end <= began + wall + slack]
    if not inside:
        return None
    first, last = min(start for start, _ in inside), max(end for _, end in inside)
    return Phases(before=first - began, at_registry=last - first, after=max(began + wall - last, 0.0),
                  requests=len(inside))


def settled_size(log: Path, *, quiet: float = 0.01, limit: float = 0.2) -> int:
    """The log's size once it has not grown for ``quiet`` seconds (at most ``limit``): the registry logs an
    answer after sending it, so its last line can land just after the client has exited."""
    deadline = time.monotonic() + limit
    size = log.stat().st_size
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = log.stat().st_size
        if now == size:
            break
        size = now
    return size
