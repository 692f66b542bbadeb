"""The view model of the two reproduce-the-trace scripts (``curl`` and ``python``).

Rule 1: pure; imports ``explorer.annotate``, ``explorer.render.replay`` and the standard library.
Rule 2: the thinking is here, once for both languages: which values become
parameters (environment variables with the trace's values as defaults), what
each step calls, and the comment above it. Each template only spells the calls
in its language, quoting every value with its own filter (``sh`` or ``py``).

A value is a :class:`Value`: either a parameter (``REPOSITORY``) or a literal
(a digest, a size). Parameters are the registry base URLs (``REGISTRY``,
``REGISTRY_2``), repositories (``REPOSITORY``, ``REPOSITORY_2``) and the tag the
trace resolved (``REFERENCE``). Credentials are never values: the scripts read
``REGISTRY_USERNAME``/``REGISTRY_PASSWORD`` from the environment at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.annotate import AnnotatedTrace, annotate
from explorer.protocol import mediatypes
from explorer.render.base import RenderOptions, render_template
from explorer.render.replay import Action, parameters, plan
from explorer.trace import Trace

__all__ = ["Parameter", "Script", "Step", "Value", "build", "render"]


@dataclass(frozen=True)
class Value:
    """A script value: ``name`` when it is a parameter (an environment variable), else ``literal``."""

    name: str | None = None
    literal: str | int | None = None


@dataclass(frozen=True)
class Parameter:
    name: str  # REGISTRY, REPOSITORY_2, REFERENCE
    default: str
    help: str


@dataclass
class Step:
    call: str  # ping | get_manifest | head_manifest | get_blob | head_blob | push_blob | mount_blob | push_manifest
    #            | get_list | delete
    args: dict[str, Value]
    comment: str  # one line: the trace step and exchanges this stands for
    body: str | None = None  # push_manifest: the manifest text as the trace sent it
    chunks: list[int] = field(default_factory=list)


@dataclass
class Script:
    title: str
    summary: str
    operation: str
    created: str
    parameters: list[Parameter]
    steps: list[Step]
    needs_source: bool  # the script uploads blobs: SOURCE must hold them
    copies: bool  # it also downloads blobs (a copy): SOURCE defaults to OUT, where they land
    accept: str  # the Accept header most manifest requests sent (the scripts' ACCEPT constant)
    verified: list[str]  # digests the trace fetched whole (what a successful run downloads again)
    skipped: list[str]  # what the plan could not reproduce (one line each)


def _repository_param(var: str) -> str:
    return "REPOSITORY" if var == "repository" else "REPOSITORY_" + var.removeprefix("repository")


def _registry_param(var: str) -> str:
    return "REGISTRY" if var == "registry" else "REGISTRY_" + var.removeprefix("registry")


class _Builder:
    def __init__(self, annotated: AnnotatedTrace) -> None:
        self.params = parameters(annotated)
        self.annotated = annotated
        self.actions = plan(annotated)
        accepts = [a.accept for a in self.actions if a.kind == "manifest" and a.accept]
        self.accept = max(set(accepts), key=accepts.count) if accepts else mediatypes.accept_header()

    def registry(self, url: str) -> Value:
        return Value(name=_registry_param(self.params.registries.get(url, "registry")))

    def repository(self, name: str | None) -> Value:
        var = self.params.repositories.get(name or "")
        return Value(name=_repository_param(var)) if var else Value(literal=name or "")

    def reference(self, ref: str | None) -> Value:
        if ref is not None and ref == self.params.reference:
            return Value(name="REFERENCE")
        return Value(literal=ref or "")

    def parameters(self) -> list[Parameter]:
        p = self.params
        out = [Parameter(_registry_param(var), url, "registry base URL") for url, var in p.registries.items()]
        out += [Parameter(_repository_param(var), repo, "repository") for repo, var in p.repositories.items()]
        if p.reference:
            out.append(Parameter("REFERENCE", p.reference, "the tag to resolve"))
        return out

    def step(self, action: Action) -> Step | None:
        where = f"step {action.step!r}" if action.step else "no step"
        numbers = action.exchanges
        span = f"exchange {numbers[0]}" if len(numbers) == 1 else f"exchanges {', '.join(map(str, numbers))}"
        comment = f"{where}, {span}"
        base = {"registry": self.registry(action.registry)}
        repo = self.repository(action.repository)
        kind = action.kind
        if kind == "ping":
            return Step("ping", base, comment)
        if kind == "manifest":
            args = {**base, "repository": repo, "reference": self.reference(action.reference),
                    "accept": Value(name="ACCEPT") if action.accept in (None, self.accept) else
                    Value(literal=action.accept),
                    "expect": Value(literal=action.digest or "")}
            return Step("get_manifest" if action.method == "GET" else "head_manifest", args, comment)
        if kind == "blob":
            args = {**base, "repository": repo, "digest": Value(literal=action.digest or ""),
                    "size": Value(literal=action.size if action.size is not None else -1)}
            return Step("get_blob" if action.method == "GET" else "head_blob", args, comment)
        if kind == "push-blob" and action.digest:
            args = {**base, "repository": repo, "digest": Value(literal=action.digest),
                    "check_first": Value(literal=int(action.check_first))}
            return Step("push_blob", args, comment, chunks=list(action.chunks))
        if kind == "mount" and action.digest:
            args = {**base, "repository": repo, "digest": Value(literal=action.digest),
                    "source": self.repository(action.source)}
            return Step("mount_blob", args, comment)
        if kind == "push-manifest" and action.body is not None:
            args = {**base, "repository": repo, "reference": self.reference(action.reference),
                    "media_type": Value(literal=action.media_type or mediatypes.OCI_MANIFEST),
                    "expect": Value(literal=action.digest or "")}
            return Step("push_manifest", args, comment, body=action.body)
        if kind in ("tags", "catalog", "referrers"):
            path = {"tags": "tags/list", "catalog": "", "referrers": f"referrers/{action.reference}"}[kind]
            args = {**base, "repository": repo if kind != "catalog" else Value(literal=""),
                    "path": Value(literal=path), "query": Value(literal=action.query)}
            return Step("get_list", args, comment)
        if kind == "delete":
            what = "manifests" if action.reference else "blobs"
            args = {**base, "repository": repo, "what": Value(literal=what),
                    "reference": self.reference(action.reference) if action.reference else
                    Value(literal=action.digest or "")}
            return Step("delete", args, comment)
        return None

    def build(self) -> Script:
        steps, skipped = [], []
        for action in self.actions:
            step = self.step(action)
            if step is None:
                skipped.append(f"{action.kind} {action.path} ({', '.join(map(str, action.exchanges))}): "
                               "the trace lacks what is needed to repeat it")
            else:
                steps.append(step)
        s = self.annotated.summary
        verified = [a.digest for a in self.actions if a.kind == "blob" and a.method == "GET" and a.digest]
        return Script(
            title=s.title, summary=s.line, operation=s.operation or "trace", created=self.annotated.trace.created,
            parameters=self.parameters(), steps=steps,
            needs_source=any(st.call in ("push_blob", "mount_blob") for st in steps),
            copies=any(st.call == "get_blob" for st in steps),
            accept=self.accept, verified=verified, skipped=skipped)


def build(trace: Trace) -> Script:
    """The script view of ``trace``: its parameters and one step per planned action."""
    return _Builder(annotate(trace)).build()



def render(trace: Trace, options: RenderOptions, template: str) -> str:
    """``trace`` as the script ``template`` spells (``curl.sh.j2`` or ``python.py.j2``)."""
    script = build(trace)
    if options.title:
        script.title = options.title
    return render_template(template, script=script)
