"""Canaries where secrets come from elsewhere: imported captures, two registries' credentials, the demo, echoes.

- ``regexplore import har|cassette`` of a capture someone else's tools made of
  a pull full of secrets (``canary_captures``): the imported trace and every
  render, export and command output of it hold none of them.
- ``trace copy`` between the real distribution registry and the built-in
  sandbox with ``--src-creds``/``--dest-creds``: neither password, nor any token
  of either token server, nor any signed URL.
- ``regexplore demo``: every file it writes and its terminal output, with the
  demo's own built-in registry watched (password, tokens, signed CDN URLs, ``_state``).
- a token server that echoes a password full of special characters back,
  JSON-escaped in a JSON error or HTML-escaped on an HTML page.
- a password pasted into the image reference (``user:password@host/…``, with
  or without ``https://``) of every trace command: refused (exit 2) without
  echoing it in the error, and no trace written even with ``-o``.
"""

from __future__ import annotations

import html
import json
import secrets

import pytest

from tests.infra.faults import Respond, Rule
from tests.infra.runner import run_cli
from tests.reliability.canary_captures import UNKNOWN_REQUEST, record_cassette, write_har
from tests.reliability.canary_outputs import Canaries, Outputs, assert_clean, encodings, trace_outputs
from tests.reliability.canary_sources import (
    UNKNOWN_MARKERS,
    SandboxWatch,
    isolated,
    query_secrets,
    registry_canaries,
    wire_secrets,
)
from tests.reliability.conftest import SMALL


@pytest.fixture(autouse=True)
def no_ambient_credentials(tmp_path, monkeypatch):
    isolated(tmp_path / "nobody").apply(monkeypatch)


@pytest.fixture
def sandbox_watch():
    watch = SandboxWatch()
    yield watch
    watch.close()


@pytest.mark.parametrize("fmt", ["har", "cassette"])
def test_an_imported_capture_full_of_secrets_leaks_none(fmt, registry_redirect, front, tmp_path):
    fronted = front(registry_redirect, cdn=True, token=True)
    wire_secrets(fronted, registry_redirect)
    issued_before = len(registry_redirect.token_server.issued_tokens)
    capture = tmp_path / "capture.yaml"
    record_cassette(fronted, registry_redirect, capture)
    if fmt == "har":
        capture = write_har(capture, tmp_path / "capture.har")
    canaries = registry_canaries(registry_redirect, tokens_from=issued_before)
    for name, value in UNKNOWN_REQUEST.items():
        canaries.add(f"unknown request {name}", value)
    raw = capture.read_text()  # the canaries are live: the capture holds every kind
    for kind in canaries.values:
        if not kind.startswith(("issued token", "identity")) or kind == f"issued token #{issued_before}":
            assert any(form in raw for form in encodings(canaries.values[kind]).values()), kind

    trace = tmp_path / "imported.trace.json"
    run = run_cli("import", fmt, str(capture), "-o", str(trace))
    assert run.code == 0, run.output
    outputs = trace_outputs(trace, tmp_path / "outputs")
    outputs.add_run(f"regexplore import {fmt}", run)
    assert_clean(canaries, outputs)
    text = trace.read_text()
    for marker in ("Basic <redacted>", "Bearer <redacted>", "password=<redacted>", "refresh_token=<redacted>",
                   "regexplore_session=<redacted>", "X-Amz-Signature=<redacted>", "otp=<redacted>",
                   "tracker=<redacted>", *UNKNOWN_MARKERS, '\\"user_hint\\": \\"<redacted>\\"',
                   *(f'["{name}", "<redacted>"]' for name in UNKNOWN_REQUEST if name[0].isupper())):
        assert marker.lower() in text.lower(), marker  # vcrpy writes the response's header names in lower case


def test_copy_between_registries_hides_src_and_dest_creds(registry_redirect, front, sandbox_watch, tmp_path):
    fronted = front(registry_redirect, cdn=True, token=True)
    wire_secrets(fronted, registry_redirect)
    watch = sandbox_watch
    issued_before = len(registry_redirect.token_server.issued_tokens)
    trace = tmp_path / "copy.trace.json"
    run = run_cli("--debug", "trace", "copy", f"{fronted.host}/{SMALL}", f"{watch.host}/mirror/small:1",
                  "--src-creds", f"{registry_redirect.username}:{registry_redirect.password}",
                  "--dest-creds", f"{watch.USERNAME}:{watch.password}", "-o", str(trace))
    assert run.code == 0, run.output

    canaries = registry_canaries(registry_redirect, tokens_from=issued_before)
    canaries.update(watch.canaries())
    canaries.update(query_secrets(s.target for proxy in (fronted.registry, fronted.cdn) for s in proxy.seen))
    outputs = trace_outputs(trace, tmp_path / "outputs")
    outputs.add_run("regexplore --debug trace copy", run)
    assert_clean(canaries, outputs)
    text = trace.read_text()
    assert '"--src-creds", "<redacted>"' in text and '"--dest-creds", "<redacted>"' in text
    assert "Signature=<redacted>" in text and "_state=<redacted>" in text  # CDN on one side, uploads on the other


