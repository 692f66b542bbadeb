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
