"""The docs cover every command: docs/cli.md is regenerated from --help and must be current."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@functools.cache
def _gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_command_has_help_with_an_example():
    gen = _gen_docs()
    paths = gen.commands()
    assert ("trace", "pull") in paths and ("render",) in paths
    for path in paths:
        text = gen.help_text(*path)
        assert "Example:" in text, f"`regexplore {' '.join(path)} --help` has no Example: line"


def test_cli_reference_is_current_and_covers_every_command():
    gen = _gen_docs()
    page = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for path in gen.commands():
        assert f"## regexplore {' '.join(path)}\n" in page, f"docs/cli.md misses `regexplore {' '.join(path)}`"
    assert page == gen.cli_page(), "docs/cli.md is out of date: run .venv/bin/python scripts/gen_docs.py"


def test_gallery_is_current_for_every_recording():
    gen = _gen_docs()
    pages = gen.gallery_pages()
    entries = __import__("json").loads((REPO / "recordings" / "index.json").read_text())
    assert len([n for n in pages if n.endswith(".md") and n != "README.md"]) == len(entries) >= 10
    gallery = REPO / "docs" / "gallery"
    assert sorted(p.name for p in gallery.iterdir()) == sorted(pages)
    for name, text in pages.items():
        assert (gallery / name).read_text(encoding="utf-8") == text, (
            f"docs/gallery/{name} is out of date: run .venv/bin/python scripts/gen_docs.py")
    for entry in entries:  # each page shows the Mermaid diagram and links our SVG
        stem = entry["path"].removesuffix(".trace.json").replace("/", "-")
        assert "```mermaid" in pages[f"{stem}.md"] and f"]({stem}.svg)" in pages[f"{stem}.md"]
