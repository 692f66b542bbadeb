"""`regexplore probe`: what distribution 2.8 and the built-in registry support, found by trying; nothing left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.flows.probe import FEATURES
from explorer.sandbox import Sandbox
from explorer.trace import load
from tests.infra.registry import RunningRegistry
from tests.infra.runner import login_args, run_cli


def _probe(account, host: str, *extra: str) -> tuple[dict, str]:
    args, stdin = login_args(account)
    run = run_cli("probe", host, "--json", *args, *extra, stdin=stdin)
    assert run.code == 0, run.output
    return json.loads(run.stdout), run.stderr


def _scratch_is_gone(account, host: str, repository: str) -> None:
    args, stdin = login_args(account)
    run = run_cli("trace", "manifest", f"{host}/{repository}:probe-a", "-o", "gone.trace.json", *args, stdin=stdin)
    assert run.code == 1 and "MANIFEST_UNKNOWN" in run.output, run.output


def test_distribution_2_8(registry: RunningRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    document, stderr = _probe(registry, registry.host)
    features = document["features"]
    assert document["registry"] == registry.host and list(features) == list(FEATURES)
    assert features["referrers-api"]["supported"] is False
    assert features["cross-repo-mount"]["supported"] is True
    assert features["delete-tag"]["supported"] is False
    assert features["delete-manifest"]["supported"] is True and features["chunked-upload"]["supported"] is True
    assert features["token-auth"]["supported"] is (registry.variant in ("token", "redirect"))
    assert features["redirects-to-storage"]["supported"] is (registry.variant == "redirect")
    trace_file = next(tmp_path.glob("probe-*.trace.json"))
    assert f"trace: {trace_file.name}" in stderr
    ids = {ex.id for ex in load(trace_file).exchanges}
    for key, feature in features.items():
        assert feature["evidence"] and set(feature["evidence"]) <= ids, key
    _scratch_is_gone(registry, registry.host, document["repository"])


def test_builtin_registry_has_the_referrers_api_and_two_registries_compare(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry_anonymous: RunningRegistry) -> None:
    monkeypatch.chdir(tmp_path)
    with Sandbox(auth="none") as sandbox:
        document, _ = _probe(None, sandbox.registry_host)
        assert document["features"]["referrers-api"]["supported"] is True
        _scratch_is_gone(None, sandbox.registry_host, document["repository"])
        run = run_cli("probe", sandbox.registry_host, registry_anonymous.host, "-o", "report.md")
        assert run.code == 0, run.output
    report = (tmp_path / "report.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| referrers-api |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1].startswith("yes") and cells[2].startswith("no"), row
    assert ".html#x=" in row  # each answer links to the exchanges that prove it


def test_bad_registry_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = run_cli("probe", "not a host!")
    assert run.code == 2 and run.stderr.startswith("error:")
    assert not list(tmp_path.glob("*.trace.json"))
