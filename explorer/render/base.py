"""The renderer contract, the shared Jinja2 environment and the one function that writes outputs.

Rule 1: imports only the standard library, jinja2, ``explorer.trace``,
``explorer.annotate``, ``explorer.protocol``, ``explorer.errors`` and
``explorer.atomic``. Never httpx: rendering a saved trace loads no network code.

A renderer is a module (see ``explorer/render/__init__.py``) exposing::

    name: str                                   # the CLI word, e.g. "mermaid"
    extension: str                              # default file extension, e.g. ".mmd"
    def render(trace: Trace, options: RenderOptions) -> str

It returns the whole output as text (the HTML page is self-contained), never
opens files and never prints: :func:`write_output` does that for every format.
Templated renderers build ``view.build(annotate(trace), options)``, add their
own escape filter and render ``templates/<name>.<ext>.j2``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from explorer.atomic import write_atomic
from explorer.trace import Trace

if TYPE_CHECKING:
    import jinja2

__all__ = ["RenderOptions", "Renderer", "add_filter", "environment", "render_template", "template_dirs", "write_output"]


@dataclass(frozen=True)
class RenderOptions:
    """What every renderer may be asked for; a renderer ignores the options that mean nothing to it.

    Add new fields with a default so older callers keep working.
    """

    notes: bool = True  # endpoint id + meaning notes (``--notes/--no-notes``)
    full: bool = False  # show every exchange instead of collapsing repetitions (``--full``)
    timing: bool = False  # durations in the labels (``--timing``)
    markdown: bool = False  # wrap text diagrams for Markdown, e.g. a ```mermaid fence (``--markdown``)
    link: bool = False  # swimlanes: print a swimlanes.io link instead of the text (``--link``)
    title: str | None = None  # overrides the title derived from the trace

    def but(self, **changes: Any) -> RenderOptions:
        """A copy with some fields changed: ``options.but(notes=False)``."""
        return replace(self, **changes)


class Renderer(Protocol):
    """What ``RENDERERS`` maps a name to (a module satisfies it)."""

    name: str
    extension: str

    def render(self, trace: Trace, options: RenderOptions) -> str: ...


def template_dirs() -> list[Path]:
    """Where templates live: ``explorer/templates`` in a wheel, ``<repo>/templates`` in a checkout."""
    package = Path(__file__).resolve().parents[1]
    return [d for d in (package / "templates", package.parent / "templates") if d.is_dir()]


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja2 environment: strict, autoescaping only ``*.html.j2`` and ``*.svg.j2``.

    jinja2 is imported here, on first use, so importing the registry stays cheap.
    """
    import jinja2
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs()]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "svg.j2"), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def add_filter(name: str, function: Callable[..., Any]) -> None:
    """Make ``function`` the template filter ``name`` (each text format registers its escaper)."""
    environment().filters[name] = function


def render_template(name: str, **context: Any) -> str:
    """Render ``templates/<name>`` with ``context`` (the template only loops and prints)."""
    return environment().get_template(name).render(**context)


def write_output(text: str, path: str | os.PathLike[str] | None) -> Path | None:
    """Write a rendered output: ``None`` or ``"-"`` prints to stdout, otherwise an atomic file write.

    Parent directories are created; the file appears whole or not at all (an
    existing file is never left half-overwritten). Returns the path written,
    or None for stdout, so the CLI can say "Wrote mermaid to out.mmd".
    """
    if path is None or str(path) == "-":
        sys.stdout.write(text)
        if text and not text.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()
        return None
    return write_atomic(path, text)
