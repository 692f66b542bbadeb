"""The curl and Python exports of hostile traces, RUN for real against hostile loopback registries.

Every trace of the corpus (tests/hostile/corpus.py) is exported with ``regexplore export curl|python``.
Free-text values must export, and the script, run with bash or python in a temporary directory
against a loopback listener, must create no marker file and send the canary password nowhere
the registry did not ask for it. Hostile protocol values (tag, repository, digest, host) are
refused at export time with one line (exit 2), or stay data. Hostile registries check the
scripts' own rules at run time: a manifest's digests are checked before they name a URL or a
file, and credentials never reach a redirect's storage host or an upload Location elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Callable

import pytest

from explorer import trace as tracefile
from tests.hostile.corpus import CANARY_PASSWORD, free_text_trace, joined, marker_path, protocol_traces
from tests.infra.loopback import LoopbackServer
from tests.infra.runner import run_cli
from tests.infra.tools import require_tool

LANGUAGES = {"curl": ".sh", "python": ".py"}
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def carries(self, secret: str) -> bool:
        text = self.path + " ".join(f"{k}: {v}" for k, v in self.headers.items()) + self.body.decode("latin-1")
        return secret in text or "authorization" in {k.lower() for k in self.headers}


Answer = tuple[int, list[tuple[str, str]], bytes]


@dataclass
class Hostile(LoopbackServer):
    """A loopback server answering each request with ``answer(method, path, headers)``; it records all."""

    answer: Callable[[str, str, dict[str, str]], Answer] = lambda method, path, headers: (404, [], b"")
    host_name: str = "127.0.0.1"
    seen: list[Seen] = field(default_factory=list)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = dict(self.headers.items())
                server.seen.append(Seen(self.command, self.path, headers, body))
                status, extra, data = server.answer(self.command, self.path, headers)
                self.send_response(status)
                for name, value in extra:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = serve  # noqa: N815

        return Handler


def plain_registry(method: str, path: str, headers: dict[str, str]) -> Answer:
    if path == "/v2/":
        return 200, [("Docker-Distribution-API-Version", "registry/2.0")], b"{}"
    return 404, [("Content-Type", "application/json")], b'{"errors":[{"code":"NAME_UNKNOWN","message":"x"}]}'


def export(language: str, trace: tracefile.Trace, folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "hostile.trace.json"
    tracefile.save(trace, source)
    script = folder / f"replay{LANGUAGES[language]}"
    return run_cli("export", language, str(source), "-o", str(script)), script


def run(language: str, script: Path, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [require_tool("bash"), str(script)] if language == "curl" else [sys.executable, str(script)]
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=folder,
                          env={**clean, "OUT": str(folder / "out"), "SOURCE": str(folder / "source"), **env})


def compiles(language: str, script: Path) -> None:
    check = [require_tool("bash"), "-n", str(script)] if language == "curl" else \
        [sys.executable, "-m", "py_compile", str(script)]
    done = subprocess.run(check, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _pushed_manifest_trace(marker: Path) -> tracefile.Trace:
    """A push whose manifest text (sent again as recorded) carries every payload in an annotation."""
    from tests.render.factory import REG, Builder, body, dg
    text = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "annotations": {"evil": joined(marker)},
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": dg("c"),
                                  "size": 2},
                       "layers": []}, ensure_ascii=False)
    b = Builder("push", f"{REG}/team/app:1.0", command=["regexplore", "trace", "push", joined(marker)])
    b.trace.created = joined(marker)
    b.add("GET", f"http://{REG}/v2/", 200, step="ping")
    b.add("PUT", f"http://{REG}/v2/team/app/manifests/1.0", 201, step=f"push manifest {joined(marker)}",
          req_body=body(len(text), OCI_MANIFEST, text))
    return b.done()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("operation", ["pull", "push", "push-manifest"])
def test_free_text_trace_exports_and_runs_inertly(language, operation, tmp_path):
    marker = marker_path(tmp_path)
    trace = _pushed_manifest_trace(marker) if operation == "push-manifest" else free_text_trace(marker, operation)
    exported, script = export(language, trace, tmp_path)
    assert exported.code == 0, exported.output
    compiles(language, script)
    text = script.read_text()
    assert "touch " + str(marker) + "\n" not in text.replace("# ", "")  # no payload line outside a comment
    for line in text.splitlines():  # every line holding a payload is a comment or a quoted literal
        if "PWNED" in line:
            stripped = line.strip()
            assert stripped.startswith("#") or "'" in stripped or stripped.startswith(("Recorded", "    ")), line
    with Hostile(answer=plain_registry) as registry:
        done = run(language, script, tmp_path, {"REGISTRY": registry.url, "REGISTRY_USERNAME": "me",
                                                "REGISTRY_PASSWORD": CANARY_PASSWORD})
        assert not marker.exists(), done.stdout + done.stderr
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
        assert registry.seen and not any(CANARY_PASSWORD in s.body.decode("latin-1") or
                                         any(CANARY_PASSWORD in v for v in s.headers.values())
                                         for s in registry.seen)


@pytest.mark.parametrize("language", LANGUAGES)
def test_hostile_protocol_values_are_refused_in_one_line_or_stay_data(language, tmp_path):
    marker = marker_path(tmp_path)
    refused = 0
    with Hostile(answer=plain_registry) as registry:
        for number, (name, trace) in enumerate(protocol_traces(marker).items()):
            folder = tmp_path / str(number)
            exported, script = export(language, trace, folder)
            if exported.code == 2:
                lines = exported.stderr.strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith("error: cannot export a script"), (name, exported.stderr)
                assert not script.exists()
                refused += 1
                continue
            assert exported.code == 0, (name, exported.output)
            compiles(language, script)
            done = run(language, script, folder, {"REGISTRY": registry.url})
            assert not marker.exists(), (name, done.stdout, done.stderr)
            assert "Traceback" not in done.stderr, (name, done.stderr)
    assert refused >= 22  # every tag, repository and digest payload, and the path traversal


def _manifest(layers: list[str]) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": layers[0],
                                  "size": 2},
                       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": 2}
                                  for d in layers[1:]]}).encode()


def _pull_trace_of(host: str) -> tracefile.Trace:
    from tests.render.factory import Builder, body, dg
    b = Builder("pull", f"{host}/team/app:1.0")
    b.add("GET", f"http://{host}/v2/", 200, step="ping")
    b.add("GET", f"http://{host}/v2/team/app/manifests/1.0", 200, step="resolve tag",
          headers=[("Content-Type", OCI_MANIFEST), ("Docker-Content-Digest", dg("m"))],
          resp_body=body(10, OCI_MANIFEST, "{}"))
    b.add("GET", f"http://{host}/v2/team/app/blobs/{dg('c')}", 200, step="fetch config", resp_body=body(2))
    return b.done()


@pytest.mark.parametrize("language", LANGUAGES)
def test_digests_a_hostile_registry_serves_name_no_url_and_no_file(language, tmp_path):
    marker = marker_path(tmp_path)
    for number, evil in enumerate(["sha256:../../../../PWNED", f"sha256:$(touch {marker})", "sha256:x\ntouch PWNED"]):
        index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": evil, "size": 9,
             "platform": {"os": "linux", "architecture": "amd64"}}]})
        served = {"/v2/team/app/manifests/1.0": (OCI_MANIFEST, _manifest([evil])),
                  "/v2/team/app/manifests/2.0": (OCI_INDEX, index.encode())}

        def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
            if path in served:
                kind, data = served[path]
                return 200, [("Content-Type", kind)], data
            return plain_registry(method, path, headers)

        folder = tmp_path / str(number)
        with Hostile(answer=answer) as registry:
            exported, script = export(language, _pull_trace_of(registry.host), folder)
            assert exported.code == 0, exported.output
            for tag in ("1.0", "2.0"):
                done = run(language, script, folder, {"REGISTRY": registry.url, "REFERENCE": tag})
                assert done.returncode == 1 and "not a sha256 digest" in done.stderr, done.stdout + done.stderr
            assert all("/blobs/" not in s.path for s in registry.seen)  # refused before any request names it
        assert not marker.exists() and not (tmp_path / "PWNED").exists()
        assert not (folder / "out").exists() or all(p.name != "PWNED" for p in (folder / "out").rglob("*"))


def _bearer_registry(storage: Hostile, content: dict[str, bytes]) -> Callable[[str, str, dict[str, str]], Answer]:
    """A registry with its own token realm (``/token``, taking Basic credentials); blobs answer 307 to
    ``storage``, and upload sessions get a Location on ``storage``."""
    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        if path.startswith("/token"):
            return 200, [("Content-Type", "application/json")], b'{"token": "granted"}'
        if headers.get("Authorization") != "Bearer granted":
            realm = f"http://{headers.get('Host')}/token"
            return 401, [("WWW-Authenticate", f'Bearer realm="{realm}",service="hostile"')], b""
        if path.startswith("/v2/team/app/manifests/"):
            if method == "PUT":
                return 201, [("Docker-Content-Digest", "sha256:" + hashlib.sha256(b"").hexdigest())], b""
            if method == "HEAD":
                return 404, [], b""
            return 200, [("Content-Type", OCI_MANIFEST)], content["manifest"]
        if "/blobs/uploads/" in path and method == "POST":
            return 202, [("Location", f"{storage.url}/upload/1")], b""
        if "/blobs/" in path and method == "HEAD":
            return 404, [], b""
        if "/blobs/" in path:
            return 307, [("Location", f"{storage.url}/bytes{path}")], b""
        return plain_registry(method, path, headers)
    return answer


class Storage(Hostile):
    """Another origin (``localhost``) answering everything with 401 Bearer and a realm of its own."""

    def __init__(self) -> None:
        super().__init__(answer=self.challenge, host_name="localhost")

    def challenge(self, method: str, path: str, headers: dict[str, str]) -> Answer:
        return 401, [("WWW-Authenticate", f'Bearer realm="{self.url}/token",service="storage"')], b""


@pytest.mark.parametrize("language", LANGUAGES)
def test_credentials_never_reach_a_storage_host_or_a_foreign_upload_location(language, tmp_path):
    """Credentials go to the registry and its own realm only: not to its 307's storage host (which answers
    401 Bearer with a realm of its own), not to an upload Location on another origin (issue 13)."""
    config = b"{}"
    layer = b"ab"
    digests = ["sha256:" + hashlib.sha256(data).hexdigest() for data in (config, layer)]
    manifest = _manifest(digests)
    source = tmp_path / "source" / "blobs" / "sha256"
    source.mkdir(parents=True)
    for digest, data in zip(digests, (config, layer)):
        (source / digest.split(":")[1]).write_bytes(data)
    storage = Storage()
    with storage:
        registry = Hostile(answer=_bearer_registry(storage, {"manifest": manifest}))
        with registry:
            from tests.render.factory import Builder, body
            pushed = Builder("push", f"{registry.host}/team/app:1.0")
            pushed.add("GET", f"{registry.url}/v2/", 200, step="ping")
            pushed.add("PUT", f"{registry.url}/v2/team/app/manifests/1.0", 201, step="push manifest",
                       req_body=body(len(manifest), OCI_MANIFEST, manifest.decode()))
            env = {"REGISTRY": registry.url, "REGISTRY_USERNAME": "me", "REGISTRY_PASSWORD": CANARY_PASSWORD}
            for name, trace in (("pull", _pull_trace_of(registry.host)), ("push", pushed.done())):
                exported, script = export(language, trace, tmp_path / name)
                assert exported.code == 0, exported.output
                done = run(language, script, tmp_path, env)
                assert done.returncode == 1, done.stdout + done.stderr
        assert any(s.path.startswith("/token") and s.headers.get("Authorization", "").startswith("Basic ")
                   for s in registry.seen)  # the registry's own realm asked and got them
        assert {s.method for s in storage.seen} >= {"GET", "PUT"}, storage.seen  # the scripts did go there
        assert not any(s.carries(CANARY_PASSWORD) for s in storage.seen), storage.seen


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_password_to_a_plain_http_realm_elsewhere(language, tmp_path):
    """A registry naming a plain-http token realm that is not loopback gets no Basic credentials sent
    there: the script stops with one line before any connection (Basic to a realm only over TLS or loopback)."""
    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        return 401, [("WWW-Authenticate", 'Bearer realm="http://realm.invalid/token",service="x"')], b""

    with Hostile(answer=answer) as registry:
        exported, script = export(language, _pull_trace_of(registry.host), tmp_path)
        assert exported.code == 0, exported.output
        done = run(language, script, tmp_path, {"REGISTRY": registry.url, "REGISTRY_USERNAME": "me",
                                                "REGISTRY_PASSWORD": CANARY_PASSWORD})
    assert done.returncode == 1
    assert done.stderr.strip() == ("error: not sending REGISTRY_USERNAME's password to http://realm.invalid/token:"
                                   " a token realm needs https or loopback"), done.stderr
    assert not any(s.carries(CANARY_PASSWORD) for s in registry.seen)


def _crafted_har(registry: str, digest: str, upload: bool) -> dict:
    """A captured push whose blob digest and manifest point at a local file (issue 13's reproduction)."""
    from tests.render.test_har import _entry
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [],
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest,
                                      "size": 2}})
    entries = [
        _entry("GET", f"{registry}/v2/", 200, [], []),
        _entry("POST", f"{registry}/v2/team/app/blobs/uploads/", 202, [],
               [("location", "/v2/team/app/blobs/uploads/u1")]),
        *([_entry("PUT", f"{registry}/v2/team/app/blobs/uploads/u1?digest={digest}", 201, [], [])] if upload else []),
        _entry("PUT", f"{registry}/v2/team/app/manifests/1.0", 201, [("content-type", OCI_MANIFEST)], [],
               post={"mimeType": OCI_MANIFEST, "text": manifest}),
    ]
    return {"log": {"version": "1.2", "creator": {"name": "crafted", "version": "1"}, "entries": entries}}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("digest", ["sha256:../../../../etc/hostname", "sha256:..%2F..%2F..%2Fetc%2Fhostname"])
