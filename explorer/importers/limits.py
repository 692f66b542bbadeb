"""Reading an untrusted capture within bounds: file size, nesting depth, YAML alias expansion.

Rule 1: PyYAML is imported lazily, for YAML cassettes only. Every refusal is a
``TraceFormatError`` (exit 2, one line), never a ``RecursionError`` or ``MemoryError``.
Rule 2: checked BEFORE the expensive step: the size before reading, the nesting depth
from the token/event stream (iterative) before a recursive parser or composer runs, and
the size of the document once YAML aliases are expanded before anything walks it (a
563-byte "billion laughs" file expands to 10^9 nodes). Aliases are allowed (PyYAML's
dumper, and so vcrpy, writes them for objects it sees twice), their expansion is capped.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from explorer.errors import TraceFormatError, UsageError
from explorer.units import human_size

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "check_size", "load_json", "load_yaml"]

MAX_BYTES = 256 * 1024 * 1024  # a HAR of a big pull with its bodies stays well under this
MAX_DEPTH = 64  # a HAR or a cassette nests 6-8 levels deep
MAX_NODES = 2_000_000  # YAML nodes once aliases are expanded: ~10x the largest real cassette

_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def check_size(path: Path, what: str) -> None:
    """TraceFormatError when ``path`` is bigger than ``MAX_BYTES`` (a missing file is left to the reader)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return
    if size > MAX_BYTES:
        raise TraceFormatError(f"{path} is {human_size(size)}: over the {human_size(MAX_BYTES)} a {what} may be",
                               "import a smaller capture (split it, or leave the bodies out)")


def _too_deep(what: str) -> TraceFormatError:
    return TraceFormatError(f"{what} nests deeper than {MAX_DEPTH} levels", f"pass a real {what}")


def load_json(text: str, what: str) -> Any:
    """``json.loads`` after checking the nesting depth; TraceFormatError for bad JSON or too deep a document."""
    if len(text) > MAX_BYTES:
        raise TraceFormatError(f"the {what} is over {human_size(MAX_BYTES)}", "import a smaller capture")
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(what)
        elif token in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except RecursionError:  # pragma: no cover - the scan above refuses what would get here
        raise _too_deep(what) from None


def load_yaml(text: str, what: str) -> Any:
    """``yaml.safe_load`` with the nesting depth and the alias expansion capped."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - pyyaml is a runtime dependency; this guards a broken install
        raise UsageError(f"reading a YAML {what} needs PyYAML", "pip install pyyaml") from None
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        depth = 0
        for event in yaml.parse(text, Loader=loader_class):  # iterative: no recursion, whatever the nesting
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(what)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        loader = loader_class(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _expanded(node, {}, set(), 1, what)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TraceFormatError(f"not a {what} (YAML: {first})",
                               f"pass a vcrpy {what}; Python-object tags are refused") from None


def _expanded(node: Any, sizes: dict[int, int], open_nodes: set[int], depth: int, what: str) -> int:
    """How many nodes ``node`` stands for once every alias is expanded; refuses cycles and caps size and depth."""
    import yaml

    if depth > MAX_DEPTH:
        raise _too_deep(what)
    if isinstance(node, yaml.ScalarNode):
        return 1
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise TraceFormatError(f"the {what} refers to itself (a recursive YAML alias)", f"pass a real {what}")
    open_nodes.add(key)
    children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
    total = 1
    for child in children:
        total += _expanded(child, sizes, open_nodes, depth + 1, what)
        if total > MAX_NODES:
            raise TraceFormatError(f"the {what}'s YAML aliases expand to over {MAX_NODES:,} nodes",
                                   f"pass a real {what}, not an alias bomb")
    open_nodes.discard(key)
    sizes[key] = total
    return total
