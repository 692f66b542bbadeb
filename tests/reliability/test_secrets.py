"""Canaries: no secret of a `trace pull` reaches the trace, stdout, stderr, `--debug` output or an error message.

Every secret below is first shown to be live (the proxies saw it on the wire),
then looked for, verbatim and in its encoded forms, in everything the run
produced. Credential sources: ``--password``, ``--password-stdin``, a Docker
config with base64 ``auth``, a credential helper on PATH, an ``identitytoken``
(OAuth2 refresh grant). Wire secrets: Basic headers, every access and refresh
token the token server issued, cookies (the proxy sets one), and signed query
parameters the proxy adds to the registry's 307 ``Location``.
(Renders and exports get their own canary tests with their renderers.)
"""

from __future__ import annotations

import base64
import json
import os
import stat
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.infra.faults import ProxyResponse, Respond, Rewrite, Rule
from tests.infra.runner import Run, run_cli
from tests.reliability.conftest import SMALL, Fronted

COOKIE = "cookie-canary-5f2b8e0d9a"
SIGNATURES = {
    "X-Amz-Signature": "amzsig-canary-0c9f3e1b7d2a4e6f",
    "Signature": "cdnsig-canary-8d1e5a2c3b4f6a7e",
    "sig": "azsig-canary-2b4d6f8a0c1e3a5c",
    "X-Amz-Credential": "AKIACANARY1234567890/20260101/us-east-1/s3/aws4_request",
}
SOURCES = ("flag", "stdin", "docker-config", "credential-helper")


@dataclass
class Canaries:
    values: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: str | None) -> None:
        if value:
            self.values[name] = value

    def found_in(self, text: str) -> list[str]:
        hits = []
        for name, value in self.values.items():
            for form in {value, quote(value, safe=""), quote_plus(value)}:
                if form in text:
                    hits.append(name)
                    break
        return hits


@pytest.fixture(autouse=True)
def no_ambient_credentials(tmp_path, monkeypatch):
    """No credentials from this machine: an empty Docker config, no podman auth file.

    (Not via REGISTRY_AUTH_FILE: distribution reads REGISTRY_* variables as configuration.)
    """
    empty = tmp_path / "empty-home"
    empty.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(empty))
    monkeypatch.setenv("HOME", str(empty))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


def _set_cookie(response: ProxyResponse) -> None:
    response.headers.append(("Set-Cookie", f"regexplore_session={COOKIE}; Path=/; HttpOnly"))


def _sign_location(response: ProxyResponse) -> None:
    location = response.header("location")
    if response.status == 307 and location:
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in SIGNATURES.items())
        response.set_header("Location", f"{location}{'&' if '?' in location else '?'}{query}")


def _wire_secrets(fronted: Fronted, registry) -> None:
    """Cookies everywhere; signed CDN URLs; a real refresh token in every token response."""
    fronted.registry.add(Rule(Rewrite(edit=_set_cookie), times=None))
    if fronted.cdn is not None:
        fronted.registry.add(Rule(Rewrite(edit=_sign_location), method="GET", path="/blobs/", times=None))
    if fronted.token is not None:
        server = registry.token_server

        def add_refresh_token(response: ProxyResponse) -> None:
            if response.status == 200:
                body = json.loads(response.read_body())
                body["refresh_token"] = server.new_refresh_token(registry.username)
                response.body = json.dumps(body).encode()
                response.set_header("Content-Length", str(len(response.body)))

        fronted.token.add(Rule(Rewrite(edit=add_refresh_token), path="/token", times=None))


def _credentials(source: str, host: str, registry, tmp_path: Path, monkeypatch) -> tuple[list[str], str]:
    user, password = registry.username, registry.password
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir(exist_ok=True)
    if source == "flag":
        return ["--username", user, "--password", password], ""
    if source == "stdin":
        return ["--username", user, "--password-stdin"], password + "\n"
    if source == "docker-config":
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        config = {"auths": {host: {"auth": auth}}}
    else:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        helper = bin_dir / "docker-credential-canary"
        answer = json.dumps({"ServerURL": host, "Username": user, "Secret": password})
        helper.write_text(f"#!/bin/sh\ncat >/dev/null\nprintf '%s' '{answer}'\n")
        helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        config = {"credHelpers": {host: "canary"}}
    (config_dir / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    return [], ""


def _canaries(registry, extra: dict[str, str] | None = None) -> Canaries:
    canaries = Canaries()
    canaries.add("password", registry.password)
    canaries.add("basic", base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode())
    canaries.add("cookie", COOKIE)
    for name, value in SIGNATURES.items():
        canaries.add(name, value)
    if registry.token_server is not None:
        for i, token in enumerate(registry.token_server.issued_tokens):
            canaries.add(f"issued token #{i}", token)
    for name, value in (extra or {}).items():
        canaries.add(name, value)
    return canaries


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
    _wire_secrets(fronted, registry)
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
        assert any(s.method == "POST" for s in fronted.token.seen)  # refresh-token grants happened
    if debug:
        assert "debug: httpx: HTTP Request: GET" in run.stderr

    assert _canaries(registry).found_in(_everything(run, out)) == []
    text = out.read_text()
    assert ("Basic <redacted>" if variant == "basic" else "Bearer <redacted>") in text
    assert "regexplore_session=<redacted>" in text
    if variant == "redirect":
        assert "X-Amz-Signature=<redacted>" in text and "sig=<redacted>" in text


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_identity_token_from_docker_config(debug, registry_token, front, tmp_path, monkeypatch):
    identity = registry_token.token_server.new_refresh_token(registry_token.username)
    fronted = front(registry_token, token=True)
    _wire_secrets(fronted, registry_token)
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"auths": {fronted.host: {"identitytoken": identity}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    out = tmp_path / "t.json"
    run = _pull(fronted, [], "", out, debug=debug)
    assert run.code == 0, run.output
    assert [s.method for s in fronted.token.seen][0] == "POST"  # OAuth2 refresh grant with the identity token
    assert _canaries(registry_token, {"identity token": identity}).found_in(_everything(run, out)) == []
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
    assert _canaries(registry_token).found_in(_everything(run, out)) == []


def test_a_storage_error_echoing_the_signed_url_does_not_leak_it(registry_redirect, front, tmp_path):
    fronted = front(registry_redirect, cdn=True, token=True)
    _wire_secrets(fronted, registry_redirect)

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
    assert _canaries(registry_redirect).found_in(_everything(run, out)) == []


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
    assert _canaries(registry_token).found_in(_everything(plain, out) + printed) == []
