"""The protocol package's public names are pinned, and it imports only the standard library.

httpx's ``test_exported_members.py`` idea: a new public name cannot slip in
(or an old one vanish) without this test changing, because other layers code
against these names.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

import explorer.protocol

PUBLIC = {
    "ratelimit": ["HEADERS", "RateLimit", "last_rate_limit", "rate_limit"],
    "conformance": [
        "ANY_ENDPOINT_STATUSES", "DIGEST_PATTERN", "EXTRA_STATUSES", "HEADERS", "HEADER_RULES", "HeaderRule",
        "REDIRECT_STATUSES", "REPOSITORY_PATTERN", "RESPONSE_HEADERS", "SPEC_VERSIONS", "TAG_PATTERN",
        "allowed_statuses", "rules_for",
    ],
    "reference": [
        "DEFAULT_TAG", "DOCKER_HUB", "DOCKER_HUB_API_HOST", "LEGACY_DOCKER_HUB", "MAX_REPOSITORY_LENGTH",
        "OFFICIAL_PREFIX", "Reference", "is_loopback", "is_repository", "parse", "parse_registry",
        "parse_repository", "validate_repository", "validate_tag",
    ],
    "digest": [
        "EMPTY_JSON", "EMPTY_JSON_DIGEST", "EMPTY_JSON_MEDIA_TYPE", "EMPTY_JSON_SIZE", "EMPTY_SHA256",
        "VERIFIABLE_ALGORITHMS", "compute", "hasher", "is_valid", "problem", "referrers_tag",
        "require_verifiable", "short", "split", "validate",
    ],
    "mediatypes": [
        "DOCKER_CONFIG", "MANIFEST_LIMIT", "DOCKER_FOREIGN_LAYER", "DOCKER_LAYER", "DOCKER_LAYER_GZIP", "DOCKER_LAYER_ZSTD",
        "DOCKER_MANIFEST_LIST", "DOCKER_MANIFEST_V2", "DOCKER_PLUGIN_CONFIG", "DOCKER_SCHEMA1",
        "DOCKER_SCHEMA1_SIGNED", "IMAGE_MANIFEST_TYPES", "INDEX_TYPES", "LAYER_TYPES", "MANIFEST_ACCEPT",
        "MANIFEST_TYPES", "OCI_ARTIFACT_MANIFEST", "OCI_CONFIG", "OCI_DESCRIPTOR", "OCI_EMPTY", "OCI_INDEX",
        "OCI_LAYER", "OCI_LAYER_GZIP", "OCI_LAYER_NONDISTRIBUTABLE", "OCI_LAYER_NONDISTRIBUTABLE_GZIP",
        "OCI_LAYER_NONDISTRIBUTABLE_ZSTD", "OCI_LAYER_ZSTD", "OCI_LAYOUT_HEADER", "OCI_MANIFEST", "OCTET_STREAM",
        "Platform", "SCHEMA1_TYPES", "accept_header", "available_platforms", "base", "config_platform", "describe",
        "host_platform", "is_image_manifest", "is_index", "is_layer", "is_manifest", "is_schema1", "is_textual",
        "parse_platform", "platform_of", "runs_on", "select_platform",
    ],
    "challenge": [
        "Challenge", "Scope", "TokenGrant", "covers", "merge_scopes", "parse_challenges", "parse_scope",
        "parse_token_response", "scopes_for_request", "token_form", "token_query",
    ],
    "endpoints": ["ENDPOINTS", "Endpoint", "Match", "Route", "RouteKind", "by_id", "classify", "parse_route", "path"],
    "errorcodes": ["ERROR_CODES", "TRANSIENT_STATUSES", "ErrorCode", "ErrorDetail", "lookup", "parse_error_body", "summarize"],
    "headers": [
        "add_query", "format_content_range", "parse_content_length", "parse_content_range", "parse_link",
        "parse_retry_after", "parse_upload_range", "resolve_location",
    ],
    "quoting": ["quote"],
    "urls": ["join", "netloc", "query_pairs", "query_params", "split"],
}

PACKAGE_DIR = Path(explorer.protocol.__file__).parent


def test_every_module_is_listed() -> None:
    modules = {path.stem for path in PACKAGE_DIR.glob("*.py")} - {"__init__"}
    assert modules == set(PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_all_is_pinned_and_resolves(name: str) -> None:
    module = importlib.import_module(f"explorer.protocol.{name}")
    assert sorted(module.__all__) == sorted(PUBLIC[name])
    for public in module.__all__:
        assert hasattr(module, public), public


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.glob("*.py")), ids=lambda path: path.name)
def test_imports_only_stdlib_explorer_errors_and_records(path: Path) -> None:
    """Pure: the standard library, the error tree and ``@record`` (a dataclass decorator, stdlib only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        for imported in names:
            top = imported.split(".")[0]
            allowed = (
                top in sys.stdlib_module_names
                or top == "__future__"
                or imported in ("explorer.errors", "explorer.records")
                or imported.startswith("explorer.protocol")
            )
            assert allowed, f"{path.name} imports {imported}"


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.glob("*.py")), ids=lambda path: path.name)
def test_module_rules(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(text)) or ""
    assert docstring, f"{path.name} has no docstring"
    if path.name != "__init__.py":
        assert "Rule" in docstring and "from __future__ import annotations" in text
    assert len(text.splitlines()) <= 400
