"""Canaries: no secret of a `trace pull` reaches the trace, stdout, stderr, `--debug` output or an error message.

Every secret below is first shown to be live (the proxies saw it on the wire),
then looked for, verbatim and in its encoded forms, in everything the run
produced. Credential sources: ``--password``, ``--password-stdin``, a Docker
config with base64 ``auth``, a credential helper on PATH, an ``identitytoken``
(OAuth2 refresh grant). Wire secrets: Basic headers, every access and refresh
token the token server issued, cookies (the proxy sets one), and signed query
parameters the proxy adds to the registry's 307 ``Location``.
Every render, export and other command of every operation: ``test_canary_outputs.py``.
"""

from __future__ import annotations

import base64
import json
import traceback
from pathlib import Path

import pytest

from tests.infra.faults import ProxyResponse, Respond, Rewrite, Rule
from tests.infra.runner import Run, run_cli
from tests.reliability.canary_sources import COOKIE, SIGNATURES, isolated, login, registry_canaries, wire_secrets
from tests.reliability.conftest import SMALL, Fronted

SOURCES = ("flag", "stdin", "docker-config", "credential-helper")


@pytest.fixture(autouse=True)
def no_ambient_credentials(tmp_path, monkeypatch):
    """No credentials from this machine: an empty Docker config and HOME, no podman auth file."""
    isolated(tmp_path / "nobody").apply(monkeypatch)


def _credentials(source: str, host: str, registry, tmp_path: Path, monkeypatch) -> tuple[list[str], str]:
    given = login(source, host, registry.username, registry.password, tmp_path / "login")
    given.apply(monkeypatch)
    return given.args, given.stdin


def _everything(run: Run, out: Path) -> str:
    return "\n".join([out.read_text() if out.exists() else "", run.stdout, run.stderr])


def _pull(fronted: Fronted, args: list[str], stdin: str, out: Path, *, debug: bool = False, image: str = SMALL) -> Run:
    head = ["--debug"] if debug else []
    return run_cli(*head, "trace", "pull", f"{fronted.host}/{image}", "-o", str(out), *args, stdin=stdin)


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("variant", ["basic", "redirect"])
def test_no_secret_in_any_output_of_a_pull(variant, source, debug, request, front, tmp_path, monkeypatch):
    registry = request.getfixturevalue(f"registry_{variant}")
    fronted = front(registry, cdn=variant == "redirect", token=variant == "redirect")
    wire_secrets(fronted, registry)
    args, stdin = _credentials(source, fronted.host, registry, tmp_path, monkeypatch)
    out = tmp_path / "t.json"
    run = _pull(fronted, args, stdin, out, debug=debug)
    assert run.code == 0, run.output

    # the canaries were live: really sent, really received
    sent = [s.header("authorization") or "" for s in fronted.registry.seen]
    assert any(v.startswith("Basic " if variant == "basic" else "Bearer ") for v in sent)
    assert any(COOKIE in (s.header("cookie") or "") for s in fronted.registry.seen)
    if variant == "redirect":
        assert any(SIGNATURES["sig"] in s.target for s in fronted.cdn.seen)
        assert fronted.token.seen  # the token answer carried a refresh token (wire_secrets), redacted below
        assert '\\"refresh_token\\": \\"<redacted>\\"' in out.read_text()
    if debug:
        assert "debug: httpx: HTTP Request: GET" in run.stderr

    assert registry_canaries(registry).found_in(_everything(run, out)) == []
    text = out.read_text()
    assert ("Basic <redacted>" if variant == "basic" else "Bearer <redacted>") in text
    assert "regexplore_session=<redacted>" in text
    if variant == "redirect":
        assert "X-Amz-Signature=<redacted>" in text and "sig=<redacted>" in text


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_identity_token_from_docker_config(debug, registry_token, front, tmp_path, monkeypatch):
    identity = registry_token.token_server.new_refresh_token(registry_token.username)
    fronted = front(registry_token, token=True)
    wire_secrets(fronted, registry_token)
    login("identity-token", fronted.host, registry_token.username, "", tmp_path / "login",
          identity_token=identity).apply(monkeypatch)
    out = tmp_path / "t.json"
    run = _pull(fronted, [], "", out, debug=debug)
    assert run.code == 0, run.output
    assert [s.method for s in fronted.token.seen][0] == "POST"  # OAuth2 refresh grant with the identity token
    assert registry_canaries(registry_token, {"identity token": identity}).found_in(_everything(run, out)) == []
    assert "refresh_token=<redacted>" in out.read_text()


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_a_server_echoing_the_password_in_its_error_does_not_leak_it(debug, registry_token, front, tmp_path):
    fronted = front(registry_token, token=True)
    echo = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": f"wrong password {registry_token.password}"}]})
    fronted.token.add(Rule(Respond(401, body=echo.encode()), path="/token", times=None))
    out = tmp_path / "t.json"
    run = _pull(fronted, ["--username", registry_token.username, "--password-stdin"], registry_token.password + "\n",
                out, debug=debug)
    assert run.code == 1
    (error,) = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert "wrong password <redacted>" in error
    if debug:
        assert "Traceback" in run.stderr
    assert registry_canaries(registry_token).found_in(_everything(run, out)) == []


def test_a_storage_error_echoing_the_signed_url_does_not_leak_it(registry_redirect, front, tmp_path):
    fronted = front(registry_redirect, cdn=True, token=True)
    wire_secrets(fronted, registry_redirect)

    signed_path = "/blob?" + "&".join(f"{k}={v}" for k, v in SIGNATURES.items())

    def echo_signed_url(response: ProxyResponse) -> None:  # S3's SignatureDoesNotMatch echoes what it signed
        response.reason = signed_path  # in the status line, too
        message = f"signature mismatch for {fronted.cdn.url}{signed_path}"
        response.body = json.dumps({"errors": [{"code": "DENIED", "message": message}]}).encode()
        response.set_header("Content-Length", str(len(response.body)))

    fronted.cdn.add(Rule(Rewrite(status=403, edit=echo_signed_url), method="GET", times=None))
    out = tmp_path / "t.json"
    run = _pull(fronted, ["--username", registry_redirect.username, "--password-stdin"],
                registry_redirect.password + "\n", out, debug=True)
    assert run.code == 1
    assert "signature mismatch" in run.stderr
    assert registry_canaries(registry_redirect).found_in(_everything(run, out)) == []


def test_an_internal_error_traceback_does_not_leak(registry_token, front, tmp_path, monkeypatch):
    fronted = front(registry_token)
    password = registry_token.password

    def broken(*args, **kwargs):
        raise RuntimeError(f"unexpected state with {password} and Basic "
                           + base64.b64encode(f"{registry_token.username}:{password}".encode()).decode())

    monkeypatch.setattr("explorer.flows.pull.fetch_blob_bytes", broken)
    out = tmp_path / "t.json"
    args = ["--username", registry_token.username, "--password-stdin"]
    plain = _pull(fronted, args, password + "\n", out)
    assert plain.code == 1 and plain.stderr.startswith("error: internal error: RuntimeError: unexpected state with")
    with pytest.raises(RuntimeError) as raised:  # --debug lets it through: Python prints this traceback
        _pull(fronted, args, password + "\n", out, debug=True)
    printed = "".join(traceback.format_exception(raised.value))
    assert "<redacted>" in printed
    assert registry_canaries(registry_token).found_in(_everything(plain, out) + printed) == []
