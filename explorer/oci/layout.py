"""OCI image layouts on disk: write pulled images into one, read push sources from one.

Rules: a digest is checked against the protocol grammar BEFORE it
becomes part of a path, so ``sha256:../../x`` can never leave ``blobs/``. A blob
appears under its final name only after its size and digest were verified; every
file is written through ``AtomicFile``.

Layout (image-spec ``image-layout.md``)::

    DIR/oci-layout              {"imageLayoutVersion": "1.0.0"}
    DIR/index.json              an OCI index; tags in annotation org.opencontainers.image.ref.name
    DIR/blobs/<alg>/<hex>       content-addressed blobs (manifests, configs, layers)

Writing::

    with OciLayoutWriter(path) as layout:
        with layout.blob_writer(descriptor["digest"], descriptor["size"]) as blob:
            if not blob.exists:
                for chunk in chunks:
                    blob.write(chunk)
        layout.add_manifest(descriptor, tag="1.0")   # index.json written on exit
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from explorer.atomic import AtomicFile, write_atomic
from explorer.errors import BadSource, DigestMismatch, InvalidDigest, ManifestError
from explorer.protocol import digest as digests
from explorer.protocol import mediatypes

__all__ = [
    "REF_NAME_ANNOTATION",
    "BlobWriter",
    "OciLayout",
    "OciLayoutWriter",
    "parse_layout_source",
]

REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
LAYOUT_VERSION = "1.0.0"
BACKGROUND_WRITE_FROM = 8 << 20  # blobs at least this big are written on a thread of their own

# The OCI distribution-spec tag grammar: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
# Second line of defence: what may appear as a path component under blobs/.
_SAFE_ALGORITHM = re.compile(r"[a-z0-9]+")
_SAFE_HEX = re.compile(r"[a-f0-9]+")


def _blob_relpath(digest: str) -> tuple[str, str]:
    """(algorithm, hex) of a verifiable digest, safe to use as path components.

    Raises ``InvalidDigest`` for anything outside the grammar or of an algorithm we
    cannot verify, so no unchecked text ever becomes part of a file name.
    """
    algorithm, encoded = digests.require_verifiable(digest)
    if not (_SAFE_ALGORITHM.fullmatch(algorithm) and _SAFE_HEX.fullmatch(encoded)):
        raise InvalidDigest(f"digest {digest!r} cannot name a file: expected <algorithm>:<lowercase hex>")
    return algorithm, encoded


class BlobWriter:
    """Write one blob, hashing as it goes; it appears under its final name only if verified.

    Use as a context manager. On a clean exit the size (when known) and the digest
    are checked, then the temporary file is renamed into place; a mismatch raises
    ``DigestMismatch`` and leaves nothing under the final name. An exception inside
    the block removes the temporary file. When ``exists`` is true the blob is
    already in the layout: callers may skip writing, and an exit without writes
    keeps the existing file.

    ``verify=False`` is for callers that verify the digest themselves before
    leaving the block (a verified download): the bytes are then hashed once,
    not twice; the size is still checked. A blob of ``BACKGROUND_WRITE_FROM`` bytes or
    more is written on a thread of its own (``AtomicFile(background=True)``): receiving
    the next chunk overlaps the kernel's copy of this one.
    """

    def __init__(self, path: Path, digest: str, size: int | None, *, verify: bool = True) -> None:
        self.path = path
        self.digest = digest
        self.size = size
        self.written = 0
        self._hash = digests.hasher(digest) if verify else None
        self._file: AtomicFile | None = None

    @functools.cached_property
    def exists(self) -> bool:
        """The blob is already in the layout (asked when needed: a download that writes anyway never stats it)."""
        return self.path.is_file()

    def write(self, chunk: bytes) -> None:
        if self._file is None:
            self._file = AtomicFile(self.path, background=self.size is not None and self.size >= BACKGROUND_WRITE_FROM)
        self.written += len(chunk)
        if self.size is not None and self.written > self.size:
            self._fail(f"expected {self.size} bytes, got more")
        if self._hash is not None:
            self._hash.update(chunk)
        self._file.write(chunk)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            if self._file is not None:
                self._file.discard()
            return
        if self._file is None:
            if self.exists:
                return
            self._file = AtomicFile(self.path)
        self._verify()
        self._file.commit()

    def _verify(self) -> None:
        if self.size is not None and self.written != self.size:
            self._fail(f"expected {self.size} bytes, got {self.written}")
        if self._hash is None:
            return
        actual = f"{self.digest.split(':', 1)[0]}:{self._hash.hexdigest()}"
        if actual != self.digest:
            self._fail(f"expected digest {self.digest}, got {actual}")

    def _fail(self, what: str) -> None:
        if self._file is not None:
            self._file.discard()
        raise DigestMismatch(f"blob {self.digest}: {what}; nothing was stored")


class OciLayoutWriter:
    """Create or extend an OCI image layout at ``root``.

    An existing layout keeps its blobs and index entries; ``add_manifest`` with a
    tag already present replaces that entry. ``finish()`` (or leaving the ``with``
    block without an error) writes ``index.json`` atomically.
    """

    @staticmethod
    def check_target(root: str | Path) -> None:
        """Refuse (``BadSource``) a path that cannot become a layout: a file, or a non-empty non-layout folder.

        Called before any request too, so that a bad ``--oci-layout`` is a usage error that sends nothing.
        """
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise BadSource(f"{root} exists and is not a directory; choose another --oci-layout path")
        if root.is_dir() and not (root / "oci-layout").exists() and any(root.iterdir()):
            raise BadSource(f"{root} is a non-empty directory without an oci-layout file; "
                            "choose an empty or new directory")

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.check_target(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        layout_file = self.root / "oci-layout"
        index_file = self.root / "index.json"
        if layout_file.exists():
            _read_json(layout_file, "oci-layout")
        else:
            write_atomic(layout_file, json.dumps({"imageLayoutVersion": LAYOUT_VERSION}))
        self._index: dict[str, Any] = (
            _read_json(index_file, "index.json") if index_file.exists() else {}
        )
        manifests = self._index.get("manifests") or []
        if not isinstance(manifests, list):
            raise BadSource(f"{index_file} has no valid manifests list; choose another --oci-layout path")
        self._manifests: list[dict[str, Any]] = list(manifests)
        self._folders: dict[str, Path] = {}  # blobs/<algorithm>, by algorithm
        self._made: set[str] = set()  # algorithms whose folder is known to exist (one mkdir per folder)
        self._make("sha256")

    def _folder(self, algorithm: str) -> Path:
        folder = self._folders.get(algorithm)
        if folder is None:
            folder = self._folders[algorithm] = self.root / "blobs" / algorithm
        return folder

    def _make(self, algorithm: str) -> None:
        if algorithm not in self._made:
            self._folder(algorithm).mkdir(parents=True, exist_ok=True)
            self._made.add(algorithm)

    def blob_path(self, digest: str) -> Path:
        algorithm, encoded = _blob_relpath(digest)
        return self._folder(algorithm) / encoded

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def blob_writer(self, digest: str, size: int | None = None, *, verify: bool = True) -> BlobWriter:
        path = self.blob_path(digest)
        self._make(digest.partition(":")[0])  # the algorithm blob_path checked
        return BlobWriter(path, digest, size, verify=verify)

    def write_blob(self, data: bytes, digest: str | None = None) -> str:
        """Store ``data`` (verified against ``digest`` when given); return its digest."""
        digest = digest or digests.compute(data)
        with self.blob_writer(digest, len(data)) as blob:
            if not blob.exists:
                blob.write(data)
        return digest

    def add_manifest(self, descriptor: dict[str, Any], tag: str | None = None) -> None:
        """Record a root descriptor in index.json, named ``tag`` when given."""
        _blob_relpath(descriptor["digest"])
        entry = dict(descriptor)
        if tag is not None:
            _check_tag(tag, f"tag {tag!r}")
            entry["annotations"] = {**(entry.get("annotations") or {}), REF_NAME_ANNOTATION: tag}
            self._manifests = [m for m in self._manifests if _ref_name(m) != tag]
        elif any(m.get("digest") == entry["digest"] and _ref_name(m) is None for m in self._manifests):
            return
        self._manifests.append(entry)

    def finish(self) -> Path:
        index = {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_INDEX,
            "manifests": self._manifests,
        }
        if self._index.get("annotations"):
            index["annotations"] = self._index["annotations"]
        return write_atomic(self.root / "index.json", json.dumps(index, indent=2) + "\n")

    def __enter__(self) -> OciLayoutWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.finish()


class OciLayout:
    """Read an existing OCI image layout (a push source)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.exists():
            raise BadSource(f"OCI layout {self.root} does not exist; give the directory of an OCI image layout")
        if not self.root.is_dir():
            raise BadSource(f"OCI layout {self.root} is not a directory; give the directory of an OCI image layout")
        for name in ("oci-layout", "index.json"):
            if not (self.root / name).is_file():
                raise BadSource(
                    f"{self.root} is not an OCI image layout: it has no {name} "
                    "(create one with `skopeo copy ... oci:DIR:TAG` or `regexplore trace pull --oci-layout DIR`)"
                )
        header = _read_json(self.root / "oci-layout", "oci-layout")
        if not isinstance(header.get("imageLayoutVersion"), str):
            raise BadSource(f"{self.root / 'oci-layout'} has no imageLayoutVersion; it is not an OCI layout header")
        self._index = _read_json(self.root / "index.json", "index.json")
        manifests = self._index.get("manifests")
        if not isinstance(manifests, list) or not all(
            isinstance(m, dict) and isinstance(m.get("digest"), str) for m in manifests
        ):
            raise BadSource(f"{self.root / 'index.json'} has no valid manifests list; it is not an OCI index")

    def index(self) -> dict[str, Any]:
        return self._index

    def tags(self) -> list[str]:
        return [name for m in self._index["manifests"] if (name := _ref_name(m)) is not None]

    def resolve(self, tag: str | None = None) -> dict[str, Any]:
        """The root descriptor named ``tag``; without a tag, the layout's only manifest."""
        manifests: list[dict[str, Any]] = self._index["manifests"]
        if tag is None:
            if len(manifests) == 1:
                return manifests[0]
            if not manifests:
                raise BadSource(f"OCI layout {self.root} is empty (index.json lists no manifests)")
            raise BadSource(
                f"OCI layout {self.root} holds {len(manifests)} images; name one as DIR:TAG "
                f"(tags: {self._tag_list()})"
            )
        for descriptor in manifests:
            if _ref_name(descriptor) == tag:
                return descriptor
        raise BadSource(f"OCI layout {self.root} has no tag {tag!r} (tags: {self._tag_list()})")

    def blob_path(self, digest: str) -> Path:
        algorithm, encoded = _blob_relpath(digest)
        return self.root / "blobs" / algorithm / encoded

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def open_blob(self, digest: str) -> BinaryIO:
        path = self.blob_path(digest)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise BadSource(f"OCI layout {self.root} lacks blob {digest}; the layout is incomplete") from None

    def blob_size(self, digest: str) -> int:
        try:
            return self.blob_path(digest).stat().st_size
        except FileNotFoundError:
            raise BadSource(f"OCI layout {self.root} lacks blob {digest}; the layout is incomplete") from None

    def read_blob(self, digest: str, limit: int = mediatypes.MANIFEST_LIMIT) -> bytes:
        """A small blob (manifest, config) in full; ``ManifestError`` when larger than ``limit``."""
        with self.open_blob(digest) as blob:
            data = blob.read(limit + 1)
        if len(data) > limit:
            raise ManifestError(f"blob {digest} in {self.root} is larger than {limit} bytes; not a manifest or config")
        return data

    def _tag_list(self) -> str:
        return ", ".join(self.tags()) or "none"


def parse_layout_source(text: str) -> tuple[Path, str | None]:
    """Split a push source ``DIR[:TAG]`` into (directory, tag or None).

    A text that names an existing path is the directory itself; otherwise the
    part after the LAST ``:`` is the tag.
    """
    if Path(text).exists():
        return Path(text), None
    directory, colon, tag = text.rpartition(":")
    if not colon or not directory:
        return Path(text), None
    _check_tag(tag, f"{text!r}: tag {tag!r}")
    return Path(directory), tag


def _check_tag(tag: str, what: str) -> None:
    if not _TAG.fullmatch(tag):
        raise BadSource(
            f"{what} is not a valid tag: use 1-128 letters, digits, '_', '.', '-', "
            "not starting with '.' or '-'"
        )


def _ref_name(descriptor: dict[str, Any]) -> str | None:
    annotations = descriptor.get("annotations") or {}
    name = annotations.get(REF_NAME_ANNOTATION)
    return name if isinstance(name, str) else None


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise BadSource(f"cannot read {what} of OCI layout {path.parent}: {exc}") from None
    if not isinstance(data, dict):
        raise BadSource(f"{path} is not a JSON object; the OCI layout is damaged")
    return data
