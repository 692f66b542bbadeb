"""``@record``: ``@dataclass`` with equality, hashing and repr shared instead of generated.

Python 3.11's ``@dataclass`` compiles every method it generates with an ``exec`` of its own: a
frozen class of a few fields costs 600-900 µs to define here, and a pull or push defines about 30
of ours before its first request (issue 17: start-up; docs/performance.md). ``@record`` passes
``eq=False, repr=False`` to ``dataclass`` and gives the class the three functions below, which read
the fields the class already lists: defining it skips the ``exec`` of each of those three methods
(of six for a frozen class, three for a mutable one).

Rule: a record behaves as the dataclass would, value for value (``tests/test_records.py`` compares
each method with a dataclass twin): ``__eq__`` compares the ``compare`` fields when both objects are
of the same class, ``__hash__`` hashes them (frozen records; mutable ones are unhashable, as
``eq=True`` makes them), ``__repr__`` shows the ``repr`` fields (with no guard against a record
that holds itself, which none does); a class that writes its own ``__eq__``, ``__hash__`` or
``__repr__`` keeps it. It is still a dataclass: ``fields``, ``replace``, ``asdict`` work, and
``__init__`` and a frozen record's ``__setattr__`` are dataclass's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["record"]

T = TypeVar("T", bound=type)


@overload
def record(cls: T, /) -> T: ...


@overload
def record(*, frozen: bool = False, kw_only: bool = False) -> Callable[[T], T]: ...


@dataclass_transform(eq_default=True)
def record(cls: T | None = None, /, *, frozen: bool = False, kw_only: bool = False) -> T | Callable[[T], T]:
    """``@record``, ``@record(frozen=True)``, ``@record(kw_only=True)``: see the module's docstring."""

    def make(klass: T) -> T:
        own = klass.__dict__  # what the class writes itself, dataclass keeps (an __eq__ leaves __hash__ None)
        own_eq, own_repr = "__eq__" in own, "__repr__" in own
        own_hash = "__hash__" in own and not (own["__hash__"] is None and own_eq)
        done = dataclass(klass, eq=False, repr=False, frozen=frozen, kw_only=kw_only)
        every = fields(done)
        done.__record_compared__ = tuple(f.name for f in every if f.compare)  # type: ignore[attr-defined]
        done.__record_hashed__ = tuple(  # type: ignore[attr-defined]
            f.name for f in every if (f.compare if f.hash is None else f.hash))
        done.__record_shown__ = tuple(f.name for f in every if f.repr)  # type: ignore[attr-defined]
        if not own_eq:
            done.__eq__ = _eq  # type: ignore[method-assign, assignment]
        if not own_hash:
            done.__hash__ = _hash if frozen else None  # type: ignore[method-assign, assignment]
        if not own_repr:
            done.__repr__ = _repr  # type: ignore[method-assign, assignment]
        return done

    return make if cls is None else make(cls)


def _eq(self: Any, other: object) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    names = self.__record_compared__
    return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)


def _hash(self: Any) -> int:
    return hash(tuple(getattr(self, n) for n in self.__record_hashed__))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_shown__)
    return f"{self.__class__.__qualname__}({shown})"
