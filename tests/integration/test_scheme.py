"""The scheme of a loopback registry: https first, plain http when the server does not speak TLS.

Against the real CNCF distribution: a plain-http one (the ``registry_anonymous`` and
``registry_basic`` fixtures) and a TLS one on 127.0.0.1 with a self-signed certificate
made by the test (``start_registry(..., tls=True)``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer import trace as tracefile
from explorer.annotate import annotate
from explorer.recording.connections import Connections
from explorer.client.credentials import Credentials
from explorer.errors import TransportError
from explorer.render import replay
from explorer.client.session import ClientOptions, TraceSession
from explorer.trace import Trace
from tests.conftest import _start_seeded
from tests.infra.network import tls_handshakes
from tests.infra.registry import RunningRegistry
from tests.infra.runner import Run, login_args, run_cli
from tests.infra.schemas import validate_trace
from tests.infra.pulled import script_env
from tests.render.test_scripts import run_script

SMALL = "test/small:1.0"
PROBE = "https probe: plain-HTTP registry"


@pytest.fixture(scope="module")
def registry_tls(registry_workdir: Path):
    """Distribution over https only, on 127.0.0.1, self-signed, Basic auth, seeded like the others."""
    registry = _start_seeded("basic", registry_workdir, tls=True)
    yield registry
    registry.stop()


def _pull(registry: RunningRegistry, tmp_path: Path, *extra: str, name: str = "pull.trace.json") -> tuple[Run, Trace]:
    args, stdin = login_args(registry)
    out = tmp_path / name
    run = run_cli("trace", "pull", f"{registry.host}/{SMALL}", "-o", str(out), "-q", *args, *extra, stdin=stdin)
    validate_trace(out)
    return run, tracefile.load(out)


def _errors(run: Run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("error:")]


def test_a_self_signed_tls_registry_on_loopback_is_pulled_from_with_insecure(registry_tls, tmp_path):
    run, trace = _pull(registry_tls, tmp_path, "--insecure", "--oci-layout", str(tmp_path / "layout"))
    assert run.code == 0, run.output
    urls = [ex.request.url for ex in trace.exchanges]
    assert all(url.startswith(f"https://{registry_tls.host}/") for url in urls), urls  # TLS all along, no probe
    assert trace.exchanges[0].step == "ping" and trace.exchanges[0].response is not None
    assert (tmp_path / "layout" / "index.json").exists()


def test_without_insecure_the_self_signed_registry_is_refused_in_one_line_without_retries(registry_tls, tmp_path):
    run, trace = _pull(registry_tls, tmp_path)
    assert run.code == 1
    errors = _errors(run)
    assert len(errors) == 1 and "--insecure" in errors[0] and "certificate" in errors[0], run.stderr
    assert "hint:" not in run.stderr and "Traceback" not in run.stderr
    assert len(trace.exchanges) == 1, [ex.error for ex in trace.exchanges]  # a verification failure is not retried
    assert trace.exchanges[0].request.url.startswith("https://") and "CERTIFICATE_VERIFY_FAILED" in (
        trace.exchanges[0].error or "")


def test_a_plain_http_loopback_registry_gets_the_https_probe_then_http(registry_basic, tmp_path):
    run, trace = _pull(registry_basic, tmp_path)
    assert run.code == 0, run.output
    first, *rest = trace.exchanges
    assert first.request.url == f"https://{registry_basic.host}/v2/" and first.response is None
    assert first.step == PROBE and "WRONG_VERSION_NUMBER" in (first.error or "")
    assert all(ex.request.url.startswith(f"http://{registry_basic.host}/") for ex in rest)
    assert [ex.step for ex in rest[:2]] == ["ping", "resolve tag"] and [ex.response.status for ex in rest[:2]] == [401, 200]
    assert len([ex for ex in trace.exchanges if ex.response is None]) == 1  # the probe only, once

    annotated = annotate(trace)
    probe = annotated.exchanges[0]
    assert probe.https_probe and not probe.failed and not probe.unusual
    assert "plain-HTTP" in probe.response_label and "not a ping" in probe.why
    assert annotated.summary.failed == 0
    # scripts and collections replay the registry that answered, not the probe
    assert list(replay.parameters(annotated).registries) == [f"http://{registry_basic.host}"]

    shown = run_cli("show", str(tmp_path / "pull.trace.json"))
    assert shown.code == 0 and PROBE in shown.stdout.splitlines()[2], shown.stdout


def test_insecure_probes_too_and_goes_on_over_http(registry_anonymous, tmp_path):
    run, trace = _pull(registry_anonymous, tmp_path, "--insecure")
    assert run.code == 0, run.output
    assert [ex.step for ex in trace.exchanges[:2]] == [PROBE, "ping"]
    assert all(ex.request.url.startswith("http://") for ex in trace.exchanges[1:])


def test_plain_http_makes_no_probe(registry_anonymous, tmp_path):
    run, trace = _pull(registry_anonymous, tmp_path, "--plain-http")
    assert run.code == 0, run.output
    assert all(ex.request.url.startswith("http://") for ex in trace.exchanges)
    assert trace.exchanges[0].step == "ping" and trace.exchanges[0].response.status == 200


def test_one_probe_per_registry_even_for_a_copy_within_it(registry_anonymous, tmp_path):
    out = tmp_path / "copy.trace.json"
    run = run_cli("trace", "copy", f"{registry_anonymous.host}/{SMALL}",
                  f"{registry_anonymous.host}/test/scheme-copy:1", "-o", str(out), "-q")
    assert run.code == 0, run.output
    trace = tracefile.load(out)
    over_https = [ex for ex in trace.exchanges if ex.request.url.startswith("https://")]
    assert [ex.step for ex in over_https] == [PROBE]


def test_https_to_a_plain_http_registry_says_plain_http_once_without_retries(registry_anonymous, tmp_path):
    """``plain_http=False`` is https only, as for any registry that is not loopback."""
    options = ClientOptions(plain_http=False, retries=3)
    session = TraceSession("tags", registry_anonymous.host, tmp_path / "t.json", options=options)
    with pytest.raises(TransportError) as raised, session.running():
        session.client(registry_anonymous.host).ping()
    error = raised.value
    assert "does not speak TLS" in error.message and "\n" not in error.message
    assert error.hint and "--plain-http" in error.hint
    assert len(session.trace.exchanges) == 1  # not retried: another attempt cannot help


def test_the_probe_of_a_plain_http_server_loads_no_ca_bundle(registry_anonymous):
    """The probe shakes hands with a CA-less context; the verified pool (and its CA bundle) is never made."""
    import httpx

    connections = Connections(verify=True)
    recorder_free = httpx.Request("GET", f"https://{registry_anonymous.host}/v2/",
                                  extensions={"regexplore.https_probe": True})
    with pytest.raises(httpx.ConnectError):
        connections.handle_request(recorder_free)
    assert "tls" not in connections._pools  # the one pool that would load certifi's bundle
    connections.close()


def test_tls_registry_with_the_bundle_still_verifies_after_the_ca_less_probe(registry_tls, tmp_path):
    """A TLS server fails the CA-less handshake on verification: the real, verified attempt follows and fails
    too (self-signed), so one exchange records it, with the real verification error."""
    options = ClientOptions(credentials=Credentials(registry_tls.username, registry_tls.password), retries=2)
    session = TraceSession("tags", registry_tls.host, tmp_path / "t.json", options=options)
    with pytest.raises(TransportError, match="--insecure"), session.running():
        session.client(registry_tls.host).ping()
    assert len(session.trace.exchanges) == 1 and "self-signed" in (session.trace.exchanges[0].error or "")


def test_plain_http_to_the_tls_registry_is_a_400_with_a_hint(registry_tls, tmp_path):
    run, trace = _pull(registry_tls, tmp_path, "--plain-http")
    assert run.code == 1 and len(_errors(run)) == 1 and "400" in _errors(run)[0], run.stderr
    assert "hint: this registry speaks https: leave out --plain-http" in run.stderr
    assert [ex.request.url.split(":")[0] for ex in trace.exchanges] == ["http"]


def test_exports_of_a_probed_pull_replay_the_plain_http_registry(registry_basic, tmp_path):
    """The probe is in the trace, but scripts and collections talk to the registry that answered."""
    run, _ = _pull(registry_basic, tmp_path)
    assert run.code == 0, run.output
    done = run_script("python", tmp_path / "pull.trace.json", [], script_env(registry_basic), tmp_path)  # recorded REGISTRY
    assert done.returncode == 0 and done.stdout.rstrip().endswith("done"), done.stdout + done.stderr
    exported = run_cli("export", "postman", str(tmp_path / "pull.trace.json"))
    assert exported.code == 0 and f"https://{registry_basic.host}" not in exported.stdout
    assert "https probe" not in exported.stdout


class _SilentToTls:
    """A plain-http "registry" on loopback that never answers a TLS hello (it waits for a request line that
    never ends) and answers ``GET /v2/`` with 200 and anything else with 404 over plain http."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.host = f"127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import threading

        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn) -> None:
        with conn:
            data = conn.recv(65536)
            if data[:1] == b"\x16":  # a TLS hello: say nothing until the client gives up
                conn.recv(65536)
                return
            while data:
                found = data.startswith(b"GET /v2/ ")
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"
                             if found else b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                data = conn.recv(65536)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("early", [False, True])  # True: its hello sent early, as the CLI does (preconnect)
