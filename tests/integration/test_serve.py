"""`regexplore serve`: the built-in registry in the foreground, usable by other clients, stopped by Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx

from tests.infra.runner import run_cli


def test_serve_prints_urls_and_credentials_and_answers_until_ctrl_c(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer", "serve", "--auth", "basic", "--storage", str(tmp_path / "store")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(lines)
        url = re.search(r"(http://127\.0\.0\.1:\d+)", text).group(1)
        user = re.search(r"user:\s+(\S+)", text).group(1)
        password = re.search(r"password:\s+(\S+)", text).group(1)
        assert httpx.get(f"{url}/v2/").status_code == 401
        assert httpx.get(f"{url}/v2/", auth=(user, password)).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "stopping" in out


def test_serve_refuses_an_unknown_auth_mode():
    run = run_cli("serve", "--auth", "kerberos")
    assert run.code == 2
    assert run.stderr.splitlines()[0] == "error: unknown --auth 'kerberos'; choose from: none, basic, token"
