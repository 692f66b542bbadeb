"""The format registry: every output regexplore writes from a trace, declared once, explicitly.

Rule 1: nothing here imports httpx (rendering a saved trace loads no network code).
Rule 2: renderer modules (and jinja2) are imported when a format renders, not when
this registry is imported, so ``regexplore --help`` and ``trace pull`` stay fast.
Rule 3: every format renders with the cyclic collector paused (``_paused``, ``explorer.collector``).

A :class:`Format` says everything a caller needs without importing the renderer:
its ``name`` (the CLI word), default ``extension``, ``kind`` (``"diagram"``: a
drawing or page of the trace that collapses repetitions, ``regexplore render``;
``"export"``: a full-fidelity artefact another tool runs, ``regexplore export``),
whether its output goes ``to_file`` by default (svg, html) and is ``executable``
(curl, python), its ``warnings(annotated)`` (what a user must know about this
output of this trace) and ``render(annotated, options) -> str``. Nothing is read
from a module by name: the table below is the whole contract.

A format renders an :class:`~explorer.annotate.AnnotatedTrace`, not a trace: the
caller annotates once per command, however many outputs it renders (the demo
renders eleven from one annotation, Markdown reuses it for its Mermaid diagram).

Adding a format (an export such as ``postman`` or ``har`` works the same way):

1. write ``explorer/render/<name>.py`` with ``render(annotated: AnnotatedTrace,
   options: RenderOptions) -> str``; a text format also gets
   ``templates/<name>.<ext>.j2`` and a ``base.Templates(...)`` holding its filters,
   a JSON format builds a dict;
2. declare it in :data:`FORMATS` below, with a small function that imports the
   module and calls its ``render``;
3. add the name to the golden cases (``tests/render/test_golden.py`` or
   ``tests/render/test_export_golden.py``) and regenerate the goldens
   (``tests/render/golden/README.md``).

Usage (what ``regexplore render FORMAT TRACE [-o OUT]`` does)::

    from explorer import render, trace
    from explorer.annotate import annotate
    fmt = render.get("mermaid")
    text = fmt.render(annotate(trace.load("pull.trace.json")), render.RenderOptions(full=True))
    written = fmt.write(text, out or render.default_output(fmt, "pull.trace.json"))
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from explorer import collector
from explorer.errors import UnknownFormat
from explorer.render.base import RenderOptions, write_output

if TYPE_CHECKING:
    from explorer.annotate import AnnotatedTrace

__all__ = ["FORMATS", "Format", "Kind", "RenderOptions", "default_output", "get", "get_export", "names", "write_output"]

Kind = Literal["diagram", "export"]


@dataclass(frozen=True)
class Format:
    """One output format, declared in :data:`FORMATS`."""

    name: str  # the CLI word, e.g. "mermaid"
    extension: str  # default file extension, e.g. ".mmd"
    kind: Kind  # "diagram" (`regexplore render`, collapses repetitions) or "export" (every exchange)
    to_file: bool  # without -o, write <trace><extension> instead of printing
    executable: bool  # a written file is made executable (scripts)
    warnings: Callable[[AnnotatedTrace], list[str]]  # printed by the CLI before rendering
    render: Callable[[AnnotatedTrace, RenderOptions], str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "render", _paused(self.render))  # Rule 3, for every format declared

    def write(self, text: str, path: str | os.PathLike[str] | None) -> Path | None:
        """:func:`write_output`, then mark the file executable when the format is."""
        written = write_output(text, path)
        if written is not None and self.executable:
            written.chmod(written.stat().st_mode | 0o111)
        return written


def _no_warnings(annotated: AnnotatedTrace) -> list[str]:
    """Most formats show everything the trace holds: nothing to warn about."""
    return []


_Render = Callable[["AnnotatedTrace", RenderOptions], str]


def _paused(render: _Render) -> _Render:
    """``render`` with the cyclic collector paused (``explorer.collector``): a render of 5,000 exchanges
    builds tens or hundreds of thousands of objects, none in a cycle, and each pass the collector made
    over them and the annotated trace beside them cost 20-100 ms (markdown, cassette, mermaid)."""

    @functools.wraps(render)
    def paused(annotated: AnnotatedTrace, options: RenderOptions) -> str:
        with collector.paused():
            return render(annotated, options)

    return paused


# Each function imports its renderer on first use (Rule 2) and calls it: no lookup by name.
def _swimlanes(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    from explorer.render import swimlanes
    return swimlanes.render(annotated, options)


def _mermaid(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    from explorer.render import mermaid
    return mermaid.render(annotated, options)


def _plantuml(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    from explorer.render import plantuml
    return plantuml.render(annotated, options)


def _svg(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    from explorer.render import svg
    return svg.render(annotated, options)


def _html(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    from explorer.render import html
    return html.render(annotated, options)


def _markdown(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    from explorer.render import markdown
    return markdown.render(annotated, options)


def _postman(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    from explorer.render import postman
    return postman.render(annotated, options)


def _har(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    from explorer.render import har
    return har.render(annotated, options)


def _curl(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    from explorer.render import curl
    return curl.render(annotated, options)


def _python(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    from explorer.render import python
    return python.render(annotated, options)


def _cassette(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    from explorer.render import cassette
    return cassette.render(annotated, options)


def _cassette_warnings(annotated: AnnotatedTrace) -> list[str]:
    from explorer.render import cassette
    return cassette.warnings(annotated)


#: every format, in the order help texts and the demo list them
FORMATS: dict[str, Format] = {f.name: f for f in (
    Format(name="swimlanes", extension=".txt", kind="diagram", to_file=False, executable=False,
           warnings=_no_warnings, render=_swimlanes),
    Format(name="mermaid", extension=".mmd", kind="diagram", to_file=False, executable=False,
           warnings=_no_warnings, render=_mermaid),
    Format(name="plantuml", extension=".puml", kind="diagram", to_file=False, executable=False,
           warnings=_no_warnings, render=_plantuml),
    Format(name="svg", extension=".svg", kind="diagram", to_file=True, executable=False,
           warnings=_no_warnings, render=_svg),
    Format(name="html", extension=".html", kind="diagram", to_file=True, executable=False,
           warnings=_no_warnings, render=_html),
    Format(name="markdown", extension=".md", kind="diagram", to_file=False, executable=False,
           warnings=_no_warnings, render=_markdown),
    Format(name="postman", extension=".postman_collection.json", kind="export", to_file=False, executable=False,
           warnings=_no_warnings, render=_postman),
    Format(name="har", extension=".har", kind="export", to_file=False, executable=False,
           warnings=_no_warnings, render=_har),
    Format(name="curl", extension=".sh", kind="export", to_file=False, executable=True,
           warnings=_no_warnings, render=_curl),
    Format(name="python", extension=".py", kind="export", to_file=False, executable=True,
           warnings=_no_warnings, render=_python),
    Format(name="cassette", extension=".yaml", kind="export", to_file=False, executable=False,
           warnings=_cassette_warnings, render=_cassette),
)}


def names(kind: Kind | None = None) -> list[str]:
    """Every format name (of ``kind``, when given), in registry order."""
    return [name for name, fmt in FORMATS.items() if kind is None or fmt.kind == kind]


def get(name: str) -> Format:
    """The format called ``name``; raises UnknownFormat (exit 2) listing the choices."""
    fmt = FORMATS.get(name)
    if fmt is None:
        raise UnknownFormat(
            f"unknown format {name!r}; choose from: {', '.join(FORMATS)}",
            "run `regexplore render --help` for what each format produces",
        )
    return fmt


def get_export(name: str) -> Format:
    """The export format called ``name``; raises UnknownFormat (exit 2) listing the exports."""
    exports = names("export")
    if name not in exports:
        raise UnknownFormat(f"unknown export format {name!r}; choose from: {', '.join(exports)}",
                            "diagrams and Markdown are drawn, not exported: `regexplore render FORMAT TRACE`")
    return FORMATS[name]


def default_output(fmt: Format, trace_path: str | os.PathLike[str]) -> str:
    """Where output goes without ``-o``: ``"-"`` (stdout) for text formats, else the trace's name
    with the format's extension (``pull.trace.json`` → ``pull.svg``)."""
    if not fmt.to_file:
        return "-"
    path = Path(trace_path)
    stem = path.name.removesuffix(".trace.json").removesuffix(".json")
    return str(path.with_name(stem + fmt.extension))
