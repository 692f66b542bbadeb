"""Run a command and measure it: wall time, CPU time (user + system) and peak RSS of the child,
and the CPU time a server process (the registry) spent while it ran.

Rule: stdlib only; ``os.wait4`` gives the child's own rusage, so nothing of the
benchmark driver is counted. The server's CPU is the difference of its /proc
``utime + stime`` before and after: on a 2-core machine the registry and the client
share the cores, and what the registry spends bounds what any client can reach.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mib: float
    server_cpu: float | None = None  # the server's CPU seconds during the run (``server_pid``)
    began: float = 0.0  # seconds since the epoch when the process was started (to find its requests in a log)


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss_mib(self) -> float:
        return max(s.rss_mib for s in self.samples)

    @property
    def server_cpu(self) -> float | None:
        spent = [s.server_cpu for s in self.samples if s.server_cpu is not None]
        return statistics.median(spent) if spent else None


class CommandFailed(RuntimeError):
    pass


def run(argv: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None,
        server_pid: int | None = None) -> Sample:
    """Run ``argv`` to completion (output discarded unless it fails) and measure it.

    Peak RSS is the child's ``VmHWM`` polled from /proc every 2 ms: ``ru_maxrss`` of a
    forked child also counts the parent's pages it shared before ``exec``.
    """
    server_before = process_cpu(server_pid) if server_pid is not None else None
    began, start = time.time(), time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    peak_kib = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak_kib = max(peak_kib, _vm_hwm_kib(proc.pid))
        time.sleep(0.002)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise CommandFailed(f"{' '.join(argv)} exited {proc.returncode}: {err.strip()[-500:]}")
    server = None
    if server_before is not None:  # the server ran when the command started (server_pid given)
        after = process_cpu(server_pid)  # type: ignore[arg-type]
        server = after - server_before if after is not None else None
    return Sample(wall=wall, cpu=usage.ru_utime + usage.ru_stime, rss_mib=peak_kib / 1024, server_cpu=server,
                  began=began)


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a running process so far (/proc/PID/stat), None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()  # the name, in parentheses, may hold spaces
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: fields 14 and 15


def _vm_hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
