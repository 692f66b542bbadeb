"""docs/library.md runs as written: its ```python blocks, top to bottom, as ONE script in an empty directory.

A fresh interpreter (the library must work without the CLI around it), the built-in
registry started by the script itself; then every file the page says it writes is
checked for being what it claims.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.infra.schemas import validate_postman, validate_trace

PAGE = Path(__file__).resolve().parents[2] / "docs" / "library.md"


def _script() -> str:
    text = PAGE.read_text(encoding="utf-8")
    assert ">>>" not in text, "docs/library.md examples are plain blocks, no >>> prompts"
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 5, "the page lost its examples"
    return "\n".join(blocks)


def test_the_library_page_runs_as_one_script_in_an_empty_directory(tmp_path: Path) -> None:
    script = tmp_path / "examples.py"
    script.write_text(_script(), encoding="utf-8")
    work = tmp_path / "empty"
    work.mkdir()
    done = subprocess.run([sys.executable, str(script)], cwd=work, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    # the layout it made and pushed from
    index = json.loads((work / "app-layout" / "index.json").read_text())
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "1.0"
    assert (work / "app-layout" / "oci-layout").exists()
    # the traces, valid against the trace schema; the failed pull's too
    for name in ("push.trace.json", "pull.trace.json", "failed.trace.json"):
        validate_trace(work / name)
    push = json.loads((work / "push.trace.json").read_text())
    assert push["operation"] == "push" and push["outcome"]["status"] == "ok"
    assert json.loads((work / "failed.trace.json").read_text())["outcome"]["status"] == "failed"
    # the Mermaid diagram and the Postman collection are what they claim
    mermaid = (work / "pull.mmd").read_text()
    assert mermaid.startswith("sequenceDiagram\n") and "Client->>Registry" in mermaid
    collection = json.loads((work / "pull.postman_collection.json").read_text())
    validate_postman(collection)
    assert collection["item"], "an empty collection"
    # what it printed: the push, the pull of the platform asked for, the failure with its trace
    assert "8 blobs uploaded, 0 skipped" in done.stdout
    assert "(linux/arm64/v8)" in done.stdout and "3 layers verified" in done.stdout
    assert "trace of the failed pull: failed.trace.json" in done.stdout
    assert "Traceback" not in done.stderr


def test_the_readme_links_the_library_page() -> None:
    readme = (PAGE.parents[1] / "README.md").read_text(encoding="utf-8")
    assert "(docs/library.md)" in readme