def test_demo_outputs_leak_nothing(monkeypatch, tmp_path):
    watches: list[SandboxWatch] = []

    def watched_sandbox(**options: object):
        watches.append(SandboxWatch(**options))
        return watches[-1].sandbox

    monkeypatch.setattr("explorer.demo.Sandbox", watched_sandbox)
    outdir = tmp_path / "demo"
    run = run_cli("--debug", "demo", str(outdir))
    assert run.code == 0, run.output
    (watch,) = watches
    canaries = watch.canaries()
    kinds = {name.split(" #")[0] for name in canaries.values}
    assert {"sandbox password", "sandbox token", "Signature", "_state"} <= kinds, kinds

    outputs = trace_outputs(outdir / "pull.trace.json", tmp_path / "outputs", cli="terminal")
    outputs.add_tree(outdir, "demo wrote ")
    outputs.add_run("regexplore --debug demo", run)
    assert_clean(canaries, outputs)
    everything = "".join(p.read_text() for p in outdir.glob("*.trace.json"))
    assert all(m in everything for m in ("Bearer <redacted>", "Signature=<redacted>", "_state=<redacted>"))


def _echo_json(password: str) -> tuple[bytes, str]:
    body = {"errors": [{"code": "UNAUTHORIZED", "message": f"wrong password {password}",
                        "detail": {"password": password, "hint": f"you sent {password}"}}]}
    return json.dumps(body).encode(), "application/json"


def _echo_html(password: str) -> tuple[bytes, str]:
    return f"<html><body><p>Wrong password {html.escape(password)}</p></body></html>".encode(), "text/html"


@pytest.mark.parametrize("echo", [_echo_json, _echo_html], ids=["json", "html"])
def test_a_password_echoed_escaped_by_the_token_server_is_hidden(echo, registry_token, front, tmp_path):
    password = f'wrong "pw\\é&<x>/+%-{secrets.token_hex(4)}'
    body, media_type = echo(password)
    assert password not in body.decode()  # only an escaped form of it is there
    fronted = front(registry_token, token=True)
    fronted.token.add(Rule(Respond(401, headers={"Content-Type": media_type}, body=body), path="/token", times=None))
    trace = tmp_path / "pull.trace.json"
    run = run_cli("--debug", "trace", "pull", f"{fronted.host}/{SMALL}", "-o", str(trace),
                  "--username", registry_token.username, "--password-stdin", stdin=password + "\n")
    assert run.code == 1, run.output

    canaries = Canaries()
    canaries.add_basic("password", registry_token.username, password)
    outputs = trace_outputs(trace, tmp_path / "outputs", cli="terminal")
    outputs.add_run("regexplore --debug trace pull", run)
    assert_clean(canaries, outputs)
    assert "wrong password <redacted>" in run.stderr or "Wrong password <redacted>" in trace.read_text()


PASTED = "pasted-pw-canary-6d2e91"
_AT = f"tester:{PASTED}@127.0.0.1:9"
_DIGEST = "sha256:" + "5e" * 32
PASTED_REFERENCES = {
    "pull": ["pull", f"https://{_AT}/team/app:1.0"],
    "push": ["push", "--sample", f"{_AT}/team/app:1"],
    "copy": ["copy", f"{_AT}/team/app:1", "127.0.0.1:9/team/copy:1"],
    "tags": ["tags", f"{_AT}/team/app"],
    "catalog": ["catalog", _AT],
    "manifest": ["manifest", f"https://{_AT}/team/app:1"],
    "tag": ["tag", f"{_AT}/team/app:1", "2"],
    "referrers": ["referrers", f"{_AT}/team/app@{_DIGEST}"],
    "delete": ["delete", f"https://{_AT}/team/app@{_DIGEST}"],
}


@pytest.mark.parametrize("operation", PASTED_REFERENCES)
def test_a_password_pasted_into_the_reference_is_never_echoed(operation, tmp_path):
    trace = tmp_path / f"{operation}.trace.json"
    run = run_cli("trace", *PASTED_REFERENCES[operation], "-o", str(trace))
    assert run.code == 2, run.output
    assert "credentials do not belong" in run.stderr and "tester:<redacted>@" in run.stderr
    assert not trace.exists()  # a usage error writes no trace: the only output is the error line
    canaries = Canaries()
    canaries.add("pasted password", PASTED)
    outputs = Outputs()
    outputs.add_run(f"regexplore trace {operation}", run)
    assert_clean(canaries, outputs)
