"""Indented JSON text, exactly as ``json.dumps(value, indent=n, ensure_ascii=False)`` writes it, but fast.

Rule: the same characters as ``json.dumps`` for every value (``tests/render/test_jsontext.py``
compares them, hostile strings included). With ``indent``, ``json.dumps`` runs its pure-Python
encoder, one generator step per value: most of a 5,000-exchange Postman or HAR export. Here
Python only lays out the containers; every key and scalar is encoded by the C encoder in one
call. An encoded key or scalar never holds a raw newline (JSON escapes every control
character), so the scalars are encoded as one list separated by newlines and split again. The
layout holds only JSON punctuation and white space, so each key and scalar stands in it as a
``%s``, and one ``%`` puts them all in place. An export repeats the same keys, header
names and script lines thousands of times: each distinct string is encoded once. Every format
builds its output with the collector paused (``explorer.render``, ``explorer.collector``).
"""

from __future__ import annotations

import json
from itertools import chain, compress, repeat
from operator import is_, is_not

__all__ = ["dumps"]

_SCALARS = json.JSONEncoder(ensure_ascii=False, separators=("\n", ":"))
_MARK = "%s"  # where a key or scalar goes: the layout holds no other "%"
_PAIR = _MARK + ": " + _MARK
_CONTAINERS = (dict, list, tuple)


class _Unusual(Exception):
    """A dict key that is not a string (json.dumps converts it): left to json.dumps."""


def dumps(value: object, indent: int) -> str:
    """``json.dumps(value, indent=indent, ensure_ascii=False)``."""
    layout: list[str] = []
    scalars: list[object] = []
    try:
        _lay_out(value, "\n", " " * indent, layout, scalars)
    except _Unusual:
        return json.dumps(value, indent=indent, ensure_ascii=False)
    return "".join(layout) % tuple(_encoded(scalars))


def _encoded(scalars: list[object]) -> list[str]:
    """The JSON text of each scalar, in order; each distinct ``str`` encoded once.

    Only exact strings are looked up by value: ``1``, ``1.0`` and ``True`` are one dict key but three
    texts, so every other scalar is encoded where it stands.
    """
    kinds = list(map(type, scalars))
    others = list(compress(range(len(scalars)), map(is_not, kinds, repeat(str))))
    other_texts = _encode_each([scalars[i] for i in others])  # first: what json.dumps refuses raises its error
    strings = dict.fromkeys(compress(scalars, map(is_, kinds, repeat(str))))
    texts = dict(zip(strings, _encode_each(list(strings))))
    out = list(map(texts.get, scalars))
    for i, text in zip(others, other_texts):
        out[i] = text
    return out


def _encode_each(values: list[object]) -> list[str]:
    """Each value's JSON text, from one call of the C encoder."""
    return _SCALARS.encode(values)[1:-1].split("\n") if values else []


def _lay_out(value: object, newline: str, step: str, layout: list[str], scalars: list[object]) -> None:
    """Append ``value``'s layout (``%s`` for each key and scalar) and its keys and scalars, in order."""
    if isinstance(value, dict):
        if not value:
            layout.append("{}")
            return
        inner = newline + step
        if not all(map(isinstance, value, repeat(str))):
            raise _Unusual
        if not any(map(isinstance, value.values(), repeat(_CONTAINERS))):  # keys and scalars only
            layout.append("{" + inner + (_PAIR + "," + inner) * (len(value) - 1) + _PAIR + newline + "}")
            scalars.extend(chain.from_iterable(value.items()))
            return
        head, next_head = "{" + inner + _MARK + ": ", "," + inner + _MARK + ": "
        pair, next_pair = head + _MARK, next_head + _MARK
        for key, item in value.items():
            scalars.append(key)
            if isinstance(item, _CONTAINERS):
                layout.append(head)
                _lay_out(item, inner, step, layout, scalars)
            else:
                layout.append(pair)
                scalars.append(item)
            head, pair = next_head, next_pair
        layout.append(newline + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            layout.append("[]")
            return
        inner = newline + step
        if not any(map(isinstance, value, repeat(_CONTAINERS))):  # scalars only
            layout.append("[" + inner + (_MARK + "," + inner) * (len(value) - 1) + _MARK + newline + "]")
            scalars.extend(value)
            return
        head, next_head = "[" + inner, "," + inner
        for item in value:
            if isinstance(item, _CONTAINERS):
                layout.append(head)
                _lay_out(item, inner, step, layout, scalars)
            else:
                layout.append(head + _MARK)
                scalars.append(item)
            head = next_head
        layout.append(newline + "]")
    else:
        layout.append(_MARK)
        scalars.append(value)
