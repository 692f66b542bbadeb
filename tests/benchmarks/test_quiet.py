"""benchmarks/quiet.py: a page run waits for idle CPUs and says how idle they were."""

import os
import subprocess
import sys

from benchmarks.quiet import Settled, cpu_idle, settle

BURN = "while True: pass\n"


def test_busy_cpus_are_not_idle_and_a_run_that_waited_for_them_says_it_did_not_settle():
    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range((os.cpu_count() or 2) + 1)]
    try:
        busy = cpu_idle(0.5)
        settled = settle(want=0.9, timeout=1.0, sample=0.5)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert busy is not None and busy < 0.5
    assert not settled.quiet and settled.idle is not None and settled.idle < 0.5 and settled.waited >= 1.0
    assert settled.line().startswith("The machine did not settle")


def test_the_page_line_says_how_idle_and_how_long_it_waited():
    assert Settled(0.97, 3.2, True).line() == "Before it began the machine was 97% idle (waited 3 s after `sync`)."
    assert "unknown" in Settled(None, 0.0, False).line()
