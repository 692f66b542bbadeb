"""Bounded and timely (issue 13): endless bodies on every read held in memory, a drip server, SIGTERM.

A hostile registry on loopback answers each read with a body that never ends;
each is a clean error (exit 1, one line, the trace written), never a MemoryError
or an "internal error". A server that drips one byte at a time fails the request
after ``--timeout`` (it is retried as usual), and SIGTERM writes the trace as Ctrl-C does.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from explorer import trace as tracefile
from tests.infra.hostile_server import ENDLESS, Answer, Drip, DripHead, HostileServer

JSON = {"Content-Type": "application/json"}
TAGS = b'{"name": "team/app", "tags": ["a"]}'
MANIFEST_TYPE = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
BEARER = {"WWW-Authenticate": 'Bearer realm="{self}/token",service="hostile"'}


@pytest.fixture
def hostile():
    with HostileServer() as server:
        yield server


def _run(*args: str, tmp_path: Path) -> tuple[object, Path]:
    from tests.infra.runner import run_cli

    out = tmp_path / "t.json"
    return run_cli("trace", *args, "-o", str(out), "--retries", "0"), out


def _assert_clean_failure(run, out: Path, *words: str) -> tracefile.Trace:
    assert run.code == 1, run.output
    assert "internal error" not in run.stderr and "MemoryError" not in run.stderr, run.stderr
    first = run.stderr.splitlines()[0]
    assert all(word in first for word in words), run.stderr
    trace = tracefile.load(out)
    assert trace.outcome.status == "failed"
    return trace


ENDLESS_CASES = {
    # which read gets the endless body: (routes, command, words in the error)
    "ping 200": ([("GET", r"^/v2/$", Answer(200, JSON, ENDLESS))], "tags", ["limit of"]),
    "ping 401": ([("GET", r"^/v2/$", Answer(401, {**BEARER, **JSON}, ENDLESS))], "tags", ["limit of"]),
    "token response": ([("GET", r"^/v2/$", Answer(401, BEARER)), ("GET", r"^/token", Answer(200, JSON, ENDLESS))],
                       "tags", ["limit of"]),
    "tags page": ([("GET", r"^/v2/$", Answer(200, JSON, b"{}")),
                   ("GET", r"/tags/list", Answer(200, JSON, ENDLESS))], "tags", ["limit of"]),
    "catalog page": ([("GET", r"^/v2/$", Answer(200, JSON, b"{}")),
                      ("GET", r"/_catalog", Answer(200, JSON, ENDLESS))], "catalog", ["limit of"]),
    "manifest": ([("GET", r"^/v2/$", Answer(200, JSON, b"{}")),
                  ("GET", r"/manifests/", Answer(200, MANIFEST_TYPE, ENDLESS))], "manifest", ["4 MiB limit"]),
    "error body": ([("GET", r"^/v2/$", Answer(200, JSON, b"{}")),
                    ("GET", r"/tags/list", Answer(404, JSON, ENDLESS))], "tags", ["404"]),
    "redirect body": ([("GET", r"^/v2/$", Answer(200, JSON, b"{}")),
                       ("GET", r"/tags/list", Answer(307, {"Location": "/elsewhere"}, ENDLESS))],
                      "tags", ["limit of"]),
    "upload answer": ([("GET", r"^/v2/$", Answer(200, JSON, b"{}")), ("HEAD", r"/blobs/", Answer(404)),
                       ("POST", r"/blobs/uploads/", Answer(202, {"Location": "/v2/team/app/blobs/uploads/u"},
                                                           ENDLESS))], "push", ["limit of"]),
}


@pytest.mark.parametrize("case", list(ENDLESS_CASES))
def test_an_endless_body_is_a_clean_error(case, hostile, tmp_path):
    routes, command, words = ENDLESS_CASES[case]
    for method, path, answer in routes:
        hostile.route(method, path, answer)
    target = {"tags": [f"{hostile.host}/team/app"], "catalog": [hostile.host], "manifest": [f"{hostile.host}/team/app:1"],
              "push": ["--sample", f"{hostile.host}/team/app:1", "--jobs", "1"]}[command]
    started = time.monotonic()
    run, out = _run(command, *target, tmp_path=tmp_path)
    _assert_clean_failure(run, out, *words)
    assert time.monotonic() - started < 30


def test_a_drip_server_fails_the_request_after_the_timeout_and_it_is_retried(hostile, tmp_path):
    hostile.route("GET", r"^/v2/$", Answer(200, JSON, b"{}"))
    hostile.route("GET", r"/tags/list", Answer(200, JSON, Drip(interval=0.4)))  # bytes never stop, never suffice
    from tests.infra.runner import run_cli

    out = tmp_path / "t.json"
    started = time.monotonic()
    run = run_cli("trace", "tags", f"{hostile.host}/team/app", "-o", str(out), "--timeout", "1", "--retries", "1")
    took = time.monotonic() - started
    trace = _assert_clean_failure(run, out, "timed out", "stalled")
    assert took < 10, took  # two attempts of about a second each, plus the backoff
    attempts = [ex for ex in trace.exchanges if "/tags/list" in ex.request.url]
    assert len(attempts) == 2 and "(after 2 attempts, " in run.stderr
    for attempt in attempts:  # each came with its 200, then its body stalled: the trace says so
        assert attempt.response.status == 200 and attempt.response.body.complete is False
        assert attempt.error.startswith("ReadTimeout: ") and "stalled" in attempt.error


@pytest.mark.parametrize("where", ["ping", "manifest"])
def test_a_server_dripping_its_response_head_is_cut_at_the_timeout(where, hostile, tmp_path):
    """One header byte a second never lets httpx's read timeout fire: the head has its own deadline."""
    if where == "ping":
        hostile.route("GET", r"^/v2/$", Answer(200, JSON, DripHead(interval=0.5)))
    else:
        hostile.route("GET", r"^/v2/$", Answer(200, JSON, b"{}"))
        hostile.route("GET", r"/manifests/", Answer(200, MANIFEST_TYPE, DripHead(interval=0.5)))
    from tests.infra.runner import run_cli

    out = tmp_path / "t.json"
    started = time.monotonic()
    run = run_cli("trace", "pull", f"{hostile.host}/team/app:1", "-o", str(out), "--timeout", "2", "--retries", "1")
    took = time.monotonic() - started
    trace = _assert_clean_failure(run, out, "timed out", "response head did not complete within 2 s",
                                  "(after 2 attempts, ")
    assert len([line for line in run.stderr.splitlines() if line.startswith("error:")]) == 1, run.stderr
    in_all = float(run.stderr.split("(after 2 attempts, ")[1].split(" s in all)")[0])
    assert 4 <= in_all < 6, run.stderr  # two heads of 2 s each, plus a backoff under 0.4 s
    assert took < 15, took
    path = "/v2/" if where == "ping" else "/manifests/"
    attempts = [ex for ex in trace.exchanges if ex.request.url.endswith(path) or path in ex.request.url
                and path != "/v2/"]
    assert len(attempts) >= 2 and all(ex.response is None and "response head" in (ex.error or "")
                                      for ex in attempts[-2:]), [ex.error for ex in attempts]
    assert len(hostile.seen("GET", path if path != "/v2/" else r"^/v2/$")) == 2


