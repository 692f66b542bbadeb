"""Atomic file writing: a temporary file in the target directory, renamed into place.

Rule: every file regexplore writes (trace, render, export, OCI
layout blob) goes through here, so an existing output is never left
half-overwritten and an interrupted write leaves no partial file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO

__all__ = ["AtomicFile", "write_atomic"]


class AtomicFile:
    """A binary file that appears at ``path`` only when ``commit()`` is called.

    Use as a context manager: leaving the block normally commits, leaving it
    with an exception (or calling ``discard()``) removes the temporary file.
    """

    def __init__(self, path: str | os.PathLike[str], mode: int = 0o644) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
        self.tmp_path = Path(tmp)
        self._mode = mode
        self.file: IO[bytes] = os.fdopen(fd, "wb")
        self._done = False

    def write(self, data: bytes) -> int:
        return self.file.write(data)

    def commit(self) -> Path:
        if self._done:
            return self.path
        self.file.close()
        os.chmod(self.tmp_path, self._mode)
        os.replace(self.tmp_path, self.path)
        self._done = True
        return self.path

    def discard(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            self.file.close()
        finally:
            self.tmp_path.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (str is UTF-8 encoded) to ``path`` atomically; return the path."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with AtomicFile(path) as out:
        out.write(payload)
    return Path(path)
