"""vcrpy cassettes: an exported pull replays through a plain httpx pull with the network switched off,
and cassettes (ours, and one vcrpy itself recorded) import as redacted traces."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket

import httpx
import pytest
import vcr
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import importers, render
from explorer import trace as tracefile
from explorer.annotate import annotate
from explorer.render import RenderOptions, cassette, yamltext
from explorer.trace import Body
from tests.infra.pulled import SMALL
from tests.render import factory
from tests.infra.runner import run_cli
from tests.infra.schemas import validate_trace

ACCEPT = ("application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
          "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json")


def plain_pull(base: str, repository: str, tag: str, username: str | None = None) -> list[str]:
    """A pull written with nothing but httpx, the way docker does it: the ping learns the challenge, then
    one token for the repository's pull scope, the manifest and the blobs."""
    with httpx.Client(base_url=base) as client:
        auth: dict[str, str] = {}
        ping = client.get("/v2/")
        if ping.status_code == 401:
            params = dict(re.findall(r'(\w+)="([^"]*)"', ping.headers["www-authenticate"]))
            query = {"service": params["service"], "scope": f"repository:{repository}:pull"}
            if username:
                query["account"] = username
            grant = client.get(params["realm"], params=query, auth=(username, "x") if username else None).json()
            auth["Authorization"] = f"Bearer {grant.get('token') or grant['access_token']}"

        def get(path: str, **headers: str) -> httpx.Response:
            response = client.get(path, headers={**headers, **auth}, follow_redirects=True)
            response.raise_for_status()
            return response

        manifest = get(f"/v2/{repository}/manifests/{tag}", Accept=ACCEPT)
        digests = [manifest.headers["docker-content-digest"]]
        data = manifest.json()
        for descriptor in [data["config"], *data["layers"]]:
            blob = get(f"/v2/{repository}/blobs/{descriptor['digest']}")
            assert "sha256:" + hashlib.sha256(blob.content).hexdigest() == descriptor["digest"]
            digests.append(descriptor["digest"])
        return digests


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails: the replay must come from the cassette alone."""
    def refuse(*args, **kwargs):
        raise AssertionError("the replay tried to reach the network")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("variant", ["anonymous", "token", "redirect"])
def test_exported_cassette_replays_a_pull_without_a_registry(variant, pull_trace, live, seeded_images, tmp_path,
                                                              request):
    registry, recorded = live(variant), pull_trace(variant, keep_bodies=True)
    out = tmp_path / "pull.yaml"
    run = run_cli("export", "cassette", str(recorded), "-o", str(out))
    assert run.code == 0 and "warning" not in run.stderr, run.output
    request.getfixturevalue("no_network")
    with vcr.use_cassette(str(out), record_mode="none") as played:
        digests = plain_pull(registry.url, "test/small", "1.0", registry.username)
        assert played.all_played
    image = seeded_images[SMALL]
    assert digests[0] == image.digest and len(digests) == 5


def test_a_cassette_without_blob_bodies_says_so(pull_trace, tmp_path):
    out = tmp_path / "pull.yaml"
    run = run_cli("export", "cassette", str(pull_trace("anonymous")), "-o", str(out))
    assert run.code == 0
    assert run.stderr.startswith("warning: 4 response bodies (31.5 KB) are not in the trace")
    text = out.read_text()
    assert "# WARNING: 4 response bodies" in text and text.count("replays empty") == 4
    data = yaml.safe_load(text)
    assert data["version"] == 1 and len(data["interactions"]) == 6


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), st.text(), st.binary(min_size=1))
def test_every_recorded_value_reads_back_exactly(text, name, value, data):
    """Whatever a trace holds (any text: quotes, line breaks, NEL, U+2028, YAML words such as ``yes``),
    the cassette's YAML reads back to exactly those values, as vcrpy's safe loader reads it."""
    b = factory.Builder("pull", "localhost:5000/a:1")
    b.add("GET", f"http://localhost:5000/v2/{text}", 200, step=text, reason=value, req_headers=[(name, value)],
          headers=[(name, text), (name, value)], resp_body=factory.body(len(text), "text/plain", text=text))
    b.add("GET", "http://localhost:5000/v2/a/blobs/x", 200, step="blob",
          resp_body=Body(size=len(data), sha256="0" * 64, base64=base64.b64encode(data).decode()))
    trace = b.done()
    exported = cassette.render(annotate(trace), RenderOptions(title=text))
    first, blob = yaml.safe_load(exported)["interactions"]
    assert first["request"]["uri"] == f"http://localhost:5000/v2/{text}"
    assert first["request"]["headers"] == {name: [value]}
    assert first["response"]["headers"] == {name: [text, value]}
    assert first["response"]["status"] == {"code": 200, "message": trace.exchanges[0].response.reason}
    assert first["response"]["body"]["string"] == text
    assert blob["response"]["body"]["string"] == data


_SHARED_WRITER = yamltext.Writer(cassette._SAFE_DUMPER, cassette._OPTIONS)  # so is the writer: layouts and scalars


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), st.text(), st.binary(), st.integers(), st.booleans(),
       st.sampled_from(["", "x" * 200, "yes", "~", "- a", "zq7x0zq7x", "a\nb", "\ud800", "\x85", "1.5", "null"]))
def test_interactions_are_written_as_pyyaml_writes_them(text, name, value, data, status, binary, odd):
    """``cassette`` puts most interactions together from their shape's layout and each scalar's text
    (5,000 interactions render in a fraction of the time), and dumps the others with PyYAML: either
    way the text is PyYAML's safe dump's, character for character."""
    interaction = {"request": {"body": data if binary else text, "headers": {name: [value, text], odd: [odd]},
                               "method": text, "uri": value},
                   "response": {"body": {"string": text}, "headers": {}, "status": {"code": status, "message": odd},
                                "empty": [], "none": None, "flag": binary, "float": 1.5}}
    again = {**interaction, "request": {**interaction["request"], "uri": odd}}  # same shape, other scalars
    expected = [cassette._dump([interaction]), cassette._dump([again])]
    for got, want in zip(_SHARED_WRITER.dump_all([[interaction], [again]]), expected):
        assert got is None or got == want
    one_line = not any(yamltext._BREAKS.search(s) or "\ud800" in s or "zq7x" in s for s in (text, name, value, odd))
    if one_line and not binary:
        assert None not in _SHARED_WRITER.dump_all([[interaction]]), "a one-line interaction is put together"


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\x85", "\u2028"])
def test_values_libyaml_cannot_write_read_back_exactly(text):
    """A JSON trace may hold a lone surrogate, which libyaml cannot encode: that interaction is written by
    PyYAML's pure-Python safe dumper, escaped; NEL and U+2028 are escaped too (a literal one folds)."""
    b = factory.Builder("pull", "localhost:5000/a:1")
    b.add("GET", "http://localhost:5000/v2/", 200, step="ping", headers=[("X-Note", text)])
    b.add("GET", "http://localhost:5000/v2/a/tags/list", 200, step="tags", headers=[("X-Note", "plain")])
    exported = cassette.render(annotate(b.done()), RenderOptions())
    first, second = yaml.safe_load(exported)["interactions"]
    assert first["response"]["headers"] == {"X-Note": [text]}
    assert second["response"]["headers"] == {"X-Note": ["plain"]}
    assert all(line.isascii() for line in exported.splitlines() if not line.startswith("#"))