def test_a_head_deadline_leaves_the_body_to_the_stall_rule(hostile, tmp_path):
    """A slow head within the deadline is fine; the deadline ends with the head (a long body read is not cut)."""
    hostile.route("GET", r"^/v2/$", Answer(200, JSON, b"{}"))
    hostile.route("GET", r"/tags/list", Answer(200, JSON, Drip(interval=0.1, total=28, piece=b" " * 200, tail=TAGS)))
    from tests.infra.runner import run_cli

    out = tmp_path / "t.json"
    started = time.monotonic()
    run = run_cli("trace", "tags", f"{hostile.host}/team/app", "-o", str(out), "--timeout", "1", "--retries", "0")
    # 5.6 KiB at 2 KiB/s: the body takes about 3 s, past the 1 s head deadline, and never stalls
    assert run.code == 0, run.output
    assert time.monotonic() - started > 2


def test_a_silent_server_fails_the_request_after_the_timeout(hostile, tmp_path):
    hostile.route("GET", r"^/v2/$", Answer(200, JSON, b"{}"))
    hostile.route("GET", r"/tags/list", Answer(200, JSON, Drip(interval=30)))
    from tests.infra.runner import run_cli

    out = tmp_path / "t.json"
    started = time.monotonic()
    run = run_cli("trace", "tags", f"{hostile.host}/team/app", "-o", str(out), "--timeout", "1", "--retries", "0")
    assert time.monotonic() - started < 8
    _assert_clean_failure(run, out, "timed out")


def test_sigterm_writes_the_trace_as_ctrl_c_does(hostile, tmp_path):
    hostile.route("GET", r"^/v2/$", Answer(200, JSON, b"{}"))
    hostile.route("GET", r"/tags/list", Answer(200, JSON, Drip(interval=0.2, total=100000)))  # 1 B/0.2 s, forever
    out = tmp_path / "t.json"
    command = [sys.executable, "-m", "explorer", "trace", "tags", f"{hostile.host}/team/app", "-o", str(out)]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not hostile.seen("GET", "/tags/list"):
            assert time.monotonic() < deadline and process.poll() is None, "the command did not get going"
            time.sleep(0.05)
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "terminated" in stderr and str(out) in stderr
    trace = tracefile.load(out)
    assert trace.outcome.status == "interrupted" and "SIGTERM" in (trace.outcome.message or "")
    assert any("/tags/list" in ex.request.url for ex in trace.exchanges)
