"""HAR export (valid HAR 1.2, timings from the recorder) and HAR import (redacted like a recording)."""

from __future__ import annotations

import base64
import json

import pytest

from explorer import importers, render
from explorer import trace as tracefile
from explorer.annotate import annotate
from explorer.render import RenderOptions, har
from tests.infra.runner import run_cli
from tests.infra.schemas import validate_har, validate_trace
from tests.render import factory

VARIANTS = ("anonymous", "basic", "token", "redirect")


@pytest.mark.parametrize("variant", VARIANTS)
def test_har_of_a_real_pull_is_valid_and_timed(variant, pull_trace, live, tmp_path):
    out = tmp_path / "pull.har"
    run = run_cli("export", "har", str(pull_trace(variant)), "-o", str(out))
    assert run.code == 0, run.output
    data = validate_har(out)
    log = data["log"]
    trace = tracefile.load(pull_trace(variant))
    assert len(log["entries"]) == len(trace.exchanges)
    assert log["pages"][0]["title"].startswith("pull 127.0.0.1:")
    for entry, ex in zip(log["entries"], trace.exchanges):
        t = entry["timings"]
        assert t["dns"] == -1 and all(t[k] >= 0 for k in ("send", "wait", "receive"))
        assert all(t[k] == -1 or t[k] >= 0 for k in ("blocked", "connect", "ssl"))
        assert entry["time"] == pytest.approx(sum(v for k, v in t.items() if k != "ssl" and v > 0), abs=0.01)
        assert entry["serverIPAddress"] == "127.0.0.1"
        assert entry["connection"] == ex.connection.local
        assert (t["connect"] == -1) == ex.connection.reused  # a reused connection has no connect phase
        assert entry["startedDateTime"] == ex.started and entry["pageref"] == "page_1"
    manifest = next(e for e in log["entries"] if e["request"]["url"].endswith("/manifests/1.0")
                    and e["response"]["status"] == 200)
    assert json.loads(manifest["response"]["content"]["text"])["schemaVersion"] == 2
    assert manifest["comment"].startswith("end-3")
    registry = live(variant)
    text = out.read_text()
    if registry.password:
        assert registry.password not in text
        assert "<redacted>" in text
    if variant in ("token", "redirect"):
        token = next(e for e in log["entries"] if "/token" in e["request"]["url"])
        assert '"token": "<redacted>"' in token["response"]["content"]["text"]
    if variant == "redirect":
        redirects = [e for e in log["entries"] if e["response"]["status"] == 307]
        assert len(redirects) == 4 and all(e["response"]["redirectURL"].startswith("http://localhost:")
                                           for e in redirects)


def test_every_synthetic_case_exports_a_valid_har():
    for name, case in factory.CASES.items():
        if name != "big":
            validate_har(har.log(annotate(case())))
    failed = har.log(annotate(factory.case_pull_broken_storage()))["log"]["entries"][-1]
    assert failed["response"]["status"] == 0 and "Connection refused" in failed["response"]["_error"]


def test_a_body_that_broke_off_keeps_its_error_through_a_har_and_back(tmp_path):
    original = factory.case_pull_resumed()
    cut = next(ex for ex in original.exchanges if ex.response is not None and ex.error)
    path = tmp_path / "resumed.har"
    path.write_text(har.render(annotate(original), RenderOptions()))
    entry = json.loads(path.read_text())["log"]["entries"][cut.id - 1]
    assert entry["response"]["status"] == 200 and entry["response"]["_error"] == cut.error
    run = run_cli("import", "har", str(path), "-o", str(tmp_path / "back.trace.json"))
    assert run.code == 0, run.output
    back = tracefile.load(tmp_path / "back.trace.json")
    assert [(ex.response.status, ex.error) for ex in back.exchanges] == [
        (ex.response.status, ex.error) for ex in original.exchanges]


def test_binary_bodies_kept_by_the_recorder_are_base64(pull_trace):
    data = har.log(annotate(tracefile.load(pull_trace("anonymous", keep_bodies=True))))
    blob = next(e for e in data["log"]["entries"] if "/blobs/" in e["request"]["url"])
    content = blob["response"]["content"]
    assert content["encoding"] == "base64" and len(base64.b64decode(content["text"])) == content["size"]


