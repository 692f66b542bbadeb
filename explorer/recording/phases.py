"""Connection-level phases of one exchange, from httpcore's trace events.

Rule: the ONE place that knows httpcore's event names (they may change between
httpcore versions, pinned in pyproject.toml): ``connection.connect_tcp``,
``connection.start_tls``, ``http11.send_request_headers`` … (HTTP/2 alike).
Connection events fire only for new connections, which is how reuse shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from explorer.trace import Connection, Timings

__all__ = ["PhaseClock", "connection", "timings"]


class PhaseClock:
    """Collects httpcore trace events (``request.extensions["trace"]``) as timestamps.

    ``events`` is keyed by the event's name without httpcore's module prefix
    (``connection.``, ``http11.``, ``http2.``): ``connect_tcp.started``, ``send_request_headers.started`` …
    so that looking one up is a dict lookup (about 10 events per exchange, 11 lookups).
    """

    def __init__(self, chained: Callable[[str, dict[str, Any]], None] | None) -> None:
        self.events: dict[str, float] = {}
        self.network_stream: Any = None
        self._chained = chained

    def __call__(self, name: str, info: dict[str, Any]) -> None:
        event = name.partition(".")[2]
        if event not in self.events:
            self.events[event] = time.perf_counter()
            if event == "connect_tcp.complete":
                self.network_stream = info.get("return_value")
        if self._chained is not None:
            self._chained(name, info)

    def span(self, start: str, end: str) -> float | None:
        a, b = self.events.get(start), self.events.get(end)
        if a is None or b is None:
            return None
        return max(0.0, (b - a) * 1000)

    def find(self, event: str) -> float | None:
        """When ``event`` (``connect_tcp.started``, …) first fired, if it did."""
        return self.events.get(event)

    def first(self) -> float | None:
        return min(self.events.values()) if self.events else None


def timings(clock: PhaseClock, t0: float, body_span: tuple[float, float] | None) -> Timings:
    first = clock.first()
    connect = clock.span("connect_tcp.started", "connect_tcp.complete")
    tls = clock.span("start_tls.started", "start_tls.complete")
    receive = clock.span("receive_response_body.started", "receive_response_body.complete")
    if receive is None and body_span is not None:
        receive = max(0.0, (body_span[1] - body_span[0]) * 1000)
    return Timings(
        blocked=max(0.0, (first - t0) * 1000) if first is not None else None,
        connect=(connect or 0.0) + (tls or 0.0) if connect is not None else None,
        tls=tls,
        send=clock.span("send_request_headers.started", "send_request_body.complete"),
        wait=clock.span("send_request_body.complete", "receive_response_headers.complete"),
        receive=receive,
    )


def connection(response: httpx.Response, clock: PhaseClock) -> Connection | None:
    stream = response.extensions.get("network_stream") or clock.network_stream
    if stream is None:
        return None
    reused = clock.find("connect_tcp.started") is None
    try:
        local = stream.get_extra_info("client_addr")
        remote = stream.get_extra_info("server_addr")
        ssl_object = stream.get_extra_info("ssl_object")
    except Exception:  # a transport without these extras (mock, WSGI)
        return None
    return Connection(
        local=_addr(local),
        remote=_addr(remote),
        reused=reused,
        tls=ssl_object.version() if ssl_object is not None else None,
    )


def _addr(value: Any) -> str | None:
    if isinstance(value, tuple) and len(value) >= 2:
        host, port = value[0], value[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return None
