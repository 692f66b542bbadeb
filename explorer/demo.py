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

Rule: orchestration only. Each step is exactly what the matching ``regexplore
trace …`` command does (the traces record that command line), so everything
here can be reproduced by hand against ``regexplore serve``.
"""

from __future__ import annotations

import platform as host
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from explorer import render
from explorer.credentials import Credentials
from explorer.flows.copy import copy_image
from explorer.flows.images import SampleSource, plan_push
from explorer.flows.listing import list_tags
from explorer.flows.pull import pull
from explorer.flows.push import push_plans
from explorer.progress import NullProgress, Progress
from explorer.protocol import mediatypes, reference
from explorer.protocol.mediatypes import Platform
from explorer.sample import build_sample
from explorer.sandbox import Sandbox
from explorer.session import ClientOptions, TraceSession
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
    image = SampleSource(build_sample(list(PLATFORMS)))
    with Sandbox(auth="token", redirect=True) as sandbox:
        registry = sandbox.registry_host
        src = reference.parse(f"{registry}/{SOURCE_REPO}:{TAG}")
        dst = reference.parse(f"{registry}/{COPY_REPO}:{TAG}")
        creds = Credentials(sandbox.username, sandbox.password, source="the built-in registry")
        # --plain-http: the built-in registry speaks plain http; no https probe in the demo's diagrams
        login = ["--plain-http", "--username", sandbox.username, "--password-stdin"]
        echo(f"built-in registry on {sandbox.registry_url} (token auth at {sandbox.token_url}, "
             f"blob storage at {sandbox.cdn_url})")

        def push(session: TraceSession) -> None:
            push_plans(session.client(registry), src, image, plan_push(image, TAG), progress=progress)

        def pull_one(session: TraceSession) -> None:
            pull(session.client(registry), src, platform=wanted, progress=progress)

        def copy(session: TraceSession) -> None:
            client = session.client(registry)
            copy_image(client, src, client, dst, platform=wanted, all_platforms=True, progress=progress)

        def tags(session: TraceSession) -> None:
            list_tags(session.client(registry), SOURCE_REPO, context=f"{registry}/{SOURCE_REPO}")

        sample_args = ["--sample", "--sample-platforms", ",".join(str(p) for p in PLATFORMS)]
        plan: list[tuple[DemoStep, Callable[[TraceSession], None]]] = [
            (DemoStep("push-first", "First push of a two-platform image: every blob is uploaded",
                      ["trace", "push", *sample_args, str(src), *login]), push),
            (DemoStep("push-second", "The same push again: every blob already present, nothing uploaded",
                      ["trace", "push", *sample_args, str(src), *login]), push),
            (DemoStep("pull", f"Pull of {wanted}: token dance, index, manifest, blobs through 307 redirects",
                      ["trace", "pull", str(src), "--platform", str(wanted), *login]), pull_one),
            (DemoStep("copy", "Copy to another repository of the same registry: blobs are mounted, not sent",
                      ["trace", "copy", str(src), str(dst), "--all-platforms", "--plain-http"]), copy),
            (DemoStep("tags", "The repository's tags",
                      ["trace", "tags", f"{registry}/{SOURCE_REPO}", *login]), tags),
        ]
        for number, (step, action) in enumerate(plan, start=1):
            echo(f"[{number}/{len(plan)}] {step.title}")
            progress.message(step.name)
            session = TraceSession(
                step.command[1], step.command[-1] if step.name == "tags" else str(src),
                outdir / f"{step.name}.trace.json",
                argv=step.command,
                options=ClientOptions(credentials=creds, plain_http=True),
            )
            with session.running():
                action(session)
            step.trace = session.trace
            step.outputs["trace"] = outdir / f"{step.name}.trace.json"
    steps = [step for step, _ in plan]
    echo(f"rendering {len(steps)} traces in {len(render.names())} formats")
    for step in steps:
        assert step.trace is not None
        for name in render.names():
            renderer = render.get(name)
            path = outdir / f"{step.name}{renderer.extension}"
            written = render.write_output(renderer.render(step.trace, render.RenderOptions()), path)
            if written is not None:
                step.outputs[name] = written
    _write_openapi(outdir, steps)
    index = _write_index(outdir, steps)
    return DemoResult(outdir, steps, index, time.perf_counter() - started)


API_PAGE = "api.html"


def _write_openapi(outdir: Path, steps: list[DemoStep]) -> Path:
    """``api.html``: the registry API as OpenAPI, browsable offline, the demo's exchanges as examples."""
    from explorer import openapi

    document = openapi.build([(step.name, step.trace) for step in steps if step.trace is not None])
    written = render.write_output(openapi.dumps(document, "html"), outdir / API_PAGE)
    assert written is not None
    return written


def _write_index(outdir: Path, steps: list[DemoStep]) -> Path:
    from explorer.annotate import annotate
    from explorer.render.base import render_template

    rows = []
    for step in steps:
        assert step.trace is not None
        summary = annotate(step.trace).summary
        rows.append({
            "name": step.name,
            "title": step.title,
            "command": "regexplore " + " ".join(step.command),
            "summary": summary.line,
            "outputs": [(fmt, path.name) for fmt, path in step.outputs.items()],
            "viewer": step.outputs.get("html", step.outputs["trace"]).name,
        })
    page = render_template("demo-index.html.j2", steps=rows, api=API_PAGE)
    written = render.write_output(page, outdir / "index.html")
    assert written is not None
    return written
