"""The network streams of the connection pools: a streaming body is read in big pieces, heads at httpcore's size."""

from __future__ import annotations

import httpcore

from explorer.recording import pools


class _Inner(httpcore.NetworkStream):
    """Answers every read with ``available`` bytes at most, and notes what was asked."""

    def __init__(self, available: int) -> None:
        self.available = available
        self.asked: list[int] = []

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.asked.append(max_bytes)
        return b"x" * min(max_bytes, self.available)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_body_read_grows_to_a_mebibyte_while_reads_come_back_full():
    inner = _Inner(available=4 << 20)
    stream = pools._Stream(inner)
    try:
        for _ in range(7):
            stream.read(65536)
        assert inner.asked == [65536, 131072, 262144, 524288, 1 << 20, 1 << 20, 1 << 20]
        assert pools.BODY_READ == 1 << 20
        stream.write(b"GET / HTTP/1.1\r\n\r\n")  # the next response starts at httpcore's size again
        stream.read(65536)
        assert inner.asked[-1] == 65536
    finally:
        stream.close()
    assert pools._STREAMING.count == 0


def test_a_body_read_at_full_size_keeps_what_its_reads_free(monkeypatch):
    calls: list[None] = []
    monkeypatch.setattr(pools, "keep_freed_memory", lambda: calls.append(None))
    inner = _Inner(available=4 << 20)
    stream = pools._Stream(inner)
    try:
        for _ in range(4):
            stream.read(65536)
        assert inner.asked[-1] == 512 << 10 and not calls  # 64 KiB to 512 KiB a read: not yet
        stream.read(65536)
        assert inner.asked[-1] == pools.BODY_READ and calls  # a full mebibyte: a big body
    finally:
        stream.close()


def test_a_body_read_up_to_its_share_of_the_budget_keeps_nothing_yet(monkeypatch):
    calls: list[None] = []
    monkeypatch.setattr(pools, "keep_freed_memory", lambda: calls.append(None))
    streams = [pools._Stream(_Inner(available=4 << 20)) for _ in range(8)]
    try:
        for _ in range(8):
            for stream in streams:
                stream.read(65536)
        assert not calls  # eight bodies at 256 KiB a read each
    finally:
        for stream in streams:
            stream.close()


def test_connections_streaming_at_once_share_the_read_budget():
    inners = [_Inner(available=4 << 20) for _ in range(8)]
    streams = [pools._Stream(inner) for inner in inners]
    try:
        for _ in range(8):
            for stream in streams:
                stream.read(65536)
        assert pools._STREAMING.count == 8
        assert all(max(inner.asked) <= pools.READ_BUDGET // 8 for inner in inners)  # 256 KiB each
        assert all(inner.asked[-1] == 256 << 10 for inner in inners)
        for stream in streams[1:]:
            stream.write(b"GET / HTTP/1.1\r\n\r\n")  # the others' bodies ended: they send their next requests
        assert pools._STREAMING.count == 1
        streams[0].read(65536)
        streams[0].read(65536)
        assert inners[0].asked[-1] == 1 << 20  # alone again: a mebibyte per read
    finally:
        for stream in streams:
            stream.close()
    assert pools._STREAMING.count == 0


def test_a_small_body_is_read_at_httpcores_size():
    inner = _Inner(available=50_000)  # each read returns less than asked: nothing streams faster than we read
    stream = pools._Stream(inner)
    for _ in range(3):
        stream.read(65536)
    assert inner.asked == [65536, 65536, 65536]
    assert not stream.streaming


def test_a_head_awaited_on_its_connection_is_read_at_httpcores_size():
    inner, other = _Inner(available=4 << 20), _Inner(available=4 << 20)
    stream, elsewhere = pools._Stream(inner), pools._Stream(other)
    mark = pools._HEAD.set(pools.HeadDeadline(5.0))
    try:
        stream.write(b"GET / HTTP/1.1\r\n\r\n")  # the request goes out here: its head is awaited on this stream
        for _ in range(3):
            stream.read(65536)
            elsewhere.read(65536)  # another connection's body, read meanwhile (a copy's source), may grow
    finally:
        pools._HEAD.reset(mark)
        elsewhere.close()
    assert inner.asked == [65536, 65536, 65536]
    assert other.asked == [65536, 131072, 262144]
