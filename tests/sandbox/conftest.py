"""Fixtures for the built-in registry: a sandbox and an httpx client, in-process or over sockets.

``open_registry(mode, **sandbox_options)`` yields ``(sandbox, client)``; ``mode``
is ``"wsgi"`` (``httpx.WSGITransport(app=sandbox.app)``, no sockets at all) or
``"socket"`` (the real loopback servers). The ``mode`` fixture runs a test in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from explorer.sandbox import Sandbox

MODES = ("wsgi", "socket")


@contextmanager
def open_registry(mode: str, **options: Any) -> Iterator[tuple[Sandbox, httpx.Client]]:
    with Sandbox(listen=(mode == "socket"), **options) as sandbox:
        transport: httpx.BaseTransport = (
            httpx.WSGITransport(app=sandbox.app) if mode == "wsgi" else httpx.HTTPTransport()
        )
        with httpx.Client(transport=transport, base_url=sandbox.registry_url, timeout=10, trust_env=False) as client:
            yield sandbox, client


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def anonymous_sandbox(mode: str) -> Iterator[tuple[Sandbox, httpx.Client]]:
    """An anonymous sandbox without redirects, and a client for it, in each mode."""
    with open_registry(mode) as pair:
        yield pair


@pytest.fixture
def client(anonymous_sandbox: tuple[Sandbox, httpx.Client]) -> httpx.Client:
    """A client of an anonymous sandbox without redirects (base_url = the registry), in each mode."""
    return anonymous_sandbox[1]
