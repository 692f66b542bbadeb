"""A standalone Python script (httpx only) that does again what a trace did → ``templates/python.py.j2``.

Rule 1: pure; imports ``explorer.render`` (``scripts`` for the view model) and the stdlib.
Rule 2: the script reads like teaching code: one function per endpoint, an
``httpx.Auth`` that answers 401 challenges as docker does, blobs streamed to
``OUT/blobs/sha256/<hex>`` and verified, uploads read from ``SOURCE``. The
registry, repositories and tag are parameters (argument or environment, defaults
from the trace); credentials come from ``REGISTRY_USERNAME``/``REGISTRY_PASSWORD``
at run time and are never written into the script.
"""

from __future__ import annotations

from explorer.render import script_values, scripts
from explorer.render.base import RenderOptions, add_filter
from explorer.trace import Trace

__all__ = ["export", "executable", "extension", "literal", "name", "render"]

name = "python"
export = True  # a full-fidelity export: every exchange, never collapsed (`regexplore export`)
extension = ".py"
executable = True  # the CLI marks written files executable


def literal(value: object) -> str:
    """A Python expression for a script value: a parameter's name, or the literal's repr."""
    if isinstance(value, scripts.Value):
        return value.name if value.name else repr(value.literal)
    return repr(value)


add_filter("comment", script_values.comment)
add_filter("py", literal)


def render(trace: Trace, options: RenderOptions) -> str:
    return scripts.render(trace, options, "python.py.j2")
