"""Connections opened early (``recording/preconnect.py``) and adopted by the pools' first connections.

Against the real registry (a loopback registry: the https probe's connection and TLS hello, then
http's), plain loopback listeners for what must not be handed out, and a TLS listener for
handshakes made early with one context and asked for with another.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpcore
import pytest

import ssl

from explorer import operations as rx
from explorer import trace as tracefile
from explorer.errors import ExplorerError
from explorer.recording import preconnect, sockets, tls
from tests.conftest import SMALL
from tests.infra.network import self_signed_context, tls_handshakes


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
    preconnect.start([(host, int(port), None), (host, int(port), None)])  # the https probe's, then http's
    pulled = rx.pull(f"{registry_anonymous.host}/{SMALL}", trace_file=tmp_path / "t.json")
    assert len(opened) == 2
    probe, ping = pulled.trace.exchanges[:2]
    assert probe.request.url.startswith("https://") and probe.response is None  # the failed TLS hello
    assert ping.request.url.startswith("http://")
    assert ping.connection is not None and ping.connection.local in opened  # the trace names the adopted connection (a thread each: any order)
    assert not ping.connection.reused  # a new connection for the trace, as it is for the registry
    assert preconnect.take(host, int(port), timeout=0) is None  # both were taken


def test_the_probes_tls_hello_goes_out_early_and_its_exchange_is_still_in_the_trace(
        registry_anonymous, monkeypatch, tmp_path):
    opened, threads = _early_sockets(monkeypatch), tls_handshakes(monkeypatch)
    host, port = registry_anonymous.host.rsplit(":", 1)
    preconnect.start([(host, int(port), tls.PROBE), (host, int(port), None)])  # as the CLI does for loopback
    pulled = rx.pull(f"{registry_anonymous.host}/{SMALL}", trace_file=tmp_path / "t.json")
    assert threads == ["preconnect"]  # the one TLS hello was sent early; the probe's pool made none
    probe, ping = pulled.trace.exchanges[:2]
    assert probe.step == "https probe: plain-HTTP registry" and probe.response is None  # told as before
    assert "WRONG_VERSION_NUMBER" in (probe.error or "") or "record" in (probe.error or "").lower(), probe.error
    assert probe.request.url.startswith("https://") and ping.request.url.startswith("http://")
    assert ping.connection is not None and ping.connection.local in opened
    assert len(opened) == 2


@pytest.fixture
def tls_listener():
    """A loopback TLS server (self-signed) that answers every handshake and keeps each connection open."""
    context = self_signed_context("127.0.0.1", "127.0.0.1")
    listener = socket.create_server(("127.0.0.1", 0))
    kept: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                kept.append(context.wrap_socket(conn, server_side=True))
            except OSError:
                conn.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    yield listener.getsockname()[1]
    listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (closing alone does not, on Linux)
    server.join(timeout=5)
    listener.close()  # a handshake still under way ends first: then its socket is kept, and closed
    for conn in kept:
        conn.close()


def test_an_early_handshake_is_adopted_only_with_its_own_context(tls_listener):
    preconnect.start([("127.0.0.1", tls_listener, tls.PROBE), ("127.0.0.1", tls_listener, tls.PROBE)])
    assert preconnect.take("127.0.0.1", tls_listener, timeout=5, tls=None) is None  # a plain pool takes no TLS
    mine, other = (preconnect.take("127.0.0.1", tls_listener, timeout=5, tls=tls.PROBE) for _ in range(2))
    assert mine is not None and other is not None
    assert isinstance(mine.error, ssl.SSLCertVerificationError)  # shook hands: self-signed, no CA at all
    stream = sockets.SocketStream(mine.sock, mine)
    with pytest.raises(httpcore.ConnectError) as failed:  # its outcome, as the pool's own handshake would fail
        stream.start_tls(tls.context(tls.PROBE), "127.0.0.1", timeout=5)
    assert isinstance(failed.value.__context__, ssl.SSLCertVerificationError)  # what connections.py reads
    assert mine.sock.fileno() == -1  # closed, as httpcore closes a stream whose handshake failed
    unverified = ssl._create_unverified_context()
    adopted = sockets.SocketStream(other.sock, other).start_tls(unverified, "127.0.0.1", timeout=5)
    ssl_object = adopted.get_extra_info("ssl_object")  # asked for another context: a handshake of its own
    assert ssl_object is not None and ssl_object is not other.sock and ssl_object.context is unverified
    assert other.sock.fileno() == -1
    adopted.close()


_NO_IDNA = r"""
import ssl, sys
from explorer.recording import preconnect, sockets, tls
port = int(sys.argv[1])
preconnect.start([("127.0.0.1", port, tls.PROBE)])  # early: TCP, then the TLS hello
early = preconnect.take("127.0.0.1", port, timeout=5, tls=tls.PROBE)
assert early is not None and early.sock.server_hostname == "127.0.0.1"
unverified = ssl._create_unverified_context()
own = sockets.connect("127.0.0.1", port, timeout=5).start_tls(unverified, "127.0.0.1", timeout=5)  # the pools' own
assert own.get_extra_info("ssl_object").version() is not None
print(sorted(m for m in sys.modules if m in ("encodings.idna", "stringprep")))
"""


def test_connections_and_handshakes_load_no_idna_codec_for_an_ascii_name(tls_listener):
    """``socket`` and ``ssl`` encode a str host name with the idna codec, whose import costs every command
    2-4 ms: an ASCII name is given as bytes, early and in the pools' own connections alike."""
    done = subprocess.run([sys.executable, "-c", _NO_IDNA, str(tls_listener)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(("name", "given"), [("127.0.0.1", b"127.0.0.1"), ("::1", b"::1"),
                                             ("registry.example", b"registry.example"),
                                             ("bücher.example", "bücher.example")])
def test_a_name_is_given_as_bytes_only_when_it_is_ascii(name, given):
    assert preconnect.host_name(name) == given


def test_an_idle_tls_connection_is_still_handed_out_after_its_session_tickets(tls_listener, monkeypatch):
    context = ssl._create_unverified_context()
    monkeypatch.setattr(tls, "context", lambda kind: context)
    preconnect.start([("127.0.0.1", tls_listener, tls.VERIFIED)])
    time.sleep(0.3)  # TLS 1.3: the server's session tickets have arrived, and are readable
    early = preconnect.take("127.0.0.1", tls_listener, timeout=5, tls=tls.VERIFIED)
    assert early is not None and early.error is None and early.context is context
    assert early.sock.version() == "TLSv1.3"
    stream = sockets.SocketStream(early.sock, early).start_tls(context, "127.0.0.1", timeout=5)
    assert stream.get_extra_info("ssl_object") is early.sock  # adopted as it was shaken
    stream.close()


def test_nothing_is_handed_out_for_another_address_or_after_discard():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        preconnect.start([("127.0.0.1", port, None)])
        assert preconnect.take("127.0.0.1", port + 1, timeout=1) is None  # never asked for: no wait
        preconnect.discard()
        assert preconnect.take("127.0.0.1", port, timeout=1) is None


def test_a_connection_the_server_closed_is_not_handed_out():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        preconnect.start([("127.0.0.1", port, None)])
        accepted, _ = listener.accept()
        accepted.close()  # the server hangs up before the client sends anything
        time.sleep(0.2)
        assert preconnect.take("127.0.0.1", port, timeout=5) is None


def test_an_old_connection_is_not_handed_out(monkeypatch):
    monkeypatch.setattr(preconnect, "MAX_AGE", 0.0)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        preconnect.start([("127.0.0.1", port, None)])
        accepted, _ = listener.accept()
        time.sleep(0.05)
        assert preconnect.take("127.0.0.1", port, timeout=5) is None
        accepted.close()


def test_take_waits_for_a_connection_still_opening_and_a_refused_one_is_its_error():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        preconnect.start([("127.0.0.1", port, None)])
        early = preconnect.take("127.0.0.1", port, timeout=5)  # at once after start: it waits
        assert early is not None and early.context is None
        sock = early.sock
        accepted, _ = listener.accept()
        sock.sendall(b"x")
        assert accepted.recv(1) == b"x"
        sock.close()
        accepted.close()
    preconnect.start([("127.0.0.1", port, None)])  # nobody listens any more: refused
    with pytest.raises(ConnectionRefusedError):  # connecting again would meet the same (or wait as long)
        preconnect.take("127.0.0.1", port, timeout=5)
    assert preconnect.take("127.0.0.1", port, timeout=5) is None  # the retries connect anew


def test_a_pull_whose_early_connections_were_refused_fails_as_a_refused_connect_does(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
    preconnect.start([("127.0.0.1", port, None), ("127.0.0.1", port, None)])
    with pytest.raises(ExplorerError) as failed:
        rx.pull(f"127.0.0.1:{port}/a/b:1", trace_file=tmp_path / "t.json", options=rx.ConnectionOptions(retries=0))
    assert "cannot connect" in failed.value.message, failed.value.message
    probe, ping = tracefile.load(tmp_path / "t.json").exchanges
    assert probe.request.url.startswith("https://") and ping.request.url.startswith("http://")  # probe, then http
    assert probe.error and ping.error and "ConnectError" in ping.error


def test_a_handshake_still_under_way_at_the_connects_timeout_is_a_timeout_and_is_given_up():
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts (the kernel does), never answers
        port = listener.getsockname()[1]
        preconnect.start([("127.0.0.1", port, tls.PROBE)])
        started = time.monotonic()
        with pytest.raises(socket.timeout):
            preconnect.take("127.0.0.1", port, timeout=0.3, tls=tls.PROBE)
        assert time.monotonic() - started < 5  # the connect's own bound, not the early handshake's 10 s
        assert preconnect.take("127.0.0.1", port, timeout=0.3, tls=tls.PROBE) is None  # a retry connects anew
        with pytest.raises(httpcore.ConnectTimeout):  # what the pool's connect raises, as httpcore's would
            preconnect.start([("127.0.0.1", port, tls.PROBE)])
            sockets.adopt("127.0.0.1", port, 0.3, tls.PROBE)


def test_a_connection_still_behind_anothers_connect_is_not_a_timeout(monkeypatch):
    with socket.create_server(("127.0.0.1", 0)) as first, socket.create_server(("127.0.0.1", 0)) as second:
        ports = first.getsockname()[1], second.getsockname()[1]
        gate = threading.Event()
        real_open = preconnect._open

        def slow_open(host, port, tls):
            if port == ports[0]:
                gate.wait(5)  # a connect that hangs (a host that drops the SYN)
            return real_open(host, port, tls)

        monkeypatch.setattr(preconnect, "_open", slow_open)
        preconnect.start([("127.0.0.1", ports[0], None), ("127.0.0.1", ports[1], None)])
        assert preconnect.take("127.0.0.1", ports[1], timeout=0.2) is None  # not begun: the pool connects itself
        with pytest.raises(socket.timeout):  # begun before this connect: a connect of its own would be as late
            preconnect.take("127.0.0.1", ports[0], timeout=0.2)
        gate.set()
