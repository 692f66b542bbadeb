"""Reports and pages of hostile traces stay data: the HTML viewer, diff, check, export openapi, explain, show.

Each output is checked by what reads it: terminal text for control characters, Markdown
by a CommonMark parser (:func:`assert_inert_markdown`), HTML by Python's HTML parser and
by Chromium (:data:`corpus.DOM_WRITE` marks ``<html data-pwned=…>`` if any markup of it
ever runs; a control page proves it would), JSON and YAML by loading them and finding
every payload again, exactly. The traces come from :mod:`tests.hostile.corpus`.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from explorer.annotate import annotate
from explorer.render import RenderOptions, html
from explorer.trace import save
from tests.hostile import corpus
from tests.hostile.test_text_outputs import TERMINAL_UNSAFE, assert_inert_markdown
from tests.infra.runner import run_cli
from tests.infra.tools import require_tool
from tests.render.test_consumers import _chromium, _console

PWNED = re.compile(r"<html[^>]*\sdata-pwned=", re.I)


@pytest.fixture
def marker() -> Iterator[Path]:
    """The payloads' marker file, in a folder of the same short length under xdist as without
    (``check`` cuts long values, so a longer tmp_path would cut payloads out of its findings)."""
    folder = Path(tempfile.mkdtemp(prefix="rx-", dir="/tmp"))
    yield corpus.marker_path(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def traces(tmp_path: Path, marker: Path) -> dict[str, Path]:
    made = {"free": corpus.free_text_trace(marker), "push": corpus.free_text_trace(marker, "push"),
            "leading": corpus.leading_trace(marker), "findings": corpus.findings_trace(marker)}
    paths = {}
    for name, trace in made.items():
        paths[name] = tmp_path / f"{name}.trace.json"
        save(trace, paths[name])
    return paths


class _Elements(HTMLParser):
    """Every element of a page, with its attributes; the text of ``<script>`` elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def assert_inert_html(page: str, *, own_scripts: int = 0) -> _Elements:
    """No element, event handler or link a value could have made; no control character; ``own_scripts`` ours."""
    assert not TERMINAL_UNSAFE.search(page.replace("\t", " ")), TERMINAL_UNSAFE.search(page.replace("\t", " "))
    parsed = _Elements()
    parsed.feed(page)
    tags = [tag for tag, _ in parsed.elements]
    assert "img" not in tags and "iframe" not in tags and "object" not in tags and "embed" not in tags
    assert tags.count("script") == own_scripts, tags.count("script")
    for tag, attrs in parsed.elements:
        assert not [a for a in attrs if a.lower().startswith("on")], (tag, attrs)
        for name in ("href", "src", "xlink:href", "action"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (tag, attrs)
    return parsed


def _in_chromium(tmp_path: Path, page: Path, fragment: str = "") -> str:
    chromium = require_tool("chromium")
    result = _chromium(chromium, tmp_path / "profile", "--dump-dom", page.as_uri() + fragment)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not _console(result.stderr), _console(result.stderr)
    return result.stdout


def test_the_dom_write_payload_does_run_when_pasted_raw(tmp_path: Path) -> None:
    """The control: Chromium does run DOM_WRITE in a page that pastes it raw, and the check sees it."""
    page = tmp_path / "raw.html"
    page.write_text(f"<!doctype html><html><body>{corpus.DOM_WRITE}</body></html>", encoding="utf-8")
    assert PWNED.search(_in_chromium(tmp_path, page))


# --- the HTML viewer (render html) -------------------------------------------------------------
def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("name", ["free", "push", "leading"])
def test_html_viewer_shows_every_value_without_control_characters(name: str, traces: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    from explorer.trace import load

    trace = load(traces[name])
    page = html.render(annotate(trace), RenderOptions())
    parsed = assert_inert_html(page, own_scripts=3)  # the two JSON islands and the viewer's own code
    header = re.search(r"<p>(.*?)</p>", page, re.S)
    assert header and "recorded $(touch" in header.group(1)  # `created`, shown as text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in header.group(1)
    details = json.loads(re.search(r'id="exchange-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    shown = _strings(details)
    assert not [s for s in shown if TERMINAL_UNSAFE.search(s.replace("\t", " "))]
    assert any("<img src=x onerror=alert(1)>" in s for s in shown)  # data for textContent, unchanged
    assert len(parsed.scripts) == 3
    # in Chromium: the viewer runs, shows the most hostile exchange, and no payload runs
    file = tmp_path / f"{name}.html"
    file.write_text(page, encoding="utf-8")
    number = max(details, key=lambda n: sum(len(s) for s in _strings(details[n])))
    dom = _in_chromium(tmp_path, file, f"#x={number}")
    assert 'data-ready="yes"' in re.search(r"<html[^>]*>", dom).group(0)  # type: ignore[union-attr]
    assert not PWNED.search(dom)
    assert "<img" not in dom.lower()


# --- diff -------------------------------------------------------------------------------------
@pytest.mark.parametrize("pair", [("free", "leading"), ("leading", "push"), ("findings", "free")])
def test_diff_text_markdown_and_html_of_hostile_traces(pair: tuple[str, str], traces: dict[str, Path],
                                                       tmp_path: Path) -> None:
    a, b = (str(traces[n]) for n in pair)
    run = run_cli("diff", a, b)
    assert run.code == 1, run.output
    assert not TERMINAL_UNSAFE.search(run.output)
    assert "]52;" not in run.stdout and "]8;;" not in run.stdout
    shows_values = "findings" not in pair  # the findings trace differs from the others in shape, not in values
    assert "$(touch" in run.stdout or not shows_values  # the values are there, as text
    run = run_cli("diff", a, b, "-f", "markdown")
    assert run.code == 1, run.output
    rendered = assert_inert_markdown(run.stdout)
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered or not shows_values
    out = tmp_path / "diff.html"
    run = run_cli("diff", a, b, "-f", "html", "-o", str(out))
    assert run.code == 1, run.output
    page = out.read_text(encoding="utf-8")
    assert_inert_html(page)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page or not shows_values
    assert not PWNED.search(_in_chromium(tmp_path, out))


# --- check ------------------------------------------------------------------------------------
def test_check_table_markdown_and_json_quote_hostile_values_as_data(traces: dict[str, Path], tmp_path: Path,
                                                                    marker: Path) -> None:
    files = [str(p) for p in traces.values()]
    run = run_cli("check", *files)
    assert run.code == 1, run.output
    assert not TERMINAL_UNSAFE.search(run.output)
    assert "<img src=x onerror=alert(1)>" in run.stdout  # a WWW-Authenticate that is the payload, quoted
    run = run_cli("check", *files, "-f", "markdown")
    assert run.code == 1, run.output
    assert "&lt;img src=x onerror=alert(1)&gt;" in assert_inert_markdown(run.stdout)
    run = run_cli("check", *files, "-f", "json")
    assert run.code == 1, run.output
    report = json.loads(run.stdout)
    found = [f["found"] for t in report["traces"] for f in t["findings"]]
    assert not [s for s in _strings(report) if TERMINAL_UNSAFE.search(s)]
    payloads = corpus.payloads(marker)
    assert payloads["html-img"] in found and payloads["shell-subst"] in found  # JSON carries them unchanged
    assert payloads["script-tag"] in found and payloads["template-var"] in found


# --- export openapi ---------------------------------------------------------------------------
def test_openapi_json_and_yaml_round_trip_every_hostile_value(traces: dict[str, Path], tmp_path: Path,
                                                              marker: Path) -> None:
    files = [str(p) for p in traces.values()]
    documents = []
    for ext in ("json", "yaml"):
        out = tmp_path / f"api.{ext}"
        run = run_cli("export", "openapi", *files, "-o", str(out))
        assert run.code == 0, run.output
        assert not TERMINAL_UNSAFE.search(run.output)
        text = out.read_text(encoding="utf-8")
        assert not TERMINAL_UNSAFE.search(text)  # escaped in the file: \u001b, \e
        documents.append(json.loads(text) if ext == "json" else yaml.safe_load(text))
    assert documents[0] == documents[1]
    values = set(_strings(documents[0]))
    missing = [name for name, value in corpus.payloads(marker).items() if value not in values]
    assert not missing, missing  # every payload, control characters included, is a value exactly as recorded


def test_openapi_page_of_hostile_traces_runs_no_script(traces: dict[str, Path], tmp_path: Path,
                                                       marker: Path) -> None:
    out = tmp_path / "api.html"
    run = run_cli("export", "openapi", *[str(p) for p in traces.values()], "-o", str(out))
    assert run.code == 0, run.output
    page = out.read_text(encoding="utf-8")
    assert "default-src 'none'" in page
    assert_inert_html(page, own_scripts=0)
    assert "&lt;script&gt;document.documentElement.setAttribute(" in page  # DOM_WRITE shown, as text
    dom = _in_chromium(tmp_path, out)
    assert not PWNED.search(dom)
    assert "<img" not in dom.lower() and "<svg onload" not in dom.lower()
    assert not marker.exists()


# --- explain and show -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["free", "push", "leading", "findings"])
def test_explain_full_and_show_of_hostile_traces(name: str, traces: dict[str, Path]) -> None:
    run = run_cli("explain", "--full", str(traces[name]))
    assert run.code == 0, run.output
    assert_inert_markdown(run.stdout)
    run = run_cli("explain", "--full", "--title", corpus.DOM_WRITE + "".join(corpus.CONTROL), str(traces[name]))
    assert run.code == 0, run.output
    assert "&lt;script&gt;" in assert_inert_markdown(run.stdout)
    run = run_cli("show", str(traces[name]))
    assert run.code == 0, run.output
    assert not TERMINAL_UNSAFE.search(run.output)
    assert "]52;" not in run.stdout and "]0;" not in run.stdout


# --- render svg, export har and cassette ------------------------------------------------------
@pytest.mark.parametrize("name", ["free", "leading", "findings"])
def test_svg_har_and_cassette_of_hostile_traces(name: str, traces: dict[str, Path], tmp_path: Path,
                                                marker: Path) -> None:
    import xml.etree.ElementTree as ET

    from explorer.render import get
    from explorer.trace import load

    trace = load(traces[name])
    annotated = annotate(trace)
    drawing = get("svg").render(annotated, RenderOptions())
    assert not TERMINAL_UNSAFE.search(drawing.replace("\t", " "))
    for element in ET.fromstring(drawing).iter():  # well-formed XML (a raw control character is not)
        tag = element.tag.rsplit("}", 1)[-1]
        assert tag not in ("script", "foreignObject", "img", "iframe"), tag
        assert not [a for a in element.attrib if a.lower().startswith("on")], element.attrib
        href = element.get("href") or element.get("{http://www.w3.org/1999/xlink}href") or ""
        assert not href.lower().startswith(("javascript:", "data:")), href
    har = json.loads(get("har").render(annotated, RenderOptions()))
    cassette = yaml.safe_load(get("cassette").render(annotated, RenderOptions()))
    if name == "leading":  # each payload is a reason phrase: carried exactly, as data of each format
        payloads = corpus.payloads(marker).values()
        for document in (har, cassette):
            values = set(_strings(document))
            assert not [p for p in payloads if p not in values], [p for p in payloads if p not in values]


# --- every renderer, a hostile --title ----------------------------------------------------------
TITLE = corpus.DOM_WRITE + "".join(corpus.CONTROL) + '%getenv("X") !include /etc/hostname\n@enduml'


def test_every_renderer_with_a_hostile_title_writes_no_control_character(traces: dict[str, Path]) -> None:
    import xml.etree.ElementTree as ET

    from explorer.render import get, names
    from explorer.trace import load

    trace = load(traces["free"])
    annotated = annotate(trace)
    for name in names():
        out = get(name).render(annotated, RenderOptions(title=TITLE))
        assert not TERMINAL_UNSAFE.search(out.replace("\t", " ")), (name, TERMINAL_UNSAFE.search(out.replace("\t", " ")))
        if name == "svg":
            ET.fromstring(out)
        elif name == "html":
            assert_inert_html(out, own_scripts=3)


def test_export_postman_of_a_trace_with_a_malformed_challenge_goes_on(traces: dict[str, Path], tmp_path: Path) -> None:
    """A hostile registry's unparsable WWW-Authenticate names no realm; it does not stop the export."""
    out = tmp_path / "c.json"
    run = run_cli("export", "postman", str(traces["free"]), "-o", str(out))
    assert run.code == 0, run.output
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert collection["item"]
