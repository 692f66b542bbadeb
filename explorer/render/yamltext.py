"""Block YAML exactly as PyYAML's safe dumper writes it, for many documents of one shape, fast.

Rule: the same characters as ``yaml.dump(value, Dumper=dumper, **options)`` (block style, keys in
order, no line folding), or ``None`` when this module cannot be sure of them; the caller then
dumps with PyYAML. ``tests/render/test_cassette.py`` compares the two on any text.

A cassette's 5,000 interactions have a handful of shapes (the same keys, header names and list
lengths) and differ in their scalars. PyYAML writes a scalar that fits on one line the same way
wherever it stands as a mapping value or a sequence item of a block collection (its style depends
on its text alone), so a shape is dumped once with a placeholder for each scalar, each distinct
scalar once (as ``{k: value}``), and every document of that shape is the one layout filled in.
A scalar written over several lines (a line break it keeps, ``!!binary``) makes it ``None``.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["Writer"]

_PLACEHOLDER = "zq7x{}zq7x"  # a plain scalar to YAML; a layout whose keys hold it is not used
_SPLIT = re.compile(r"zq7x(\d+)zq7x")
_SCALARS = (str, int, float, bool, type(None))
_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")  # what YAML may write as a line break: learned one by one


class Writer:
    """One per render: the layouts of the shapes seen and the text of the scalars seen."""

    def __init__(self, dumper: Any, options: dict[str, Any]) -> None:
        self.dumper, self.options = dumper, options
        self.layouts: dict[tuple[object, ...], list[str] | None] = {}
        self.texts: dict[tuple[type, object], str | None] = {}

    def dump_all(self, values: list[object]) -> list[str | None]:
        """``yaml.dump(value, …)`` of each value, or None where it cannot be put together from known parts."""
        walked: list[tuple[tuple[object, ...], list[object]] | None] = []
        for value in values:
            shape: list[object] = []
            scalars: list[object] = []
            walked.append((tuple(shape), scalars) if _walk(value, shape, scalars) else None)
        unknown = {(type(s), s): s for w in walked if w is not None for s in w[1] if (type(s), s) not in self.texts}
        self._learn(list(unknown.items()))
        return [None if w is None else self._fill(value, *w) for value, w in zip(values, walked)]

    def _fill(self, value: object, shape: tuple[object, ...], scalars: list[object]) -> str | None:
        """The layout of ``value``'s shape with its scalars' texts."""
        layout = self.layouts.get(shape)
        if layout is None:
            if shape in self.layouts:
                return None
            try:
                layout = self.layouts[shape] = self._layout(value, len(scalars))
            except UnicodeEncodeError:  # libyaml cannot write a lone surrogate (in a key)
                layout = self.layouts[shape] = None
            if layout is None:
                return None
        out = [layout[0]]
        for scalar, after in zip(scalars, layout[1:]):
            text = self.texts.get((type(scalar), scalar))
            if text is None:
                return None
            out.append(text)
            out.append(after)
        return "".join(out)

    def _learn(self, scalars: list[tuple[tuple[type, object], object]]) -> None:
        """Learn how the dumper writes each scalar as a value: those that stay on one line in one dump."""
        batch = [(key, s) for key, s in scalars if not (type(s) is str and _BREAKS.search(s))]  # type: ignore[arg-type]
        lines: list[str] = []
        try:
            text = yaml.dump({f"k{i}": s for i, (_, s) in enumerate(batch)}, Dumper=self.dumper, **self.options)
            lines = text[:-1].split("\n") if batch else []
        except UnicodeEncodeError:
            pass
        if len(lines) == len(batch) and all(line.startswith(f"k{i}: ") for i, line in enumerate(lines)):
            for i, ((key, _), line) in enumerate(zip(batch, lines)):
                self.texts[key] = line[len(f"k{i}: "):]
        else:
            batch = []
        learned = {key for key, _ in batch}
        for key, s in scalars:
            if key not in learned:
                self.texts[key] = self._text(s)

    def _layout(self, value: object, count: int) -> list[str] | None:
        """The dump of ``value``'s shape, cut around each scalar (None: a placeholder is not where expected)."""
        numbered = iter(range(count))
        text = yaml.dump(_placeholders(value, numbered), Dumper=self.dumper, **self.options)
        pieces = _SPLIT.split(text)
        if pieces[1::2] != [str(i) for i in range(count)]:
            return None
        return pieces[0::2]

    def _text(self, scalar: object) -> str | None:
        """How the dumper writes ``scalar`` as a value (None: not on one line)."""
        try:
            text = yaml.dump({"k": scalar}, Dumper=self.dumper, **self.options)
        except UnicodeEncodeError:
            return None
        return text[3:-1] if text.startswith("k: ") and text.endswith("\n") and text.count("\n") == 1 else None


def _walk(value: object, shape: list[object], scalars: list[object]) -> bool:
    """Append ``value``'s shape (keys, list lengths) and its scalars; False for anything else."""
    kind = type(value)
    if kind is dict:
        shape.append(dict)
        shape.append(len(value))  # type: ignore[arg-type]
        for k, v in value.items():  # type: ignore[attr-defined]
            if type(k) is not str or _SPLIT.search(k):
                return False
            shape.append(k)
            if not _walk(v, shape, scalars):
                return False
        return True
    if kind is list:
        shape.append(list)
        shape.append(len(value))  # type: ignore[arg-type]
        return all(_walk(v, shape, scalars) for v in value)  # type: ignore[attr-defined]
    if kind in _SCALARS:
        shape.append(None)
        scalars.append(value)
        return True
    return False


def _placeholders(value: object, numbered: Any) -> object:
    """``value`` with its scalars replaced, in order, by numbered placeholders."""
    if type(value) is dict:
        return {k: _placeholders(v, numbered) for k, v in value.items()}  # type: ignore[attr-defined]
    if type(value) is list:
        return [_placeholders(v, numbered) for v in value]  # type: ignore[attr-defined]
    return _PLACEHOLDER.format(next(numbered))
