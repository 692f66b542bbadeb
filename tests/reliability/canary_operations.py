"""Every traced operation, run with canaries planted, against one target (for ``test_canary_operations.py``).

A ``Target`` is a registry behind a fault proxy (``proxy``: cookies set on
every answer, rules added by the tests) with the credentials to use and a way
to collect, afterwards, every secret that went over the wire. ``perform_all``
runs ``regexplore --debug trace OPERATION`` for each of ``OPERATIONS`` in turn
on a fresh repository: push (4 KiB chunks, so upload URLs with ``_state`` are
used several times), pull, copy, tags, catalog, manifest, tag, referrers,
delete, each with credentials from another source (``SOURCE_OF``).
``redaction_markers`` says what the trace of each must show redacted: proof
that the canaries were really there.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.infra.fault_proxy import FaultProxy
from tests.infra.runner import Run, run_cli
from tests.reliability.canary_outputs import Canaries
from tests.reliability.canary_sources import UNKNOWN_MARKERS, login

__all__ = [
    "ECHOED", "OPERATIONS", "SOURCE_OF", "Scenario", "Target", "arguments", "perform_all", "redaction_markers",
    "run_traced",
]

OPERATIONS = ("push", "pull", "copy", "tags", "catalog", "manifest", "tag", "referrers", "delete")
SOURCE_OF = {
    "push": "stdin", "pull": "flag", "copy": "copy-creds", "tags": "docker-config", "catalog": "credential-helper",
    "manifest": "identity-token", "tag": "flag=", "referrers": "stdin", "delete": "docker-config",
}
#: the request (method, path regex) at which each operation is made to fail by an echoing registry
ECHOED = {
    "push": ("PUT", r"/blobs/uploads/.*_state="), "pull": ("GET", r"/manifests/"), "copy": ("PUT", r"/manifests/"),
    "tags": ("GET", r"/tags/list"), "catalog": ("GET", r"/_catalog"), "manifest": ("GET", r"/manifests/"),
    "tag": ("PUT", r"/manifests/"), "referrers": ("GET", r"/referrers/|/manifests/sha256-"),
    "delete": ("DELETE", r"/manifests/"),
}
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass
class Target:
    """Where the operations run, with whose credentials, and how to collect every secret afterwards."""

    name: str
    proxy: FaultProxy  # the registry's origin as clients see it
    username: str
    password: str
    canaries: Callable[[], Canaries]
    identity_token: Callable[[], str] | None = None  # a refresh token its token server knows
    token_auth: bool = True
    refresh_tokens: bool = True  # token answers carry a refresh token, so later token requests are POST grants
    redirect: bool = True  # blob GETs answer 307 to a signed CDN URL

    @property
    def host(self) -> str:
        return self.proxy.host

    def source(self, operation: str) -> str:
        """Where ``operation`` gets its credentials (a Basic-only registry has no identity tokens)."""
        source = SOURCE_OF[operation]
        return source if source != "identity-token" or self.identity_token else "credential-helper"


@dataclass
class Scenario:
    target: Target
    repository: str  # fresh, pushed by the first operation; ``-copy`` holds the copy
    digest: str  # of the pushed manifest
    runs: dict[str, Run] = field(default_factory=dict)
    traces: dict[str, Path] = field(default_factory=dict)


def arguments(operation: str, host: str, repository: str, digest: str, *, written: str | None = None) -> list[str]:
    """``regexplore trace`` arguments of ``operation`` on ``host/repository`` (``digest``: its manifest);
    push and copy write to ``written`` (default: ``repository``, and ``repository-copy`` for the copy)."""
    image = f"{host}/{repository}"
    return {
        "push": ["push", "--sample", f"{host}/{written or repository}:1", "--chunk-size", "4KiB"],
        "pull": ["pull", f"{image}:1"],
        "copy": ["copy", f"{image}:1", f"{host}/{written or repository + '-copy'}:1"],
        "tags": ["tags", image],
        "catalog": ["catalog", host],
        "manifest": ["manifest", f"{image}:1"],
        "tag": ["tag", f"{image}:1", "2"],
        "referrers": ["referrers", f"{image}@{digest}"],
        "delete": ["delete", f"{image}@{digest}"],
    }[operation]


def run_traced(target: Target, operation: str, args: list[str], workdir: Path, *extra: str) -> tuple[Run, Path]:
    """``regexplore --debug trace ARGS -o … EXTRA`` with the credentials ``target.source(operation)`` gives."""
    source = target.source(operation)
    identity = target.identity_token() if source == "identity-token" and target.identity_token else None
    given = login(source, target.host, target.username, target.password, workdir / f"{operation}-login",
                  identity_token=identity)
    out = workdir / f"{operation}.trace.json"
    with pytest.MonkeyPatch.context() as mp:
        given.apply(mp)
        run = run_cli("--debug", "trace", *args, "-o", str(out), *given.args, *extra, stdin=given.stdin)
    return run, out


def perform_all(target: Target, workdir: Path) -> Scenario:
    """Every operation in ``OPERATIONS`` order on a fresh repository of ``target``."""
    scenario = Scenario(target, f"canary/{target.name}-{secrets.token_hex(3)}", "sha256:" + "0" * 64)
    for operation in OPERATIONS:
        args = arguments(operation, target.host, scenario.repository, scenario.digest)
        run, trace = run_traced(target, operation, args, workdir)
        scenario.runs[operation], scenario.traces[operation] = run, trace
        if operation == "manifest" and _DIGEST.search(run.stdout):
            scenario.digest = _DIGEST.findall(run.stdout)[-1]
    return scenario


def redaction_markers(target: Target, operation: str) -> list[str]:
    """What the trace of ``operation`` must show redacted: proof that each kind of canary was really there."""
    source = target.source(operation)
    markers = ["regexplore_session=<redacted>", *UNKNOWN_MARKERS]  # the proxy's cookies and unknown secrets
    if target.token_auth:
        markers.append("Bearer <redacted>")
        if source == "identity-token":
            markers.append("refresh_token=<redacted>")  # in the OAuth2 POST grants
        elif target.refresh_tokens:  # one token per operation (docker's dance): no later grant, only its answer
            markers.append('\\"refresh_token\\": \\"<redacted>\\"')
        if source != "identity-token":
            markers.append("Basic <redacted>")  # the token request
    else:
        markers.append("Basic <redacted>")
    if operation == "pull" and target.redirect:
        markers.append("Signature=<redacted>")
    if operation == "push":
        markers.append("_state=<redacted>")
    if source.startswith("flag") or source == "copy-creds":
        markers.append({"flag": '"--password", "<redacted>"', "flag=": '"--password=<redacted>"',
                        "copy-creds": '"--src-creds", "<redacted>"'}[source])  # the recorded command line
    return markers
