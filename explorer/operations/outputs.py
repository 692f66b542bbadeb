"""``render`` and ``export``: a trace (or a trace file) as a diagram, a page, a collection or a script.

Rule: loads no network code (nothing here imports httpx). :func:`_text` is the ONE
place that asks a format for its text; files are written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

from explorer import render as formats
from explorer.errors import UnknownFormat
from explorer.operations.results import Rendered
from explorer.trace import Trace, load

__all__ = ["export", "render"]

Output = str | os.PathLike[str] | None
Source = Trace | str | os.PathLike[str]


def _text(trace: Source, fmt: str, options: formats.RenderOptions) -> tuple[str, list[str]]:
    """The text of ``fmt`` for ``trace`` and the format's warnings about it."""
    loaded = trace if isinstance(trace, Trace) else load(trace)
    renderer = formats.get(fmt)
    warnings = list(getattr(renderer, "warnings", lambda _trace: [])(loaded))
    return renderer.render(loaded, options), warnings


def _write(text: str, output: Output) -> Path | None:
    return formats.write_output(text, output) if output is not None else None


def render(
    trace: Source,
    fmt: str,
    output: Output = None,
    *,
    notes: bool = True,
    full: bool = False,
    timing: bool = False,
    markdown: bool = False,
    title: str | None = None,
) -> Rendered:
    """``trace`` drawn as ``fmt`` (swimlanes, mermaid, plantuml, svg, html, markdown; any export format too).

    The text is returned; with ``output`` it is also written there (parents created, atomically).
    """
    options = formats.RenderOptions(notes=notes, full=full, timing=timing, markdown=markdown, title=title)
    text, warnings = _text(trace, fmt, options)
    return Rendered(fmt, text, _write(text, output), warnings)


def export(trace: Source, fmt: str, output: Output = None, *, title: str | None = None) -> Rendered:
    """``trace`` as what other tools run: postman, har, curl, python or cassette.

    ``warnings`` says what the export cannot reproduce; a script written to ``output`` is made executable.
    """
    if fmt not in formats.names() or not getattr(formats.get(fmt), "export", False):
        exports = [name for name in formats.names() if getattr(formats.get(name), "export", False)]
        raise UnknownFormat(f"unknown export format {fmt!r}; choose from: {', '.join(exports)}",
                            "diagrams and Markdown come from render()")
    text, warnings = _text(trace, fmt, formats.RenderOptions(title=title))
    written = _write(text, output)
    if written is not None and getattr(formats.get(fmt), "executable", False):
        written.chmod(written.stat().st_mode | 0o111)
    return Rendered(fmt, text, written, warnings)
