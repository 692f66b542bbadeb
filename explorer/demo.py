"""``regexplore demo``: the whole protocol in one offline command, on the built-in registry.

It starts the built-in registry with token auth and CDN-style redirects on free
loopback ports, then traces, each into its own trace file:

1. ``push-first``   the sample two-platform image (every blob uploaded)
2. ``push-second``  the same image again (every blob already present: skipped)
3. ``pull``         one platform of it (token dance, index → manifest, 307s to storage)
4. ``copy``         to a second repository of the same registry (cross-repository mounts)
5. ``tags``         the tag list

and writes every render and export of every trace next to it, the registry API
as a browsable OpenAPI page (``api.html``, the demo's exchanges as examples), plus
an ``index.html`` gallery that links them all.

Rule: orchestration only. Each step calls the library (``explorer.operations``)
exactly as the matching ``regexplore trace …`` command does (the traces record
that command line), so everything here can be reproduced by hand against
``regexplore serve``.
"""

from __future__ import annotations

import platform as host
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from explorer import operations, render
from explorer.annotate import AnnotatedTrace, annotate
from explorer.client.credentials import Credentials
from explorer.operations import ConnectionOptions, Traced
from explorer.flows.progress import NullProgress, Progress
from explorer.protocol import mediatypes, reference
from explorer.protocol.mediatypes import Platform
from explorer.oci.sample import build_sample
from explorer.sandbox import Sandbox
from explorer.trace import Trace

__all__ = ["DemoResult", "DemoStep", "run_demo"]

SOURCE_REPO = "demo/hello"
COPY_REPO = "demo/copy"
TAG = "1"
PLATFORMS = (Platform("linux", "amd64"), Platform("linux", "arm64", "v8"))


@dataclass
class DemoStep:
    name: str  # file stem: "push-first"
    title: str  # what it shows
    command: list[str]  # the equivalent regexplore command
    trace: Trace | None = None
    outputs: dict[str, Path] = field(default_factory=dict)  # format -> file


@dataclass
class DemoResult:
    outdir: Path
    steps: list[DemoStep]
    index: Path
    seconds: float


def run_demo(
    outdir: Path,
    *,
    echo: Callable[[str], None] = print,
    progress: Progress | None = None,
) -> DemoResult:
    """Run the five traced operations against a fresh built-in registry and write everything to ``outdir``."""
    started = time.perf_counter()
    progress = progress or NullProgress()
    outdir.mkdir(parents=True, exist_ok=True)
    wanted = mediatypes.host_platform(host.system(), host.machine())
    if wanted not in PLATFORMS:
        wanted = PLATFORMS[0]
    image = build_sample(list(PLATFORMS))
    with Sandbox(auth="token", redirect=True) as sandbox:
        registry = sandbox.registry_host
        src = str(reference.parse(f"{registry}/{SOURCE_REPO}:{TAG}"))
        dst = str(reference.parse(f"{registry}/{COPY_REPO}:{TAG}"))
        repository = f"{registry}/{SOURCE_REPO}"
        creds = Credentials(sandbox.username, sandbox.password, source="the built-in registry")
        # plain http: the built-in registry speaks plain http; no https probe in the demo's diagrams
        options = ConnectionOptions(plain_http=True)
        login = ["--plain-http", "--username", sandbox.username, "--password-stdin"]
        echo(f"built-in registry on {sandbox.registry_url} (token auth at {sandbox.token_url}, "
             f"blob storage at {sandbox.cdn_url})")
        sample_args = ["--sample", "--sample-platforms", ",".join(str(p) for p in PLATFORMS)]
        given = {"credentials": creds, "options": options}
        moving = {**given, "progress": progress}
        # each step: what it shows, the equivalent command (its trace records it), the library call
        plan: list[tuple[DemoStep, Callable[..., Traced]]] = [
            (DemoStep("push-first", "First push of a two-platform image: every blob is uploaded",
                      ["trace", "push", *sample_args, src, *login]), partial(operations.push, image, src, **moving)),
            (DemoStep("push-second", "The same push again: every blob already present, nothing uploaded",
                      ["trace", "push", *sample_args, src, *login]), partial(operations.push, image, src, **moving)),
            (DemoStep("pull", f"Pull of {wanted}: token dance, index, manifest, blobs through 307 redirects",
                      ["trace", "pull", src, "--platform", str(wanted), *login]),
             partial(operations.pull, src, platform=wanted, **moving)),
            (DemoStep("copy", "Copy to another repository of the same registry: blobs are mounted, not sent",
                      ["trace", "copy", src, dst, "--all-platforms", "--plain-http"]),
             partial(operations.copy, src, dst, all_platforms=True, **moving)),
            (DemoStep("tags", "The repository's tags", ["trace", "tags", repository, *login]),
             partial(operations.tags, repository, **given)),
        ]
        for number, (step, action) in enumerate(plan, start=1):
            echo(f"[{number}/{len(plan)}] {step.title}")
            progress.message(step.name)
            step.outputs["trace"] = outdir / f"{step.name}.trace.json"
            step.trace = action(trace_file=step.outputs["trace"], command=step.command).trace
    steps = [step for step, _ in plan]
    echo(f"rendering {len(steps)} traces in {len(render.names())} formats")
    annotated: dict[str, AnnotatedTrace] = {}
    for step in steps:
        assert step.trace is not None
        annotated[step.name] = annotate(step.trace)  # once per trace, for every format and the index
        for name in render.names():
            written = operations.render(annotated[step.name], name,
                                        outdir / f"{step.name}{render.get(name).extension}").file
            if written is not None:
                step.outputs[name] = written
    _write_openapi(outdir, steps)
    index = _write_index(outdir, steps, annotated)
    return DemoResult(outdir, steps, index, time.perf_counter() - started)


API_PAGE = "api.html"


def _write_openapi(outdir: Path, steps: list[DemoStep]) -> Path:
    """``api.html``: the registry API as OpenAPI, browsable offline, the demo's exchanges as examples."""
    from explorer import openapi

    document = openapi.build([(step.name, step.trace) for step in steps if step.trace is not None])
    written = render.write_output(openapi.dumps(document, "html"), outdir / API_PAGE)
    assert written is not None
    return written


def _write_index(outdir: Path, steps: list[DemoStep], annotated: dict[str, AnnotatedTrace]) -> Path:
    from explorer.render.base import Templates

    rows = []
    for step in steps:
        summary = annotated[step.name].summary
        rows.append({
            "name": step.name,
            "title": step.title,
            "command": "regexplore " + " ".join(step.command),
            "summary": summary.line,
            "outputs": [(fmt, path.name) for fmt, path in step.outputs.items()],
            "viewer": step.outputs.get("html", step.outputs["trace"]).name,
        })
    page = Templates().render("demo-index.html.j2", steps=rows, api=API_PAGE)
    written = render.write_output(page, outdir / "index.html")
    assert written is not None
    return written
