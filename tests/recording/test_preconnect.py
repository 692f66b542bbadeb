"""TCP connections opened early (``recording/preconnect.py``) and adopted by the pools' first connections.

Against the real registry (a loopback registry: the https probe's connection, then http's) and
plain loopback listeners for what must not be handed out.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from explorer import operations as rx
from explorer import trace as tracefile
from explorer.errors import ExplorerError
from tests.conftest import SMALL
from explorer.recording import preconnect


@pytest.fixture(autouse=True)
def _nothing_left_over():
    preconnect.discard()
    yield
    preconnect.discard()


def _early_sockets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The local address of each connection the preconnect thread opens (not of the pools' own)."""
    opened: list[str] = []
    create = socket.create_connection

    def create_connection(*args, **kwargs):
        sock = create(*args, **kwargs)
        if threading.current_thread().name == "preconnect":
            opened.append("{}:{}".format(*sock.getsockname()[:2]))
        return sock

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return opened


def test_a_pull_sends_its_probe_and_its_requests_over_the_connections_opened_early(
        registry_anonymous, monkeypatch, tmp_path):
    opened = _early_sockets(monkeypatch)
    host, port = registry_anonymous.host.rsplit(":", 1)
    preconnect.start([(host, int(port)), (host, int(port))])  # the https probe's, then http's
    pulled = rx.pull(f"{registry_anonymous.host}/{SMALL}", trace_file=tmp_path / "t.json")
    assert len(opened) == 2
    probe, ping = pulled.trace.exchanges[:2]
    assert probe.request.url.startswith("https://") and probe.response is None  # the failed TLS hello
    assert ping.request.url.startswith("http://")
    assert ping.connection is not None and ping.connection.local == opened[1]  # the trace names the adopted connection
    assert not ping.connection.reused  # a new connection for the trace, as it is for the registry
    assert preconnect.take(host, int(port), timeout=0) is None  # both were taken


def test_nothing_is_handed_out_for_another_address_or_after_discard():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        preconnect.start([("127.0.0.1", port)])
        assert preconnect.take("127.0.0.1", port + 1, timeout=1) is None  # never asked for: no wait
        preconnect.discard()
        assert preconnect.take("127.0.0.1", port, timeout=1) is None


def test_a_connection_the_server_closed_is_not_handed_out():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        preconnect.start([("127.0.0.1", port)])
        accepted, _ = listener.accept()
        accepted.close()  # the server hangs up before the client sends anything
        time.sleep(0.2)
        assert preconnect.take("127.0.0.1", port, timeout=5) is None


def test_an_old_connection_is_not_handed_out(monkeypatch):
    monkeypatch.setattr(preconnect, "MAX_AGE", 0.0)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        preconnect.start([("127.0.0.1", port)])
        accepted, _ = listener.accept()
        time.sleep(0.05)
        assert preconnect.take("127.0.0.1", port, timeout=5) is None
        accepted.close()


def test_take_waits_for_a_connection_still_opening_and_a_refused_one_is_its_error():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        preconnect.start([("127.0.0.1", port)])
        sock = preconnect.take("127.0.0.1", port, timeout=5)  # at once after start: it waits
        assert sock is not None
        accepted, _ = listener.accept()
        sock.sendall(b"x")
        assert accepted.recv(1) == b"x"
        sock.close()
        accepted.close()
    preconnect.start([("127.0.0.1", port)])  # nobody listens any more: refused
    with pytest.raises(ConnectionRefusedError):  # connecting again would meet the same (or wait as long)
        preconnect.take("127.0.0.1", port, timeout=5)
    assert preconnect.take("127.0.0.1", port, timeout=5) is None  # the retries connect anew


def test_a_pull_whose_early_connections_were_refused_fails_as_a_refused_connect_does(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
    preconnect.start([("127.0.0.1", port), ("127.0.0.1", port)])
    with pytest.raises(ExplorerError) as failed:
        rx.pull(f"127.0.0.1:{port}/a/b:1", trace_file=tmp_path / "t.json", options=rx.ConnectionOptions(retries=0))
    assert "cannot connect" in failed.value.message, failed.value.message
    probe, ping = tracefile.load(tmp_path / "t.json").exchanges
    assert probe.request.url.startswith("https://") and ping.request.url.startswith("http://")  # probe, then http
    assert probe.error and ping.error and "ConnectError" in ping.error
