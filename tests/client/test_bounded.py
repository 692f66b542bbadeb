"""explorer.client.bounded on fake streams and a fake clock: the cap and the stall rule, byte by byte."""

from __future__ import annotations

import httpx
import pytest

from explorer.client.bounded import (
    INTERMEDIATE_LIMIT,
    LIMIT_EXTENSION,
    STALL_BYTES,
    BodyTooLarge,
    GuardedTransport,
    declared_length,
    read_capped,
)
from explorer.recording.extensions import BODY_TAP_EXTENSION


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _guarded(chunks, clock, *, stall=30.0, status=200, extensions=None, headers=None):
    def pieces():
        for seconds, data in chunks:
            clock.now += seconds
            yield data

    class Inner(httpx.BaseTransport):
        def handle_request(self, request):
            return httpx.Response(status, headers=headers, stream=httpx.ByteStream(b"") if not chunks else _Stream())

    class _Stream(httpx.SyncByteStream):
        def __iter__(self):
            return pieces()

    transport = GuardedTransport(Inner(), stall=stall, clock=clock)
    request = httpx.Request("GET", "http://127.0.0.1:5000/v2/", extensions=extensions or {})
    return transport.handle_request(request)


def test_a_drip_fails_once_a_window_passes_with_too_few_bytes():
    clock = _Clock()
    response = _guarded([(20, b"{")] * 5, clock, stall=30)
    got = []
    with pytest.raises(httpx.ReadTimeout, match="stalled: 2 bytes in 40 s"):
        for chunk in response.stream:
            got.append(chunk)
    assert got == [b"{"]  # the first byte (20 s) is within the window; the second (40 s) is not


def test_a_slow_but_steady_body_is_not_a_stall():
    clock = _Clock()
    response = _guarded([(20, b"x" * STALL_BYTES)] * 10, clock, stall=30)
    assert sum(len(c) for c in response.stream) == 10 * STALL_BYTES


def test_bodies_httpx_reads_itself_are_capped():
    clock = _Clock()
    response = _guarded([(0, b"x" * 65536)] * 3, clock, status=401)
    with pytest.raises(BodyTooLarge, match=f"limit of {INTERMEDIATE_LIMIT} bytes"):
        b"".join(response.stream)


def test_a_request_may_cap_its_response_and_a_declared_length_is_refused_before_reading():
    clock = _Clock()
    response = _guarded([(0, b"x")], clock, extensions={LIMIT_EXTENSION: 10}, headers={"Content-Length": "11"})
    with pytest.raises(BodyTooLarge, match="is 11 bytes, over the limit of 10 bytes"):
        b"".join(response.stream)


def test_read_capped_stops_an_endless_body():
    def endless():
        while True:
            yield b"\0" * 4096

    request = httpx.Request("GET", "http://127.0.0.1:5000/v2/")
    response = httpx.Response(200, content=endless(), request=request)
    with pytest.raises(BodyTooLarge, match="from http://127.0.0.1:5000 goes beyond the limit of 100000 bytes"):
        read_capped(response, 100_000)


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("HEAD", 404), ("GET", 204), ("GET", 304), ("GET", 103)])
def test_a_response_that_has_no_body_declares_no_length_whatever_its_content_length(method, status):
    # a blob's HEAD 200 declares the size of the blob that a GET would send: 200 MiB, and no body follows
    request = httpx.Request(method, "http://127.0.0.1:5000/v2/r/blobs/sha256:" + "0" * 64)
    response = httpx.Response(status, headers={"Content-Length": str(200 << 20)}, content=b"", request=request)
    assert declared_length(request, response) is None
    assert read_capped(response, 10) == b""


def test_a_guarded_head_under_a_cap_is_not_refused_for_the_size_it_declares():
    class Inner(httpx.BaseTransport):
        def handle_request(self, request):
            return httpx.Response(200, headers={"Content-Length": str(200 << 20)}, stream=httpx.ByteStream(b""))

    request = httpx.Request("HEAD", "http://127.0.0.1:5000/v2/r/blobs/x", extensions={LIMIT_EXTENSION: 10})
    response = GuardedTransport(Inner(), stall=30.0).handle_request(request)
    assert b"".join(response.stream) == b""


@pytest.mark.parametrize(("length", "expected"), [("11", 11), ("", None), ("1e3", None), ("0x10", None), ("-1", None)])
def test_a_get_declares_the_length_its_content_length_gives_when_it_is_a_number(length, expected):
    request = httpx.Request("GET", "http://127.0.0.1:5000/v2/")
    headers = {"Content-Length": length} if length else {}
    response = httpx.Response(200, headers=headers, stream=httpx.ByteStream(b""), request=request)
    assert declared_length(request, response) == expected


def test_a_guarded_body_that_stalls_tells_the_recorders_tap_why_it_ended():
    class Tap:  # what the recorder's tap offers: where a break is written
        broken = None

    tap, clock = Tap(), _Clock()

    class Drip(httpx.SyncByteStream):
        def __iter__(self):
            for _ in range(5):
                clock.now += 20
                yield b"{"

    class Inner(httpx.BaseTransport):
        def handle_request(self, request):
            return httpx.Response(200, stream=Drip(), extensions={BODY_TAP_EXTENSION: tap})

    response = GuardedTransport(Inner(), stall=30.0, clock=clock).handle_request(
        httpx.Request("GET", "http://127.0.0.1:5000/v2/"))
    with pytest.raises(httpx.ReadTimeout) as raised:
        b"".join(response.stream)
    assert tap.broken is raised.value
