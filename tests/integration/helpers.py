"""Shared by the push/copy/API integration tests: run a traced command, read its trace back."""

from __future__ import annotations

from pathlib import Path

from explorer import trace as tracefile
from explorer.trace import Trace
from tests.infra.runner import Run, login_args, run_cli
from tests.infra.schemas import validate_trace
from tests.infra.traces import signature

__all__ = ["core_signature", "traced", "user_pass"]


def user_pass(registry) -> list[str]:
    """``--dest-creds USER:PASS`` style value list for copy, or nothing for anonymous."""
    return [f"{registry.username}:{registry.password}"] if registry.username else []


def traced(registry, tmp_path: Path, *args: str, name: str, creds: bool = True) -> tuple[Run, Trace]:
    """Run ``regexplore trace <args> --plain-http -o tmp_path/name`` with the registry's credentials; the trace
    validated. ``--plain-http``: these tests follow the operations; the https probe that a loopback registry
    gets without it is tested in test_scheme.py and test_pull.py."""
    extra, stdin = login_args(registry) if creds else ([], "")
    out = tmp_path / name
    run = run_cli("trace", *args, "--plain-http", "-o", str(out), *extra, stdin=stdin)
    validate_trace(out)
    return run, tracefile.load(out)


def core_signature(trace: Trace) -> list[tuple[str, str, int | None]]:
    """``signature`` without the ping (200 or 401 by variant), the auth dance (401s and token hops) and
    redirect hops: the same in every variant."""
    return [
        (method, kind, status)
        for method, kind, status in signature(trace)
        if status not in (401, 307) and kind not in ("token", "storage", "end-1")
    ]
