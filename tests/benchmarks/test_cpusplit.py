"""benchmarks/cpusplit.py: perf's samples summed per shared object and function, shown as ms a run."""

from collections import Counter

from benchmarks.cpusplit import FREQUENCY, samples, split_table

# ``perf report -q --stdio --sort dso,sym -F sample,dso,sym`` as it printed a recorded push-many
REPORT = """\
            73  [kernel.kallsyms]                          [k] finish_task_switch.isra.0
             9  _json.cpython-311-x86_64-linux-gnu.so      [.] py_encode_basestring
           575  libpython3.11.so.1.0                       [.] _PyEval_EvalFrameDefault
            13  libpython3.11.so.1.0                       [.] gc_collect_main
             2  libpython3.11.so.1.0                       [.] gc_collect_main
             1  python3.11                                 [.] 0x00000000000a1b2c
# a comment line
            |
             --1.26%--__alloc_frozen_pages_noprof
"""


def test_samples_are_summed_per_object_and_symbol_and_callgraph_lines_are_skipped():
    found = samples(REPORT)
    assert found[("libpython3.11.so.1.0", "_PyEval_EvalFrameDefault")] == 575
    assert found[("libpython3.11.so.1.0", "gc_collect_main")] == 15
    assert found[("[kernel.kallsyms]", "finish_task_switch.isra.0")] == 73
    assert found[("python3.11", "0x00000000000a1b2c")] == 1
    assert sum(found.values()) == 575 + 15 + 73 + 9 + 1


def test_the_table_shows_ms_a_run_and_puts_what_grew_most_first():
    on = Counter({("lib", "eval"): 2 * FREQUENCY // 10, ("lib", "gc"): FREQUENCY // 100, ("k", "switch"): 50})
    off = Counter({("lib", "eval"): FREQUENCY // 10, ("k", "switch"): 50})
    table = split_table(on, off, runs=2, top=5)
    objects, functions = table.split("\n\n")
    assert "| all | 110.0 | 55.0 | +55.0 |" in objects  # 2 runs: 0.2 s + 10 ms + 10 ms of samples, halved
    assert objects.splitlines()[3] == "| lib | 105.0 | 50.0 | +55.0 |"
    assert functions.splitlines()[2] == "| lib `eval` | 100.0 | 50.0 | +50.0 |"
    assert functions.splitlines()[3] == "| lib `gc` | 5.0 | 0.0 | +5.0 |"
    assert split_table(on, off, runs=2, top=1).count("| lib `") == 1
