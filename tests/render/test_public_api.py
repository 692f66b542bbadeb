"""The public names of the export and import modules are pinned (a change here is an API change)."""

from __future__ import annotations

import importlib

import pytest

from explorer import importers, render

EXPORTS = {
    "postman": ["SCHEMA", "all_endpoints", "collection", "render", "url_object"],
    "har": ["log", "render"],
    "curl": ["TEMPLATES", "render", "word"],
    "python": ["TEMPLATES", "literal", "render"],
    "cassette": ["missing_bodies", "render", "warnings"],
    "markdown": ["PITFALLS", "TEMPLATES", "code", "escape", "fence", "pitfalls", "prose", "render"],
}


@pytest.mark.parametrize("fmt", EXPORTS)
def test_module_api_is_pinned(fmt):
    module = importlib.import_module(f"explorer.render.{fmt}")
    assert sorted(module.__all__) == EXPORTS[fmt]
    assert render.get(fmt).kind == ("diagram" if fmt == "markdown" else "export")


def test_importers_api_is_pinned():
    assert sorted(importers.__all__) == ["IMPORTERS", "default_output", "load", "names"]
    assert importers.names() == ["har", "cassette"]
    assert str(importers.default_output("x/capture.har")) == "x/capture.trace.json"
