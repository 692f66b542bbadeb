"""RecordingTransport: every hop recorded, bodies streamed (not buffered), timings, redaction."""

from __future__ import annotations

import hashlib
import http.server
import threading
import tracemalloc

import httpx
import pytest

from explorer.recording.extensions import BODY_TAP_EXTENSION
from explorer.recording.recorder import Recorder, RecordingTransport


def _client(handler, recorder=None, **kw):
    recorder = recorder or Recorder()
    transport = RecordingTransport(recorder, httpx.MockTransport(handler))
    return recorder, httpx.Client(transport=transport, follow_redirects=True, **kw)


def test_each_redirect_hop_is_its_own_exchange_and_authorization_is_dropped_cross_origin():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "registry.test":
            return httpx.Response(307, headers={"Location": "http://cdn.test/blob?X-Amz-Signature=SIG"})
        return httpx.Response(200, content=b"blob-bytes", headers={"Content-Type": "application/octet-stream"})

    rec, client = _client(handler)
    with rec.step("fetch layer 1/1"):
        r = client.get("http://registry.test/v2/a/blobs/sha256:" + "0" * 64, headers={"Authorization": "Bearer T0K3N"})
    assert r.content == b"blob-bytes"
    first, second = rec.trace.exchanges
    assert (first.id, first.response.status, second.response.status) == (1, 307, 200)
    assert first.step == second.step == "fetch layer 1/1"
    assert first.request.header("authorization") == "Bearer <redacted>"
    assert second.request.header("authorization") is None
    assert "SIG" not in second.request.url and "X-Amz-Signature=<redacted>" in second.request.url
    assert first.response.header("location").endswith("X-Amz-Signature=<redacted>")
    assert second.response.body.size == 10
    assert second.response.body.sha256 == hashlib.sha256(b"blob-bytes").hexdigest()
    assert second.response.body.text is None  # binary bodies are described, not kept


def test_json_bodies_are_kept_redacted_and_capped():
    payload = b'{"token": "secret-token-value", "expires_in": 300, "pad": "' + b"x" * 100 + b'"}'

    def handler(request):
        return httpx.Response(200, content=payload, headers={"Content-Type": "application/json"})

    rec, client = _client(handler, Recorder(text_cap=60))
    client.get("http://auth.test/token?service=s&scope=repository:a:pull")
    body = rec.trace.exchanges[0].response.body
    assert body.truncated and body.size == len(payload)
    assert "secret-token-value" not in body.text
    assert body.text.startswith('{"token": "<redacted>"')


def test_unknown_secrets_are_hidden_and_learned_from_every_other_exchange():
    """Request headers by allowlist; a response's unknown secret header and JSON field, and echoes of them."""
    session = "sessionkey-canary-sierra-tango"
    upstream = "upstream-canary-kilo-lima"

    def handler(request):
        if request.url.path == "/v2/":
            return httpx.Response(200, json={"session_key": session, "name": "x"},
                                  headers={"X-Upstream-Token": upstream, "Docker-Distribution-Api-Version": "registry/2.0"})
        return httpx.Response(403, text=f"you sent {request.headers['private-token']}, we said {session} and {upstream}",
                              headers={"Content-Type": "text/plain"})

    rec, client = _client(handler)
    client.get("http://registry.test/v2/", headers={"Private-Token": "glpat-canary-yankee-zulu"})
    client.get("http://registry.test/v2/x/tags/list", headers={"Private-Token": "glpat-canary-yankee-zulu"})
    trace = rec.seal()
    first, second = trace.exchanges
    assert first.request.header("private-token") == "<redacted>"
    assert first.response.header("x-upstream-token") == "<redacted>"
    assert first.response.header("docker-distribution-api-version") == "registry/2.0"
    assert first.response.body.text == '{"session_key":"<redacted>","name":"x"}'
    assert second.response.body.text == "you sent <redacted>, we said <redacted> and <redacted>"


def test_a_header_seen_again_is_scrubbed_of_the_secrets_learned_since_and_teaches_every_recorder():
    """Headers are redacted once per recorder (``Recorder.stored_headers``); known secrets never are cached."""
    build = "build-canary-mike-november"
    cookie = "cookie-canary-oscar-papa"

    def handler(request):
        return httpx.Response(200, text=f"your session is {cookie}", headers={
            "Server": build, "Set-Cookie": f"sid={cookie}; Path=/", "Content-Type": "text/plain"})

    finished = []
    rec, client = _client(handler, Recorder(on_exchange=lambda ex: finished.append(ex.response.header("server"))))
    client.get("http://registry.test/v2/")
    rec.secrets.add(build)  # learned between two exchanges (as the auth layer learns a token)
    client.get("http://registry.test/v2/")
    assert finished == [build, "<redacted>"]  # as each exchange was finished, before ``seal`` scrubs them all
    for recorder in (rec, _client(handler)[0]):  # a new recorder learns the same cookie from the same header
        other = _client(handler, recorder)[1]
        other.get("http://registry.test/v2/")
        last = recorder.trace.exchanges[-1].response
        assert last.header("set-cookie") == "sid=<redacted>; Path=/"
        assert last.body.text == "your session is <redacted>"


