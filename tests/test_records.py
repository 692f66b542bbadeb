"""``explorer.records.record`` behaves as ``dataclasses.dataclass`` would, value for value."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from explorer.records import record

REPO = Path(__file__).resolve().parents[1]


def twins(decorate_record, decorate_dataclass):
    """The same class body under both decorators."""

    def body():
        class Item:
            name: str
            size: int = 0
            tags: tuple[str, ...] = ()
            note: str = field(default="", repr=False)
            seen: int = field(default=0, compare=False)

        return Item

    return decorate_record(body()), decorate_dataclass(body())


@pytest.mark.parametrize("options", [{}, {"frozen": True}, {"kw_only": True}, {"frozen": True, "kw_only": True}])
def test_equality_hash_and_repr_are_dataclass_s(options):
    ours, theirs = twins(record(**options), dataclass(**options))
    values = [dict(name="a"), dict(name="a", size=2), dict(name="a", tags=("x",)), dict(name="a", note="n"),
              dict(name="a", seen=5), dict(name="b", size=2, tags=("y", "z"), note="it's", seen=1)]
    for left in values:
        assert repr(ours(**left)) == repr(theirs(**left))
        for right in values:
            assert (ours(**left) == ours(**right)) == (theirs(**left) == theirs(**right))
            assert (ours(**left) != ours(**right)) == (theirs(**left) != theirs(**right))
            if options.get("frozen"):
                assert (hash(ours(**left)) == hash(ours(**right))) == (hash(theirs(**left)) == hash(theirs(**right)))
        if options.get("frozen"):
            assert hash(ours(**left)) == hash(theirs(**left))  # the same tuple is hashed
    assert ours(name="a") != theirs(name="a")  # another class: not equal, as dataclasses
    assert ours(name="a").__eq__(("a", 0, ())) is NotImplemented


def test_a_mutable_record_is_unhashable_and_a_frozen_one_immutable():
    mutable, _ = twins(record, dataclass)
    frozen, _ = twins(record(frozen=True), dataclass(frozen=True))
    with pytest.raises(TypeError):
        hash(mutable(name="a"))
    item = frozen(name="a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.name = "b"  # type: ignore[misc]
    assert {item, frozen(name="a")} == {item}


def test_a_record_is_still_a_dataclass():
    ours, _ = twins(record(frozen=True), dataclass(frozen=True))
    item = ours(name="a", size=1)
    assert dataclasses.is_dataclass(item)
    assert [f.name for f in dataclasses.fields(item)] == ["name", "size", "tags", "note", "seen"]
    assert dataclasses.replace(item, size=2) == ours(name="a", size=2)
    assert dataclasses.asdict(item) == {"name": "a", "size": 1, "tags": (), "note": "", "seen": 0}


def test_a_subclass_and_an_own_repr():
    @record(kw_only=True)
    class Base:
        kept: str = field(repr=False)
        where: str | None = None

    @record(kw_only=True)
    class Child(Base):
        count: int

    @record(frozen=True)
    class Secret:
        user: str
        password: str

        def __repr__(self) -> str:
            return f"Secret(user={self.user!r}, password=<redacted>)"

    assert repr(Child(kept="x", count=2)) == "test_a_subclass_and_an_own_repr.<locals>.Child(where=None, count=2)"
    assert Child(kept="x", count=2) != Child(kept="y", count=2)  # repr=False fields still compare
    assert repr(Secret("u", "p")) == "Secret(user='u', password=<redacted>)"


@pytest.mark.parametrize("frozen", [False, True])
def test_a_class_s_own_equality_and_hash_are_kept_as_dataclass_keeps_them(frozen):
    def body():
        class ByName:
            name: str
            size: int = 0

            def __eq__(self, other: object) -> bool:
                return isinstance(other, ByName) and other.name == self.name

            def __hash__(self) -> int:
                return hash(self.name)

        return ByName

    ours, theirs = record(frozen=frozen)(body()), dataclass(frozen=frozen)(body())
    assert (ours("a", 1) == ours("a", 2)) is (theirs("a", 1) == theirs("a", 2)) is True
    assert hash(ours("a", 1)) == hash(theirs("a", 2)) == hash("a")


def test_every_dataclass_of_a_transfer_s_start_up_is_a_record():
    """What a pull or push loads before its first request defines no plain ``@dataclass``: each costs
    its start-up the three generated methods ``@record`` shares (docs/performance.md, Start-up)."""
    code = ("import dataclasses, json, sys\n"
            "import explorer.cli.trace_transfer, explorer.operations.images, explorer.client.session\n"
            "import explorer.flows.pull, explorer.flows.push, explorer.flows.upload, explorer.flows.images\n"
            "import explorer.flows.referrers, explorer.operations.push_results, explorer.oci.layout\n"
            "print(json.dumps(sorted(f'{m}.{v.__qualname__}' for m, module in list(sys.modules.items())\n"
            "    if m.startswith('explorer') for v in vars(module).values()\n"
            "    if isinstance(v, type) and v.__module__ == m and dataclasses.is_dataclass(v)\n"
            "    and '__record_compared__' not in v.__dict__)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
