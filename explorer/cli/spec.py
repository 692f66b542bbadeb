"""``regexplore export openapi`` and ``regexplore check``: the spec as a document, and as a judge.

Rule: thin; the document is ``explorer.openapi``, the rules ``explorer.check``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from explorer.errors import UsageError

__all__ = ["export_openapi"]


def _label(path: Path, taken: set[str]) -> str:
    stem = path.name.removesuffix(".trace.json").removesuffix(".json") or "trace"
    label, n = stem, 2
    if label in taken and path.parent.name:
        label = f"{path.parent.name}-{stem}"
    while label in taken:
        label, n = f"{stem}{n}", n + 1
    taken.add(label)
    return label


def export_openapi(trace_files: list[Path], output: str | None, all_endpoints: bool) -> None:
    """``export openapi [TRACE...] [-o api.json|api.yaml|api.html]``."""
    from explorer import openapi, render
    from explorer.trace import load

    if all_endpoints:
        raise UsageError("--all-endpoints belongs to `export postman`; `export openapi` always covers every endpoint",
                         "regexplore export openapi -o api.yaml")
    taken: set[str] = set()
    traces = [(_label(path, taken), load(path)) for path in trace_files]
    fmt = openapi.format_for(output)
    text = openapi.dumps(openapi.build(traces), fmt)
    written = render.write_output(text, output or "-")
    if written is not None:
        typer.echo(f"wrote openapi ({fmt}) to {written}", err=True)
