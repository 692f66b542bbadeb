"""Memory a streaming body frees is kept for its next reads (glibc's malloc thresholds, ``recording/heap.py``)."""

from __future__ import annotations

import subprocess
import sys

from explorer.recording import heap

# Six 1 MiB blocks allocated (every page touched) and freed, five times over, as a body's
# reads do: the page faults of the last four rounds, in a fresh interpreter.
_CHURN = """
import resource, sys
from explorer.recording import heap
if sys.argv[1] == "keep":
    heap.keep_freed_memory()
    heap.keep_freed_memory()  # a second call changes nothing
def round_():
    blocks = [bytearray(1 << 20) for _ in range(6)]
    del blocks
round_()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    round_()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _CHURN, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


def test_freed_blocks_are_reused_without_new_page_faults():
    if not heap._glibc():  # elsewhere keep_freed_memory does nothing: it must not fail
        heap.keep_freed_memory()
        return
    assert _faults("default") > 4 * 1024  # glibc gives the freed MiBs back, and faults them in again
    assert _faults("keep") < 256  # kept: the same pages serve every round
