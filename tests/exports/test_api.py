"""The public names of the export and import modules are pinned (a change here is an API change)."""

from __future__ import annotations

import pytest

from explorer import importers, render

EXPORTS = {
    "postman": ["SCHEMA", "all_endpoints", "collection", "export", "extension", "name", "render", "url_object"],
    "har": ["export", "extension", "log", "name", "render"],
    "curl": ["executable", "export", "extension", "name", "render", "word"],
    "python": ["executable", "export", "extension", "literal", "name", "render"],
    "cassette": ["export", "extension", "missing_bodies", "name", "render", "warnings", "yaml_string"],
    "markdown": ["PITFALLS", "escape", "extension", "name", "pitfalls", "render"],
}


@pytest.mark.parametrize("fmt", EXPORTS)
def test_module_api_is_pinned(fmt):
    module = render.get(fmt)
    assert sorted(module.__all__) == EXPORTS[fmt]
    assert getattr(module, "export", False) == (fmt != "markdown")


def test_importers_api_is_pinned():
    assert sorted(importers.__all__) == ["IMPORTERS", "default_output", "load", "names"]
    assert importers.names() == ["har", "cassette"]
    assert str(importers.default_output("x/capture.har")) == "x/capture.trace.json"
