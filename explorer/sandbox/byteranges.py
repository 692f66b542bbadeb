"""Serving stored files over HTTP with ``Range`` (RFC 9110 §14) and ``If-None-Match``.

Rule 1: plain HTTP knowledge, shared by
the registry's blob GET (end-2) and the CDN stand-in. Nothing registry-specific.
Rule 2: like Go's ``http.ServeContent`` (what distribution uses): one range
``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` gives 206 with ``Content-Range:
bytes a-b/size``; a range past the end gives 416 with ``Content-Range:
bytes */size``; a malformed header is ignored (200, whole body). Several
ranges (multipart/byteranges) are answered with the whole body, which RFC 9110
allows (Go would send multipart).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import IO

from explorer.sandbox.wsgi import FileBody, Request, Response

__all__ = ["UNSATISFIABLE", "parse_byte_range", "serve_file"]

UNSATISFIABLE = (-1, -1)
_ONE_RANGE = re.compile(r"bytes=([0-9]{0,19})-([0-9]{0,19})", re.ASCII | re.IGNORECASE)


def parse_byte_range(value: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` inclusive for one satisfiable range; None = serve everything; UNSATISFIABLE = 416."""
    if not value:
        return None
    found = _ONE_RANGE.fullmatch(value.strip())
    if found is None:
        return None  # malformed or several ranges: ignore the header
    first_text, last_text = found.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # suffix: the last n bytes
        count = int(last_text)
        if count == 0:
            return UNSATISFIABLE
        return max(size - count, 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None  # syntactically invalid: ignored
    if first >= size:
        return UNSATISFIABLE
    return first, min(last, size - 1)


def serve_file(
    request: Request,
    open_file: Callable[[], IO[bytes]],
    size: int,
    headers: list[tuple[str, str]],
    etag: str | None = None,
) -> Response:
    """200, 206, 304 or 416 for a file of ``size`` bytes; ``headers`` go on every answer."""
    common = list(headers)
    if etag is not None:
        common.append(("Etag", etag))
        wanted = request.header("If-None-Match")
        if wanted and (wanted.strip() == "*" or etag in [tag.strip() for tag in wanted.split(",")]):
            return Response(304, common)
    byte_range = parse_byte_range(request.header("Range"), size)
    if byte_range == UNSATISFIABLE:
        body = b"invalid range: failed to overlap\n"
        kept = [(name, value) for name, value in common if name.lower() != "content-type"]
        return Response(416, [*kept, ("Content-Range", f"bytes */{size}"),
                              ("Content-Type", "text/plain; charset=utf-8")], body)
    first, last, status = (0, size - 1, 200) if byte_range is None else (*byte_range, 206)
    length = last - first + 1 if size else 0
    answer = [("Accept-Ranges", "bytes"), *common, ("Content-Length", str(length))]
    if status == 206:
        answer.append(("Content-Range", f"bytes {first}-{last}/{size}"))
    if request.method == "HEAD":
        return Response(status, answer)
    file = open_file()
    file.seek(first)
    return Response(status, answer, FileBody(file, length))
