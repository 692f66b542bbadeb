"""The programs that consume our outputs accept them: mermaid-cli, PlantUML, an XML parser, Chromium.

Each external tool runs once per test over a batch of inputs (mmdc takes a
Markdown file with many diagrams), because starting a browser costs seconds.
``require_tool`` skips outside CI and fails in CI when a tool is missing.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from explorer.annotate import annotate
from explorer.render import RenderOptions, html as html_renderer, mermaid, plantuml, svg, view
from explorer.trace import Trace
from tests.infra.tools import require_tool
from tests.render import factory, goldens

SVG_NS = "{http://www.w3.org/2000/svg}"


def consumer_inputs() -> list[tuple[str, Trace, RenderOptions]]:
    """Every golden case with default options, plus the torture and 5,000-exchange traces in full."""
    items = [(name, make(), RenderOptions()) for name, make in goldens.cases().items()]
    items.append(("torture-full", factory.case_torture(), RenderOptions(full=True, timing=True)))
    big = factory.case_big()
    items.append(("big", big, RenderOptions()))
    items.append(("big-full", big, RenderOptions(full=True)))
    return items


def _normal(text: str) -> str:
    return " ".join(html.unescape(text).split())


def test_mermaid_cli_renders_every_diagram(tmp_path: Path) -> None:
    mmdc = require_tool("mmdc")
    chromium = require_tool("chromium")
    config = tmp_path / "puppeteer.json"
    config.write_text(json.dumps({"executablePath": chromium,
                                  "args": ["--no-sandbox", "--headless", "--disable-gpu"]}))
    inputs = consumer_inputs()
    expected = []
    sources = []
    for _name, trace, options in inputs:
        shown, text = mermaid.sequence(annotate(trace), options.but(markdown=True))
        assert len(text) < mermaid.MAX_TEXT_SIZE
        expected.append([_normal(a.numbered) for a in shown.arrows])
        sources.append(text)
    (tmp_path / "all.md").write_text("\n".join(sources), encoding="utf-8")
    result = subprocess.run([mmdc, "-p", str(config), "-i", str(tmp_path / "all.md"), "-o",
                             str(tmp_path / "out.md")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for i, (name, _, _) in enumerate(inputs, start=1):
        drawn = (tmp_path / f"out-{i}.svg").read_text(encoding="utf-8")
        assert "Syntax error" not in drawn and "Maximum text size" not in drawn, name
        messages = [_normal(m) for m in re.findall(r'<text[^>]*class="messageText"[^>]*>(.*?)</text>', drawn)]
        assert messages == expected[i - 1], name


def test_plantuml_renders_every_diagram(tmp_path: Path) -> None:
    tool = require_tool("plantuml")
    inputs = [item for item in consumer_inputs() if item[0] != "big-full"]  # a 10,000-arrow PNG is no test
    expected = {}
    for name, trace, options in inputs:
        (tmp_path / f"{name}.puml").write_text(plantuml.render(annotate(trace), options), encoding="utf-8")
        shown = view.build(annotate(trace), notes=options.notes, full=options.full, timing=options.timing)
        expected[name] = [_normal(a.numbered) for a in shown.arrows]
    result = subprocess.run([tool, "-tsvg", "-failfast2", "-nbthread", "auto", *sorted(
        str(p) for p in tmp_path.glob("*.puml"))], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name, texts in expected.items():
        drawn = (tmp_path / f"{name}.svg").read_text(encoding="utf-8")
        assert "Syntax Error" not in drawn, name
        found = {_normal(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", drawn)}
        missing = [t for t in texts if t not in found]
        assert not missing, (name, missing[:5])


@pytest.mark.parametrize(("name", "trace", "options"), consumer_inputs(), ids=[i[0] for i in consumer_inputs()])
def test_svg_is_valid_xml_with_one_group_per_arrow(name: str, trace: Trace, options: RenderOptions) -> None:
    text = svg.render(annotate(trace), options)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == f"{SVG_NS}svg"
    shown = view.build(annotate(trace), notes=options.notes, full=options.full, timing=options.timing)
    groups = [g for g in root.iter(f"{SVG_NS}g") if "arrow" in g.get("class", "").split()]
    assert len(groups) == len(shown.arrows)
    assert len({g.get("id") for g in groups}) == len(groups), "arrow ids are unique"
    for g, arrow in zip(groups, shown.arrows):
        assert g.get("data-exchange") == str(arrow.exchange)
        assert g.get("id") == f"x{arrow.exchange}-{'res' if arrow.response else 'req'}"
        (label,) = [t for t in g.iter(f"{SVG_NS}text") if t.get("class") == "label"]
        assert label.text == svg._short(arrow.text)
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "").split(
        "<style>")[0][:0]  # no script; hosts only appear as text
    assert "@import" not in text and "url(" not in text


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run", "--disable-component-update", "--disable-sync", "--enable-logging=stderr",
                  "--v=0"]


def _chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.parametrize("case", ["pull_multiarch", "torture", "pull_broken_storage"])
def test_html_viewer_in_chromium(case: str, tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    trace = factory.CASES[case]()
    page = tmp_path / f"{case}.html"
    page.write_text(html_renderer.render(annotate(trace), RenderOptions()), encoding="utf-8")
    shown = view.build(annotate(trace)).shown
    pick = shown[-1]  # the last exchange drawn: the unusual one in the failing cases

    shot = tmp_path / f"{case}.png"
    result = _chromium(chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1400,900",
                       f"{page.as_uri()}#x={pick.number}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not _console(result.stderr)

    result = _chromium(chromium, tmp_path / "profile", "--dump-dom", f"{page.as_uri()}#select={pick.number}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert not _console(result.stderr), _console(result.stderr)
    dom = result.stdout
    html_tag = re.search(r"<html[^>]*>", dom)
    assert html_tag and 'data-ready="yes"' in html_tag.group(0) and "data-js-errors" not in html_tag.group(0)
    panel = re.search(r'<aside class="details" id="details"[^>]*data-exchange="(\d+)"[^>]*>(.*?)</aside>', dom, re.S)
    assert panel, "the scripted click filled the details panel"
    assert panel.group(1) == str(pick.number)
    content = html.unescape(re.sub(r"<[^>]+>", "\n", panel.group(2)))
    request = pick.exchange.request
    assert f"{request.method} {request.url}" in content
    assert pick.why in content
    assert (pick.endpoint_id or pick.endpoint) in content
    if pick.exchange.response is not None:
        assert f"{pick.exchange.response.status}" in content
    else:
        assert pick.exchange.error in content
    assert "<script>alert" not in dom.split('id="exchange-data"')[0], "recorded text never becomes markup"


def test_html_keyboard_moves_between_exchanges(tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    trace = factory.case_push_first()
    page = tmp_path / "push.html"
    page.write_text(html_renderer.render(annotate(trace), RenderOptions()), encoding="utf-8")
    order = [a.number for a in view.build(annotate(trace)).shown]
    result = _chromium(chromium, tmp_path / "profile", "--dump-dom",
                       f"{page.as_uri()}#x={order[1]}&keys=ArrowDown,ArrowDown,ArrowUp,ArrowDown,ArrowDown")
    assert result.returncode == 0 and not _console(result.stderr)
    assert re.search(rf'<aside class="details" id="details"[^>]*data-exchange="{order[4]}"', result.stdout)


def test_html_viewer_expands_collapsed_loops_and_walks_every_exchange(tmp_path: Path) -> None:
    """A 60-layer pull: click "… more like this" to expand; ↑/↓ reach layer 37 and the last exchange."""
    chromium = require_tool("chromium")
    trace = factory.case_big(layers=60)
    page = tmp_path / "big.html"
    page.write_text(html_renderer.render(annotate(trace), RenderOptions()), encoding="utf-8")
    collapsed = view.build(annotate(trace))
    order = view.build(annotate(trace), full=True).order
    assert collapsed.collapsed and len(order) == len(trace.exchanges)
    drawn = {a.number for a in collapsed.shown}

    def panel(fragment: str) -> tuple[str, str]:
        result = _chromium(chromium, tmp_path / "profile", "--dump-dom", f"{page.as_uri()}{fragment}")
        assert result.returncode == 0 and not _console(result.stderr), result.stderr[-2000:]
        tag = re.search(r"<html[^>]*>", result.stdout).group(0)
        assert 'data-ready="yes"' in tag and "data-js-errors" not in tag
        shown = re.search(r'<aside class="details" id="details"[^>]*data-exchange="(\d+)"', result.stdout)
        return (shown.group(1) if shown else ""), tag

    first_gap = next(e for e in collapsed.events if e.kind == "gap")
    number, tag = panel(f"#x={order[0]}&click=gap")
    assert 'data-expanded="yes"' in tag, "clicking the collapsed line expanded the drawing"
    assert number == str(first_gap.exchanges[0]) and int(number) not in drawn

    layer37 = next(a.number for a in annotate(trace).exchanges if a.intent.index == 37 and a.intent.kind == "fetch-layer")
    before = order[order.index(layer37) - 1]
    number, tag = panel(f"#x={before}&keys=ArrowDown")
    assert number == str(layer37) and 'data-expanded="yes"' in tag

    number, _ = panel(f"#x={order[-3]}&keys=ArrowDown,ArrowDown,ArrowDown,ArrowDown")
    assert number == str(order[-1]), "↓ stops at the last exchange"
