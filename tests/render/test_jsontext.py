"""``jsontext.dumps`` writes the very characters ``json.dumps(indent=…, ensure_ascii=False)`` writes.

The Postman and HAR exports are written with it (their goldens pin the result on real traces);
here every kind of JSON value, empty and nested containers, and the hostile corpus' strings
(NULs, newlines, U+2028, escapes, quotes) are compared directly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.render import jsontext
from tests.hostile import corpus

_HOSTILE = [*corpus.payloads(Path("/nonexistent/PWNED")).values(), "\x00", "a\x00b", "\u2028\u2029", "\x7f\x85",
            "\ud800", "é ✓ 😀", '\\"', "", "%s", "%%", "%(name)s", "100% %d %"]  # the layout fills %s places

VALUES = [
    None, True, False, 0, -1, 2**70, 1.5, float("inf"), float("nan"), -0.0, "text", "",
    {}, [], (), {"a": {}}, {"a": []}, [[]], [{}], [[], {}, [[[]]]],
    {"a": 1, "b": [1, 2, {"c": None, "d": [True, False]}], "e": {"f": {"g": "h"}}},
    (1, (2, 3), [4, (5,)]),
    {s: s for s in _HOSTILE},
    [[s, {s: [s]}] for s in _HOSTILE],
    {"\x00": "\x00", "k\nk": ["v\nv"], '"': {"\\": "\u2028"}},
    {1: "int key", 2.5: "float key", True: "bool key", None: "none key"},  # json.dumps converts keys
    [{"nested": {1: "int key deep"}}],
    # equal as dict keys, not as JSON; and strings that recur (each distinct one is encoded once)
    [True, 1, 1.0, False, 0, 0.0, -0.0, None, "1", "true", "null", "", "1", "true", {"1": 1, "true": True}],
    {"a": ["x", "x", 1, True, "x"], "b": {"x": "x", "y": 1.0}, "c": [{"x": True}, {"x": 1}, {"x": "x"}]},
    [type("Text", (str,), {})("sub"), "sub", type("Number", (int,), {})(7), 7],
]


@pytest.mark.parametrize("indent", [0, 1, 2, 4])
@pytest.mark.parametrize("value", VALUES, ids=[str(i) for i in range(len(VALUES))])
def test_same_text_as_json_dumps(value: object, indent: int) -> None:
    assert jsontext.dumps(value, indent=indent) == json.dumps(value, indent=indent, ensure_ascii=False)


def test_what_json_dumps_refuses_is_refused() -> None:
    with pytest.raises(TypeError):
        jsontext.dumps({"a": [object()]}, indent=2)
    with pytest.raises(TypeError):
        json.dumps({"a": [object()]}, indent=2, ensure_ascii=False)
