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
