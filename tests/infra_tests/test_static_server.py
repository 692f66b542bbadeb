"""The CDN stand-in refuses path traversal and answers ranges like a web server."""

from __future__ import annotations

import http.client
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.static_server import StaticServer, _parse_range


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[StaticServer]:
    (tmp_path / "root" / "dir").mkdir(parents=True)
    (tmp_path / "root" / "dir" / "data").write_bytes(b"0123456789")
    (tmp_path / "secret").write_text("do not serve")
    running = StaticServer(tmp_path / "root").start()
    yield running
    running.stop()


def _raw_get(server: StaticServer, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("GET", path)  # http.client sends the path as is: no normalisation
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/../secret", "/dir/../../secret", "/%2e%2e/secret", "/dir/%2E%2E/%2E%2E/secret"])
def test_path_traversal_is_refused(server: StaticServer, path: str) -> None:
    status, body = _raw_get(server, path)
    assert status == 404 and b"do not serve" not in body


def test_files_are_served_with_keep_alive(server: StaticServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        for _ in range(2):
            connection.request("GET", "/dir/data", headers={"Authorization": "Bearer x"})
            answer = connection.getresponse()
            assert (answer.status, answer.read()) == (200, b"0123456789")
    finally:
        connection.close()
    assert [r.header("authorization") for r in server.requests] == ["Bearer x", "Bearer x"]
    assert server.host == f"localhost:{server.port}"


def test_unsupported_range_forms_are_ignored(server: StaticServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("GET", "/dir/data", headers={"Range": "bytes=0-1,3-4"})
        answer = connection.getresponse()
        assert (answer.status, answer.read()) == (200, b"0123456789")
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("header", "expected"),
    [("bytes=0-0", (0, 0)), ("bytes=2-", (2, 9)), ("bytes=-3", (7, 9)), ("bytes=5-100", (5, 9)),
     ("bytes=10-", None), ("bytes=5-4", None), ("bytes=-0", None), ("items=0-1", None), ("bytes=0-1,3-4", None)],
)
def test_range_parsing(header: str, expected: tuple[int, int] | None) -> None:
    assert _parse_range(header, 10) == expected


def test_a_big_file_reaches_a_slow_reader_whole(tmp_path: Path) -> None:
    # sendfile on the handler's socket (it has a timeout: non-blocking underneath) stops with EAGAIN
    # once the socket's buffers are full; a 64 MiB layer through the redirect variant came in 4 MiB pieces
    (tmp_path / "root").mkdir()
    data = os.urandom(1 << 20) * 24
    (tmp_path / "root" / "big").write_bytes(data)
    running = StaticServer(tmp_path / "root").start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
        connection.request("GET", "/big")
        answer = connection.getresponse()
        time.sleep(0.3)  # the server fills the socket's buffers while the client has not read
        got = bytearray()
        while piece := answer.read(256 << 10):
            got += piece
            time.sleep(0.001)
        connection.close()
    finally:
        running.stop()
    assert answer.status == 200 and len(got) == len(data) and got == data
