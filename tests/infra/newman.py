"""Run Postman collections with newman (Postman's own runner), several in ONE node process.

Rules: test infrastructure; stdlib plus ``tests.infra.tools``. Starting node and loading
newman costs about half a second, so :func:`run_collections` runs a batch through
newman's library API (``require("newman").run``) one after the other and returns one
:class:`NewmanRun` per collection: the same numbers ``newman run`` prints in its table.
Variables are passed as ``--env-var`` would pass them (environment scope).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.infra.tools import require_tool

__all__ = ["NewmanRun", "run_collections"]

_RUNNER = r"""
const newman = require("newman");
const jobs = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const results = [];
function next(i) {
  if (i === jobs.length) { process.stdout.write(JSON.stringify(results)); return; }
  const job = jobs[i];
  process.stderr.write(`running ${job.name} (${Math.round(process.uptime())} s)\n`);
  const options = {collection: job.collection, reporters: [], timeout: 60000, timeoutRequest: 15000,
                   envVar: Object.entries(job.env).map(([key, value]) => ({key, value}))};
  if (job.workingDir) Object.assign(options, {workingDir: job.workingDir, insecureFileRead: false});
  const sent = [];  // every request sent, a test's pm.sendRequest included (newman's executions merge those)
  newman.run(options, (err, summary) => {
    const run = summary ? summary.run : {stats: {}, failures: []};
    const stat = (name) => (run.stats[name] || {total: 0, failed: 0});
    results.push({
      name: job.name, error: err ? String(err) : null,
      requests: stat("requests").total, requests_failed: stat("requests").failed,
      assertions: stat("assertions").total, assertions_failed: stat("assertions").failed,
      scripts_failed: stat("testScripts").failed + stat("prerequestScripts").failed,
      failures: run.failures.map((f) => (f.source && f.source.name ? f.source.name + ": " : "") +
                                         (f.error ? (f.error.test || f.error.name) + ": " + f.error.message : "?")),
      answers: [...new Set(run.executions || [])].filter((e) => e.response)
                                                  .map((e) => [e.item.name, e.response.code]),
      sent,
    });
    next(i + 1);
  }).on("request", (err, o) => {
    if (o && o.response && o.item) sent.push([o.item.name, o.request.method, o.response.code, o.request.url.toString()]);
  });
}
next(0);
"""


@dataclass
class NewmanRun:
    name: str
    error: str | None
    requests: int
    requests_failed: int
    assertions: int
    assertions_failed: int
    scripts_failed: int
    failures: list[str]
    answers: list[tuple[str, int]] = field(default_factory=list)  # (request name, status): one per request item run
    # every request sent, one a test sends with pm.sendRequest included: (item name, method, status, URL)
    sent: list[tuple[str, str, int, str]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Everything newman counts as a failure (its exit code is non-zero when this is)."""
        return len(self.failures) + self.requests_failed + self.assertions_failed + self.scripts_failed

    def __str__(self) -> str:
        return (f"{self.name}: {self.requests} requests, {self.assertions} assertions, {self.failed} failures"
                + "".join(f"\n  - {f}" for f in self.failures))


def run_collections(jobs: list[tuple[str, Path, dict[str, str]] | tuple[str, Path, dict[str, str], Path]],
                    workdir: Path) -> dict[str, NewmanRun]:
    """Run each ``(name, collection file, variables[, working dir])`` with newman; results by name.

    A working dir is where ``mode: file`` bodies are read from (``newman run --working-dir``),
    with reads outside it refused (``--no-insecure-file-read``).
    """
    newman_bin = Path(require_tool("newman")).resolve()  # …/node_modules/newman/bin/newman.js
    modules = newman_bin.parents[2]
    node = require_tool("node")
    spec = workdir / "newman-jobs.json"
    spec.write_text(json.dumps([{"name": job[0], "collection": str(job[1]), "env": job[2],
                                 "workingDir": str(job[3]) if len(job) > 3 else None} for job in jobs]))
    try:
        done = subprocess.run([node, "-e", _RUNNER, str(spec)], capture_output=True, text=True, timeout=600,
                              env={**os.environ, "NODE_PATH": str(modules)}, cwd=workdir)
    except subprocess.TimeoutExpired as exc:  # say which collection was running
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        raise AssertionError(f"newman batch timed out after {exc.timeout} s:\n{stderr[-3000:]}") from None
    if done.returncode != 0 or not done.stdout.strip():
        raise AssertionError(f"newman batch failed ({done.returncode}):\n{done.stderr[-3000:]}")
    runs = [{**r, "answers": [tuple(a) for a in r["answers"]], "sent": [tuple(a) for a in r["sent"]]}
            for r in json.loads(done.stdout)]
    return {r["name"]: NewmanRun(**r) for r in runs}
