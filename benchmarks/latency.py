"""A latency-adding TCP proxy on loopback: every chunk is forwarded RTT/2 after it arrived, each way.

    with LatencyProxy("127.0.0.1", registry_port, rtt=0.025) as link:
        link.port          # clients connect to 127.0.0.1:link.port
        link.accepted      # TCP connections accepted so far (keep-alive: fewer is better)

Rule 1: stdlib only; benchmark infrastructure, never imported by ``explorer``.
Rule 2: latency without a bandwidth limit. Each direction of each connection has a
reader that timestamps every chunk as it arrives and a writer that sends it once
``arrival + RTT/2`` has passed, so chunks in flight overlap as on a real link
(bytes keep flowing; only their arrival is delayed). Connection set-up costs one
RTT, as TCP's handshake does: nothing the client sent is read before SYN and
SYN-ACK have crossed the link, so a new connection's first answer takes 2 RTT.
Rule 3: bounded: it serves only loopback, stops with ``close()``, and every thread is a daemon.
"""

from __future__ import annotations

import queue
import socket
import threading
import time

__all__ = ["LatencyProxy"]

CHUNK = 256 * 1024


class LatencyProxy:
    def __init__(self, upstream_host: str, upstream_port: int, *, rtt: float) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.delay = rtt / 2
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self.accepted = 0  # connections accepted so far (one thread increments it)
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="latency-accept", daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.close()
                except OSError:
                    pass

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        time.sleep(2 * self.delay)  # the handshake: SYN there, SYN-ACK back
        try:
            upstream = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sockets += [client, upstream]
        for source, sink in ((client, upstream), (upstream, client)):
            chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()
            threading.Thread(target=self._read, args=(source, chunks), daemon=True).start()
            threading.Thread(target=self._write, args=(sink, chunks), daemon=True).start()

    def _read(self, source: socket.socket, chunks: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            try:
                data = source.recv(CHUNK)
            except OSError:
                data = b""
            chunks.put((time.monotonic() + self.delay, data))
            if not data:
                return

    def _write(self, sink: socket.socket, chunks: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            due, data = chunks.get()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                if not data:
                    sink.shutdown(socket.SHUT_WR)
                    return
                sink.sendall(data)
            except OSError:
                return
