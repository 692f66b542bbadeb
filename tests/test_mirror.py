"""The tests mirror the source (tests/README.md): a newcomer finds the test of explorer/x/y.py."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "explorer"
README = (ROOT / "tests" / "README.md").read_text(encoding="utf-8")


def _own_test(module: Path) -> Path:
    rel = module.relative_to(PACKAGE)
    return ROOT / "tests" / rel.parent / f"test_{rel.stem}.py"


def _listed(module: Path) -> bool:
    """The module, or its room, is named in the README's table."""
    rel = module.relative_to(ROOT).as_posix()
    rows = [line for line in README.splitlines() if line.startswith("| `explorer/")]
    if rel.count("/") == 1:  # a root module: named by file
        return any(f"`{module.name}`" in row or f", {module.name}" in row or f"`{rel}`" in row for row in rows)
    room = rel.rsplit("/", 1)[0] + "/"
    return any(row.startswith(f"| `{room}`") for row in rows)


def test_every_room_has_a_test_folder():
    rooms = [p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    missing = [room for room in rooms if not (ROOT / "tests" / room).is_dir()]
    assert not missing, f"rooms without a tests/ folder of the same name: {missing}"


def test_every_module_has_its_test_or_says_where_it_is_tested():
    modules = [p for p in PACKAGE.rglob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    lost = [str(m.relative_to(ROOT)) for m in modules if not _own_test(m).exists() and not _listed(m)]
    assert not lost, f"modules with no tests/x/test_y.py and no line in tests/README.md: {lost}"


def test_the_readme_names_only_test_files_that_exist():
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", README)) - {"tests/x/test_y.py"}
    assert named, "the README names no test file"
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert not missing, missing