def test_a_bodys_media_type_is_its_content_type_as_stored_a_known_secret_scrubbed():
    token = "token-canary-quebec-romeo"

    def handler(request):
        return httpx.Response(200, text=f"[{token}]", headers={"Content-Type": f"text/plain; echo={token}"})

    rec, client = _client(handler)
    rec.secrets.add(token)
    client.post("http://registry.test/v2/", content=b'{"a": 1}', headers={"Content-Type": "application/json"})
    exchange = rec.trace.exchanges[0]
    assert exchange.request.body.media_type == "application/json" and exchange.request.body.text == '{"a": 1}'
    assert exchange.response.header("content-type") == "text/plain; echo=<redacted>"
    assert exchange.response.body.media_type == "text/plain; echo=<redacted>"
    assert exchange.response.body.text == "[<redacted>]"  # still textual: the media type was read as stored
    late = "late-canary-sierra-tango"  # learned after the exchange was stored: the seal scrubs it there too
    rec2, client2 = _client(lambda request: httpx.Response(204, headers={"Content-Type": f"x/y; k={late}"}))
    client2.get("http://registry.test/v2/")
    rec2.secrets.add(late)
    assert rec2.seal().exchanges[0].response.body.media_type == "x/y; k=<redacted>"


def test_a_token_with_a_lone_surrogate_escape_is_learned_and_the_trace_written_without_it(tmp_path):
    """A hostile token server may escape half a surrogate pair (``\\ud800``), which UTF-8 cannot encode:
    learning the token raised out of the request, and the operation failed with an internal error."""
    from explorer import trace as tracefile

    body = b'{"token": "tok-canary-\\ud800-lima-mike", "expires_in": 60}'

    def handler(request):
        if request.url.path == "/token":
            return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})
        echoed = request.headers.get("x-echo")
        return httpx.Response(401, text=f"bad token {echoed}", headers={"Content-Type": "text/plain"})

    rec, client = _client(handler)
    assert client.get("http://auth.test/token").status_code == 200
    rec.secrets.add("tok-canary-\ud800-lima-mike")  # as the auth layer registers the token it was issued
    client.get("http://registry.test/v2/", headers={"X-Echo": "tok-canary-%ED%A0%80-lima-mike"})
    written = tracefile.save(rec.seal(), tmp_path / "t.json").read_text(encoding="utf-8")
    assert "canary" not in written
    assert tracefile.load(tmp_path / "t.json").exchanges[1].response.body.text == "bad token <redacted>"


def test_a_50_mib_body_streams_through_without_being_buffered():
    chunk = b"z" * (1 << 20)

    def stream():
        for _ in range(50):
            yield chunk

    def handler(request):
        return httpx.Response(200, content=stream(), headers={"Content-Type": "application/octet-stream"})

    rec, client = _client(handler)
    expected = hashlib.sha256()
    tracemalloc.start()
    try:
        with client.stream("GET", "http://registry.test/v2/a/blobs/sha256:" + "1" * 64) as r:
            total = 0
            for part in r.iter_raw():
                total += len(part)
                expected.update(part)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 50 << 20
    assert peak < 8 << 20, f"peak traced memory {peak} suggests the body was buffered"
    body = rec.trace.exchanges[0].response.body
    assert body.size == 50 << 20 and body.complete
    assert body.sha256 == expected.hexdigest()
    assert r.extensions[BODY_TAP_EXTENSION].sha256_hex() == expected.hexdigest()  # what a verified download borrows


def test_streamed_request_bodies_are_counted_and_hashed():
    def handler(request):
        request.read()
        return httpx.Response(202)

    def upload():
        yield b"a" * 1000
        yield b"b" * 24

    rec, client = _client(handler)
    client.patch("http://registry.test/v2/a/blobs/uploads/u", content=upload(),
                 headers={"Content-Type": "application/octet-stream"})
    body = rec.trace.exchanges[0].request.body
    assert body.size == 1024
    assert body.sha256 == hashlib.sha256(b"a" * 1000 + b"b" * 24).hexdigest()


