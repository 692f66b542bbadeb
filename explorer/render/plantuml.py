"""PlantUML sequence diagram → ``templates/plantuml.puml.j2`` (``@startuml … @enduml``).

Rule: imports only ``explorer.annotate``, ``explorer.render`` and the stdlib.

Text after ``:`` is free, but PlantUML's Creole markup reads ``**``, ``//``,
``""``, ``--``, ``__``, ``~~``, ``==`` and ``<tags>``, and ``\\n`` breaks a
line. :func:`escape` puts Creole's escape character ``~`` before each of
those, so labels show exactly what was on the wire.
"""

from __future__ import annotations

import re

from explorer.annotate import annotate
from explorer.render import view
from explorer.render.base import RenderOptions, add_filter, render_template
from explorer.trace import Trace

__all__ = ["escape", "extension", "name", "render"]

name = "plantuml"
extension = ".puml"

GLYPHS = {"request": "->", "response": "-->", "lost": "->x"}
_CREOLE = re.compile(r"\*\*|//|\"\"|--|__|~|==|\^\^|<|\[|\]|\\")


def escape(text: str) -> str:
    """``text`` as literal PlantUML label text (Creole markup and ``\\`` escaped with ``~``)."""
    return _CREOLE.sub(lambda m: "~" + m.group(0), " ".join(text.split()))


add_filter("plantuml", escape)


def render(trace: Trace, options: RenderOptions) -> str:
    sequence = view.build(annotate(trace), notes=options.notes, full=options.full, timing=options.timing,
                          title=options.title)
    return render_template("plantuml.puml.j2", view=sequence, glyphs=GLYPHS, markdown=options.markdown)
