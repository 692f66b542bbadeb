"""A standalone Python script (httpx only) following the protocol a trace shows → ``templates/python.py.j2``.

Rule 1: pure; the view model comes from ``scripts``, every value through ``script_values``.
Rule 2: the script reads like teaching code: a ``Registry`` class with one method per endpoint,
an ``httpx.Auth`` per registry that answers only that registry's 401 challenges (never another
origin's, never a realm over plain http off loopback), blobs streamed to ``OUT/blobs/sha256/<hex>``
and verified, uploads read from ``SOURCE``. Credentials come from ``<SIDE>_USERNAME``/``_PASSWORD``
at run time and are never written into the script.
Rule 3: every value is a ``repr`` literal or a parameter's name; free text only in comments and
the docstring (``comment`` filter: one printable line, no quotes or backslashes).
"""

from __future__ import annotations

from explorer.annotate import AnnotatedTrace
from explorer.render import script_values, scripts
from explorer.render.base import RenderOptions, Templates

__all__ = ["TEMPLATES", "literal", "render"]


def literal(value: object) -> str:
    """A Python expression for a script value: a parameter's name, or the literal's repr."""
    if isinstance(value, scripts.Value):
        return value.name if value.name else repr(value.literal)
    return repr(value)


TEMPLATES = Templates(comment=script_values.comment, py=literal)


def render(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    return scripts.render(annotated, options, TEMPLATES, "python.py.j2")
