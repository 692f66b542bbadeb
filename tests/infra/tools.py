"""Find the external programs the tests use; skip outside CI, fail in CI.

Rule: a test that needs a real registry or tool must run in CI (``CI`` set) and
may only skip elsewhere, with a message naming the missing tool.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO / ".tools" / "node_modules" / ".bin"

# what installs each tool (shown when it is missing)
_INSTALL = {
    "docker-registry": "apt-get install -y docker-registry",
    "skopeo": "apt-get install -y skopeo",
    "chromium": "apt-get install -y chromium",
    "plantuml": "apt-get install -y plantuml",
    "mmdc": "npm install --prefix .tools @mermaid-js/mermaid-cli",
    "newman": "npm install --prefix .tools newman",
    "openapi2postmanv2": "npm install --prefix .tools openapi-to-postmanv2",
    "node": "apt-get install -y nodejs",
    "podman": "apt-get install -y podman",
}


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def find_tool(name: str) -> str | None:
    """The executable's path, looking in PATH and in the repo's ``.tools/node_modules/.bin``."""
    local = TOOLS_BIN / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def require_tool(name: str) -> str:
    """The executable's path; ``pytest.fail`` in CI or ``pytest.skip`` elsewhere when missing."""
    path = find_tool(name)
    if path:
        return path
    how = _INSTALL.get(name, "install it")
    msg = f"{name} not installed ({how}; scripts/test.sh installs everything)"
    if in_ci():
        pytest.fail(msg + " -- tests needing it must not skip in CI")
    pytest.skip(msg)
