"""``render`` and ``export``: a trace (or a trace file) as a diagram, a page, a collection or a script.

Rule: loads no network code (nothing here imports httpx). :func:`_text` is the ONE
place that asks a format for its text; files are written atomically. A trace is
annotated once per call; a caller rendering several formats of one trace passes the
:class:`~explorer.annotate.AnnotatedTrace` instead (the demo does).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Union

from explorer.trace import Trace, load

if TYPE_CHECKING:  # imported when used: a pull, which imports this package, draws nothing (start-up, issue 17)
    from explorer import render as formats
    from explorer.annotate import AnnotatedTrace

__all__ = ["Rendered", "export", "render"]

Output = str | os.PathLike[str] | None
Source = Union["AnnotatedTrace", Trace, str, os.PathLike[str]]


@dataclass
class Rendered:
    """A render or export: its text, and the file written (None when not asked to write one)."""

    format: str
    text: str
    file: Path | None = None
    warnings: list[str] = field(default_factory=list)


def _text(trace: Source, fmt: formats.Format, options: formats.RenderOptions) -> tuple[str, list[str]]:
    """The text of ``fmt`` for ``trace`` and the format's warnings about it.

    Built with the collector paused from the trace's loading to the text (``explorer.collector``): a trace
    loaded here and its annotation are freed when this returns, without any collection walking them.
    """
    from explorer import collector
    from explorer.annotate import AnnotatedTrace, annotate

    with collector.paused():
        if isinstance(trace, AnnotatedTrace):
            annotated = trace
        else:
            annotated = annotate(trace if isinstance(trace, Trace) else load(trace))
        return fmt.render(annotated, options), fmt.warnings(annotated)


def render(
    trace: Source,
    fmt: str,
    output: Output = None,
    *,
    notes: bool = True,
    full: bool = False,
    timing: bool = False,
    markdown: bool = False,
    link: bool = False,
    title: str | None = None,
) -> Rendered:
    """``trace`` drawn as ``fmt`` (swimlanes, mermaid, plantuml, svg, html, markdown; any export format too).

    The text is returned; with ``output`` it is also written there (parents created, atomically).
    """
    from explorer import render as formats

    options = formats.RenderOptions(notes=notes, full=full, timing=timing, markdown=markdown, link=link, title=title)
    text, warnings = _text(trace, formats.get(fmt), options)
    written = formats.write_output(text, output) if output is not None else None
    return Rendered(fmt, text, written, warnings)


def export(trace: Source, fmt: str, output: Output = None, *, title: str | None = None) -> Rendered:
    """``trace`` as what other tools run: postman, har, curl, python or cassette.

    ``warnings`` says what the export cannot reproduce; a script written to ``output`` is made executable.
    """
    from explorer import render as formats

    chosen = formats.get_export(fmt)
    text, warnings = _text(trace, chosen, formats.RenderOptions(title=title))
    written = chosen.write(text, output) if output is not None else None
    return Rendered(fmt, text, written, warnings)
