"""Real pull traces of the seeded registries, recorded once per session and variant, for the export tests.

Session fixtures, registered for the whole suite by tests/conftest.py.

``pull_trace(variant)`` records ``trace pull test/small:1.0`` against ``registry_<variant>``
(text bodies only, as by default); ``pull_trace(variant, keep_bodies=True)`` adds
``--keep-bodies 1MiB`` so blobs are in the trace (what cassettes need to replay).
Registries start only when a test asks for their variant.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.infra.registry import RunningRegistry
from tests.infra.runner import login_args, run_cli

SMALL = "test/small:1.0"


def script_env(registry: RunningRegistry) -> dict[str, str]:
    """What an exported script reads its credentials from."""
    if not registry.username:
        return {}
    return {"REGISTRY_USERNAME": registry.username, "REGISTRY_PASSWORD": registry.password or ""}


@pytest.fixture(scope="session")
def live(request: pytest.FixtureRequest) -> Callable[[str], RunningRegistry]:
    """``live("token")`` → the running registry of that variant (started on first use)."""
    return lambda variant: request.getfixturevalue(f"registry_{variant}")


@pytest.fixture(scope="session")
def pull_trace(live: Callable[[str], RunningRegistry],
               tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    recorded: dict[tuple[str, bool], Path] = {}
    folder = tmp_path_factory.mktemp("export-traces")

    def record(variant: str, keep_bodies: bool = False) -> Path:
        key = (variant, keep_bodies)
        if key not in recorded:
            registry = live(variant)
            out = folder / f"pull-{variant}{'-bodies' if keep_bodies else ''}.trace.json"
            args, stdin = login_args(registry)
            extra = ["--keep-bodies", "1MiB"] if keep_bodies else []
            # --plain-http: exports of the pull itself; a trace with the https probe is exported in test_scheme.py
            run = run_cli("trace", "pull", f"{registry.host}/{SMALL}", "-o", str(out), "--jobs", "1", "-q",
                          "--plain-http", *args, *extra, stdin=stdin)
            assert run.code == 0, run.output
            recorded[key] = out
        return recorded[key]

    return record
