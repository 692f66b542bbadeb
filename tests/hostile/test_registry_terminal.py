"""A hostile registry's text reaches the terminal of a ``trace`` command as plain text.

Tag names, error messages, reason phrases and challenges from a scripted loopback registry
carry the corpus's control sequences; every line the command prints (summary, ``error:``,
``hint:``, warnings) is free of them, and the trace is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer import trace as tracefile
from tests.hostile import corpus
from tests.hostile.test_text_outputs import TERMINAL_UNSAFE
from tests.infra.hostile_server import Answer, HostileServer, Raw
from tests.infra.runner import run_cli

EVIL = "".join(corpus.CONTROL) + "\u202e\u2066\x9b2J"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def hostile():
    with HostileServer() as server:
        server.route("GET", r"^/v2/$", Answer(200, JSON, b"{}"))
        yield server


def _run(tmp_path: Path, *args: str):
    out = tmp_path / "t.json"
    run = run_cli("trace", *args, "-o", str(out), "--retries", "0")
    assert not TERMINAL_UNSAFE.search(run.output), repr(TERMINAL_UNSAFE.search(run.output))
    assert "internal error" not in run.output, run.output
    return run, tracefile.load(out)


def test_tag_names_are_printed_without_control_sequences(hostile, tmp_path):
    tags = ["1.0", f"x{EVIL}y", "</script><script>alert(1)</script>"]
    hostile.route("GET", r"/tags/list", Answer(200, JSON, json.dumps({"name": "team/app", "tags": tags}).encode()))
    run, trace = _run(tmp_path, "tags", f"{hostile.host}/team/app")
    assert run.code == 0, run.output
    assert "1.0" in run.stdout and "</script><script>alert(1)</script>" in run.stdout
    listed = [ex for ex in trace.exchanges if "/tags/list" in ex.request.url]
    assert f"x{EVIL}y" in json.loads(listed[0].response.body.text)["tags"]  # the trace keeps the value exactly


def test_an_error_message_and_reason_phrase_are_printed_as_plain_text(hostile, tmp_path):
    body = json.dumps({"errors": [{"code": f"MANIFEST_UNKNOWN{EVIL}", "message": f"gone {EVIL} away"}]}).encode()
    hostile.route("GET", r"/manifests/", Answer(200, body=Raw(
        b"HTTP/1.1 404 Not " + EVIL.encode("utf-8") + b"Found\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)))
    run, trace = _run(tmp_path, "pull", f"{hostile.host}/team/app:1")
    assert run.code == 1, run.output
    assert run.stderr.startswith("error: ") and "gone" in run.stderr.splitlines()[0]
    assert trace.outcome.status == "failed"


def test_a_challenge_from_a_hostile_registry_is_printed_as_plain_text(hostile, tmp_path):
    hostile.routes.clear()
    hostile.route("GET", r"^/v2/", Answer(401, {"WWW-Authenticate": f'Basic realm="{EVIL}"'}, b""))
    run, trace = _run(tmp_path, "pull", f"{hostile.host}/team/app:1")
    assert run.code == 1, run.output
    assert [line for line in run.stderr.splitlines() if line.startswith("error: ")], run.stderr
    assert trace.outcome.status == "failed"


@pytest.mark.parametrize("token", ["tok-canary-\\ud800-lima", "tok-canary-caf\\u00e9-lima", "tok canary lima"])
def test_a_token_no_header_can_carry_is_one_error_line_and_the_trace_holds_none_of_it(hostile, tmp_path, token):
    """A lone surrogate escaped in the token's JSON (UTF-8 cannot encode it) raised out of the recorder as it
    learned the token; a non-ASCII one out of httpx as it sent it: both were an internal error."""
    hostile.routes.clear()
    challenge = {"WWW-Authenticate": f'Bearer realm="http://{hostile.host}/token",service="x"', **JSON}
    hostile.route("GET", r"^/v2/", Answer(401, challenge, b"{}"))
    hostile.route("GET", r"^/token", Answer(200, JSON, f'{{"token": "{token}", "expires_in": 60}}'.encode()))
    run, trace = _run(tmp_path, "pull", f"{hostile.host}/team/app:1")
    assert run.code == 1, run.output
    assert run.stderr.splitlines()[0] == ("error: the token server's token is not printable ASCII without spaces: "
                                          "it cannot be sent in an Authorization header")
    assert "canary" not in run.output and "canary" not in (tmp_path / "t.json").read_text(encoding="utf-8")
    assert trace.outcome.status == "failed" and trace.exchanges[-1].response.status == 200  # the token's answer