def test_a_server_silent_to_the_tls_hello_holds_the_probe_only_for_its_timeout(tmp_path, monkeypatch, early):
    from explorer.recording import preconnect, tls

    monkeypatch.setattr("explorer.client.schemes.PROBE_TIMEOUT", 0.5)
    server = _SilentToTls()
    preconnect.discard()
    if early:
        port = int(server.host.rsplit(":", 1)[1])
        preconnect.start([("127.0.0.1", port, tls.PROBE), ("127.0.0.1", port, None)])
    try:
        session = TraceSession("tags", server.host, tmp_path / "t.json", options=ClientOptions(retries=0))
        with session.running():
            response = session.client(server.host).ping()
    finally:
        server.close()
        preconnect.discard()
    assert response.status_code == 200
    probe, ping = session.trace.exchanges
    assert probe.step == "https probe: no TLS answer" and "Timeout" in (probe.error or "")
    assert 450 <= probe.duration_ms < 5000, probe.duration_ms  # the probe's bound, not the client's 30 s
    assert ping.request.url == f"http://{server.host}/v2/" and ping.response.status == 200


# --- handshakes made while the command imports (recording/preconnect.py) ---------------------------
def _https_only_ping(registry: RunningRegistry, tmp_path: Path) -> TraceSession:
    """An https registry as any that is not loopback: no probe, the verified pool's handshake first."""
    options = ClientOptions(credentials=Credentials(registry.username, registry.password), retries=0,
                            plain_http=False)
    session = TraceSession("tags", registry.host, tmp_path / "t.json", options=options)
    with session.running():
        session.client(registry.host).ping()
    return session


