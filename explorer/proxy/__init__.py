"""``regexplore proxy``: a recording reverse proxy, so any client's flow becomes a trace.

Clients (docker, podman, skopeo, crane, oras, regexplore itself) use
``127.0.0.1:PORT/REPO:TAG`` as their registry. Every request is forwarded to
UPSTREAM through the same recording transport as regexplore's own requests, so
redaction, annotation and every render and export work on the result unchanged.

Modules: ``routes.py`` (pure: proxy paths ↔ upstream origins and their roles),
``forward.py`` (the WSGI application that forwards and streams), this file (the
running proxy: server, live lines, stopping, the trace). The HTTP server is the
built-in registry's (``explorer.sandbox.server``: keep-alive, chunked request
bodies, lazy 100-continue).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from explorer import trace as tracefile
from explorer.annotate.texts import one_line
from explorer.proxy.forward import ProxyApp
from explorer.proxy.routes import Routes, origin_of
from explorer.recording.recorder import Recorder, RecordingTransport
from explorer.recording.redact import Secrets, redact_argv
from explorer.sandbox.server import LoopbackServer
from explorer.trace import Exchange, Outcome, Trace
from explorer.units import human_duration, human_size

__all__ = ["ProxyOptions", "RecordingProxy"]


@dataclass
class ProxyOptions:
    upstream: str  # http(s)://host[:port]
    port: int = 0
    insecure: bool = False  # do not verify the upstream's TLS certificate
    timeout: float = 30.0
    max_exchanges: int | None = None  # stop after this many exchanges
    idle: float | None = None  # stop after this many seconds without a request, once one came (--once)
    argv: list[str] = field(default_factory=list)


class RecordingProxy:
    """The running proxy. ``with proxy.running(): proxy.wait()``, then ``proxy.save(path)``."""

    def __init__(self, options: ProxyOptions, echo: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.echo = echo
        self.secrets = Secrets()
        self.trace = Trace(command=redact_argv(["regexplore", *options.argv], self.secrets), operation="proxy",
                           target=origin_of(options.upstream))
        self.recorder = Recorder(self.trace, secrets=self.secrets, on_exchange=self._finished)
        self.transport = RecordingTransport(self.recorder, verify=not options.insecure)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last_activity = 0.0
        self._server: LoopbackServer | None = None
        self.routes: Routes | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    @contextmanager
    def running(self) -> Iterator[RecordingProxy]:
        app_holder: list[ProxyApp] = []
        server = LoopbackServer(lambda environ, start: app_holder[0](environ, start), port=self.options.port)
        self._server = server
        self.routes = Routes(self.options.upstream, server.url)
        app_holder.append(ProxyApp(self.routes, self.transport, timeout=self.options.timeout,
                                   on_request=self._started))
        server.start()
        try:
            yield self
        finally:
            server.close()
            self.transport.close()

    def stop(self) -> None:
        self._stop.set()

    def wait(self) -> None:
        """Block until Ctrl-C, SIGTERM, ``--max-exchanges`` or ``--once``'s idle gap."""
        previous = _on_signals(self.stop)
        try:
            while not self._stop.wait(0.1):
                idle = self.options.idle
                with self._lock:
                    quiet = self._in_flight == 0 and self._last_activity and \
                        time.monotonic() - self._last_activity >= (idle or 0)
                if idle is not None and quiet:
                    break
        finally:
            _restore_signals(previous)

    def save(self, path: Path) -> Path:
        self.recorder.seal()
        self.trace.outcome = Outcome("ok", None)
        return tracefile.save(self.trace, path)

    def summary(self) -> str:
        exchanges = self.trace.exchanges
        down = sum(e.response.body.size for e in exchanges if e.response and e.response.body)
        up = sum(e.request.body.size for e in exchanges if e.request.body)
        clients = len({e.via.client for e in exchanges if e.via})
        agents = sorted({a for e in exchanges if (a := e.request.header("User-Agent"))})
        who = f" from {one_line(', '.join(agents), 120)}" if agents else ""
        return (f"{len(exchanges)} exchanges over {clients} client connection{'s' if clients != 1 else ''}{who}, "
                f"{human_size(down)} down, {human_size(up)} up, {human_duration(self.trace.wall_ms())}")

    # --- callbacks from the forwarding threads -----------------------------------------------
    def _started(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._last_activity = time.monotonic()

    def _finished(self, exchange: Exchange) -> None:
        with self._lock:
            self._in_flight -= 1
            self._last_activity = time.monotonic()
            count = len(self.trace.exchanges)
        if self.echo is not None:
            self.echo(live_line(exchange))
        if self.options.max_exchanges is not None and count >= self.options.max_exchanges:
            self.stop()


def live_line(exchange: Exchange) -> str:
    """One line per exchange while the proxy runs: number, method, status, upstream URL, size, time."""
    response = exchange.response
    status = str(response.status) if response else "ERR"
    size = human_size(response.body.size) if response and response.body else ""
    what = exchange.request.url if response else f"{exchange.request.url}  {exchange.error or ''}"
    return one_line(f"{exchange.id:>4}  {exchange.request.method:<6} {status:>3}  {what}  {size}  "
                    f"{human_duration(exchange.duration_ms)}", 400)


def _on_signals(handler: Callable[[], None]) -> dict[int, object]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, object] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda *_: handler())
    return previous


def _restore_signals(previous: dict[int, object]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)  # type: ignore[arg-type]