def test_har_round_trip_keeps_the_trace(pull_trace, tmp_path):
    original = tracefile.load(pull_trace("redirect"))
    path = tmp_path / "pull.har"
    path.write_text(har.render(annotate(original), RenderOptions()))
    run = run_cli("import", "har", str(path), "-o", str(tmp_path / "back.trace.json"))
    assert run.code == 0, run.output
    back = tracefile.load(tmp_path / "back.trace.json")
    validate_trace(back.to_dict())
    assert back.operation == "pull" and back.target == original.target
    for a, b in zip(original.exchanges, back.exchanges, strict=True):
        assert (a.request.method, a.request.url, a.step) == (b.request.method, b.request.url, b.step)
        assert a.request.headers == b.request.headers and a.response.headers == b.response.headers
        assert a.response.status == b.response.status
        if a.response.body and a.response.body.size:
            assert (a.response.body.sha256, a.response.body.text) == (b.response.body.sha256, b.response.body.text)
        assert b.connection.remote == a.connection.remote and b.connection.reused == a.connection.reused
        assert b.timings.wait == pytest.approx(a.timings.wait, abs=0.001)
    for fmt in render.names():
        render.get(fmt).render(annotate(back), RenderOptions())


# --- a capture made by someone else: secrets must not survive the import -------------------------

TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLXZhbHVl"
PASSWORD = "hunter2-not-for-traces"
BASIC = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
REFRESH = "refresh-me-if-you-can-0123456789"


def _entry(method, url, status, req_headers, resp_headers, text="", mime="application/json", post=None):
    entry = {
        "startedDateTime": "2026-03-01T10:00:00.123+01:00", "time": 12.5,
        "request": {"method": method, "url": url, "httpVersion": "HTTP/2.0", "cookies": [],
                    "headers": [{"name": k, "value": v} for k, v in req_headers], "queryString": [],
                    "headersSize": -1, "bodySize": 0},
        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2.0", "cookies": [],
                     "headers": [{"name": k, "value": v} for k, v in resp_headers],
                     "content": {"size": len(text), "mimeType": mime, "text": text},
                     "redirectURL": "", "headersSize": -1, "bodySize": len(text)},
        "cache": {}, "timings": {"blocked": -1, "dns": 1.5, "connect": 10, "ssl": 8, "send": 0.1, "wait": 2,
                                 "receive": 0.4},
        "serverIPAddress": "2606:4700::6810:84e5", "connection": "443",
    }
    if post is not None:
        entry["request"]["postData"] = post
    return entry


def mitmproxy_style_har() -> dict:
    """What `mitmdump --set hardump=…` writes for a docker pull: tokens, Basic, cookies, signed URLs."""
    registry, auth, cdn = "https://registry-1.docker.io", "https://auth.docker.io", "https://production.cloudflare.docker.com"
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"digest": "sha256:" + "a" * 64, "size": 2}, "layers": []})
    return {"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "11.0.0"}, "entries": [
        _entry("GET", f"{registry}/v2/", 401, [(":authority", "registry-1.docker.io")],
               [("www-authenticate", 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"')],
               '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'),
        _entry("GET", f"{auth}/token?scope=repository%3Alibrary%2Falpine%3Apull&service=registry.docker.io", 200,
               [("authorization", f"Basic {BASIC}"), ("cookie", "session=s3ss10nvalue99")],
               [("set-cookie", "session=s3ss10nvalue99; Path=/")],
               json.dumps({"token": TOKEN, "access_token": TOKEN, "refresh_token": REFRESH, "expires_in": 300})),
        _entry("GET", f"{registry}/v2/library/alpine/manifests/3.20", 200,
               [("authorization", f"Bearer {TOKEN}"), ("accept", "application/vnd.oci.image.manifest.v1+json")],
               [("docker-content-digest", "sha256:" + "b" * 64), ("x-echo", f"seen {TOKEN}")], manifest,
               mime="application/vnd.oci.image.manifest.v1+json"),
        _entry("GET", f"{cdn}/registry-v2/docker/registry/v2/blobs/sha256/aa/{'a' * 64}/data"
               f"?X-Amz-Signature=deadbeefcafe1234&X-Amz-Date=20260301&token={TOKEN}", 200, [], [], "{}"),
        _entry("POST", f"{auth}/token", 200, [("content-type", "application/x-www-form-urlencoded")], [],
               json.dumps({"access_token": "second-token-abcdefgh"}),
               post={"mimeType": "application/x-www-form-urlencoded",
                     "text": f"grant_type=refresh_token&refresh_token={REFRESH}&service=registry.docker.io"}),
    ]}}


