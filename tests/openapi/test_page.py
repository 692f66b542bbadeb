"""The browsable page (`export openapi -o api.html`): offline, self-contained, inert, drawn by Chromium."""

from __future__ import annotations

import re
from pathlib import Path

from explorer.openapi import build, dumps
from explorer.openapi.paths import operations
from explorer.trace import load
from tests.hostile.corpus import free_text_trace, marker_path
from tests.infra.tools import require_tool
from tests.render.test_consumers import _chromium, _console

REPO = Path(__file__).resolve().parents[2]


def _page(tmp_path: Path) -> tuple[Path, str]:
    marker = marker_path(tmp_path)
    traces = [("pull", load(REPO / "recordings/token/pull.trace.json")), ("evil", free_text_trace(marker))]
    text = dumps(build(traces), "html")
    page = tmp_path / "api.html"
    page.write_text(text, encoding="utf-8")
    return page, text


def test_page_is_self_contained_and_loads_nothing(tmp_path: Path) -> None:
    _, text = _page(tmp_path)
    assert "default-src 'none'" in text
    assert "<script" not in text.lower()
    assert not re.search(r"""<(?:img|link|iframe|object|embed)\b""", text, re.I)
    assert not re.search(r"""<[^>]*\s(?:src|srcset|href\s*=\s*["']?(?:https?|javascript):)""", text, re.I)
    assert "url(" not in text and "@import" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text  # the hostile value is shown, escaped


def test_page_in_chromium_draws_every_operation_without_console_errors(tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    page, _ = _page(tmp_path)
    shot = tmp_path / "api.png"
    result = _chromium(chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1400,900",
                       page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert not _console(result.stderr), _console(result.stderr)
    result = _chromium(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert result.returncode == 0 and not _console(result.stderr), _console(result.stderr)
    dom = result.stdout
    sections = re.findall(r'<section class="op" id="([^"]+)"', dom)
    assert len(sections) == len(operations()) + 2  # every table operation, plus the token GET and POST
    for endpoint_id in ("end-1", "end-4c", "end-7b", "end-14", "catalog"):
        assert f"({endpoint_id}" in dom or f", {endpoint_id}" in dom
    assert "<img" not in dom.lower() and "onerror=alert" not in dom.replace("onerror=alert(1)&gt;", "")
    assert not marker_path(tmp_path).exists()
