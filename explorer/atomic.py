"""Atomic file writing: a temporary file in the target directory, renamed into place.

Rule: every file regexplore writes (trace, render, export, OCI
layout blob) goes through here, so an existing output is never left
half-overwritten and an interrupted write leaves no partial file behind.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import IO

__all__ = ["AtomicFile", "write_atomic"]


class _BackgroundWriter:
    """Writes a file's chunks on a worker thread, so that the kernel's copy into the page cache
    (about 0.5 s of CPU for 200 MiB on the benchmark machine) overlaps what the caller does next.

    At most ``IN_FLIGHT`` chunks wait (the caller blocks beyond); a failed write is raised by
    the next ``write`` or by ``finish``, which returns once every chunk is written.
    """

    IN_FLIGHT = 4

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=self.IN_FLIGHT)
        self._error: BaseException | None = None
        self._finished = False
        self._thread = threading.Thread(target=self._run, name="file-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        write, get = self._file.write, self._queue.get
        while (chunk := get()) is not None:
            if self._error is None:  # after a failure, chunks are only drained
                try:
                    write(chunk)
                except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
                    self._error = exc

    def write(self, data: bytes) -> None:
        while True:
            if self._error is not None:
                raise self._error
            if self._finished:  # discarded meanwhile by another thread (a cancelled transfer)
                raise ValueError("write to a file that was already closed")
            try:
                self._queue.put(data, timeout=0.5)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """Wait until every chunk put so far is written; raise the first write error."""
        if not self._finished:
            self._finished = True
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


class AtomicFile:
    """A binary file that appears at ``path`` only when ``commit()`` is called.

    Use as a context manager: leaving the block normally commits, leaving it
    with an exception (or calling ``discard()``) removes the temporary file.
    ``background=True`` (big blobs) writes on a thread of its own: ``write`` only
    queues ``bytes``, ``commit`` waits for them and raises a write error.
    """

    def __init__(self, path: str | os.PathLike[str], mode: int = 0o644, *, background: bool = False) -> None:
        self.path = path if isinstance(path, Path) else Path(path)
        directory, prefix = self.path.parent, f".{self.path.name}."
        try:
            fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=directory)
        except FileNotFoundError:  # the folder is created only when missing (one syscall less per file)
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=directory)
        self.tmp_path = tmp  # str: what the rename and the removal need
        self._mode = mode
        self.file: IO[bytes] = os.fdopen(fd, "wb")
        self._done = False
        self._background = _BackgroundWriter(self.file) if background else None

    def write(self, data: bytes) -> int:
        if self._background is not None:
            self._background.write(data)
            return len(data)
        return self.file.write(data)

    def commit(self) -> Path:
        if self._done:
            return self.path
        if self._background is not None:
            try:
                self._background.finish()
            except BaseException:
                self.discard()
                raise
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
            if self._background is not None:
                try:
                    self._background.finish()  # the file is closed only once its thread let go of it
                except Exception:  # noqa: BLE001 - the file is thrown away anyway
                    pass
            self.file.close()
        finally:
            try:
                os.unlink(self.tmp_path)
            except FileNotFoundError:
                pass

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