def test_a_mitmproxy_style_har_is_redacted_on_import(tmp_path):
    source = tmp_path / "docker-pull.har"
    source.write_text(json.dumps(mitmproxy_style_har()))
    run = run_cli("import", "har", str(source))
    assert run.code == 0, run.output
    written = tmp_path / "docker-pull.trace.json"
    text = written.read_text()
    for secret in (TOKEN, PASSWORD, BASIC, REFRESH, "s3ss10nvalue99", "deadbeefcafe1234", "second-token-abcdefgh"):
        assert secret not in text, secret
    trace = tracefile.Trace.from_dict(validate_trace(written))
    token_request = trace.exchanges[1]
    assert token_request.request.header("authorization") == "Basic <redacted>"
    assert '"token": "<redacted>"' in token_request.response.body.text
    assert trace.exchanges[2].request.header("authorization") == "Bearer <redacted>"
    assert trace.exchanges[2].response.header("x-echo") == "seen <redacted>"  # learned secret, other header
    assert "X-Amz-Signature=<redacted>" in trace.exchanges[3].request.url
    assert "X-Amz-Date=20260301" in trace.exchanges[3].request.url  # allowlisted: teaches, no secret
    assert trace.exchanges[0].started == "2026-03-01T09:00:00.123Z"
    assert trace.exchanges[0].connection.remote == "[2606:4700::6810:84e5]:443"
    assert all(not k.startswith(":") for k, _ in trace.exchanges[0].request.headers)
    for fmt in render.names():  # and nothing leaks through a render or export either
        out = render.get(fmt).render(annotate(trace), RenderOptions())
        assert TOKEN not in out and PASSWORD not in out


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "not a HAR file (not JSON"),
    ('{"log": {}}', "not a HAR file (no log.entries)"),
    ('{"log": {"entries": [{"request": {}}]}}', "an entry has no request method and url"),
])
def test_bad_har_files_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.har"
    path.write_text(content)
    run = run_cli("import", "har", str(path))
    assert run.code == 2
    assert run.stderr.startswith(f"error: {path}: {message}")
    assert "Traceback" not in run.output


def test_import_of_a_missing_file_and_an_unknown_format(tmp_path):
    assert run_cli("import", "har", str(tmp_path / "nope.har")).stderr.startswith("error: har file not found")
    run = run_cli("import", "pcap", str(tmp_path / "x"))
    assert run.code == 2 and "choose from: har, cassette" in run.stderr
    with pytest.raises(Exception, match="unknown import format"):
        importers.load("pcap", tmp_path / "x")


def test_a_token_body_mislabelled_as_binary_is_learned_and_never_kept(tmp_path):
    har = mitmproxy_style_har()
    token_entry = har["log"]["entries"][1]
    token_entry["response"]["content"]["mimeType"] = "application/octet-stream"
    token_entry["response"]["content"]["text"] = base64.b64encode(token_entry["response"]["content"]["text"]
                                                                  .encode()).decode()
    token_entry["response"]["content"]["encoding"] = "base64"
    (tmp_path / "odd.har").write_text(json.dumps(har))
    trace = importers.load("har", tmp_path / "odd.har", binary_cap=1 << 20)
    text = tracefile.dumps(trace)
    assert TOKEN not in text and base64.b64encode(TOKEN.encode()).decode()[:40] not in text
    assert trace.exchanges[1].response.body.base64 is None and trace.exchanges[1].response.body.truncated
    assert trace.exchanges[2].request.header("authorization") == "Bearer <redacted>"
