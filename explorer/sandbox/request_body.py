"""Request bodies for the sandbox's HTTP server: Content-Length framed or chunked, with lazy 100-continue.

Rule 1: plain HTTP/1.1 (RFC 9112 §6-7), nothing about registries.
Rule 2: the body is read as the application asks for it, never buffered whole;
a chunked body (how Go clients stream blob PATCHes) is decoded on the fly,
chunk extensions and trailers ignored. What the application leaves unread is
skipped afterwards (:meth:`RequestBody.drain`) so the connection can be reused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

__all__ = ["BLOCK", "RequestBody"]

BLOCK = 1024 * 1024


class RequestBody:
    """``wsgi.input``: the request body, by Content-Length or chunked, with lazy 100-continue.

    ``send_continue`` (None when the client did not ask) writes the interim
    ``100 Continue``; it is called on the first read, never if nobody reads.
    """

    def __init__(
        self, rfile: IO[bytes], length: int | None, chunked: bool, send_continue: Callable[[], None] | None
    ) -> None:
        self._rfile = rfile
        self._send_continue = send_continue
        self._remaining = length or 0  # bytes left (whole body, or current chunk when chunked)
        self._chunked = chunked
        self._done = not chunked and not length
        self.started = False

    def read(self, size: int = -1) -> bytes:
        if self._done:
            return b""
        self._continue()
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(BLOCK), b""))
        if self._chunked and self._remaining == 0 and not self._next_chunk():
            return b""
        data = self._rfile.read(min(size, self._remaining))
        if not data:
            raise ConnectionError("client closed the connection in the middle of the request body")
        self._remaining -= len(data)
        if self._remaining == 0 and not self._chunked:
            self._done = True
        if self._chunked and self._remaining == 0:
            self._rfile.readline(1024)  # the CRLF after the chunk data
        return data

    def readline(self, size: int = -1) -> bytes:  # WSGI requires it; registries never use it
        out = bytearray()
        while size < 0 or len(out) < size:
            char = self.read(1)
            if not char:
                break
            out += char
            if char == b"\n":
                break
        return bytes(out)

    def __iter__(self) -> Any:
        return iter(lambda: self.read(BLOCK), b"")

    @property
    def unanswered_continue(self) -> bool:
        return not self._done and not self.started and self._send_continue is not None

    def drain(self, limit: int) -> bool:
        """Skip what the application left unread; False when the connection cannot be reused."""
        if self._done:
            return True
        if self.unanswered_continue:
            return False  # the client may or may not send the body now: do not guess
        skipped = 0
        try:
            while skipped <= limit:
                block = self.read(BLOCK)
                if not block:
                    return True
                skipped += len(block)
        except (OSError, ValueError):
            return False
        return False

    def _continue(self) -> None:
        if not self.started:
            self.started = True
            if self._send_continue is not None:
                self._send_continue()

    def _next_chunk(self) -> bool:
        line = self._rfile.readline(1024)
        if not line:
            raise ConnectionError("client closed the connection in the middle of a chunked body")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ValueError(f"bad chunk size line {line[:40]!r}") from None
        if size == 0:
            while self._rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                pass  # trailers, ignored
            self._done = True
            return False
        self._remaining = size
        return True
