"""A recording proxy in front of a registry, for the duration of one test."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from explorer import trace as tracefile
from explorer.proxy import ProxyOptions, RecordingProxy
from explorer.trace import Trace
from tests.infra.schemas import validate_trace


@contextmanager
def proxy_in_front(upstream: str, **options: object) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(ProxyOptions(upstream=upstream, **options))  # type: ignore[arg-type]
    with proxy.running():
        yield proxy


def host_of(proxy: RecordingProxy) -> str:
    return proxy.url.split("://", 1)[1]


def saved(proxy: RecordingProxy, path: Path) -> Trace:
    """The proxy's trace, written, validated against the schema and read back."""
    proxy.save(path)
    validate_trace(path)
    return tracefile.load(path)


def assert_no_secret(path: Path, *secrets: str | None) -> None:
    """Neither a secret nor its Basic (base64 ``user:secret``) form is anywhere in the file."""
    text = path.read_text(encoding="utf-8")
    for secret in filter(None, secrets):
        assert secret not in text
        for user in ("tester", "regexplore"):
            assert base64.b64encode(f"{user}:{secret}".encode()).decode() not in text


Check = Callable[[Trace], None]
