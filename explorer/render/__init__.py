"""Renderers: one module per output format behind one interface, found by name.

Rule 1: nothing here imports httpx (rendering a saved trace loads no network code).
Rule 2: modules are imported lazily, when a format is asked for, so
``regexplore --help`` stays fast.

Adding a format (an export such as ``postman`` or ``har`` works the same way):

1. write ``explorer/render/<name>.py`` exposing ``name = "<name>"``, ``extension = ".<ext>"``
   and ``render(trace: Trace, options: RenderOptions) -> str`` (see ``base.py``);
   a text format also gets ``templates/<name>.<ext>.j2``, a JSON format builds a dict;
2. add ``"<name>": "explorer.render.<name>"`` to :data:`RENDERERS` below;
3. add the name to the golden cases in ``tests/render/test_golden.py`` and
   regenerate the goldens (``tests/render/golden/README.md``).

A renderer may also set ``to_file = True`` (svg, html): its output goes to a
file named after the trace by default instead of stdout (:func:`default_output`).

Usage (what ``regexplore render FORMAT TRACE [-o OUT]`` does)::

    from explorer import render, trace
    renderer = render.get("mermaid")
    text = renderer.render(trace.load("pull.trace.json"), render.RenderOptions(full=True))
    written = render.write_output(text, out or render.default_output(renderer, "pull.trace.json"))
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from explorer.errors import UnknownFormat
from explorer.render.base import Renderer, RenderOptions, write_output

__all__ = ["RENDERERS", "Renderer", "RenderOptions", "default_output", "get", "names", "write_output"]

#: format name (the CLI word) → module implementing it; imported on first use.
RENDERERS: dict[str, str] = {
    "swimlanes": "explorer.render.swimlanes",
    "mermaid": "explorer.render.mermaid",
    "plantuml": "explorer.render.plantuml",
    "svg": "explorer.render.svg",
    "html": "explorer.render.html",
    "markdown": "explorer.render.markdown",
    "postman": "explorer.render.postman",
    "har": "explorer.render.har",
    "curl": "explorer.render.curl",
    "python": "explorer.render.python",
    "cassette": "explorer.render.cassette",
}


def names() -> list[str]:
    """Every known format name, in registry order."""
    return list(RENDERERS)


def get(name: str) -> Renderer:
    """The renderer module for ``name``; raises UnknownFormat (exit 2) listing the choices."""
    module_name = RENDERERS.get(name)
    if module_name is None:
        raise UnknownFormat(
            f"unknown format {name!r}; choose from: {', '.join(RENDERERS)}",
            "run `regexplore render --help` for what each format produces",
        )
    module: Renderer = importlib.import_module(module_name)  # type: ignore[assignment]
    return module


def default_output(renderer: Renderer, trace_path: str | os.PathLike[str]) -> str:
    """Where output goes without ``-o``: ``"-"`` (stdout) for text formats, else the trace's name
    with the format's extension (``pull.trace.json`` → ``pull.svg``)."""
    if not getattr(renderer, "to_file", False):
        return "-"
    path = Path(trace_path)
    stem = path.name.removesuffix(".trace.json").removesuffix(".json")
    return str(path.with_name(stem + renderer.extension))
