"""`regexplore check`: real traces pass, tampered copies fail with the right finding.

Real traces come from CNCF distribution 2.8 in all four variants (pull, push,
copy, tags, delete, recorded here) and from the built-in registry; the tampered
copies change one thing each and must produce exactly the finding that names it.
"""

from __future__ import annotations

import copy
import json
import secrets
from pathlib import Path

import pytest

from explorer.check import broken, check, render_findings
from explorer.sandbox import Sandbox
from explorer.trace import Trace, load, save
from tests.infra.registry import RunningRegistry
from tests.infra.runner import login_args, run_cli

REPO = Path(__file__).resolve().parents[2]
RECORDINGS = sorted((REPO / "recordings").glob("*/*.trace.json"))


def _record(account, host: str, folder: Path) -> list[Path]:
    """Trace pull, push, copy, tags and delete against one registry; the trace files."""
    args, stdin = login_args(account)
    repo = f"check/app-{secrets.token_hex(3)}"
    runs = {
        "push": ("trace", "push", "--sample", f"{host}/{repo}:1", "--jobs", "1"),
        "pull": ("trace", "pull", f"{host}/{repo}:1", "--jobs", "1"),
        "copy": ("trace", "copy", f"{host}/{repo}:1", f"{host}/{repo}-copy:1", "--jobs", "1"),
        "tags": ("trace", "tags", f"{host}/{repo}", "-n", "1"),
    }
    out = []
    for name, command in runs.items():
        path = folder / f"{name}.trace.json"
        login = args
        if name == "copy" and args:  # copy takes skopeo-style credentials
            creds = f"{account.username}:{account.password}"
            login, command = [], (*command, "--src-creds", creds, "--dest-creds", creds)
        run = run_cli(*command, "-o", str(path), "-q", *login, stdin=stdin)
        assert run.code == 0, (name, run.output)
        out.append(path)
    pushed = load(folder / "push.trace.json")
    digest = next(ex.response.header("docker-content-digest") for ex in reversed(pushed.exchanges)
                  if ex.request.method == "PUT" and "/manifests/" in ex.request.url and ex.response
                  and ex.response.status == 201)
    path = folder / "delete.trace.json"
    run = run_cli("trace", "delete", f"{host}/{repo}-copy@{digest}", "-o", str(path), "-q", *args, stdin=stdin)
    assert run.code == 0, run.output
    return [*out, path]


def _assert_passes(paths: list[Path]) -> None:
    run = run_cli("check", *map(str, paths), "--format", "json")
    report = json.loads(run.output)
    musts = [(t["trace"], f) for t in report["traces"] for f in t["findings"] if f["severity"] == "MUST"]
    assert run.code == 0 and not musts, musts
    assert len(report["traces"]) == len(paths)


def test_distribution_traces_of_every_operation_pass(registry: RunningRegistry, tmp_path: Path) -> None:
    _assert_passes(_record(registry, registry.host, tmp_path))


@pytest.mark.parametrize("auth", ["none", "token"])
def test_builtin_registry_traces_pass(auth: str, tmp_path: Path) -> None:
    with Sandbox(auth=auth, redirect=auth == "token") as sandbox:
        account = sandbox if auth != "none" else None
        _assert_passes(_record(account, sandbox.registry_host, tmp_path))


def test_every_recording_passes() -> None:
    for path in RECORDINGS:
        assert not broken(check(load(path))), (path, render_findings([(str(path), check(load(path)))]))


# --- tampered copies ------------------------------------------------------------------------------------


def _copy(name: str) -> Trace:
    return copy.deepcopy(load(REPO / "recordings" / name))


def _first(trace: Trace, method: str, needle: str, status: int):
    return next(ex for ex in trace.exchanges if ex.request.method == method and needle in ex.request.url
                and ex.response is not None and ex.response.status == status)


def _drop(headers: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(n, v) for n, v in headers if n.lower() != name.lower()]


def _musts(trace: Trace) -> list:
    return [f for f in check(trace) if f.severity == "MUST"]


@pytest.mark.parametrize(("recording", "method", "needle", "status", "header", "section"), [
    ("anonymous/pull.trace.json", "GET", "/manifests/", 200, "Docker-Content-Digest", "main · Pulling manifests"),
    ("anonymous/push-first.trace.json", "PUT", "/blobs/uploads/", 201, "Location", "v1.1.1 · Pushing blobs"),
    ("anonymous/push-chunked.trace.json", "PATCH", "/blobs/uploads/", 202, "Range",
     "v1.1.1 · Pushing a blob in chunks"),
], ids=["manifest-digest", "201-location", "202-range"])
def test_a_removed_header_is_one_must_naming_it(recording, method, needle, status, header, section) -> None:
    trace = _copy(recording)
    ex = _first(trace, method, needle, status)
    ex.response.headers = _drop(ex.response.headers, header)
    (finding,) = _musts(trace)
    assert (finding.exchange, finding.rule, finding.found, finding.section) == (
        ex.id, "header-required", f"no {header}", section)
    if header == "Docker-Content-Digest":
        assert "SHOULD in v1.1.1" in finding.expected


def test_a_wrong_digest_is_a_must() -> None:
    trace = _copy("anonymous/pull.trace.json")
    ex = _first(trace, "GET", "/manifests/", 200)
    wrong = "sha256:" + "0" * 64
    ex.response.headers = [*_drop(ex.response.headers, "Docker-Content-Digest"), ("Docker-Content-Digest", wrong)]
    (finding,) = _musts(trace)
    assert (finding.exchange, finding.rule) == (ex.id, "digest-matches-body") and wrong in finding.found


