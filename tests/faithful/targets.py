"""A registry under comparison, as the flows see it: a host, maybe credentials, and a way to run traced operations.

Rule: a ``Target`` hides whether it is the built-in sandbox or CNCF distribution;
the flows (flows.py) drive both through the same CLI invocations and the same
flow functions, so any difference in their traces comes from the registry.
Every trace a target writes is validated against the trace JSON Schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from explorer import trace as tracefile
from explorer.client.registry import RegistryClient
from explorer.client.credentials import Credentials
from explorer.errors import ExplorerError
from explorer.client.session import ClientOptions, TraceSession
from explorer.trace import Trace
from tests.infra.runner import run_cli
from tests.infra.schemas import validate_trace

__all__ = ["Target", "Traced"]


@dataclass
class Traced:
    """One traced operation: its exit code (1 = failed), what it printed, and its trace."""

    code: int
    stdout: str
    stderr: str
    trace: Trace


@dataclass
class Target:
    """``label`` names the registry in assertion messages (``sandbox token+redirect``)."""

    label: str
    host: str  # "127.0.0.1:PORT"
    username: str | None
    password: str | None
    workdir: Path

    def cli(self, *args: str, name: str, password: str | None = None) -> Traced:
        """``regexplore trace <args> -o <workdir>/<name>`` with this registry's credentials (or ``password``)."""
        out = self.workdir / name
        extra: list[str] = []
        stdin = ""
        if self.username:
            extra = ["--username", self.username, "--password-stdin"]
            stdin = f"{password or self.password}\n"
        run = run_cli("trace", *args, "-o", str(out), *extra, stdin=stdin)
        return Traced(run.code, run.stdout, run.stderr, _load(out))

    def session(self, operation: str, body: Callable[[RegistryClient], object], *, name: str) -> Traced:
        """Run ``body(client)`` in a ``TraceSession`` (flow functions, no CLI); a registry error is exit code 1."""
        out = self.workdir / name
        credentials = Credentials(self.username, self.password) if self.username else None
        session = TraceSession(operation, self.host, out, argv=[operation],
                               options=ClientOptions(credentials=credentials))
        code, stderr = 0, ""
        try:
            with session.running():
                body(session.client(self.host))
        except ExplorerError as exc:
            code, stderr = 1, f"error: {exc.message}"
        return Traced(code, "", stderr, _load(out))


def _load(path: Path) -> Trace:
    validate_trace(path)
    return tracefile.load(path)
