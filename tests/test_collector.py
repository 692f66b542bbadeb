"""``explorer.collector.paused``: the collector is off only inside the block, and left as it was."""

from __future__ import annotations

import gc

import pytest

from explorer import collector


def test_collector_paused_only_inside_and_restored() -> None:
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector.paused():
        raise ValueError
    assert gc.isenabled(), "an error inside does not leave the collector off"
    gc.disable()
    try:
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "a collector that was off stays off"
    finally:
        gc.enable()


def test_a_pause_begins_before_it_allocates_anything() -> None:
    """Entering a pause allocates nothing while the collector is still on: a young collection due then
    would walk everything an earlier pause built (a whole annotated trace) just before this one."""
    seen: list[str] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        seen.append(phase)

    threshold = gc.get_threshold()
    gc.callbacks.append(watch)
    try:
        gc.collect()
        gc.set_threshold(1)  # the next allocation of a tracked object but one starts a collection
        primer: list[object] = []  # one
        seen.clear()
        with collector.paused():
            collections = len(seen)
        assert primer == [] and collections == 0
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(watch)
