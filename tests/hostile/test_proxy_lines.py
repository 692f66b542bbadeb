"""``regexplore proxy`` in front of a hostile upstream prints its live lines without control characters.

The upstream (a scripted loopback server) answers with control sequences, bidi overrides
and C1 bytes in its reason phrase, its headers and a malformed status line; a raw client
puts them in the request target. Every live line is printed as plain text, every exchange
still gets one, and the proxy answers a target httpx cannot send with a 400, never a 500.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from explorer import trace as tracefile
from tests.hostile import corpus
from tests.hostile.test_text_outputs import TERMINAL_UNSAFE
from tests.infra.hostile_server import Answer, HostileServer, Raw

REPO = Path(__file__).resolve().parents[2]
EVIL = "".join(corpus.CONTROL) + corpus.DOM_WRITE + "\u202e\u2066"
EVIL_BYTES = EVIL.encode("utf-8") + b"\x9b2J\x9d0;t\x07"  # and C1 CSI/OSC as single bytes (latin-1 in headers)


def _get(port: int, target: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_proxy_live_lines_of_a_hostile_upstream_are_plain_text(tmp_path: Path) -> None:
    with HostileServer() as upstream:
        # Raw answers close their connection: they say so, or the proxy's pool could reuse one the
        # server is still closing, and the next request would fail as "Server disconnected"
        upstream.route("GET", r"/reason", Answer(200, body=Raw(
            b"HTTP/1.1 200 " + EVIL_BYTES + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")))
        upstream.route("GET", r"/header", Answer(200, body=Raw(
            b"HTTP/1.1 404 Not Found\r\nX-Evil: " + EVIL_BYTES + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno")))
        upstream.route("GET", r"/status", Answer(200, body=Raw(b"HTTP/1.1 2" + EVIL_BYTES + b"00 OK\r\n\r\n")))
        upstream.route("GET", r"/", Answer(200, {"Content-Type": "application/json"}, b"{}"))
        out = tmp_path / "t.json"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        process = subprocess.Popen([sys.executable, "-m", "explorer", "proxy", upstream.url, "-o", str(out)],
                                   cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        try:
            assert process.stderr is not None
            first = process.stderr.readline()
            match = re.match(r"proxy http://127\.0\.0\.1:(\d+) -> ", first)
            assert match, first
            port = int(match.group(1))
            answers = [_get(port, target) for target in (
                b"/v2/reason", b"/v2/header", b"/v2/status", b"/v2/%1b]0;t%07%E2%80%AE",
                b"/v2/" + "".join(corpus.CONTROL).encode() + b"x")]
        finally:
            process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert answers[0].startswith(b"HTTP/1.1 200 ") and answers[1].startswith(b"HTTP/1.1 404 ")  # relayed as is
    assert answers[2].startswith(b"HTTP/1.1 502 ")  # the malformed status line: a gateway error
    assert answers[4].startswith(b"HTTP/1.1 400 "), answers[4][:200]  # raw controls in the target: not a 500
    assert not TERMINAL_UNSAFE.search(stdout + stderr), repr(TERMINAL_UNSAFE.search(stdout + stderr))
    assert "\\x1b]52;" in stderr  # the malformed status line, quoted (escaped) in the error, not sent raw
    lines = [line for line in stderr.splitlines() if re.match(r"\s*\d+\s+GET", line)]
    assert len(lines) == 4, stderr
    assert " 200 " in lines[0] and " 404 " in lines[1] and " ERR " in lines[2] and "RemoteProtocolError" in lines[2]
    trace = tracefile.load(out)
    assert len(trace.exchanges) == 4
    run = subprocess.run([sys.executable, "-m", "explorer", "show", str(out)], capture_output=True, text=True,
                         env=env, timeout=60)
    assert run.returncode == 0 and not TERMINAL_UNSAFE.search(run.stdout + run.stderr)


def test_live_line_of_a_recorded_hostile_exchange_is_one_plain_line(tmp_path: Path) -> None:
    """What the line would print if a transport error ever quoted raw bytes: URL and error made printable."""
    from explorer.proxy import live_line

    trace = corpus.leading_trace(corpus.marker_path(tmp_path))
    lines = [live_line(ex) for ex in trace.exchanges]
    assert len(lines) == len(trace.exchanges)
    for line in lines:
        assert "\n" not in line and not TERMINAL_UNSAFE.search(line), repr(line)
    failed = [line for line, ex in zip(lines, trace.exchanges) if ex.response is None]
    assert any("touch" in line for line in failed)  # the error is shown, as text
