"""tests/schemas holds unchanged copies of ../shared/schemas: hashes as documented, and equal when both exist."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.infra.schemas import HAR_SCHEMA, POSTMAN_SCHEMA, REPO

SHARED = REPO.parent / "shared" / "schemas"


@pytest.mark.parametrize("schema", [POSTMAN_SCHEMA, HAR_SCHEMA], ids=lambda p: p.name)
def test_schema_copy_is_the_documented_file(schema):
    readme = (schema.parent / "README.md").read_text()
    section = readme.split(f"## {schema.name}", 1)[1]
    documented = re.search(r"sha256 `([0-9a-f]{64})`", section).group(1)
    assert hashlib.sha256(schema.read_bytes()).hexdigest() == documented
    shared = SHARED / schema.name
    if shared.exists():
        assert shared.read_bytes() == schema.read_bytes(), f"{schema} differs from {shared}: copy it again"
