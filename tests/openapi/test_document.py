"""The OpenAPI document: valid per openapi-spec-validator, complete per the endpoint table, examples inert.

Pure tests (no registry): the document is built from the protocol tables, so each
assertion derives what it expects from those tables, not from a copy.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from explorer.openapi import build, dumps
from explorer.openapi.paths import UPLOAD_PATH, openapi_path
from explorer.protocol import conformance, errorcodes, mediatypes
from explorer.protocol.endpoints import ENDPOINTS
from explorer.trace import load
from tests.hostile.corpus import free_text_trace, marker_path, payloads, protocol_traces
from tests.render.factory import Builder, json_body

REPO = Path(__file__).resolve().parents[2]
RECORDINGS = sorted((REPO / "recordings").glob("*/*.trace.json"))
VERBS = ("get", "head", "put", "post", "patch", "delete")


def _deref(document: dict, node: dict) -> dict:
    if "$ref" not in node:
        return node
    target = document
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return target


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    return [(path, verb, item[verb]) for path, item in document["paths"].items() for verb in VERBS if verb in item]


def test_document_without_traces_is_valid_openapi_3_1() -> None:
    document = build()
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_document_with_every_recording_as_examples_is_valid() -> None:
    assert len(RECORDINGS) >= 10
    document = build([(f"{p.parent.name}-{p.name.removesuffix('.trace.json')}", load(p)) for p in RECORDINGS])
    validate(document)
    text = json.dumps(document)
    assert '"anonymous-pull-2"' in text  # the manifest GET of the anonymous pull, as a named example
    manifest_get = document["paths"]["/v2/{name}/manifests/{reference}"]["get"]
    examples = manifest_get["responses"]["200"]["content"][mediatypes.OCI_MANIFEST]["examples"]
    assert examples["anonymous-pull-2"]["value"]["schemaVersion"] == 2


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.id for e in ENDPOINTS])
def test_every_endpoint_of_the_table_is_an_operation_with_its_statuses(endpoint) -> None:
    document = build()
    path, query = openapi_path(endpoint)
    assert path.startswith("/v2/")
    for method in endpoint.methods:
        operation = document["paths"][path][method.lower()]
        assert endpoint.id in [e["id"] for e in operation["x-oci-endpoints"]]
        assert endpoint.id in operation["summary"]
        for status in (*endpoint.success, *endpoint.failure):
            assert str(status) in operation["responses"], (endpoint.id, method, status)
        names = {p["name"] for p in operation["parameters"]} | {
            _deref(document, p)["name"] for p in document["paths"][path].get("parameters", [])}
        assert set(query) <= names, (endpoint.id, query, names)


def test_the_document_lists_no_operation_the_table_lacks() -> None:
    document = build()
    table = {(openapi_path(e)[0], m.lower()) for e in ENDPOINTS for m in e.methods}
    found = {(p, v) for p, v, _ in _operations(document) if p != "/token"}
    assert found == table


def test_repository_name_parameter_explains_slashes_and_gives_the_regex() -> None:
    document = build()
    name = _deref(document, document["paths"]["/v2/{name}/manifests/{reference}"]["parameters"][0])
    assert name["name"] == "name" and name["in"] == "path"
    assert "`/`" in name["description"] and "cannot" in name["description"]
    assert conformance.REPOSITORY_PATTERN in name["description"]
    pattern = re.compile(name["schema"]["pattern"])
    assert pattern.match("team/app/sub") and pattern.match("library/alpine")
    assert not pattern.match("Team/App") and not pattern.match("a//b")


def test_upload_url_is_modelled_and_says_to_follow_location() -> None:
    document = build()
    item = document["paths"][UPLOAD_PATH]
    assert {"get", "patch", "put", "delete"} <= set(item)
    for verb in ("get", "patch", "put", "delete"):
        assert "follow the `Location`" in item[verb]["description"] and "never build it" in item[verb]["description"]


def test_error_body_schema_and_code_enum_come_from_the_error_table() -> None:
    document = build()
    schemas = document["components"]["schemas"]
    assert schemas["ErrorCode"]["enum"] == [e.code for e in errorcodes.ERROR_CODES]
    assert schemas["ErrorBody"]["required"] == ["errors"]
    not_found = document["components"]["responses"]["Error404"]
    assert "MANIFEST_UNKNOWN" in not_found["description"]
    assert not_found["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


def test_must_headers_are_required_where_the_spec_says_so() -> None:
    document = build()
    manifest = document["paths"]["/v2/{name}/manifests/{reference}"]
    assert manifest["get"]["responses"]["200"]["headers"]["Docker-Content-Digest"]["required"] is True
    assert manifest["head"]["responses"]["200"]["headers"]["Content-Length"]["required"] is True
    chunk = document["paths"][UPLOAD_PATH]["patch"]["responses"]["202"]["headers"]
    assert chunk["Location"]["required"] and chunk["Range"]["required"]
    assert "main" in manifest["get"]["responses"]["200"]["headers"]["Docker-Content-Digest"]["description"]
    for media_type in mediatypes.MANIFEST_TYPES:
        assert media_type in manifest["get"]["responses"]["200"]["content"]


def test_token_endpoint_is_another_server_and_security_has_basic_and_bearer() -> None:
    document = build()
    token = document["paths"]["/token"]
    assert token["servers"][0]["url"] != document["servers"][0]["url"]
    assert "realm" in token["servers"][0]["description"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["basic"]["scheme"] == "basic" and schemes["bearer"]["scheme"] == "bearer"
    assert "WWW-Authenticate" in schemes["bearer"]["description"]


def test_yaml_and_json_say_the_same() -> None:
    document = build([("pull", load(RECORDINGS[0]))])
    assert yaml.safe_load(dumps(document, "yaml")) == json.loads(dumps(document, "json"))


def test_examples_are_redacted_even_from_an_unredacted_trace() -> None:
    secret = "s3cr3t-t0ken-value"
    b = Builder("pull", "registry.test/team/app:1.0")
    b.add("GET", "http://registry.test/v2/team/app/manifests/1.0", 200, step="resolve",
          req_headers=[("Authorization", f"Bearer {secret}")],
          headers=[("Location", f"http://cdn.test/x?X-Amz-Signature={secret}")],
          resp_body=json_body({"token": secret, "schemaVersion": 2}))
    b.add("GET", f"http://auth.test/token?service=registry.test&scope=repository:team/app:pull", 200,
          step="auth", resp_body=json_body({"token": secret, "access_token": secret}))
    text = dumps(build([("pull", b.done())]), "yaml")
    assert secret not in text
    assert "<redacted>" in text


def test_hostile_values_stay_data(tmp_path: Path) -> None:
    marker = marker_path(tmp_path)
    traces = [("free-text", free_text_trace(marker)), *protocol_traces(marker).items()]
    document = build(traces)
    validate(document)
    for fmt in ("json", "yaml"):
        text = dumps(document, fmt)
        back = json.loads(text) if fmt == "json" else yaml.safe_load(text)
        assert back == json.loads(json.dumps(document))  # nothing a value holds changes the document's shape
    keys = json.dumps(list(_all_keys(document)))
    for value in payloads(marker).values():
        assert value not in keys  # hostile values are never keys (example names are cleaned)


def _all_keys(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _all_keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _all_keys(value)


def test_cli_writes_json_yaml_and_refuses_bad_input(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, text=True, timeout=120)

    done = run("export", "openapi", str(RECORDINGS[0]), str(RECORDINGS[1]), "-o", str(tmp_path / "api.yaml"))
    assert done.returncode == 0, done.stderr
    validate(yaml.safe_load((tmp_path / "api.yaml").read_text()))
    done = run("export", "openapi")
    assert done.returncode == 0 and json.loads(done.stdout)["openapi"] == "3.1.0"
    done = run("export", "openapi", str(tmp_path / "missing.trace.json"))
    assert done.returncode == 2 and done.stderr.startswith("error:")
    done = run("export", "har", str(RECORDINGS[0]), str(RECORDINGS[1]))
    assert done.returncode == 2 and "one TRACE" in done.stderr


def test_docs_name_every_header_rule_with_its_source() -> None:
    page = (REPO / "docs" / "openapi.md").read_text(encoding="utf-8")
    for rule in conformance.HEADER_RULES:
        assert f"`{rule.header}`" in page and rule.section.split(" (")[0] in page, rule
