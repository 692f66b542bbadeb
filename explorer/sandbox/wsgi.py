"""The sandbox's WSGI plumbing: a parsed request, a response, and the registry's error answer.

Rule 1: code → status and meaning come from ``protocol/errorcodes.py``, never
restated here. Knows WSGI and the registry's JSON error
envelope; knows nothing about routes, storage or auth.
Rule 2: bodies are streamed both ways: requests are read in blocks
(``Content-Length`` framed, or to EOF when the server decoded a chunked body),
and file responses go out through ``wsgi.file_wrapper`` when the server offers
one (ours uses sendfile) or in 1 MiB blocks otherwise (httpx's WSGITransport).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import IO, Any
from urllib.parse import parse_qs

from explorer.protocol import errorcodes

__all__ = ["ApiError", "BodyTooLarge", "FileBody", "IncompleteBody", "Request", "Response", "json_response"]

BLOCK = 1024 * 1024
JSON_TYPE = "application/json; charset=utf-8"  # what distribution sends with every JSON body


class BodyTooLarge(Exception):
    """The request body is larger than the handler accepts."""


class IncompleteBody(Exception):
    """The request body ended before its Content-Length."""


class Request:
    """What a handler needs from the WSGI environ."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        self.path = str(environ.get("PATH_INFO", "")) or "/"
        self.query_string = str(environ.get("QUERY_STRING", ""))
        self.query = parse_qs(self.query_string, keep_blank_values=True)

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def header(self, name: str) -> str | None:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        value = self.environ.get(key)
        return None if value is None else str(value)

    @property
    def host(self) -> str:
        host = self.header("Host")
        if host:
            return host
        return f"{self.environ.get('SERVER_NAME', 'localhost')}:{self.environ.get('SERVER_PORT', '80')}"

    @property
    def base_url(self) -> str:
        """``http://host:port`` as the client addressed us: Location headers are built on it."""
        return f"{self.environ.get('wsgi.url_scheme', 'http')}://{self.host}"

    @property
    def content_length(self) -> int | None:
        text = self.header("Content-Length")
        if text is None or text == "":
            return None
        if not text.isascii() or not text.isdigit():
            raise IncompleteBody(f"bad Content-Length {text!r}")
        return int(text)

    @property
    def has_body(self) -> bool:
        """True when a body follows: a non-zero Content-Length, or a chunked (unframed) body."""
        length = self.content_length
        if length is not None:
            return length > 0
        return "chunked" in (self.header("Transfer-Encoding") or "").lower()

    @property
    def _read_to_eof(self) -> bool:
        """No Content-Length: the body (if any) ends at EOF of a decoded chunked stream."""
        return self.has_body or bool(self.environ.get("wsgi.input_terminated"))

    def body_blocks(self) -> Iterator[bytes]:
        """The body in blocks of at most 1 MiB; IncompleteBody if it stops short of Content-Length."""
        stream = self.environ["wsgi.input"]
        length = self.content_length
        if length is None:
            if self._read_to_eof:
                yield from iter(lambda: stream.read(BLOCK), b"")
            return
        remaining = length
        while remaining > 0:
            block = stream.read(min(BLOCK, remaining))
            if not block:
                raise IncompleteBody(f"body ended {remaining} bytes before its Content-Length {length}")
            remaining -= len(block)
            yield block

    def read_body(self, limit: int) -> bytes:
        """The whole body, refusing more than ``limit`` bytes (BodyTooLarge) before reading it all."""
        length = self.content_length
        if length is not None and length > limit:
            raise BodyTooLarge(f"body of {length} bytes exceeds {limit}")
        data = bytearray()
        for block in self.body_blocks():
            data += block
            if len(data) > limit:
                raise BodyTooLarge(f"body exceeds {limit} bytes")
        return bytes(data)


@dataclass
class FileBody:
    """``length`` bytes of an open file, from its current position."""

    file: IO[bytes]
    length: int

    def blocks(self) -> Iterator[bytes]:
        remaining = self.length
        try:
            while remaining > 0:
                block = self.file.read(min(BLOCK, remaining))
                if not block:
                    return
                remaining -= len(block)
                yield block
        finally:
            self.file.close()


class _ClosingBlocks:
    """A WSGI iterable over a FileBody that closes the file even if the client goes away early."""

    def __init__(self, body: FileBody) -> None:
        self._body = body
        self._blocks = body.blocks()

    def __iter__(self) -> Iterator[bytes]:
        return self._blocks

    def close(self) -> None:
        self._blocks.close()
        self._body.file.close()


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | FileBody = b""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        headers = list(self.headers)
        names = {name.lower() for name, _ in headers}
        if isinstance(self.body, bytes) and "content-length" not in names and self.status not in (204, 304):
            headers.append(("Content-Length", str(len(self.body))))
        start_response(_status_line(self.status), headers)
        head = environ.get("REQUEST_METHOD", "GET").upper() == "HEAD"
        if isinstance(self.body, FileBody):
            if head:
                self.body.file.close()
                return [b""]
            wrapper = environ.get("wsgi.file_wrapper")
            if wrapper is not None and getattr(wrapper, "sends_content_length", False):
                return wrapper(self.body.file, BLOCK)
            return _ClosingBlocks(self.body)
        return [b""] if head else [self.body]


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def json_response(status: int, document: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    """A JSON body the way distribution writes one: compact, newline-terminated, charset=utf-8."""
    body = (json.dumps(document, separators=(",", ":")) + "\n").encode("utf-8")
    return Response(status, [("Content-Type", JSON_TYPE), *(headers or [])], body)


class ApiError(Exception):
    """A registry error answer: ``{"errors": [{"code", "message", "detail"}, ...]}``.

    The status comes from the error-code table (``errorcodes.lookup``) unless
    ``status`` overrides it (413 for an oversized manifest, say).
    """

    def __init__(
        self,
        code: str,
        detail: Any = None,
        *,
        status: int | None = None,
        headers: list[tuple[str, str]] | None = None,
        more: list[tuple[str, Any]] | None = None,
    ) -> None:
        self.errors = [(code, detail), *(more or [])]
        known = errorcodes.lookup(code)
        self.status = status or (known.status if known else 500)
        self.headers = headers or []
        super().__init__(f"{code}: {detail}")

    def response(self) -> Response:
        entries = []
        for code, detail in self.errors:
            known = errorcodes.lookup(code)
            entries.append({
                "code": code,
                "message": known.meaning if known else code.lower().replace("_", " "),
                "detail": {} if detail is None else detail,
            })
        return json_response(self.status, {"errors": entries}, self.headers)
