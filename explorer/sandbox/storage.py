"""The sandbox registry's storage: content-addressed blobs and per-repository links, in one directory.

Rule 1: digests and names follow the protocol grammar; every file appears by rename
(``explorer/atomic.py``). No HTTP here: the handlers turn outcomes into statuses.
Rule 2: every digest, repository name and tag is validated BEFORE it becomes
part of a path (``sha256:../../x`` never reaches the file system), and blob
bytes are streamed: written to a temporary file while hashing, renamed into
place once verified, read back in blocks. Nothing holds a whole blob in memory.
Rule 3: thread-safe. Metadata changes take one lock; an upload session has its
own lock so concurrent PATCHes to one session serialise.

Layout (like distribution's, simplified)::

    blobs/<alg>/<hex>                                   content of blobs AND manifests
    repositories/<name>/_layers/<alg>/<hex>             empty: the repository has this blob
    repositories/<name>/_manifests/revisions/<alg>/<hex>  the manifest's media type
    repositories/<name>/_manifests/tags/<tag>           the digest the tag points to
    repositories/<name>/_referrers/<alg>/<hex>/<alg>-<hex>  empty: that manifest's subject is <alg>:<hex>
    .uploads-<random>/<uuid>                            data of an open upload session (scratch)

A directory given by the caller is kept (and reused by the next run); the
default temporary directory is removed by :meth:`Storage.close`.
Rule 4: in a directory given by the caller, nothing is deleted that this run did
not create. Upload scratch space is a fresh ``.uploads-*`` subfolder made by
``mkdtemp`` at start; ``close`` removes the session files this run made in it,
then the folder if it is empty. A folder named ``uploads`` (earlier versions
wiped it) or anything else the caller keeps there is never touched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from explorer.atomic import AtomicFile, write_atomic
from explorer.errors import DigestMismatch
from explorer.protocol import digest as digests
from explorer.protocol import reference

__all__ = ["Storage", "UploadSession"]

READ_BLOCK = 1024 * 1024


@dataclass
class UploadSession:
    """An open blob upload: its data file and the running sha256 of what it holds."""

    id: str
    repository: str
    path: Path
    started: float
    size: int = 0
    hasher: Any = field(default_factory=hashlib.sha256)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Storage:
    """Blobs, manifests, tags, referrers and upload sessions under ``root``."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.temporary = root is None
        self.root = Path(tempfile.mkdtemp(prefix="regexplore-sandbox-")) if root is None else Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        # sessions do not survive a restart: each run has scratch space of its own, made here
        self.scratch = Path(tempfile.mkdtemp(prefix=".uploads-", dir=self.root))
        (self.root / "blobs").mkdir(exist_ok=True)
        (self.root / "repositories").mkdir(exist_ok=True)
        self._lock = threading.RLock()
        self._uploads: dict[str, UploadSession] = {}

    def close(self) -> None:
        """Forget open uploads; remove the directory when it was a temporary one."""
        with self._lock:
            sessions = list(self._uploads.values())
            self._uploads.clear()
        for session in sessions:  # only the files this run created; finished ones were renamed away
            session.path.unlink(missing_ok=True)
        try:
            self.scratch.rmdir()  # not recursive: a file someone else put there stays
        except OSError:
            pass
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)

    # --- paths (validated) ----------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        """Where the content of ``digest`` lives; InvalidDigest for anything but sha256/sha512 hex."""
        algorithm, encoded = digests.require_verifiable(digest)
        return self.root / "blobs" / algorithm / encoded

    def _repository(self, name: str) -> Path:
        if not reference.is_repository(name):  # the handlers validate first; this is the safety net
            raise ValueError(f"not a repository name: {name!r}")
        return self.root / "repositories" / name

    def _layer_link(self, name: str, digest: str) -> Path:
        algorithm, encoded = digests.require_verifiable(digest)
        return self._repository(name) / "_layers" / algorithm / encoded

    def _revision(self, name: str, digest: str) -> Path:
        algorithm, encoded = digests.require_verifiable(digest)
        return self._repository(name) / "_manifests" / "revisions" / algorithm / encoded

    def _tag(self, name: str, tag: str) -> Path:
        return self._repository(name) / "_manifests" / "tags" / reference.validate_tag(tag)

    def _referrers_dir(self, name: str, subject: str) -> Path:
        algorithm, encoded = digests.require_verifiable(subject)
        return self._repository(name) / "_referrers" / algorithm / encoded

    # --- blobs ----------------------------------------------------------------------------

    def blob_size(self, name: str, digest: str) -> int | None:
        """The size of a blob the repository has, or None."""
        if not self._layer_link(name, digest).exists():
            return None
        try:
            return self.blob_path(digest).stat().st_size
        except FileNotFoundError:
            return None

    def open_blob(self, digest: str) -> IO[bytes]:
        """The stored content of ``digest`` (any repository), for reading; FileNotFoundError if absent."""
        return open(self.blob_path(digest), "rb")

    def has_content(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def link_blob(self, name: str, digest: str) -> None:
        """Give the repository a blob whose content is already stored (a mount, or after an upload)."""
        link = self._layer_link(name, digest)
        with self._lock:
            link.parent.mkdir(parents=True, exist_ok=True)
            link.touch()

    def unlink_blob(self, name: str, digest: str) -> bool:
        """Remove the blob from the repository (its content stays for others); False if it was not there."""
        with self._lock:
            try:
                self._layer_link(name, digest).unlink()
            except FileNotFoundError:
                return False
            return True

    def store_blob(self, name: str, chunks: Iterable[bytes], expected: str) -> int:
        """Write ``chunks`` as blob ``expected`` of the repository, verifying it; returns the size.

        DigestMismatch (nothing stored) when the bytes do not hash to ``expected``.
        """
        target = self.blob_path(expected)
        hasher = digests.hasher(expected)
        size = 0
        with AtomicFile(target) as out:  # appears only once verified; removed on any error
            for chunk in chunks:
                hasher.update(chunk)
                out.write(chunk)
                size += len(chunk)
            actual = f"{expected.partition(':')[0]}:{hasher.hexdigest()}"
            if actual != expected:
                raise DigestMismatch(f"content is {actual}, not {expected}")
        self.link_blob(name, expected)
        return size

    def _install(self, temporary: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, target)  # atomic; readers holding the old file keep reading it

    # --- upload sessions ------------------------------------------------------------------

    def start_upload(self, name: str) -> UploadSession:
        self._repository(name)
        session_id = str(uuid.uuid4())
        path = self.scratch / session_id
        path.touch()
        session = UploadSession(session_id, name, path, time.time())
        with self._lock:
            self._uploads[session_id] = session
        return session

    def upload(self, session_id: str) -> UploadSession | None:
        with self._lock:
            return self._uploads.get(session_id)

    def append(self, session: UploadSession, chunks: Iterable[bytes]) -> int:
        """Add ``chunks`` to the session (caller holds ``session.lock``); returns the bytes added."""
        added = 0
        with open(session.path, "ab") as out:
            for chunk in chunks:
                out.write(chunk)
                session.hasher.update(chunk)
                added += len(chunk)
        session.size += added
        return added

    def mark(self, session: UploadSession) -> tuple[int, Any]:
        """A point to :meth:`rollback` to if the next append turns out to be wrong."""
        return session.size, session.hasher.copy()

    def rollback(self, session: UploadSession, mark: tuple[int, Any]) -> None:
        size, hasher = mark
        os.truncate(session.path, size)
        session.size, session.hasher = size, hasher

    def finish_upload(self, session: UploadSession, expected: str) -> None:
        """Verify the session's bytes against ``expected`` and make them blob ``expected`` of its repository.

        The session is closed either way; DigestMismatch when the content differs.
        """
        try:
            target = self.blob_path(expected)
            algorithm = expected.partition(":")[0]
            if algorithm == "sha256":
                actual = "sha256:" + session.hasher.hexdigest()
            else:
                actual = _file_digest(session.path, algorithm)
            if actual != expected:
                raise DigestMismatch(f"uploaded content is {actual}, not {expected}")
            self._install(session.path, target)
            self.link_blob(session.repository, expected)
        finally:
            self.cancel_upload(session.id)

    def cancel_upload(self, session_id: str) -> bool:
        with self._lock:
            session = self._uploads.pop(session_id, None)
        if session is None:
            return False
        session.path.unlink(missing_ok=True)
        return True

    # --- manifests and tags ---------------------------------------------------------------

    def put_manifest(
        self, name: str, digest: str, media_type: str, data: bytes, *, tag: str | None, subject: str | None
    ) -> None:
        """Store manifest bytes (content-addressed), link the revision, move ``tag``, index ``subject``."""
        target = self.blob_path(digest)
        if not target.is_file():
            write_atomic(target, data)
        with self._lock:
            revision = self._revision(name, digest)
            revision.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(revision, media_type)
            tags = self._repository(name) / "_manifests" / "tags"
            tags.mkdir(parents=True, exist_ok=True)
            if tag is not None:
                write_atomic(self._tag(name, tag), digest)
            if subject is not None:
                link = self._referrers_dir(name, subject) / digest.replace(":", "-", 1)
                link.parent.mkdir(parents=True, exist_ok=True)
                link.touch()

    def manifest_media_type(self, name: str, digest: str) -> str | None:
        """The media type of a manifest the repository has, or None."""
        try:
            return self._revision(name, digest).read_text()
        except FileNotFoundError:
            return None

    def read_manifest(self, name: str, digest: str) -> tuple[str, bytes] | None:
        """``(media type, bytes)`` of a manifest the repository has, or None."""
        media_type = self.manifest_media_type(name, digest)
        if media_type is None:
            return None
        try:
            return media_type, self.blob_path(digest).read_bytes()
        except FileNotFoundError:
            return None

    def resolve_tag(self, name: str, tag: str) -> str | None:
        try:
            target = self._tag(name, tag).read_text().strip()
        except FileNotFoundError:
            return None
        return target if digests.is_valid(target) and self.manifest_media_type(name, target) else None

    def untag(self, name: str, tag: str) -> bool:
        with self._lock:
            try:
                self._tag(name, tag).unlink()
            except FileNotFoundError:
                return False
            return True

    def delete_manifest(self, name: str, digest: str, subject: str | None) -> bool:
        """Remove a manifest revision, every tag pointing at it and its referrer entry."""
        with self._lock:
            revision = self._revision(name, digest)
            if not revision.exists():
                return False
            revision.unlink()
            for tag in self.tags(name) or []:
                if self.resolve_tag(name, tag) is None:
                    self.untag(name, tag)
            if subject is not None and digests.is_valid(subject):
                (self._referrers_dir(name, subject) / digest.replace(":", "-", 1)).unlink(missing_ok=True)
            return True

    def tags(self, name: str) -> list[str] | None:
        """The repository's tags, sorted (ASCII order); None when it never had manifests."""
        directory = self._repository(name) / "_manifests" / "tags"
        try:
            entries = os.listdir(directory)
        except FileNotFoundError:
            return None
        return sorted(entry for entry in entries if not entry.startswith("."))

    def referrers(self, name: str, subject: str) -> list[str]:
        """Digests of the repository's manifests whose ``subject`` is ``subject``, sorted."""
        try:
            entries = os.listdir(self._referrers_dir(name, subject))
        except FileNotFoundError:
            return []
        found = []
        for entry in sorted(entries):
            digest = entry.replace("-", ":", 1)
            if digests.is_valid(digest) and self.manifest_media_type(name, digest) is not None:
                found.append(digest)
        return found

    def repositories(self) -> list[str]:
        """Every repository with a blob or a manifest, sorted."""
        base = self.root / "repositories"
        found = []
        for directory, subdirectories, _files in os.walk(base):
            if "_layers" in subdirectories or "_manifests" in subdirectories:
                found.append(Path(directory).relative_to(base).as_posix())
            subdirectories[:] = [entry for entry in subdirectories if not entry.startswith("_")]
        return sorted(found)


def _file_digest(path: Path, algorithm: str) -> str:
    hasher = digests.hasher(algorithm)
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(READ_BLOCK), b""):
            hasher.update(block)
    return f"{algorithm}:{hasher.hexdigest()}"
