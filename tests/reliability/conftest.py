"""Fixtures for the reliability tests: fault proxies in front of the real registries, and a bigger image.

``front(registry, cdn=False, token=False)`` starts a ``FaultProxy`` in front of
the registry (plus, when asked, one in front of its CDN as ``localhost`` and one
in front of its token server), wired so every Location / realm leads back
through the proxies; all are stopped after the test. ``start_front`` does the
same for fixtures of a wider scope, with proxies from ``started_proxies()``.

``big_image`` (``BIG`` = ``reliability/big:1.0``) has layers of 512, 256 and
128 KiB: big enough to be cut mid-body and resumed. ``seed_big(registry)``
pushes it once per registry variant; ``big_layout`` is it as an OCI layout
(tag ``1``) for ``push_via``, which pushes to a fresh ``unique_repository()``.
``test/*`` images are never touched.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from explorer.oci.sample import SampleImage, build_image
from tests.infra.fault_proxy import FaultProxy
from tests.infra.registry import RunningRegistry, seed
from tests.infra.runner import Run, login_args, run_cli
from tests.infra.schemas import validate_trace

BIG = "reliability/big:1.0"
SMALL = "test/small:1.0"
MULTI = "test/multi:1.0"
_seeded: set[tuple[str, str]] = set()


@cache
def _big_image() -> SampleImage:
    return build_image([512 * 1024, 256 * 1024, 128 * 1024], seed="regexplore-reliability")


@pytest.fixture(scope="session")
def big_image() -> SampleImage:
    return _big_image()


@pytest.fixture(scope="session")
def big_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``big_image`` as an OCI image layout, tagged ``1``."""
    return _big_image().write_layout(tmp_path_factory.mktemp("big") / "layout", "1")


def unique_repository(prefix: str = "reliability/push") -> str:
    """A repository no other test (or earlier run against the same registry) uses."""
    return f"{prefix}-{uuid4().hex[:10]}"


@pytest.fixture
def seed_big() -> Callable[[RunningRegistry], SampleImage]:
    def seed_once(registry: RunningRegistry) -> SampleImage:
        key = (registry.variant, registry.host)
        if key not in _seeded:
            seed(registry, _big_image(), *BIG.split(":"))
            _seeded.add(key)
        return _big_image()

    return seed_once


@dataclass
class Fronted:
    """A registry behind fault proxies: talk to ``host``; add rules to ``registry``/``cdn``/``token``."""

    upstream: RunningRegistry
    registry: FaultProxy
    cdn: FaultProxy | None = None
    token: FaultProxy | None = None

    @property
    def host(self) -> str:
        return self.registry.host


@contextmanager
def started_proxies() -> Iterator[Callable[..., FaultProxy]]:
    """``make(upstream_url, **options)`` starts a FaultProxy; all are stopped (and checked for bugs) at the end."""
    started: list[FaultProxy] = []

    def make(upstream: str, **options: Any) -> FaultProxy:
        proxy = FaultProxy(upstream, **options).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in reversed(started):
        proxy.stop()
    bugs = [bug for proxy in started for bug in proxy.bugs]
    assert not bugs, "the fault proxy failed:\n" + "\n".join(bugs)


@pytest.fixture
def proxies() -> Iterator[Callable[..., FaultProxy]]:
    """``proxies(upstream_url, **options)``: a started FaultProxy, stopped after the test."""
    with started_proxies() as make:
        yield make


def start_front(
    registry: RunningRegistry, proxies: Callable[..., FaultProxy], *, cdn: bool = False, token: bool = False,
    **options: Any,
) -> Fronted:
    """``registry`` behind proxies made by ``proxies(upstream_url, **options)`` (who also stops them)."""
    rewrites: dict[str, str] = dict(options.pop("rewrites", {}))
    cdn_proxy = token_proxy = None
    if cdn:
        assert registry.cdn is not None, f"the {registry.variant} registry has no CDN"
        cdn_proxy = proxies(registry.cdn.url, host_name="localhost")
        rewrites[registry.cdn.url] = cdn_proxy.url
    if token:
        assert registry.token_server is not None, f"the {registry.variant} registry has no token server"
        origin = registry.token_server.realm.rsplit("/", 1)[0]
        token_proxy = proxies(origin)
        rewrites[origin] = token_proxy.url
    return Fronted(registry, proxies(registry.url, rewrites=rewrites, **options), cdn_proxy, token_proxy)


@pytest.fixture
def front(proxies: Callable[..., FaultProxy]) -> Callable[..., Fronted]:
    def make(registry: RunningRegistry, *, cdn: bool = False, token: bool = False, **options: Any) -> Fronted:
        return start_front(registry, proxies, cdn=cdn, token=token, **options)

    return make


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff of 10 ms instead of 250 ms, for tests where the timing is not the point."""
    monkeypatch.setattr("explorer.client.sending.BACKOFF_BASE", 0.01)


def partial_files(root: Path) -> list[Path]:
    """Temporary files of unfinished atomic writes (``.NAME.XXXX.part``) anywhere below ``root``."""
    return [p for p in root.rglob("*.part")] if root.exists() else []


def pull_via(host: str, registry: RunningRegistry, out: Path, image: str = SMALL, *extra: str) -> Run:
    """``regexplore trace pull HOST/IMAGE -o OUT`` with the registry's credentials on stdin."""
    args, stdin = login_args(registry)
    return run_cli("trace", "pull", f"{host}/{image}", "-o", str(out), *args, *extra, stdin=stdin)


def assert_pulled_back(host: str, account: Any, repository: str, image: SampleImage, tmp_path: Path) -> None:
    """Pull ``repository:1`` straight from ``host`` (no proxy): the same manifest as ``image``, every blob verified."""
    run = pull_via(host, account, tmp_path / "back.json", f"{repository}:1")
    assert run.code == 0, run.output
    assert f"manifest {image.digest}" in run.stdout, run.stdout
    validate_trace(tmp_path / "back.json")


def push_via(host: str, registry: Any, layout: Path, repository: str, out: Path, *extra: str) -> Run:
    """``regexplore trace push LAYOUT:1 HOST/REPOSITORY:1 -o OUT`` with the registry's credentials on stdin."""
    args, stdin = login_args(registry)
    return run_cli("trace", "push", f"{layout}:1", f"{host}/{repository}:1", "-o", str(out), *args, *extra,
                   stdin=stdin)


def interrupt_when(
    command: list[str], cwd: Path, ready: Callable[[], bool], timeout: float = 10.0
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``command``, send it SIGINT once ``ready()``; (the finished process, seconds from signal to exit)."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"the command did not get going: {command}")
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        sent = time.monotonic()
        stdout, stderr = process.communicate(timeout=15)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), took


@pytest.fixture
def two_second_tokens(registry_token: RunningRegistry) -> Iterator[Any]:
    """The token server of ``registry_token`` issues tokens that expire after 2 s (for this test)."""
    server = registry_token.token_server
    before = server.expires_in
    server.expires_in = 2
    yield server
    server.expires_in = before
