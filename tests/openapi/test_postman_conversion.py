"""A Postman user can start from our OpenAPI: openapi-to-postmanv2 converts it, newman runs it.

``openapi-to-postmanv2`` is what Postman's "Import → OpenAPI" runs. The document is
exported with a real pull of ``test/small:1.0`` as examples, so the converted
requests carry that repository, tag and digests; newman then sends every read-only
request (GET/HEAD on the registry, not the upload session, not the token server)
to the live distribution registry (anonymous, and with Basic auth set on the collection as
a Postman user would) and each gets the answer the spec table predicts.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.infra.newman import run_collections
from tests.infra.runner import run_cli
from tests.infra.tools import require_tool

# converted item name (the operation's summary) → statuses distribution 2.8 may answer
EXPECTED = {
    "API version check (end-1)": {200},
    "Fetch blob (end-2)": {200, 206},
    "Fetch blob (headers only) (end-2)": {200},
    "Fetch manifest (end-3)": {200},
    "Fetch manifest (headers only) (end-3)": {200},
    "List tags (end-8a, end-8b)": {200},
    "List referrers (end-12a, end-12b)": {404},  # distribution 2.8 has no referrers API
    "List repositories (catalog)": {200},
}


def _items(node: dict) -> list[dict]:
    out = []
    for item in node.get("item", []):
        out.extend(_items(item) if "item" in item else [item])
    return out


def _convert(document: Path, out: Path) -> dict:
    converter = require_tool("openapi2postmanv2")
    done = subprocess.run([converter, "-s", str(document), "-o", str(out), "-O",
                           "folderStrategy=Tags,parametersResolution=Example,keepImplicitHeaders=true"],
                          capture_output=True, text=True, timeout=180, cwd=out.parent)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(out.read_text())


@pytest.mark.parametrize("variant", ["anonymous", "basic"])
def test_converted_collection_runs_read_only_requests_under_newman(
        variant: str, pull_trace: Callable[..., Path], live, tmp_path: Path) -> None:
    registry = live(variant)
    document = tmp_path / "api.yaml"
    run = run_cli("export", "openapi", str(pull_trace(variant)), "-o", str(document))
    assert run.code == 0, run.output
    collection = _convert(document, tmp_path / "converted.postman_collection.json")
    items = _items(collection)
    names = {item["name"] for item in items}
    assert set(EXPECTED) <= names, sorted(names)
    read_only = [i for i in items if i["name"] in EXPECTED]
    assert {i["request"]["method"] for i in read_only} == {"GET", "HEAD"}
    collection["item"] = read_only
    env = {"baseUrl": registry.url}
    if registry.username:  # what a Postman user does: Basic auth on the collection, credentials as variables
        collection["auth"] = {"type": "basic", "basic": [{"key": "username", "value": "{{username}}"},
                                                         {"key": "password", "value": "{{password}}"}]}
        for item in read_only:
            item["request"].pop("auth", None)
        env |= {"username": registry.username, "password": registry.password or ""}
    path = tmp_path / "read-only.postman_collection.json"
    path.write_text(json.dumps(collection))
    result = run_collections([("openapi", path, env)], tmp_path)["openapi"]
    assert result.error is None and result.requests == len(EXPECTED) and result.requests_failed == 0, str(result)
    answers = dict(result.answers)
    for name, statuses in EXPECTED.items():
        assert answers.get(name) in statuses, (name, answers)