def test_a_blob_that_is_not_the_digest_asked_for_is_a_must() -> None:
    trace = _copy("anonymous/pull.trace.json")
    ex = _first(trace, "GET", "/blobs/sha256:", 200)
    ex.response.body.sha256 = "f" * 64
    ex.response.headers = _drop(ex.response.headers, "Docker-Content-Digest")
    rules = {(f.rule, f.exchange) for f in _musts(trace)}
    assert ("body-matches-request", ex.id) in rules


def test_an_invalid_error_code_is_a_must() -> None:
    trace = _copy("anonymous/fail-unknown-manifest.trace.json")
    ex = next(ex for ex in trace.exchanges if ex.response is not None and ex.response.status == 404)
    ex.response.body.text = ex.response.body.text.replace("MANIFEST_UNKNOWN", "NOT_A_CODE")
    (finding,) = _musts(trace)
    assert (finding.exchange, finding.rule, finding.found) == (ex.id, "error-code", "NOT_A_CODE")


def test_a_status_the_endpoint_never_answers_is_a_must() -> None:
    trace = _copy("anonymous/pull.trace.json")
    ex = _first(trace, "GET", "/manifests/", 200)
    ex.response.status = 418
    assert ("status-allowed", ex.id) in {(f.rule, f.exchange) for f in _musts(trace)}


def test_a_wrong_content_length_is_a_must() -> None:
    trace = _copy("anonymous/pull.trace.json")
    ex = _first(trace, "GET", "/manifests/", 200)
    ex.response.headers = [*_drop(ex.response.headers, "Content-Length"), ("Content-Length", "1")]
    assert [(f.rule, f.exchange) for f in _musts(trace)] == [("content-length", ex.id)]


def test_client_side_authorization_to_storage_and_token_without_service() -> None:
    trace = _copy("redirect/pull.trace.json")
    storage = next(ex for ex in trace.exchanges if ex.request.url.startswith("http://localhost:"))
    storage.request.headers.append(("Authorization", "Bearer <redacted>"))
    token = next(ex for ex in trace.exchanges if "service=" in ex.request.url)
    token.request.url = token.request.url.replace("service=", "servic=")
    findings = check(trace)
    assert ("authorization-host", storage.id, "MUST") in {(f.rule, f.exchange, f.severity) for f in findings}
    assert ("token-service", token.id, "SHOULD") in {(f.rule, f.exchange, f.severity) for f in findings}


def test_a_storage_host_serving_other_bytes_than_the_digest_asked_for_is_a_must() -> None:
    trace = _copy("redirect/pull.trace.json")
    storage = next(ex for ex in trace.exchanges if ex.request.url.startswith("http://localhost:"))
    storage.response.body.sha256 = "e" * 64
    assert [(f.rule, f.exchange) for f in _musts(trace)] == [("body-matches-request", storage.id)]


def test_malformed_challenge_and_link_are_musts() -> None:
    trace = _copy("token/pull.trace.json")
    ex = next(ex for ex in trace.exchanges if ex.response is not None and ex.response.status == 401)
    ex.response.headers = [*_drop(ex.response.headers, "WWW-Authenticate"), ("WWW-Authenticate", 'Bearer ="x')]
    tags = _copy("builtin/tags-paginated.trace.json")
    linked = next(ex for ex in tags.exchanges if ex.response is not None and ex.response.header("link"))
    linked.response.headers = [*_drop(linked.response.headers, "Link"), ("Link", "/v2/x/tags/list?n=1")]
    assert [f.rule for f in _musts(trace)] == ["www-authenticate"]
    assert [f.rule for f in _musts(tags)] == ["link"]


def test_cli_exit_codes_and_formats(tmp_path: Path) -> None:
    good = REPO / "recordings/anonymous/pull.trace.json"
    trace = _copy("anonymous/pull.trace.json")
    ex = _first(trace, "GET", "/manifests/", 200)
    ex.response.headers = _drop(ex.response.headers, "Docker-Content-Digest")
    bad = save(trace, tmp_path / "bad.trace.json")
    run = run_cli("check", str(good))
    assert run.code == 0 and "ok (0 MUST" in run.output
    run = run_cli("check", str(good), str(bad))
    assert run.code == 1 and "FAIL" in run.output and "Docker-Content-Digest" in run.output
    run = run_cli("check", str(bad), "--format", "markdown")
    assert run.code == 1 and run.output.startswith("## ") and "| # | severity |" in run.output
    run = run_cli("check", str(bad), "--format", "json")
    assert run.code == 1 and json.loads(run.output)["traces"][0]["broken"] is True
    assert run_cli("check", str(tmp_path / "missing.trace.json")).code == 2
    assert run_cli("check", str(good), "--format", "xml").code == 2


def test_a_har_capture_is_judged_too(tmp_path: Path) -> None:
    har = tmp_path / "push.har"
    assert run_cli("export", "har", str(REPO / "recordings/anonymous/push-chunked.trace.json"), "-o", str(har)).code == 0
    run = run_cli("check", str(har), "--format", "json")
    assert run.code == 0, run.output
    (report,) = json.loads(run.output)["traces"]
    assert report["trace"] == str(har) and report["broken"] is False
    data = json.loads(har.read_text())
    patch = next(e for e in data["log"]["entries"] if e["request"]["method"] == "PATCH")
    patch["response"]["headers"] = [h for h in patch["response"]["headers"] if h["name"].lower() != "range"]
    har.write_text(json.dumps(data))
    run = run_cli("check", str(har))
    assert run.code == 1 and "no Range" in run.output
