"""Link, upload Range, Content-Range, Retry-After and Location handling (protocol.md §2, §4)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from explorer.errors import MalformedHeader
from explorer.protocol.headers import (
    add_query,
    format_content_range,
    parse_content_length,
    parse_content_range,
    parse_link,
    parse_retry_after,
    parse_upload_range,
    resolve_location,
)


@pytest.mark.parametrize(
    ("value", "links"),
    [
        ('</v2/_catalog?n=2&last=b>; rel="next"', {"next": "/v2/_catalog?n=2&last=b"}),
        ("</v2/a/tags/list?n=1&last=x>; rel=next", {"next": "/v2/a/tags/list?n=1&last=x"}),
        ('<https://r/v2/a/tags/list?last=x>;rel="NEXT"', {"next": "https://r/v2/a/tags/list?last=x"}),
        ('<a,b>; title="x, y; z", <c>; rel="prev last"', {"prev": "c", "last": "c"}),
        ('<a>; rel="next", <b>; rel="next"', {"next": "a"}),  # the first one wins
        ('<a>; rel="next"; rel="prev"', {"next": "a"}),  # only the first rel of a link counts
        ('<a>; type="text/\\"x\\""; rel=next', {"next": "a"}),
        ("<a>; crossorigin; rel=next", {"next": "a"}),
        ("<a>", {}),
        ("", {}),
        (" , ", {}),
    ],
)
def test_parse_link(value: str, links: dict[str, str]) -> None:
    assert parse_link(value) == links


@pytest.mark.parametrize(
    "value",
    ["/v2/_catalog?n=2; rel=next", "<a; rel=next", '<a>; rel="next', "<a> rel=next", "<a>; =x", "<a>; rel=", "<a>; rel=\"n\" x"],
)
def test_parse_link_refuses(value: str) -> None:
    with pytest.raises(MalformedHeader):
        parse_link(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0-0", (0, 0)), ("0-1023", (0, 1023)), ("bytes=0-1023", (0, 1023)), (" 0-5 ", (0, 5)), ("BYTES=3-4", (3, 4))],
)
def test_parse_upload_range(value: str, expected: tuple[int, int]) -> None:
    assert parse_upload_range(value) == expected


@pytest.mark.parametrize(
    "value", ["", "0", "0-", "-5", "5-4", "bytes 0-5", "0-5/10", "a-b", "١-٢", "0-" + "9" * 30, "0 - 5", "0-5,7-9"]
)
def test_parse_upload_range_refuses(value: str) -> None:
    with pytest.raises(MalformedHeader):
        parse_upload_range(value)


def test_format_content_range() -> None:
    assert format_content_range(0, 1023) == "0-1023"
    assert format_content_range(5, 5) == "5-5"
    with pytest.raises(ValueError):
        format_content_range(5, 4)
    with pytest.raises(ValueError):
        format_content_range(-1, 4)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes 0-9/100", (0, 9, 100)),
        ("bytes 90-99/100", (90, 99, 100)),
        ("bytes 0-9/*", (0, 9, None)),
        ("Bytes 0-0/1", (0, 0, 1)),
    ],
)
def test_parse_content_range(value: str, expected: tuple[int, int, int | None]) -> None:
    assert parse_content_range(value) == expected


@pytest.mark.parametrize(
    "value", ["bytes */100", "0-9/100", "bytes 0-9", "bytes 9-0/100", "bytes 0-100/100", "bytes=0-9/100", "items 0-1/2", ""]
)
def test_parse_content_range_refuses(value: str) -> None:
    with pytest.raises(MalformedHeader):
        parse_content_range(value)


NOW = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("-5", 0.0),
        ("Wed, 21 Oct 2015 07:29:30 GMT", 90.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # in the past
        ("Wednesday, 21-Oct-15 07:29:00 GMT", 60.0),  # RFC 850 form
        ("Wed Oct 21 07:28:10 2015", 10.0),  # asctime form
        ("soon", None),
        ("", None),
        ("1.5", None),
        ("Wed, 99 Oct 2015 07:29:30 GMT", None),
        ("١٢٠", None),
    ],
)
def test_parse_retry_after(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_parse_retry_after_with_naive_now() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", NOW.replace(tzinfo=None)) == 60.0
    assert parse_retry_after("Wed, 21 Oct 2015 09:28:00 +0200", NOW) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW - timedelta(seconds=3)) == 3.0


@pytest.mark.parametrize(
    ("base", "location", "expected"),
    [
        ("https://r:5000/v2/a/blobs/uploads/", "/v2/a/blobs/uploads/u?_state=s", "https://r:5000/v2/a/blobs/uploads/u?_state=s"),
        ("https://r/v2/a/blobs/uploads/", "https://upload.example/x?sig=1", "https://upload.example/x?sig=1"),
        ("https://r/v2/a/blobs/uploads/", "u-1", "https://r/v2/a/blobs/uploads/u-1"),
        ("http://127.0.0.1:5000/v2/a/blobs/uploads/u", " /v2/a/blobs/sha256:x ", "http://127.0.0.1:5000/v2/a/blobs/sha256:x"),
        ("https://r/v2/a/tags/list?n=1", "?n=1&last=x", "https://r/v2/a/tags/list?n=1&last=x"),
    ],
)
def test_resolve_location(base: str, location: str, expected: str) -> None:
    assert resolve_location(base, location) == expected


def test_resolve_location_refuses_empty() -> None:
    with pytest.raises(MalformedHeader, match="empty Location"):
        resolve_location("https://r/", "  ")


@pytest.mark.parametrize(
    ("url", "params", "expected"),
    [
        ("https://r/v2/a/blobs/uploads/u?_state=abc%3D", [("digest", "sha256:00")],
         "https://r/v2/a/blobs/uploads/u?_state=abc%3D&digest=sha256:00"),
        ("https://r/v2/a/blobs/uploads/u", [("digest", "sha256:00")], "https://r/v2/a/blobs/uploads/u?digest=sha256:00"),
        ("/v2/a/blobs/uploads/", [("mount", "sha256:00"), ("from", "team/app")],
         "/v2/a/blobs/uploads/?mount=sha256:00&from=team/app"),
        ("/x?a=1", [("q", "a b&c=d")], "/x?a=1&q=a%20b%26c%3Dd"),
        ("/x?a=1", [], "/x?a=1"),
    ],
)
def test_add_query(url: str, params: list[tuple[str, str]], expected: str) -> None:
    assert add_query(url, params) == expected


@pytest.mark.parametrize(("value", "length"), [
    ("1024", 1024), (" 7\t", 7), ("0", 0), ("9" * 19, int("9" * 19)), (None, None), ("", None), ("-1", None),
    ("1e3", None), ("0x10", None), ("12 34", None), ("\u0661\u0662", None), ("\u00b2", None), ("9" * 20, None),
    ("1" * 5000, None),
])
def test_parse_content_length(value: str | None, length: int | None) -> None:
    assert parse_content_length(value) == length