@pytest.mark.parametrize("upload", [True, False], ids=["in-the-upload-url", "in-the-manifest-only"])
def test_a_crafted_digest_in_a_har_is_refused_at_export(language, digest, upload, tmp_path):
    har = tmp_path / "capture.har"
    har.write_text(json.dumps(_crafted_har("http://127.0.0.1:5000", digest, upload)))
    imported = run_cli("import", "har", str(har), "-o", str(tmp_path / "capture.trace.json"))
    assert imported.code == 0, imported.output
    exported = run_cli("export", language, str(tmp_path / "capture.trace.json"), "-o", str(tmp_path / "out"))
    assert exported.code == 2, exported.output
    lines = exported.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot export a script"), exported.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_oversized_manifest_is_refused_not_held(language, tmp_path):
    big = b'{"schemaVersion": 2, "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'

    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        if "/manifests/" in path:
            return 200, [("Content-Type", OCI_MANIFEST)], big
        return plain_registry(method, path, headers)

    with Hostile(answer=answer) as registry:
        exported, script = export(language, _pull_trace_of(registry.host), tmp_path)
        assert exported.code == 0, exported.output
        done = run(language, script, tmp_path, {"REGISTRY": registry.url})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "4 MiB" in done.stderr or "larger than 4194304 bytes" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()
