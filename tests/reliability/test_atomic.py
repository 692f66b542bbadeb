"""Every file `trace pull` writes appears atomically: a temporary file in the same directory, then a rename.

Checked with Python's audit hooks (``open``, ``os.rename``): no file under the
output directories is ever opened for writing under its final name, and every
final file got there by a rename. An existing output survives a failed write
and a failed pull byte for byte.
"""

from __future__ import annotations

import errno
import itertools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from explorer.atomic import AtomicFile, write_atomic
from tests.infra.faults import Rewrite, Rule
from tests.infra.runner import run_cli
from tests.reliability.conftest import SMALL, partial_files, pull_via

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_watch: dict[str, object] = {"root": None, "opened": [], "renamed": []}


def _audit(event: str, args: tuple) -> None:
    root = _watch["root"]
    if root is None:
        return
    if event == "open" and isinstance(args[0], (str, os.PathLike)):
        path, mode, flags = str(args[0]), args[1], args[2]
        writing = (mode is not None and any(c in str(mode) for c in "wax+")) or (
            mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writing and path.startswith(str(root)):
            _watch["opened"].append(path)  # type: ignore[union-attr]
    elif event == "os.rename" and str(args[1]).startswith(str(root)):
        _watch["renamed"].append((str(args[0]), str(args[1])))  # type: ignore[union-attr]


sys.addaudithook(_audit)  # hooks cannot be removed; this one only acts while `watching` is active


@contextmanager
def watching(root: Path) -> Iterator[dict[str, list]]:
    _watch.update(root=root.resolve(), opened=[], renamed=[])
    try:
        yield _watch  # type: ignore[misc]
    finally:
        _watch["root"] = None


def test_every_file_of_a_pull_is_written_to_a_temp_file_then_renamed(registry_anonymous, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with watching(out_dir) as seen:
        run = pull_via(registry_anonymous.host, registry_anonymous, out_dir / "t.json", SMALL,
                       "--oci-layout", str(out_dir / "layout"))
    assert run.code == 0, run.output
    finals = sorted(str(p) for p in out_dir.rglob("*") if p.is_file())
    assert finals, "nothing written"
    assert all(Path(p).name.endswith(".part") and Path(p).name.startswith(".") for p in seen["opened"]), seen["opened"]
    renamed_to = {dst for _src, dst in seen["renamed"]}
    assert set(finals) <= renamed_to, set(finals) - renamed_to
    assert str(out_dir / "t.json") in renamed_to and str(out_dir / "layout" / "index.json") in renamed_to


def test_a_failed_trace_write_leaves_the_old_file_whole(registry_anonymous, tmp_path, monkeypatch):
    out = tmp_path / "t.json"
    out.write_text("the previous trace\n")

    def disk_full(self: AtomicFile, data: bytes) -> int:
        self.file.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(AtomicFile, "write", disk_full)
    run = pull_via(registry_anonymous.host, registry_anonymous, out)
    assert run.code == 1
    assert run.stderr.splitlines()[0] == f"error: cannot write the trace to {out}: No space left on device"
    assert out.read_text() == "the previous trace\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_an_existing_layout_survives_a_failed_pull_and_is_extended_by_a_good_one(
    registry_anonymous, front, seeded_images, tmp_path
):
    layout = tmp_path / "layout"
    first = pull_via(registry_anonymous.host, registry_anonymous, tmp_path / "a.json", SMALL,
                     "--oci-layout", str(layout))
    assert first.code == 0, first.output
    index_before = (layout / "index.json").read_bytes()
    files_before = sorted(p.relative_to(layout) for p in layout.rglob("*"))

    fronted = front(registry_anonymous)
    layer = seeded_images["test/multi:1.0"].manifest(
        seeded_images["test/multi:1.0"].platforms["linux/amd64"])["layers"][0]
    fronted.registry.add(Rule(Rewrite(body=b"x" * layer["size"]), path=layer["digest"]))
    failed = pull_via(fronted.host, registry_anonymous, tmp_path / "b.json", "test/multi:1.0",
                      "--oci-layout", str(layout), "--platform", "linux/amd64")
    assert failed.code == 1
    assert (layout / "index.json").read_bytes() == index_before
    assert not (layout / "blobs" / "sha256" / layer["digest"].split(":", 1)[1]).exists()
    assert partial_files(layout) == []

    inode = (layout / "index.json").stat().st_ino
    good = pull_via(registry_anonymous.host, registry_anonymous, tmp_path / "c.json", "test/multi:1.0",
                    "--oci-layout", str(layout), "--platform", "linux/amd64")
    assert good.code == 0, good.output
    assert (layout / "index.json").stat().st_ino != inode  # replaced by a rename, not rewritten in place
    assert set(files_before) <= {p.relative_to(layout) for p in layout.rglob("*")}


def test_a_directory_as_trace_output_is_refused_before_any_request(registry_anonymous, tmp_path):
    run = run_cli("trace", "pull", f"{registry_anonymous.host}/{SMALL}", "-o", str(tmp_path))
    assert run.code == 2
    assert run.stderr.splitlines()[0] == f"error: the trace output {tmp_path} is a directory"


class _FullDisk:
    """A file whose writes fail with ENOSPC after ``room`` bytes (what a full disk does)."""

    def __init__(self, inner, room: int) -> None:
        self.inner, self.room = inner, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.inner.write(data)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


def test_a_background_write_appears_only_on_commit(tmp_path):
    target = tmp_path / "blob"
    with AtomicFile(target, background=True) as out:
        for n in range(40):
            out.write(bytes([n]) * 65536)
        assert not target.exists()
    assert target.read_bytes() == b"".join(bytes([n]) * 65536 for n in range(40))
    assert [p.name for p in tmp_path.iterdir()] == ["blob"]


def test_a_failed_background_write_is_raised_and_leaves_no_file(tmp_path, monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr("explorer.atomic.os.fdopen", lambda fd, mode, **kw: _FullDisk(real_fdopen(fd, mode, **kw), 3 * 65536))
    target = tmp_path / "blob"
    with pytest.raises(OSError, match="No space left") as caught:
        with AtomicFile(target, background=True) as out:
            for _ in range(40):  # the error of the 4th chunk reaches a later write or the commit
                out.write(b"x" * 65536)
    assert caught.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


def test_writing_to_a_background_file_discarded_by_another_thread_fails_at_once(tmp_path):
    out = AtomicFile(tmp_path / "blob", background=True)
    out.write(b"x" * 65536)
    out.discard()  # what a cancelled transfer's canceller does
    with pytest.raises(ValueError, match="closed"):
        out.write(b"y")
    assert list(tmp_path.iterdir()) == []


def test_a_temporary_name_already_taken_is_passed_over_and_never_opened(tmp_path, monkeypatch):
    """Temporary names are predictable (``.NAME.PID.N.part``): one planted there, a symlink or a file, is left alone."""
    monkeypatch.setattr("explorer.atomic._serial", itertools.count(1000))
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    pid = os.getpid()
    (tmp_path / f".out.{pid}.1000.part").symlink_to(victim)
    (tmp_path / f".out.{pid}.1001.part").write_bytes(b"old")
    write_atomic(tmp_path / "out", b"new")
    assert (tmp_path / "out").read_bytes() == b"new"
    assert victim.read_bytes() == b"keep"
    assert (tmp_path / f".out.{pid}.1001.part").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".out.{pid}.1000.part", f".out.{pid}.1001.part", "out", "victim"])
