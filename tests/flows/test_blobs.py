"""A verified download hashes every byte once: it borrows the recorder's sha256 when it can."""

from __future__ import annotations

import hashlib
import threading
import time

import httpx
import pytest

from explorer.client.registry import RegistryClient
from explorer.client.credentials import CredentialSource
from explorer.errors import DigestMismatch
from explorer.flows import blobs
from explorer.recording.recorder import Recorder, RecordingTransport

DATA = b"layer-bytes " * 50_000
DIGEST = "sha256:" + hashlib.sha256(DATA).hexdigest()


def _client(handler, record: bool = True) -> RegistryClient:
    recorder = Recorder()
    transport = RecordingTransport(recorder, httpx.MockTransport(handler), record=record)
    return RegistryClient("registry.test", recorder=recorder, credentials=CredentialSource(recorder.secrets, env={}),
                          plain_http=True, transport=transport, retries=0)


def _serve(body: bytes):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/octet-stream"})
    return handler


def _no_second_hash(monkeypatch):
    def refuse(*_args):
        raise AssertionError("the download hashed the blob a second time")
    monkeypatch.setattr(blobs.digests, "hasher", refuse)


def test_recorded_download_borrows_the_recorders_hash(monkeypatch):
    client = _client(_serve(DATA))
    _no_second_hash(monkeypatch)
    got = blobs.fetch_blob(client, "a/b", {"digest": DIGEST, "size": len(DATA)}, what="layer 1/1", context="x")
    assert got == len(DATA)
    assert client.recorder.trace.exchanges[-1].response.body.sha256 == DIGEST.split(":")[1]


def test_borrowed_hash_still_catches_tampered_content(monkeypatch):
    tampered = DATA[:-1] + b"X"
    client = _client(_serve(tampered))
    _no_second_hash(monkeypatch)
    with pytest.raises(DigestMismatch):
        blobs.fetch_blob(client, "a/b", {"digest": DIGEST, "size": len(DATA)}, what="layer 1/1", context="x")


def test_without_recording_the_download_hashes_itself():
    client = _client(_serve(DATA), record=False)
    assert blobs.fetch_blob(client, "a/b", {"digest": DIGEST, "size": len(DATA)}, what="layer", context="x") == len(DATA)
    with pytest.raises(DigestMismatch):
        bad = _client(_serve(DATA[:-1] + b"X"), record=False)
        blobs.fetch_blob(bad, "a/b", {"digest": DIGEST, "size": len(DATA)}, what="layer", context="x")


def test_a_resumed_download_continues_from_the_taps_hash():
    cut = 100_000
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("range"))
        if len(calls) == 1:
            def broken():
                yield DATA[:cut]
                raise httpx.ReadError("connection reset")
            return httpx.Response(200, content=broken(), headers={"Content-Length": str(len(DATA))})
        return httpx.Response(206, content=DATA[cut:],
                              headers={"Content-Range": f"bytes {cut}-{len(DATA) - 1}/{len(DATA)}"})

    client = _client(handler)
    assert blobs.fetch_blob(client, "a/b", {"digest": DIGEST, "size": len(DATA)}, what="layer", context="x") == len(DATA)
    assert calls == [None, f"bytes={cut}-"]


def test_bodies_are_hashed_once_and_still_verified(monkeypatch):
    client = _client(_serve(DATA))
    _no_second_hash(monkeypatch)
    assert blobs.fetch_blob(client, "a/b", {"digest": DIGEST, "size": len(DATA)}, what="layer", context="x") == len(DATA)
    assert client.recorder.trace.exchanges[-1].response.body.sha256 == DIGEST.split(":")[1]
    tampered = _client(_serve(DATA[:-1] + b"X"))
    with pytest.raises(DigestMismatch):
        blobs.fetch_blob(tampered, "a/b", {"digest": DIGEST, "size": len(DATA)}, what="layer", context="x")


def test_cancelled_transfers_share_one_grace_so_the_last_slow_one_still_winds_down():
    # a transfer still sending a chunk when Ctrl-C came notices only after that request: it may need
    # more than a share of the grace, while the others stopped at once (a push's session then got no
    # DELETE: test_sigint_during_a_push_cancels_the_open_uploads[4] under load)
    transfers = blobs.Transfers(jobs=4)
    slow = 0.8
    assert slow < blobs.CANCEL_GRACE and slow > blobs.CANCEL_GRACE / 4
    threads = [threading.Thread(target=time.sleep, args=(0.01,)) for _ in range(3)]
    threads.append(threading.Thread(target=time.sleep, args=(slow,)))
    for thread in threads:
        thread.start()
    started = time.monotonic()
    transfers.abandon(threads)
    assert not any(thread.is_alive() for thread in threads)
    assert time.monotonic() - started < blobs.CANCEL_GRACE
