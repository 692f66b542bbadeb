"""Read other tools' captures as traces: HAR files and vcrpy cassettes.

Rule 1: never httpx: importing is file work (PyYAML is loaded for YAML cassettes only).

Rule 2: an imported trace is redacted exactly as the recorder would have
redacted it (``redacting.py``, with the rules and tables of ``explorer.recording.redact``): secrets found anywhere in the capture
(``Authorization`` values, token fields, cookies, passwords) are removed from
every string, so a HAR shared by a colleague cannot leak a token through us.

Usage (what ``regexplore import FORMAT FILE -o TRACE`` does)::

    from explorer import importers, trace
    trace.save(importers.load("har", "capture.har"), "capture.trace.json")
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from explorer.errors import TraceFormatError, UnknownFormat
from explorer.importers import limits
from explorer.trace import Trace, read_input

__all__ = ["IMPORTERS", "default_output", "load", "names"]

#: format name (the CLI word) → module with ``parse(text, source, binary_cap) -> Trace``
IMPORTERS: dict[str, str] = {
    "har": "explorer.importers.har",
    "cassette": "explorer.importers.cassette",
}


def names() -> list[str]:
    return list(IMPORTERS)


def load(fmt: str, path: str | os.PathLike[str], *, binary_cap: int = 0) -> Trace:
    """Read ``path`` as ``fmt`` into a redacted trace; UsageError (exit 2) for anything unreadable."""
    module_name = IMPORTERS.get(fmt)
    if module_name is None:
        raise UnknownFormat(f"unknown import format {fmt!r}; choose from: {', '.join(IMPORTERS)}",
                            "run `regexplore import --help`")
    p = Path(path)
    limits.check_size(p, f"{fmt} file")
    raw = read_input(p, f"{fmt} file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TraceFormatError(f"{p} is not UTF-8 text", f"pass a {fmt} file") from None
    module = importlib.import_module(module_name)
    try:
        return module.parse(text, source=p.name, binary_cap=binary_cap)
    except TraceFormatError as exc:
        raise TraceFormatError(f"{p}: {exc.message}", exc.hint) from None


def default_output(path: str | os.PathLike[str]) -> Path:
    """``capture.har`` → ``capture.trace.json`` (next to the input)."""
    p = Path(path)
    return p.with_name(p.stem + ".trace.json")
