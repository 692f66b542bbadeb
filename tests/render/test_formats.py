"""The renderer registry, the shared base (options, templates, write_output) and each format's rules."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from explorer import render
from explorer.atomic import AtomicFile
from explorer.errors import UnknownFormat
from explorer.annotate import annotate
from explorer.render import FORMATS, RenderOptions, base, mermaid, plantuml, swimlanes, write_output
from tests.render import factory

REPO = Path(__file__).resolve().parents[2]
ALL_OPTIONS = [RenderOptions(), RenderOptions(full=True, timing=True), RenderOptions(notes=False, markdown=True)]


DATA_FORMATS = {"postman", "har", "cassette"}  # built as data (dicts, YAML by yaml.safe_dump): no template


def test_registry_names_and_contract() -> None:
    assert list(FORMATS) == ["swimlanes", "mermaid", "plantuml", "svg", "html", "markdown",
                             "postman", "har", "curl", "python", "cassette"]
    assert render.names() == list(FORMATS)
    assert render.names("diagram") == ["swimlanes", "mermaid", "plantuml", "svg", "html", "markdown"]
    assert render.names("export") == ["postman", "har", "curl", "python", "cassette"]
    assert [n for n, f in FORMATS.items() if f.to_file] == ["svg", "html"]
    assert [n for n, f in FORMATS.items() if f.executable] == ["curl", "python"]
    for name, fmt in FORMATS.items():
        assert render.get(name) is fmt and fmt.name == name
        assert fmt.extension.startswith(".")
        assert callable(fmt.render) and callable(fmt.warnings)
        template = REPO / "templates" / f"{name}{fmt.extension}.j2"
        assert template.exists() != (name in DATA_FORMATS), f"one guess rule: {template}"
        assert (REPO / "explorer" / "render" / name).with_suffix(".py").exists() or \
            (REPO / "explorer" / "render" / name / "__init__.py").exists(), f"one guess rule: {name}"


def test_formats_are_declared_not_discovered() -> None:
    """The registry reads nothing from a renderer module by name (issue 14): no getattr, no module table."""
    import ast

    for path in (REPO / "explorer" / "render" / "__init__.py", REPO / "explorer" / "cli" / "outputs.py"):
        calls = [node.func.id for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
        assert "getattr" not in calls and "hasattr" not in calls, path
    with pytest.raises(dataclasses.FrozenInstanceError):
        FORMATS["mermaid"].extension = ".txt"  # type: ignore[misc]


def test_warnings_are_declared_per_format() -> None:
    from explorer.annotate import annotate

    annotated = annotate(factory.case_pull_redirect())  # blob bodies not kept: the cassette replays them empty
    warned = {name: fmt.warnings(annotated) for name, fmt in FORMATS.items()}
    assert [name for name, said in warned.items() if said] == ["cassette"]
    assert "replays them empty" in warned["cassette"][0]


def test_executable_formats_write_executable_files(tmp_path) -> None:
    script = FORMATS["curl"].write("#!/bin/sh\n", tmp_path / "x.sh")
    page = FORMATS["mermaid"].write("x\n", tmp_path / "x.mmd")
    assert script is not None and script.stat().st_mode & 0o111 == 0o111
    assert page is not None and page.stat().st_mode & 0o111 == 0


def test_unknown_format() -> None:
    with pytest.raises(UnknownFormat) as info:
        render.get("visio")
    assert str(info.value) == ("unknown format 'visio'; choose from: swimlanes, mermaid, plantuml, svg, html, "
                               "markdown, postman, har, curl, python, cassette")
    assert info.value.exit_code == 2


def test_render_options_defaults_are_pinned() -> None:
    assert RenderOptions() == RenderOptions(notes=True, full=False, timing=False, markdown=False, link=False,
                                            title=None)
    assert RenderOptions().but(full=True) == RenderOptions(full=True)


def test_environment_is_strict_and_escapes_only_html_and_svg() -> None:
    env = base.Templates().environment
    assert env.undefined is jinja2.StrictUndefined
    assert env.keep_trailing_newline
    for name, escaped in [("html.html.j2", True), ("svg.svg.j2", True), ("mermaid.mmd.j2", False),
                          ("swimlanes.txt.j2", False), ("plantuml.puml.j2", False)]:
        assert env.autoescape(name) is escaped, name


def test_templates_come_from_the_package_through_one_loader() -> None:
    env = base.Templates().environment
    assert isinstance(env.loader, jinja2.PackageLoader)
    assert base.template_root() == REPO / "explorer" / "templates"
    assert base.template_root().resolve() == REPO / "templates"  # the checkout's symlink to DESIGN.md's templates/
    assert sorted(env.list_templates(extensions=["j2"])) == sorted(p.name for p in (REPO / "templates").glob("*.j2"))


def test_filters_belong_to_their_format_environment() -> None:
    """No filter is registered globally: each format's environment holds exactly the filters it declares."""
    from explorer.render import curl, markdown, python, svg

    builtin = set(jinja2.Environment().filters)
    own = {name: set(module.TEMPLATES.environment.filters) - builtin
           for name, module in [("mermaid", mermaid), ("plantuml", plantuml), ("swimlanes", swimlanes),
                                ("svg", svg), ("markdown", markdown), ("curl", curl), ("python", python)]}
    assert own == {"mermaid": {"mermaid"}, "plantuml": {"plantuml"}, "swimlanes": {"swimlanes"}, "svg": set(),
                   "markdown": {"md", "prose", "code", "fence"}, "curl": {"comment", "sh"},
                   "python": {"comment", "py"}}
    assert base.Templates().environment.filters.keys() == builtin
    with pytest.raises(jinja2.TemplateAssertionError):  # a template cannot borrow another format's filter
        base.Templates().environment.from_string("{{ x | mermaid }}")


