"""``regexplore diff`` on bad input: one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer import trace as tracefile
from tests.infra.runner import run_cli
from tests.render.factory import case_pull_token


@pytest.fixture
def two(tmp_path: Path) -> tuple[str, str]:
    a, b = tmp_path / "a.trace.json", tmp_path / "b.trace.json"
    tracefile.save(case_pull_token(), a)
    tracefile.save(case_pull_token(), b)
    return str(a), str(b)


@pytest.mark.parametrize("extra,needle", [
    (["--ignore", "timings,colour"], "unknown --ignore class 'colour'"),
    (["--format", "pdf"], "unknown --format 'pdf'"),
])
def test_bad_options(two: tuple[str, str], extra: list[str], needle: str, tmp_path: Path) -> None:
    run = run_cli("diff", *two, *extra, "-o", str(tmp_path / "out.txt"))
    assert run.code == 2 and needle in run.stderr and run.stderr.count("error:") == 1
    assert not (tmp_path / "out.txt").exists()


def test_a_missing_or_broken_trace(two: tuple[str, str], tmp_path: Path) -> None:
    assert run_cli("diff", two[0], str(tmp_path / "nope.json")).code == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    run = run_cli("diff", two[0], str(broken))
    assert run.code == 2 and "Traceback" not in run.output


def test_equal_traces_exit_0_and_say_so(two: tuple[str, str]) -> None:
    run = run_cli("diff", *two)
    assert run.code == 0 and "the flows match" in run.stdout
