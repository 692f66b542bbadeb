"""Error codes (distribution-spec "Error Codes", protocol.md §7) and error bodies."""

from __future__ import annotations

import json

import pytest

from explorer.protocol.errorcodes import ERROR_CODES, ErrorDetail, lookup, parse_error_body, summarize

OCI_CODES = [
    ("code-1", "BLOB_UNKNOWN", 404),
    ("code-2", "BLOB_UPLOAD_INVALID", 404),
    ("code-3", "BLOB_UPLOAD_UNKNOWN", 404),
    ("code-4", "DIGEST_INVALID", 400),
    ("code-5", "MANIFEST_BLOB_UNKNOWN", 400),
    ("code-6", "MANIFEST_INVALID", 400),
    ("code-7", "MANIFEST_UNKNOWN", 404),
    ("code-8", "NAME_INVALID", 400),
    ("code-9", "NAME_UNKNOWN", 404),
    ("code-10", "SIZE_INVALID", 400),
    ("code-11", "UNAUTHORIZED", 401),
    ("code-12", "DENIED", 403),
    ("code-13", "UNSUPPORTED", 405),
    ("code-14", "TOOMANYREQUESTS", 429),
]


def test_all_fourteen_oci_codes_and_nothing_else_has_an_oci_id() -> None:
    table = [(error.oci_id, error.code, error.status) for error in ERROR_CODES if error.oci_id]
    assert table == OCI_CODES


@pytest.mark.parametrize(("oci_id", "code", "status"), OCI_CODES)
def test_lookup_oci(oci_id: str, code: str, status: int) -> None:
    found = lookup(code)
    assert found is not None and (found.oci_id, found.status) == (oci_id, status) and found.meaning


@pytest.mark.parametrize(
    ("code", "status"),
    [("MANIFEST_UNVERIFIED", 400), ("TAG_INVALID", 400), ("PAGINATION_NUMBER_INVALID", 400),
     ("RANGE_INVALID", 416), ("UNAVAILABLE", 503), ("UNKNOWN", 500)],
)
def test_lookup_legacy(code: str, status: int) -> None:
    found = lookup(code)
    assert found is not None and found.oci_id is None and found.status == status


def test_lookup_is_case_insensitive_and_unknown_is_none() -> None:
    assert lookup(" manifest_unknown ") is lookup("MANIFEST_UNKNOWN")
    assert lookup("SOMETHING_NEW") is None


@pytest.mark.parametrize(
    ("body", "content_type", "errors"),
    [
        (b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}', "application/json",
         [ErrorDetail("MANIFEST_UNKNOWN", "manifest unknown", {})]),
        # detail is any JSON: Docker Hub's list
        (json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required",
                                 "detail": [{"Type": "repository", "Name": "samalba/my-app", "Action": "pull"}]}]}),
         "application/json; charset=utf-8",
         [ErrorDetail("UNAUTHORIZED", "authentication required",
                      [{"Type": "repository", "Name": "samalba/my-app", "Action": "pull"}])]),
        # several errors, unknown code kept, missing fields filled
        (b'{"errors":[{"code":"BLOB_UNKNOWN","detail":{"digest":"sha256:x"}},{"code":"NEW_CODE","message":"m"},{}]}',
         None,
         [ErrorDetail("BLOB_UNKNOWN", "", {"digest": "sha256:x"}), ErrorDetail("NEW_CODE", "m", None),
          ErrorDetail("UNKNOWN", "", None)]),
        # JSON sent as text/plain still counts
        ('{"errors":[{"code":"DENIED","message":"no","detail":"a string"}]}', "text/plain",
         [ErrorDetail("DENIED", "no", "a string")]),
        # wrong types inside entries
        (b'{"errors":[{"code":5,"message":["x"]}, "junk", null]}', None, [ErrorDetail("UNKNOWN", "", None)]),
        (b'{"errors":[]}', None, []),
        (b'{"errors":{"code":"X"}}', None, []),
        (b'{"error":"something"}', None, []),
        (b'[{"code":"X"}]', None, []),
        (b"<html><body>502 Bad Gateway</body></html>", "text/html", []),
        (b'{"errors":[{"code":"X"}]}', "text/html", []),  # an HTML page is never read as JSON
        (b"Too Many Requests", "text/plain", []),
        (b"\xff\xfe\x00garbage", None, []),
        (b"", "application/json", []),
        (None, None, []),
        (b"[" * 100000, None, []),  # deep nesting: RecursionError inside json
        (b'{"errors": [1e999999]}', None, []),
        (b'{"errors": [{"code": "X", "detail": ' + b"9" * 5000 + b"}]}", None, []),  # int too long
    ],
)
def test_parse_error_body(body: bytes | str | None, content_type: str | None, errors: list[ErrorDetail]) -> None:
    assert parse_error_body(body, content_type) == errors


def test_error_detail_knows_its_table_row() -> None:
    assert ErrorDetail("MANIFEST_UNKNOWN", "").known is lookup("MANIFEST_UNKNOWN")
    assert ErrorDetail("NEW", "").known is None


@pytest.mark.parametrize(
    ("errors", "status", "reason", "line"),
    [
        ([ErrorDetail("MANIFEST_UNKNOWN", "manifest unknown")], 404, "", "MANIFEST_UNKNOWN: manifest unknown"),
        ([ErrorDetail("BLOB_UNKNOWN", "blob unknown"), ErrorDetail("BLOB_UNKNOWN", "b"), ErrorDetail("X", "")],
         400, "", "BLOB_UNKNOWN: blob unknown (+2 more)"),
        ([ErrorDetail("DENIED", "")], 403, "", "DENIED"),
        ([ErrorDetail("DENIED", "line one\nline two\r\n\tthree")], 403, "", "DENIED: line one line two three"),
        ([], 503, "", "HTTP 503 Service Unavailable"),
        ([], 503, "Slow Down", "HTTP 503 Slow Down"),
        ([], 599, "", "HTTP 599"),
    ],
)
def test_summarize(errors: list[ErrorDetail], status: int, reason: str, line: str) -> None:
    assert summarize(errors, status, reason) == line


def test_summarize_cuts_long_messages() -> None:
    line = summarize([ErrorDetail("X", "m" * 10000)], 400)
    assert len(line) < 300 and line.endswith("…")