def test_write_output_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert write_output("hello", "-") is None
    assert write_output("again\n", None) is None
    assert capsys.readouterr().out == "hello\nagain\n"


def test_write_output_creates_parents_atomically(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.mmd"
    assert write_output("x\n", target) == target
    assert target.read_text() == "x\n"


def test_write_output_never_leaves_a_half_written_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.svg"
    target.write_text("old")

    def broken(self: AtomicFile, data: bytes) -> int:
        self.file.write(data[:3])
        raise OSError("disk full")

    monkeypatch.setattr(AtomicFile, "write", broken)
    with pytest.raises(OSError):
        write_output("new content", target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.svg"], "no partial file left behind"


@pytest.mark.parametrize("case", list(factory.CASES))
@pytest.mark.parametrize("options", ALL_OPTIONS)
def test_mermaid_statements_are_safe(case: str, options: RenderOptions) -> None:
    text = mermaid.render(annotate(factory.CASES[case]()), options)
    assert len(text) < mermaid.MAX_TEXT_SIZE
    lines = text.splitlines()
    if options.markdown:
        assert lines[0] == "```mermaid" and lines[-1] == "```"
        lines = lines[1:-1]
    assert lines[0] == "sequenceDiagram"
    for line in lines[1:]:
        stripped = line.strip()
        assert stripped, "no blank lines"
        without_entities = re.sub(r"#(?:\d+|[a-z]+);", "", stripped)
        assert ";" not in without_entities and "#" not in without_entities, line
        assert "<" not in without_entities.replace("<br/>", ""), line
        if stripped.startswith("participant "):
            assert re.fullmatch(r"participant [A-Za-z0-9_]+ as .+", stripped)
        m = re.match(r"([A-Za-z0-9_]+)(->>|-->>|-x)([A-Za-z0-9_]+): (.*)$", stripped)
        if m:
            assert not re.search(r"(?<![\w-])end(?![\w-])", m.group(4), re.IGNORECASE)


def test_mermaid_escape() -> None:
    assert mermaid.escape('a#b;c"d<e>f&g`h') == "a#35;b#59;c#quot;d#lt;e#gt;f#amp;g#96;h"
    assert mermaid.escape("the end of it") == "the #101;nd of it"
    assert mermaid.escape("end-1 · ends") == "end-1 · ends"
    assert mermaid.escape("wrap: x").startswith("#119;rap:")
    assert mermaid.escape("a\nb") == "a b"


def test_mermaid_markdown_fence_and_exchange_numbers() -> None:
    text = mermaid.render(annotate(factory.case_pull_token()), RenderOptions(markdown=True))
    assert text.startswith("```mermaid\nsequenceDiagram\n") and text.endswith("```\n")
    assert "autonumber" not in text, "per-arrow numbers would disagree with the exchange numbers in notes"
    assert "    Client->>Registry: 1 · GET /v2/\n" in text and "    Registry-->>Client: 1 · 401 " in text
    assert "    participant Registry as Registry<br/>localhost:5000\n" in text


def test_swimlanes_link_matches_the_sites_encoding() -> None:
    example = "https://swimlanes.io/#K8ksyUm1UgjOzC3ISVVIrUgE01yOCrp2Ck5WCh6pOTn5AA=="
    assert swimlanes.decode_link(example) == "title: Simple example \nA -> B: Hello"
    assert swimlanes.encode_link("title: Simple example \nA -> B: Hello") == example
    trace = factory.case_pull_token()
    link = swimlanes.render(annotate(trace), RenderOptions(link=True)).strip()
    assert link.startswith(swimlanes.LINK_PREFIX) and "\n" not in link
    assert swimlanes.decode_link(link) == swimlanes.render(annotate(trace), RenderOptions())


def test_swimlanes_escape_puts_syntax_in_code_spans() -> None:
    assert swimlanes.escape("GET /v2/_catalog") == "GET `/v2/_catalog`"
    assert swimlanes.escape("401 Bearer scope=repository:a:pull") == "401 Bearer `scope=repository:a:pull`"
    assert swimlanes.escape("Fetch manifest: resolve") == "Fetch manifest: resolve"
    assert swimlanes.escape("a`b") == "`` a`b ``"
    assert swimlanes.escape("- not a list") == "`-` not a list"


def test_swimlanes_structure() -> None:
    text = swimlanes.render(annotate(factory.case_pull_redirect()), RenderOptions())
    lines = text.splitlines()
    assert lines[:2] == ["title: pull `localhost:5000/team/app:1.0`", "order: Client, Registry, Storage"]
    assert "autonumber" not in lines
    assert "Client -> Registry: 1 · GET `/v2/`" in lines
    assert "Client <-- Registry: 3 · 307 → `localhost:5005`" in lines
    assert lines.count("group: for each of 4 layers") == 1 and lines.count("end") == 1
    for line in lines:
        assert re.match(r"(title|order|note [A-Za-z0-9, ]+|-|group|\.\.\.|[A-Za-z0-9]+ (->|<--|-x) [A-Za-z0-9]+): |"
                        r"end$", line), line


def test_plantuml_escape_and_structure() -> None:
    assert plantuml.escape("**b** //i// --s-- <b>x</b> a\\nb ~") == \
        "~**b~** ~//i~// ~--s~-- ~<b>x~</b> a~\\nb ~~"
    text = plantuml.render(annotate(factory.case_pull_multiarch()), RenderOptions())
    assert text.startswith("@startuml\n") and text.endswith("@enduml\n")
    assert 'participant "Storage\\nlocalhost:5005" as Storage' in text
    assert "Client -> Storage : 7 · GET /blobs/sha256/" in text and "Storage --> Client : 7 · 200 blob" in text


def test_render_loads_no_network_code() -> None:
    code = (
        "import sys\n"
        "from explorer import render\n"
        "from explorer.annotate import annotate\n"
        "from tests.render import factory\n"
        "for name in render.names():\n"
        "    render.get(name).render(annotate(factory.case_pull_multiarch()), render.RenderOptions())\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore', 'h11', 'anyio')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_importing_the_registry_imports_no_renderer() -> None:
    code = ("import sys, explorer.render as r; r.FORMATS; r.RenderOptions(); "
            "assert not [m for m in sys.modules if m.startswith(('jinja2', 'explorer.render.'))"
            " and m != 'explorer.render.base'], sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_help_imports_no_renderer_and_no_jinja2() -> None:
    code = ("import runpy, sys\n"
            "sys.argv = ['regexplore', 'render', '--help']\n"
            "try:\n"
            "    runpy.run_module('explorer', run_name='__main__')\n"
            "except SystemExit as done:\n"
            "    assert not done.code, done.code\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('jinja2', 'yaml')\n"
            "       or (m.startswith('explorer.render.') and m != 'explorer.render.base')]\n"
            "assert not bad, bad\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "FORMAT" in run.stdout


def test_default_output() -> None:
    assert render.default_output(render.get("mermaid"), "x/pull.trace.json") == "-"
    assert render.default_output(render.get("svg"), "x/pull.trace.json") == str(Path("x/pull.svg"))
    assert render.default_output(render.get("html"), "pull.json") == "pull.html"
    assert render.default_output(render.get("html"), "odd") == "odd.html"


def test_package_api_is_pinned() -> None:
    assert sorted(render.__all__) == ["FORMATS", "Format", "Kind", "RenderOptions", "default_output", "get",
                                      "get_export", "names", "write_output"]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_an_empty_trace_renders(fmt: str) -> None:
    from explorer.trace import Trace

    text = render.get(fmt).render(annotate(Trace(command=["regexplore", "trace", "pull", "x"])), RenderOptions())
    assert text.strip()
    if fmt in ("svg",):
        import xml.dom.minidom

        xml.dom.minidom.parseString(text.encode())


def test_no_renderer_annotates() -> None:
    """A format renders the annotation it is given: no module under explorer/render calls ``annotate``."""
    import ast

    for path in sorted((REPO / "explorer" / "render").rglob("*.py")):
        tree = ast.parse(path.read_text())
        imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and node.module == "explorer.annotate" for alias in node.names]
        called = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
                  and getattr(node.func, "id", getattr(node.func, "attr", None)) == "annotate"]
        assert "annotate" not in imported and not called, path


@pytest.mark.parametrize("args", [("render", "markdown"), ("explain",), ("export", "cassette"), ("render", "html")])
def test_a_command_annotates_its_trace_once(args, tmp_path, monkeypatch) -> None:
    import explorer.annotate
    from explorer.trace import save
    from tests.infra.runner import run_cli

    calls = []
    real = explorer.annotate.annotate
    monkeypatch.setattr(explorer.annotate, "annotate", lambda trace: calls.append(trace) or real(trace))
    saved = save(factory.case_pull_redirect(), tmp_path / "pull.trace.json")
    run = run_cli(*args, str(saved), "-o", str(tmp_path / "out"))
    assert run.code == 0, run.output
    assert len(calls) == 1


def test_the_library_renders_an_annotation_it_is_given(tmp_path) -> None:
    from explorer import operations
    from explorer.annotate import annotate

    annotated = annotate(factory.case_pull_redirect())
    assert operations.render(annotated, "mermaid").text == operations.render(annotated.trace, "mermaid").text
    exported = operations.export(annotated, "curl", tmp_path / "pull.sh")
    assert exported.file is not None and exported.file.stat().st_mode & 0o111 == 0o111
    assert operations.export(annotated, "cassette").warnings == FORMATS["cassette"].warnings(annotated) != []
