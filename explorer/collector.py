"""The cyclic garbage collector paused while a large structure without reference cycles is built.

Rule: stdlib only; every layer may use it. Annotating a 5,000-exchange trace builds some 100,000
objects and a JSON export some 200,000 dicts and lists, none of them in a reference cycle; each
burst of them made the collector walk every live object (the trace, its annotation) again.
Reference counting frees as ever while it is paused.

What a pause built and still holds when it ends is walked once, by the first young collection after
it (Python counts allocations, not collections, while the collector is off). So a pause is turned
on before anything is allocated (``paused()`` returns a context manager made in advance: creating
one, as ``@contextmanager`` does, could set off that collection of what the last pause built), and a
command's whole build, from loading the trace to its text, is one pause (``operations/outputs.py``):
when it ends the trace and its annotation are freed by reference counting, and walked by nothing.
"""

from __future__ import annotations

import gc
from contextlib import nullcontext
from types import TracebackType

__all__ = ["paused"]


class _Resume:
    """Ends a pause: the collector on again."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        gc.enable()


_RESUME, _NOTHING = _Resume(), nullcontext()  # inside a pause already (or the collector off): nothing to end


def paused() -> _Resume | nullcontext[None]:
    """``with paused():`` the collector off inside the block; on again when it ends (still off if it was off)."""
    if not gc.isenabled():
        return _NOTHING
    gc.disable()  # before anything is allocated: see the module's docstring
    return _RESUME
