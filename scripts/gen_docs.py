"""Regenerate the generated pages of docs/: the CLI reference (docs/cli.md) from every command's --help.

    .venv/bin/python scripts/gen_docs.py

tests/docs/test_docs.py fails when docs/cli.md is out of date or a command is missing from it.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI_PAGE = REPO / "docs" / "cli.md"


@functools.cache
def help_text(*words: str) -> str:
    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "explorer", *words, "--help"],
        capture_output=True, text=True, check=True, env=env, cwd=REPO,
    ).stdout
    return out.replace("Usage: python -m explorer", "Usage: regexplore")


def commands(*group: str) -> list[tuple[str, ...]]:
    """Every command path under ``group``, depth first, in --help order (groups recurse)."""
    text = help_text(*group)
    block = text.split("\nCommands:\n", 1)
    if len(block) < 2:
        return []
    found: list[tuple[str, ...]] = []
    for line in block[1].splitlines():
        m = re.match(r"^  (\S+)", line)
        if not m:
            continue
        path = (*group, m.group(1))
        sub = commands(*path)
        found.extend(sub if sub else [path])
    return found


def cli_page() -> str:
    lines = [
        "# CLI reference",
        "",
        "Generated from each command's `--help` by `scripts/gen_docs.py`; do not edit by hand.",
        "",
        "```text",
        help_text().rstrip(),
        "```",
        "",
    ]
    for path in commands():
        lines += [f"## regexplore {' '.join(path)}", "", "```text", help_text(*path).rstrip(), "```", ""]
    return "\n".join(lines)


def main() -> None:
    CLI_PAGE.write_text(cli_page(), encoding="utf-8")
    print(f"wrote {CLI_PAGE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
