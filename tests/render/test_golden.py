"""Every format of every golden case matches its reviewed golden file (scrubbed of times)."""

from __future__ import annotations

import pytest

from explorer import render
from explorer.annotate import annotate
from explorer.render import RenderOptions
from tests.render import goldens

OUTPUTS = goldens.outputs()
CASES = goldens.cases()


@pytest.mark.parametrize(("name", "case", "fmt", "options"), OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_golden(name: str, case: str, fmt: str, options: RenderOptions) -> None:
    goldens.compare(name, render.get(fmt).render(annotate(CASES[case]()), options))


def test_no_stale_golden_files() -> None:
    expected = {name for name, *_ in OUTPUTS}
    present = {p.name for p in goldens.GOLDEN.iterdir() if p.name != "README.md"}
    stale = sorted(present - expected)
    if goldens.REGOLD:
        for name in stale:
            (goldens.GOLDEN / name).unlink()
        return
    assert not stale, f"golden files no case produces (delete them or regenerate): {stale}"
