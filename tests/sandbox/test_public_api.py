"""The sandbox's public surface, and that it starts (and prints) without httpx."""

from __future__ import annotations

import subprocess
import sys
import threading

import explorer.sandbox
from explorer.sandbox import Sandbox, describe, serve


def test_exported_names() -> None:
    assert explorer.sandbox.__all__ == sorted(explorer.sandbox.__all__)
    assert explorer.sandbox.__all__ == [
        "AUTH_MODES", "RegistryApp", "RegistryOptions", "Sandbox", "Storage", "describe", "serve",
    ]


def test_sandbox_runs_without_importing_httpx() -> None:
    code = (
        "import sys, urllib.request\n"
        "from explorer.sandbox import Sandbox\n"
        "with Sandbox() as sandbox:\n"
        "    answer = urllib.request.urlopen(sandbox.registry_url + '/v2/')\n"
        "    assert answer.headers['Docker-Distribution-API-Version'] == 'registry/2.0'\n"
        "assert 'httpx' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_serve_prints_urls_credentials_and_examples_then_stops() -> None:
    lines: list[str] = []
    stop = threading.Event()
    worker = threading.Thread(target=serve, kwargs={"port": None, "auth": "token", "redirect": True,
                                                    "echo": lines.append, "stop": stop})
    worker.start()
    try:
        for _ in range(100):
            if any("Ctrl-C" in line for line in lines):
                break
            stop.wait(0.02)
    finally:
        stop.set()
        worker.join(timeout=5)
    text = "\n".join(lines)
    assert "http://127.0.0.1:" in text and "/token" in text and "http://localhost:" in text
    assert "password:" in text and "skopeo copy --dest-tls-verify=false" in text
    assert "regexplore trace pull 127.0.0.1:" in text and "--password-stdin" in text


def test_describe_anonymous_has_no_credentials() -> None:
    with Sandbox(listen=False) as sandbox:
        text = "\n".join(describe(sandbox))
    assert "password" not in text and f"curl -s {sandbox.registry_url}/v2/_catalog" in text