def test_cassette_round_trip_through_import(pull_trace, tmp_path):
    original = tracefile.load(pull_trace("token", keep_bodies=True))
    path = tmp_path / "pull.yaml"
    path.write_text(cassette.render(annotate(original), RenderOptions()))
    run = run_cli("import", "cassette", str(path), "-o", str(tmp_path / "back.trace.json"), "--keep-bodies", "1MiB")
    assert run.code == 0, run.output
    back = tracefile.Trace.from_dict(validate_trace(tmp_path / "back.trace.json"))
    assert [(e.request.method, e.request.url, e.response.status) for e in back.exchanges] == \
           [(e.request.method, e.request.url, e.response.status) for e in original.exchanges]
    blob = back.exchanges[-1].response.body
    assert blob.base64 and blob.sha256 == original.exchanges[-1].response.body.sha256
    for fmt in render.names():
        render.get(fmt).render(annotate(back), RenderOptions())


def test_a_cassette_vcrpy_recorded_imports_redacted(live, tmp_path):
    """vcrpy records a Basic-auth pull with httpx; importing it must drop the password it holds."""
    registry = live("basic")
    path = tmp_path / "recorded.yaml"
    with vcr.use_cassette(str(path), record_mode="all"):
        with httpx.Client(base_url=registry.url, auth=(registry.username, registry.password)) as client:
            client.get("/v2/").raise_for_status()
            client.get("/v2/test/small/manifests/1.0", headers={"Accept": ACCEPT}).raise_for_status()
            client.get("/v2/test/small/tags/list").raise_for_status()
    assert "Basic " in path.read_text()  # vcrpy kept the credential
    trace = importers.load("cassette", path)
    text = tracefile.dumps(trace)
    assert registry.password not in text and "Basic <redacted>" in text
    validate_trace(json.loads(text))
    assert [e.response.status for e in trace.exchanges] == [200, 200, 200]
    assert "end-8a" in render.get("markdown").render(annotate(trace), RenderOptions())


def test_bad_cassettes_are_one_line_errors(tmp_path):
    cases = {"x.yaml": ("interactions: [", "not a cassette (YAML"), "y.yaml": ("- request: {}\n", "before vcrpy 1.0"),
             "z.json": ('{"interactions": [{"request": {"uri": "http://x/", "method": "GET"}, "response": {}}]}',
                        "no valid status code"),
             "p.yaml": ("!!python/object/apply:os.system ['true']\n", "not a cassette (YAML")}
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content)
        run = run_cli("import", "cassette", str(tmp_path / name))
        assert run.code == 2 and message in run.stderr and "Traceback" not in run.output, (name, run.output)
