"""Ctrl-C during a pull: a real `python -m explorer trace pull` process, slowed by the proxy, gets SIGINT.

Expected: exit 130 within a moment (download threads stop promptly, even one
stuck before its response headers), one ``error: interrupted; ...`` line, the
trace of everything so far written and valid (outcome ``interrupted``), and no
partial file left: no ``*.part``, no ``index.json``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from explorer import trace as tracefile
from tests.infra.faults import Rule, Stall, Throttle
from tests.infra.schemas import validate_trace
from tests.reliability.conftest import BIG, interrupt_when, partial_files

EXIT_WITHIN = 2.5  # seconds from SIGINT to exit (CANCEL_GRACE is 2 s, normally it takes ~0.1 s)


def _blob_partials(layout: Path) -> list[Path]:
    return partial_files(layout / "blobs")


def _interrupt(host: str, tmp_path: Path, jobs: int, ready) -> tuple[subprocess.CompletedProcess[str], float]:
    layout = tmp_path / "layout"
    command = [sys.executable, "-m", "explorer", "trace", "pull", f"{host}/{BIG}", "-o", str(tmp_path / "t.json"),
               "--oci-layout", str(layout), "--jobs", str(jobs)]
    return interrupt_when(command, tmp_path, lambda: ready(layout))


def _check_outcome(done, took: float, tmp_path: Path):
    assert done.returncode == 130, done.stderr
    assert took < EXIT_WITHIN, took
    lines = done.stderr.splitlines()
    assert lines[0] == f"error: interrupted; the trace so far was written to {tmp_path / 't.json'}", done.stderr
    assert "Traceback" not in done.stderr
    validate_trace(tmp_path / "t.json")
    trace = tracefile.load(tmp_path / "t.json")
    assert trace.outcome.status == "interrupted"
    assert partial_files(tmp_path) == []
    assert not (tmp_path / "layout" / "index.json").exists()
    return trace


@pytest.mark.parametrize("jobs", [3, 1])
def test_sigint_during_blob_downloads(jobs, registry_anonymous, seed_big, proxies, tmp_path):
    image = seed_big(registry_anonymous)
    proxy = proxies(registry_anonymous.url)
    proxy.add(Rule(Throttle(chunk=8 * 1024, delay=0.05), method="GET", path="/blobs/", times=None))
    wanted = min(jobs, 2)
    done, took = _interrupt(proxy.host, tmp_path, jobs, lambda layout: len(_blob_partials(layout)) >= wanted)
    trace = _check_outcome(done, took, tmp_path)
    layer_hops = [ex for ex in trace.exchanges if (ex.step or "").startswith("fetch layer")]
    assert len(layer_hops) >= wanted
    assert any(ex.response is not None and ex.response.body is not None and not ex.response.body.complete
               for ex in layer_hops)
    kept = [p.name for p in (tmp_path / "layout" / "blobs" / "sha256").iterdir()]
    manifest = image.manifest()
    sizes = {layer["digest"]: layer["size"] for layer in manifest["layers"]}
    sizes[manifest["config"]["digest"]] = manifest["config"]["size"]  # stored as soon as it arrives
    sizes[image.digest] = len(image.manifests[image.digest])  # the manifest's blob, stored with the config
    sizes = {digest.split(":", 1)[1]: size for digest, size in sizes.items()}
    for name in kept:  # only complete, verified blobs may stay
        assert name in sizes
        assert (tmp_path / "layout" / "blobs" / "sha256" / name).stat().st_size == sizes[name]


def test_sigint_while_a_thread_waits_for_response_headers(registry_anonymous, seed_big, proxies, tmp_path):
    image = seed_big(registry_anonymous)
    layers = image.manifest()["layers"]
    proxy = proxies(registry_anonymous.url)
    proxy.add(Rule(Stall(30), method="GET", path=layers[2]["digest"]))  # stuck before its headers
    proxy.add(Rule(Throttle(chunk=8 * 1024, delay=0.05), method="GET", path=layers[0]["digest"]))

    def stuck(layout: Path) -> bool:
        return bool(proxy.requests("GET", layers[2]["digest"])) and bool(_blob_partials(layout))

    done, took = _interrupt(proxy.host, tmp_path, 3, stuck)
    trace = _check_outcome(done, took, tmp_path)
    waiting = [ex for ex in trace.exchanges if ex.request.url.endswith(layers[2]["digest"])]
    assert waiting and waiting[0].response is None and "interrupted" in waiting[0].error
