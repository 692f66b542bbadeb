"""``regexplore proxy`` as a user runs it: a process that prints each exchange and writes its trace on exit."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from explorer import trace as tracefile
from explorer.sandbox import Sandbox
from tests.infra.runner import run_cli
from tests.infra.schemas import validate_trace

REPO = Path(__file__).resolve().parents[2]


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "explorer", "proxy", *args], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    first = process.stderr.readline()
    match = re.match(r"proxy (http://127\.0\.0\.1:\d+) -> ", first)
    assert match, first
    process.stderr.readline()  # the "use HOST/REPOSITORY:TAG" line
    return process, match.group(1)


def test_sigterm_writes_the_trace_and_exits_0(tmp_path: Path) -> None:
    with Sandbox() as sandbox:
        process, url = _start(tmp_path, sandbox.registry_url, "-o", "t.json")
        try:
            assert httpx.get(f"{url}/v2/").status_code == 200
            assert httpx.get(f"{url}/v2/nothing/manifests/1").status_code == 404
            time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    validate_trace(tmp_path / "t.json")
    trace = tracefile.load(tmp_path / "t.json")
    assert [(e.request.method, e.response.status) for e in trace.exchanges] == [("GET", 200), ("GET", 404)]
    lines = [line for line in err.splitlines() if re.match(r"\s*\d+\s+GET", line)]
    assert len(lines) == 2 and "404" in lines[1] and sandbox.registry_host in lines[1]
    assert "wrote t.json: 2 exchanges" in err


def test_max_exchanges_stops_by_itself(tmp_path: Path) -> None:
    with Sandbox() as sandbox:
        process, url = _start(tmp_path, sandbox.registry_url, "--max-exchanges", "3", "-q", "-o", "t.json")
        with httpx.Client() as client:
            for _ in range(3):
                client.get(f"{url}/v2/")
        _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert len(tracefile.load(tmp_path / "t.json").exchanges) == 3
    assert not re.search(r"^\s*\d+\s+GET", err, re.M)  # --quiet: no live lines


def test_once_stops_when_the_client_is_quiet(tmp_path: Path) -> None:
    with Sandbox() as sandbox:
        process, url = _start(tmp_path, sandbox.registry_url, "--once", "--idle", "0.5", "-o", "t.json")
        started = time.monotonic()
        httpx.get(f"{url}/v2/")
        process.communicate(timeout=20)
        assert time.monotonic() - started < 10
    assert process.returncode == 0
    assert len(tracefile.load(tmp_path / "t.json").exchanges) == 1


@pytest.mark.parametrize("upstream", ["ftp://x", "https://h/path", "https://u:s3cret@h", "https://"])
def test_a_bad_upstream_is_one_line_and_exit_2(upstream: str, tmp_path: Path) -> None:
    run = run_cli("proxy", upstream, "-o", str(tmp_path / "t.json"))
    assert run.code == 2
    assert run.stderr.count("error:") == 1
    assert "http(s)://host[:port]" in run.stderr or "must not carry credentials" in run.stderr
    assert "s3cret" not in run.output
    assert not (tmp_path / "t.json").exists()


def test_a_tls_hello_fails_fast_and_the_client_falls_back(tmp_path: Path) -> None:
    """What docker, skopeo and podman do first: an https attempt. It must fail at once, not hang."""
    with Sandbox() as sandbox:
        process, url = _start(tmp_path, sandbox.registry_url, "-q", "-o", "t.json")
        try:
            started = time.monotonic()
            with pytest.raises(httpx.ConnectError):
                httpx.get(url.replace("http://", "https://") + "/v2/", verify=False, timeout=10)
            assert time.monotonic() - started < 2
            assert httpx.get(f"{url}/v2/").status_code == 200
        finally:
            process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    assert process.returncode == 0
    assert len(tracefile.load(tmp_path / "t.json").exchanges) == 1  # the failed TLS hello is no exchange
