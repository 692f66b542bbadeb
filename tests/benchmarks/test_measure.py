"""benchmarks/measure.py: what a run reports of its child and of the server beside it."""

import subprocess
import sys

from benchmarks.measure import process_cpu, run

BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"


def test_a_run_reports_the_cpu_a_busy_server_spent_meanwhile_and_not_an_idle_ones():
    busy = subprocess.Popen([sys.executable, "-c", BURN.format(seconds=30)])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        client = [sys.executable, "-c", "import time; time.sleep(0.6)"]
        beside_busy = run(client, server_pid=busy.pid)
        beside_idle = run(client, server_pid=idle.pid)
    finally:
        busy.kill(), idle.kill(), busy.wait(), idle.wait()
    assert beside_busy.server_cpu is not None and beside_busy.server_cpu >= 0.15  # it spun all along (a share of a core at least)
    assert beside_idle.server_cpu is not None and beside_idle.server_cpu < 0.1
    assert beside_busy.cpu < 0.2  # the child's own CPU stays the child's


def test_the_cpu_of_a_process_that_is_gone_is_unknown():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert process_cpu(gone.pid) is None
    assert run([sys.executable, "-c", "pass"], server_pid=gone.pid).server_cpu is None
