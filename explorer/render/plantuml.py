"""PlantUML sequence diagram → ``templates/plantuml.puml.j2`` (``@startuml … @enduml``).

Text after ``:`` is free, but PlantUML's Creole markup reads ``**``, ``//``,
``""``, ``--``, ``__``, ``~~``, ``==`` and ``<tags>``, and ``\\n`` breaks a
line. :func:`escape` puts Creole's escape character ``~`` before each of
those, so labels show exactly what was on the wire.

The preprocessor runs first and expands ``%getenv("…")``, ``%dirpath()`` and
every other ``%`` builtin anywhere in a line; ``!`` starts a directive
(``!include``). A trace value is untrusted, so ``%``, ``!`` and ``"`` (and an
``&`` that starts an entity) are written as HTML numeric entities (``&#37;``),
which PlantUML draws as the character after preprocessing; control characters
are removed.
"""

from __future__ import annotations

import re

from explorer.annotate import AnnotatedTrace
from explorer.render import view
from explorer.printable import printable
from explorer.render.base import RenderOptions, Templates

__all__ = ["TEMPLATES", "escape", "render"]

GLYPHS = {"request": "->", "response": "-->", "lost": "->x"}
_CREOLE = re.compile(r"\*\*|//|--|__|~|==|\^\^|<|\[|\]|\\")
_PREPROCESSOR = re.compile(r"[%!\"]|&(?=#|\w+;)")  # a bare & stays: only an entity-like one would change


def escape(text: str) -> str:
    """``text`` as literal PlantUML label text: ``%``, ``!``, ``"`` as entities, Creole escaped with ``~``."""
    flat = _PREPROCESSOR.sub(lambda m: f"&#{ord(m.group(0))};", " ".join(printable(text).split()))
    return _CREOLE.sub(lambda m: "~" + m.group(0), flat)


TEMPLATES = Templates(plantuml=escape)


def render(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    sequence = view.build(annotated, notes=options.notes, full=options.full, timing=options.timing,
                          title=options.title)
    return TEMPLATES.render("plantuml.puml.j2", view=sequence, glyphs=GLYPHS, markdown=options.markdown)