@pytest.fixture
def early_verified(registry_tls):
    from explorer.recording import preconnect, tls

    host, port = registry_tls.host.rsplit(":", 1)
    preconnect.discard()
    yield lambda: preconnect.start([(host, int(port), tls.VERIFIED)])
    preconnect.discard()


def test_an_https_registry_is_verified_early_with_the_bundle_its_pool_uses(registry_tls, registry_workdir,
                                                                           early_verified, monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_CERT_FILE", str(registry_workdir / "basic-tls" / "tls" / "cert.pem"))  # trusted now
    threads = tls_handshakes(monkeypatch)
    early_verified()
    session = _https_only_ping(registry_tls, tmp_path)
    assert threads == ["preconnect"]  # verified on the preconnect thread, adopted by the pool: no second hello
    first = session.trace.exchanges[0]
    assert first.response is not None and first.request.url.startswith("https://")
    assert first.connection is not None and first.connection.tls and first.connection.tls.startswith("TLSv1")


def test_an_early_handshake_that_fails_verification_is_the_error_of_the_first_request(
        registry_tls, early_verified, monkeypatch, tmp_path):
    threads = tls_handshakes(monkeypatch)
    early_verified()  # certifi's bundle: the self-signed certificate does not verify
    with pytest.raises(TransportError, match="--insecure"):
        _https_only_ping(registry_tls, tmp_path)
    assert threads == ["preconnect"]