def test_a_body_that_breaks_off_is_recorded_with_its_response_and_the_error_that_ended_it():
    class Cut(httpx.SyncByteStream):
        def __iter__(self):
            yield b"x" * 1000
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    rec, client = _client(lambda request: httpx.Response(200, stream=Cut(), headers={"Content-Length": "4000"}))
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream("GET", "http://registry.test/v2/a/blobs/sha256:" + "1" * 64) as r:
            for _ in r.iter_raw():
                pass
    (ex,) = rec.trace.exchanges
    assert ex.response.status == 200 and ex.response.body.size == 1000 and not ex.response.body.complete
    assert ex.error == "RemoteProtocolError: peer closed connection without sending complete message body"


def test_a_reader_that_stops_early_leaves_no_error():
    rec, client = _client(lambda request: httpx.Response(200, content=iter([b"a" * 10, b"b" * 10])))
    with client.stream("GET", "http://registry.test/v2/a/blobs/sha256:" + "1" * 64) as r:
        next(r.iter_raw())  # a HEAD-like peek: the rest is not wanted
    (ex,) = rec.trace.exchanges
    assert ex.response.body.complete is False and ex.error is None


def test_connection_failure_is_recorded_with_error_and_no_response():
    rec = Recorder()
    client = httpx.Client(transport=RecordingTransport(rec))
    with pytest.raises(httpx.ConnectError):
        client.get("http://127.0.0.1:9/v2/")  # port 9 (discard): nothing listens
    (ex,) = rec.trace.exchanges
    assert ex.response is None and ex.error.startswith("ConnectError")


def test_step_labels_are_per_thread_and_can_be_renamed():
    def handler(request):
        return httpx.Response(200)

    rec, client = _client(handler)
    barrier = threading.Barrier(2)

    def work(label):
        with rec.step(label):
            barrier.wait()
            client.head("http://registry.test/v2/a/blobs/sha256:" + "2" * 64, params={"n": label[-3]})

    threads = [threading.Thread(target=work, args=(f"check layer {i}/2",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    by_n = {ex.request.url.rsplit("=", 1)[-1]: ex.step for ex in rec.trace.exchanges}
    assert by_n == {"1": "check layer 1/2", "2": "check layer 2/2"}
    with rec.step("check layer 1/1") as step:
        client.head("http://registry.test/v2/a/blobs/sha256:" + "3" * 64)
        step.rename("layer 1/1 already present, skipped")
    assert rec.trace.exchanges[-1].step == "layer 1/1 already present, skipped"


def test_steps_carry_intent_refined_per_request_and_token_requests_keep_the_transfer():
    from explorer.recording.extensions import STEP_EXTENSION
    from explorer.trace import Intent

    def handler(request):
        return httpx.Response(202 if request.method == "POST" else 200)

    rec, client = _client(handler)
    blob = "sha256:" + "4" * 64
    step = Intent("open-upload", repository="a", digest=blob, item="layer", index=2, total=3, transfer=blob)
    with rec.step(step) as handle:
        with rec.refine(kind="open-upload", endpoint="end-4a"):
            client.post("http://registry.test/v2/a/blobs/uploads/")
            client.get("http://auth.test/token", extensions={STEP_EXTENSION: "authenticate"})
        with rec.refine(kind="close-upload", endpoint="end-6"):
            client.put("http://registry.test/v2/a/blobs/uploads/u1?digest=" + blob)
        handle.rename("renamed")
    post, token, put = rec.trace.exchanges
    assert post.intent == step.but(endpoint="end-4a") and put.intent == step.but(kind="close-upload", endpoint="end-6")
    assert post.step == put.step == "renamed", "a refined request belongs to its step: renamed with it"
    assert token.step == "authenticate" and token.intent == Intent("authenticate", repository="a", transfer=blob)
    with rec.step("a label without intent"):
        client.get("http://registry.test/v2/")
    assert rec.trace.exchanges[-1].intent is None and rec.trace.exchanges[-1].step == "a label without intent"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_real_socket_timings_and_connection_reuse():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        rec = Recorder()
        with httpx.Client(transport=RecordingTransport(rec)) as client:
            url = f"http://127.0.0.1:{server.server_address[1]}/v2/"
            client.get(url)
            client.get(url)
        first, second = rec.trace.exchanges
        assert first.timings.connect is not None and first.connection.reused is False
        assert second.timings.connect is None and second.connection.reused is True
        assert first.connection.local == second.connection.local  # same TCP connection
        for ex in (first, second):
            assert ex.timings.send is not None and ex.timings.wait is not None
            assert ex.response.http_version == "HTTP/1.1" and ex.response.reason == "OK"
            assert ex.response.body.text == '{"ok": true}'
    finally:
        server.shutdown()
        server.server_close()
