"""Fixtures: every sandbox variant for the session, and ``pair``: a sandbox beside its distribution variant.

Sandboxes are session fixtures like the distribution ones (``tests/conftest.py``);
they listen on loopback sockets, so the CLI reaches both kinds the same way.
The pairings are in pairs.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer.sandbox import Sandbox
from tests.faithful.pairs import PAIRINGS, Pair, Pairing
from tests.faithful.targets import Target
from tests.infra.registry import RunningRegistry


@pytest.fixture(scope="session")
def sandboxes() -> Iterator[dict[str, Sandbox]]:
    """``sandboxes[pairing.sandbox_label]``: every variant, started at once (milliseconds), closed at the end."""
    started: dict[str, Sandbox] = {}
    try:
        for pairing in PAIRINGS:
            started[pairing.sandbox_label] = Sandbox(auth=pairing.auth, redirect=pairing.redirect)
        yield started
    finally:
        for sandbox in started.values():
            sandbox.close()


@pytest.fixture(params=PAIRINGS, ids=lambda pairing: pairing.id)
def pair(request: pytest.FixtureRequest, sandboxes: dict[str, Sandbox], tmp_path: Path) -> Pair:
    pairing: Pairing = request.param
    sandbox = sandboxes[pairing.sandbox_label]
    registry: RunningRegistry = request.getfixturevalue(f"registry_{pairing.distribution}")
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "distribution").mkdir()
    login = pairing.auth != "none"
    return Pair(
        pairing,
        Target(f"sandbox {pairing.sandbox_label}", sandbox.registry_host,
               sandbox.username if login else None, sandbox.password if login else None, tmp_path / "sandbox"),
        Target(f"distribution {pairing.distribution}", registry.host, registry.username, registry.password,
               tmp_path / "distribution"),
    )
