"""Bodies stream through the proxy both ways: a 48 MiB blob up and down, never held whole."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Iterator

import httpx

from explorer.sandbox import Sandbox
from tests.proxy.conftest import proxy_in_front

SIZE = 48 << 20
BLOCK = 1 << 20
PEAK_LIMIT = SIZE // 3  # a third of the body: it is streamed, never held (client, proxy and registry all count)


def _blocks() -> Iterator[bytes]:
    block = bytes(range(256)) * (BLOCK // 256)
    for _ in range(SIZE // BLOCK):
        yield block


def test_a_big_blob_goes_up_and_down_through_the_proxy_in_constant_memory() -> None:
    digest = "sha256:" + hashlib.sha256(b"".join(_blocks())).hexdigest()
    with Sandbox() as sandbox, proxy_in_front(sandbox.registry_url) as proxy, httpx.Client(timeout=60) as client:
        tracemalloc.start()
        try:
            started = client.post(f"{proxy.url}/v2/team/big/blobs/uploads/")
            assert started.status_code == 202
            upload = str(httpx.URL(proxy.url).join(started.headers["Location"]))
            upload += ("&" if "?" in upload else "?") + "digest=" + digest.replace(":", "%3A")
            done = client.put(upload, content=_blocks(),
                              headers={"Content-Length": str(SIZE), "Content-Type": "application/octet-stream"})
            assert done.status_code == 201, done.text
            _, up_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            hasher = hashlib.sha256()
            with client.stream("GET", f"{proxy.url}/v2/team/big/blobs/{digest}") as response:
                assert response.status_code == 200
                for chunk in response.iter_raw(BLOCK):
                    hasher.update(chunk)
            _, down_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "sha256:" + hasher.hexdigest() == digest
    assert up_peak < PEAK_LIMIT, f"upload peak {up_peak / 2**20:.1f} MiB"
    assert down_peak < PEAK_LIMIT, f"download peak {down_peak / 2**20:.1f} MiB"
    recorded = {ex.request.method: ex for ex in proxy.trace.exchanges}
    assert recorded["PUT"].request.body.size == SIZE and recorded["PUT"].request.body.sha256 == digest[7:]
    assert recorded["GET"].response.body.size == SIZE and recorded["GET"].response.body.sha256 == digest[7:]
