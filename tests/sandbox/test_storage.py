"""Sandbox storage: validated paths, atomic verified writes, temporary vs kept directories, threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from explorer.errors import DigestMismatch, InvalidDigest
from explorer.sandbox import Sandbox, Storage
from tests.sandbox.conftest import open_registry
from tests.sandbox.pushing import ACCEPT, push_blob, push_image, sha256


def test_digests_and_names_are_validated_before_becoming_paths() -> None:
    storage = Storage()
    try:
        for bad in ("sha256:../../etc/passwd", "sha256:" + "g" * 64, "md5:" + "0" * 32, "../x"):
            with pytest.raises(InvalidDigest):
                storage.blob_path(bad)
        with pytest.raises(ValueError):
            storage.blob_size("../outside", sha256(b""))
        with pytest.raises(ValueError):
            storage.start_upload("UPPER")
    finally:
        storage.close()


def test_store_blob_verifies_before_anything_appears() -> None:
    storage = Storage()
    try:
        with pytest.raises(DigestMismatch):
            storage.store_blob("r", [b"abc"], sha256(b"abd"))
        assert not storage.has_content(sha256(b"abd"))
        assert list(storage.root.rglob("*.part")) == []  # the temporary file is gone
        assert storage.blob_size("r", sha256(b"abd")) is None
        assert storage.store_blob("r", [b"a", b"bc"], sha256(b"abc")) == 3
        assert storage.blob_path(sha256(b"abc")).read_bytes() == b"abc"
    finally:
        storage.close()


def test_temporary_storage_is_removed_and_given_storage_is_kept(tmp_path: Path) -> None:
    with Sandbox(listen=False) as sandbox:
        root = sandbox.storage.root
        assert root.is_dir()
    assert not root.exists()
    kept = tmp_path / "registry"
    with open_registry("wsgi", storage=kept) as (_, client):
        digest, manifest = push_image(client, "kept", "1")
        client.post("/v2/kept/blobs/uploads/")  # an open session: not kept across runs
    assert kept.is_dir()
    assert not list(kept.glob(".uploads-*"))  # the open session's file and its scratch folder are gone
    with open_registry("wsgi", storage=kept) as (_, client):
        assert client.get("/v2/kept/manifests/1", headers=ACCEPT).content == manifest
        assert client.get("/v2/kept/tags/list").json()["tags"] == ["1"]


def test_given_storage_never_loses_a_file_it_did_not_create(tmp_path: Path) -> None:
    """`serve --storage DIR` used to wipe DIR/uploads at start and exit: a user's own files there are kept now."""
    kept = tmp_path / "mine"
    theirs = {kept / "uploads" / "notes.txt": b"mine", kept / "uploads" / "deep" / "x.bin": b"\0\1",
              kept / "README": b"keep me"}
    for path, data in theirs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    with open_registry("wsgi", storage=kept) as (_, client):
        (scratch,) = kept.glob(".uploads-*")  # its own scratch folder, made at start
        assert client.post("/v2/kept/blobs/uploads/").status_code == 202
        assert len(list(scratch.iterdir())) == 1
        stranger = scratch / "not-a-session"
        stranger.write_bytes(b"someone else's")  # even inside its scratch folder
    for path, data in theirs.items():
        assert path.read_bytes() == data, path
    assert stranger.read_bytes() == b"someone else's"
    assert [p.name for p in scratch.iterdir()] == ["not-a-session"]  # its own session file is gone


def test_concurrent_pushes_over_sockets() -> None:
    with open_registry("socket") as (_, client):
        blobs = [f"blob number {n}".encode() * (n + 1) for n in range(24)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            digests = list(pool.map(lambda data: push_blob(client, "busy", data), blobs))
        assert digests == [sha256(data) for data in blobs]
        for data, digest in zip(blobs, digests):
            assert client.get(f"/v2/busy/blobs/{digest}").content == data
