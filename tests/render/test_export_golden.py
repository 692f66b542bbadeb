"""Every export of a few fixed traces matches its reviewed golden file (scrubbed of times and versions).

Same mechanism as tests/render/golden (``goldens.compare``), own folder: tests/render/golden-exports.
Regenerate after an intended change, then review the diff (see golden-exports/README.md):

    REGEXPLORE_REGOLD=1 .venv/bin/python -m pytest tests/render/test_export_golden.py
"""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer import render
from explorer.annotate import annotate
from explorer.render.postman import all_endpoints
from explorer.render import RenderOptions
from tests.render import factory, goldens

GOLDEN = Path(__file__).resolve().parent / "golden-exports"
CASES = ("pull_token", "pull_redirect", "push_first", "copy_mount", "pull_failed")
FORMATS = ("markdown", "postman", "har", "curl", "python", "cassette")
OUTPUTS = [(f"{case}{render.get(fmt).extension}", case, fmt) for case in CASES for fmt in FORMATS]


@pytest.mark.parametrize(("name", "case", "fmt"), OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_golden(name: str, case: str, fmt: str) -> None:
    goldens.compare(name, render.get(fmt).render(annotate(factory.CASES[case]()), RenderOptions()), GOLDEN)


def test_postman_tour_golden() -> None:
    goldens.compare("all-endpoints.postman_collection.json", all_endpoints(), GOLDEN)


def test_no_stale_golden_files() -> None:
    expected = {name for name, *_ in OUTPUTS} | {"all-endpoints.postman_collection.json"}
    present = {p.name for p in GOLDEN.iterdir() if p.name != "README.md"}
    stale = sorted(present - expected)
    if goldens.REGOLD:
        for name in stale:
            (GOLDEN / name).unlink()
        return
    assert not stale, f"golden files no case produces (delete them or regenerate): {stale}"
