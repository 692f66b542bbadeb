"""The options every format takes, the template environments and the one function that writes outputs.

Rule: never httpx: rendering a saved trace loads no network code.

A format's ``render(annotated, options) -> str`` (see ``explorer/render/__init__.py``)
returns the whole output as text (the HTML page is self-contained), never opens
files and never prints: :func:`write_output` does that for every format.
A templated format builds ``view.build(annotated, …)`` and renders its
``templates/<name>.<ext>.j2`` through its own :class:`Templates`, which holds
exactly the filters its templates use (no filter is registered globally).
"""

from __future__ import annotations

import importlib.resources
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.atomic import write_atomic

if TYPE_CHECKING:
    import jinja2

__all__ = ["TEMPLATE_PACKAGE", "RenderOptions", "Templates", "template_root", "write_output"]

#: templates are package data: ``explorer/templates`` (the repository's top-level ``templates/``;
#: in a checkout ``explorer/templates`` is a symlink to it, in a wheel the directory itself)
TEMPLATE_PACKAGE = ("explorer", "templates")


@dataclass(frozen=True)
class RenderOptions:
    """What every format may be asked for; a format ignores the options that mean nothing to it.

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


def template_root() -> Path:
    """The one directory templates are read from: ``templates`` inside the imported ``explorer`` package
    (where ``jinja2.PackageLoader(*TEMPLATE_PACKAGE)`` looks)."""
    package, folder = TEMPLATE_PACKAGE
    return Path(str(importlib.resources.files(package) / folder))


class Templates:
    """A Jinja2 environment with its own filters, built on first use.

    Strict (an undefined name fails), autoescaping only ``*.html.j2`` and ``*.svg.j2``,
    templates loaded with ``PackageLoader`` from the installed package. Each format
    declares the filters its templates use (``Templates(mermaid=escape)``), so no
    filter depends on which other renderer happened to be imported first.
    jinja2 is imported on first use, so importing a renderer's module stays cheap.
    """

    def __init__(self, **filters: Callable[..., Any]) -> None:
        self.filters = dict(filters)
        self._environment: jinja2.Environment | None = None
        self._lock = threading.Lock()

    @property
    def environment(self) -> jinja2.Environment:
        with self._lock:
            if self._environment is None:
                import jinja2

                env = jinja2.Environment(
                    loader=jinja2.PackageLoader(*TEMPLATE_PACKAGE),
                    autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "svg.j2"), default=False),
                    undefined=jinja2.StrictUndefined,
                    keep_trailing_newline=True,
                    trim_blocks=True,
                    lstrip_blocks=True,
                )
                env.filters.update(self.filters)
                self._environment = env
            return self._environment

    def render(self, name: str, **context: Any) -> str:
        """Render ``templates/<name>`` with ``context`` (the template only loops and prints)."""
        return self.environment.get_template(name).render(**context)


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
