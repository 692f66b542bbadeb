"""The network streams of the connection pools: bodies are read in big pieces, heads at httpcore's size."""

from __future__ import annotations

import httpcore

from explorer.recording import pools


class _Inner(httpcore.NetworkStream):
    def __init__(self) -> None:
        self.asked: list[int] = []

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.asked.append(max_bytes)
        return b"x"

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        pass


def test_a_body_read_asks_for_a_mebibyte_and_a_head_read_for_what_httpcore_asks():
    inner, other = _Inner(), _Inner()
    stream = pools._Stream(inner)
    stream.read(65536)  # no head awaited: a body
    mark = pools._HEAD.set(pools.HeadDeadline(5.0))
    try:
        stream.write(b"GET / HTTP/1.1\r\n\r\n")  # the request goes out on this stream: its head is awaited here
        stream.read(65536)
        pools._Stream(other).read(65536)  # another connection's body, read while this head is awaited
    finally:
        pools._HEAD.reset(mark)
    assert inner.asked == [pools.BODY_READ, 65536]
    assert other.asked == [pools.BODY_READ]
    assert pools.BODY_READ == 1 << 20
