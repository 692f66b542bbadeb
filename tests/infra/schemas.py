"""Validate outputs against their JSON Schemas: our trace format, Postman v2.1.0, HAR 1.2."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

REPO = Path(__file__).resolve().parents[2]
TRACE_SCHEMA = REPO / "docs" / "trace-format.schema.json"
# copies of ../shared/schemas (provenance in tests/schemas/README.md): CI may not have ../shared
POSTMAN_SCHEMA = REPO / "tests" / "schemas" / "postman-collection-v2.1.0.json"
HAR_SCHEMA = REPO / "tests" / "schemas" / "har-1.2.json"


@cache
def _validator(path: Path, formats: bool = False) -> Any:
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER if formats else None)


def _data(value: Any) -> Any:
    if isinstance(value, (str, Path)):
        return json.loads(Path(value).read_text(encoding="utf-8"))
    return value


def validate_trace(value: Any) -> dict[str, Any]:
    """Raise jsonschema.ValidationError unless ``value`` (a dict or a file path) is a valid trace."""
    data = _data(value)
    _validator(TRACE_SCHEMA).validate(data)
    return data


def validate_postman(value: Any) -> dict[str, Any]:
    """Raise jsonschema.ValidationError unless ``value`` is a valid Postman v2.1.0 collection."""
    data = _data(value)
    _validator(POSTMAN_SCHEMA).validate(data)
    return data


def validate_har(value: Any) -> dict[str, Any]:
    """Raise jsonschema.ValidationError unless ``value`` is a valid HAR 1.2 log."""
    data = _data(value)
    # formats on: the schema's serverIPAddress is oneOf(ipv4, ipv6), which only a format checker can decide
    _validator(HAR_SCHEMA, formats=True).validate(data)
    return data
