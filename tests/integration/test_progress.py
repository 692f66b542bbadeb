"""Progress bars for blob transfers on a terminal; silence when piped or with --quiet."""

from __future__ import annotations

import os
import select
import subprocess
import sys


def _run_on_a_terminal(args: list[str], cwd) -> tuple[int, str]:
    master, slave = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "explorer", *args], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, cwd=cwd, env=env)
    os.close(slave)
    output = bytearray()
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not data:
            break
        output += data
    os.close(master)
    return proc.wait(timeout=30), output.decode("utf-8", "replace")


def test_a_pull_on_a_terminal_draws_progress_bars(registry_anonymous, tmp_path):
    code, out = _run_on_a_terminal(["trace", "pull", f"{registry_anonymous.host}/test/small:1.0", "-o", "t.json"],
                                   tmp_path)
    assert code == 0, out
    assert "━" in out, "no progress bar was drawn"
    assert "layer 1/3" in out  # one bar per blob, labelled
    assert "pulled " in out and "trace: t.json" in out


def test_quiet_prints_nothing_but_errors(registry_anonymous, tmp_path):
    code, out = _run_on_a_terminal(["trace", "pull", f"{registry_anonymous.host}/test/small:1.0", "-o", "t.json",
                                    "--quiet"], tmp_path)
    assert code == 0 and out.strip() == ""
    code, out = _run_on_a_terminal(["trace", "pull", f"{registry_anonymous.host}/test/small:nope", "-o", "t.json",
                                    "--quiet"], tmp_path)
    assert code == 1 and out.startswith("error: MANIFEST_UNKNOWN")


def test_piped_output_has_no_progress_escape_codes(registry_anonymous, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "explorer", "trace", "pull",
                           f"{registry_anonymous.host}/test/small:1.0", "-o", "t.json"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0
    assert "\x1b[" not in proc.stdout + proc.stderr and "━" not in proc.stderr
