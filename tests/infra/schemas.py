"""Validate outputs against their JSON Schemas: our trace format, Postman v2.1.0, HAR 1.2."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

REPO = Path(__file__).resolve().parents[2]
TRACE_SCHEMA = REPO / "docs" / "trace-format.schema.json"
SHARED_SCHEMAS = REPO.parent / "shared" / "schemas"


@cache
def _validator(path: Path) -> Any:
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _data(value: Any) -> Any:
    if isinstance(value, (str, Path)):
        return json.loads(Path(value).read_text(encoding="utf-8"))
    return value


def validate_trace(value: Any) -> dict[str, Any]:
    """Raise jsonschema.ValidationError unless ``value`` (a dict or a file path) is a valid trace."""
    data = _data(value)
    _validator(TRACE_SCHEMA).validate(data)
    return data
