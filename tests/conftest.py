"""Session fixtures: real distribution registries in four variants, seeded with known images.

Each ``registry_<variant>`` fixture starts its registry (and token server / CDN)
the first time a test asks for it, seeds it with ``skopeo copy`` and stops it at
the end of the session. ``registry`` runs a test once per variant.

Seeded in every variant (do not push to, delete from or tamper with ``test/*``;
use your own repository names for that):

    test/small:1.0   build_sample(layers=3)                        linux/amd64, OCI manifest
    test/multi:1.0   build_sample([linux/amd64, linux/arm64/v8],   OCI index over two manifests
                                  seed="regexplore-multi")

``seeded_images`` maps those names to their ``SampleImage`` (expected digests).
Missing ``docker-registry``/``skopeo``: skip outside CI, fail in CI.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

from explorer.protocol.mediatypes import Platform
from explorer.oci.sample import SampleImage, build_sample
from tests.infra.pulled import live, pull_trace  # noqa: F401  (session fixtures: real pull traces)
from tests.infra.registry import VARIANTS, RunningRegistry, seed, start_registry
from tests.infra.tools import require_tool

SMALL = "test/small:1.0"
MULTI = "test/multi:1.0"

# variant -> (seconds to start, seconds to seed); reported at the end of the run
REGISTRY_TIMINGS: dict[str, tuple[float, float]] = {}


@cache
def _seeded_images() -> dict[str, SampleImage]:
    multi_platforms = [Platform("linux", "amd64"), Platform("linux", "arm64", "v8")]
    return {
        SMALL: build_sample(layers=3),
        MULTI: build_sample(multi_platforms, seed="regexplore-multi"),
    }


@pytest.fixture(scope="session")
def seeded_images() -> dict[str, SampleImage]:
    """``{"test/small:1.0": SampleImage, "test/multi:1.0": SampleImage}``."""
    return _seeded_images()


@pytest.fixture(scope="session")
def registry_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("registries")


def _start_seeded(variant: str, workdir: Path, *, tls: bool = False) -> RunningRegistry:
    require_tool("docker-registry")
    require_tool("skopeo")
    started = time.perf_counter()
    registry = start_registry(variant, workdir, tls=tls)
    ready = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = [
                pool.submit(seed, registry, image, *name.split(":"))
                for name, image in _seeded_images().items()
            ]
            for job in jobs:
                job.result()
    except BaseException:
        registry.stop()
        raise
    REGISTRY_TIMINGS[f"{variant}-tls" if tls else variant] = (ready - started, time.perf_counter() - ready)
    return registry


@pytest.fixture(scope="session")
def registry_anonymous(registry_workdir: Path) -> Iterator[RunningRegistry]:
    registry = _start_seeded("anonymous", registry_workdir)
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def registry_basic(registry_workdir: Path) -> Iterator[RunningRegistry]:
    registry = _start_seeded("basic", registry_workdir)
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def registry_token(registry_workdir: Path) -> Iterator[RunningRegistry]:
    registry = _start_seeded("token", registry_workdir)
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def registry_redirect(registry_workdir: Path) -> Iterator[RunningRegistry]:
    registry = _start_seeded("redirect", registry_workdir)
    yield registry
    registry.stop()


@pytest.fixture(params=VARIANTS)
def registry(request: pytest.FixtureRequest) -> RunningRegistry:
    """Each registry variant in turn (test ids ``[anonymous]``, ``[basic]``, ...)."""
    running: RunningRegistry = request.getfixturevalue(f"registry_{request.param}")
    return running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REGISTRY_TIMINGS:
        parts = [f"{name} {start:.2f}s+{seeding:.2f}s" for name, (start, seeding) in REGISTRY_TIMINGS.items()]
        total = sum(start + seeding for start, seeding in REGISTRY_TIMINGS.values())
        terminalreporter.write_line(f"registries (start+seed): {', '.join(parts)}; total {total:.2f}s")
