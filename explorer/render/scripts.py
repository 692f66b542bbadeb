"""The view model of the two reproduce-the-trace scripts (``curl`` and ``python``).

Rule 1: pure.
Rule 2: the thinking is here, once for both languages. Each template only spells the
calls in its language, quoting every value with its own filter (``sh`` or ``py``) and
every comment with ``comment``.

Scripts follow the protocol, not the recorded digests (issue 12). A trace of a

- **pull** becomes: ping, fetch the manifest ``REFERENCE`` names, pick the ``PLATFORM``
  entry of an index by its ``platform`` fields, then download the config and layers THAT
  manifest lists (so ``REPOSITORY=other REFERENCE=tag`` pulls the other image);
- **push** becomes, for each manifest the trace pushed (its recorded text): HEAD every
  blob it lists, upload from ``SOURCE`` only what is missing (in ``CHUNK_SIZE`` PATCHes),
  then PUT the manifest unless the registry already has it (a second run uploads nothing);
- **copy** becomes pull-tag-push between ``SOURCE_*`` and ``DEST_*`` parameters, blob by
  blob, each side with its own credentials, the manifest bytes copied unchanged;
- anything else (tags, catalog, referrers, deletes, …) is a list of **steps**, one per
  planned action (``replay.plan``), with the recorded values as literals.

Every value a script builds a URL or path from is checked by ``script_values`` first:
a hostile trace is refused at export time (exit 2), never turned into code.
Credentials are never values: the scripts read ``<SIDE>_USERNAME``/``<SIDE>_PASSWORD``
(``REGISTRY``, ``SOURCE``, ``DEST``) from the environment at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from explorer.annotate import AnnotatedTrace

from explorer.protocol import digest as digests, endpoints, mediatypes, urls
from explorer.protocol.quoting import quote
from explorer.render import script_values as check
from explorer.render.base import RenderOptions, Templates
from explorer.render.replay import Action, base_url, digests_in_manifest, manifest_text, parameters, plan

__all__ = ["Parameter", "PushedManifest", "Script", "Step", "Value", "build", "render"]

DEFAULT_PLATFORM = "linux/amd64"


@dataclass(frozen=True)
class Value:
    """A script value: ``name`` when it is a parameter (an environment variable), else ``literal``."""

    name: str | None = None
    literal: str | int | None = None


@dataclass(frozen=True)
class Parameter:
    name: str  # REGISTRY, REPOSITORY, REFERENCE, SOURCE_REGISTRY, PLATFORM, CHUNK_SIZE …
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


@dataclass(frozen=True)
class PushedManifest:
    """A manifest a push script sends: its text as recorded (None: read it from SOURCE by digest)."""

    reference: Value  # REFERENCE, or a digest literal (an index's children)
    media_type: str
    digest: str
    body: str | None
    comment: str


@dataclass
class Script:
    kind: Literal["pull", "push", "copy", "steps"]
    title: str
    summary: str
    operation: str
    created: str
    parameters: list[Parameter]
    accept: str  # the Accept header manifest requests send (the scripts' ACCEPT constant)
    steps: list[Step] = field(default_factory=list)  # kind "steps"
    manifests: list[PushedManifest] = field(default_factory=list)  # kind "push"
    skipped: list[str] = field(default_factory=list)  # what the plan could not reproduce (one line each)

    @property
    def needs_source(self) -> bool:
        """The script uploads blobs read from SOURCE (an OCI image layout)."""
        return self.kind == "push" or any(st.call in ("push_blob", "mount_blob") for st in self.steps)

    @property
    def copies(self) -> bool:  # steps that download then upload: SOURCE defaults to OUT
        return self.kind == "steps" and self.needs_source and any(st.call == "get_blob" for st in self.steps)


def _repository_param(var: str) -> str:
    return "REPOSITORY" if var == "repository" else "REPOSITORY_" + var.removeprefix("repository")


def _registry_param(var: str) -> str:
    return "REGISTRY" if var == "registry" else "REGISTRY_" + var.removeprefix("registry")


def _kind(operation: str | None, actions: list[Action]) -> str:
    gets = any(a.kind == "manifest" and a.method == "GET" for a in actions)
    blobs = any(a.kind == "blob" and a.method == "GET" for a in actions)
    pushes = any(a.kind == "push-manifest" for a in actions)
    if operation is None:
        operation = "copy" if pushes and blobs else "push" if pushes else "pull" if gets and blobs else None
    if operation == "pull" and gets and not pushes:
        return "pull"
    if operation == "push" and pushes:
        return "push"
    if operation == "copy" and pushes and gets:
        return "copy"
    return "steps"


class _Builder:
    def __init__(self, annotated: AnnotatedTrace) -> None:
        self.params = parameters(annotated)
        self.annotated = annotated
        self.actions = plan(annotated)
        self.check_actions()
        accepts = [a.accept for a in self.actions if a.kind == "manifest" and a.accept]
        self.accept = check.header_value(
            "Accept", max(set(accepts), key=accepts.count) if accepts else mediatypes.accept_header())

    def check_actions(self) -> None:
        """Refuse (exit 2) a trace whose protocol values a script would build URLs or paths from.

        Every registry host must be a host; a registry request the endpoint table cannot read (a tag,
        repository or digest outside the grammar makes its path unreadable) is refused too,
        rather than silently left out of the script.
        """
        for a in self.annotated.exchanges:
            if not a.participant.role.startswith("Registry"):
                continue  # scripts never repeat requests to other hosts: their URLs stay comments at most
            url = check.request_url(a.exchange.request.url)
            check.registry_url(base_url(url))
            if endpoints.classify(a.exchange.request.method, url) is None:
                raise check.UnsafeTraceValue(f"cannot export a script: the trace's registry request "
                                             f"{quote(urls.split(url).path)} is not a registry API path "
                                             "(a name, tag or digest outside the protocol's grammar)")
        for a in self.actions:
            for name in (a.repository, a.source):
                if name:
                    check.repository(name)
            if a.reference:
                check.tag_or_digest(a.reference)
            if a.digest and a.kind not in ("manifest", "push-manifest"):  # those are what a registry said
                check.digest(a.digest)
            if a.query:
                check.query(a.query)
            if a.media_type:
                check.header_value("Content-Type", a.media_type)

    # --- pull, push and copy: the protocol's flow, parameterised -------------------------------

    def first(self, kind: str, method: str | None = None) -> Action:
        return next(a for a in self.actions if a.kind == kind and (method is None or a.method == method))

    def platform(self) -> str:
        """The platform the trace picked from an index ("all" when it pushed an index), else the default."""
        if any(a.kind == "push-manifest" and mediatypes.is_index(a.media_type) for a in self.actions):
            return "all"
        fetched = {a.reference for a in self.actions if a.kind == "manifest"}
        for ex in self.annotated.trace.exchanges:
            text, _ = manifest_text(ex)
            data = check.json_object(text)
            for entry in data.get("manifests") or [] if data else []:
                picked = mediatypes.platform_of(entry) if isinstance(entry, dict) else None
                if picked is not None and entry.get("digest") in fetched:
                    return str(check.platform(str(picked)))
        return DEFAULT_PLATFORM

    def pull(self) -> list[Parameter]:
        got = self.first("manifest", "GET")
        return [Parameter("REGISTRY", got.registry, "registry base URL"),
                Parameter("REPOSITORY", got.repository or "", "repository"),
                Parameter("REFERENCE", got.reference or "", "the tag (or digest) to pull"),
                Parameter("PLATFORM", self.platform(), "os/arch[/variant] picked from an index")]

    def push(self) -> tuple[list[Parameter], list[PushedManifest]]:
        pushed = [a for a in self.actions if a.kind == "push-manifest"]
        tagged = next((a for a in reversed(pushed) if a.reference and ":" not in a.reference), pushed[-1])
        chunks = [size for a in self.actions if a.kind == "push-blob" for size in a.chunks]
        params = [Parameter("REGISTRY", tagged.registry, "registry base URL"),
                  Parameter("REPOSITORY", tagged.repository or "", "repository pushed to"),
                  Parameter("REFERENCE", tagged.reference or "", "the tag pushed"),
                  Parameter("CHUNK_SIZE", str(max(chunks, default=0)), "bytes per PATCH; 0 = one PUT per blob")]
        manifests = []
        for a in pushed:
            reference = Value(name="REFERENCE") if a.reference == tagged.reference else Value(literal=a.reference)
            for _role, listed in digests_in_manifest(check.json_object(a.body) or {}):
                check.digest(listed)  # the script names files in SOURCE and URLs after them
            if a.body is None and (not a.digest or not digests.is_valid(a.digest)):
                self.skip(a)  # neither the text nor a digest to read it from SOURCE by
                continue
            manifests.append(PushedManifest(reference, a.media_type or mediatypes.OCI_MANIFEST,
                                            check.digest(a.digest) if a.body is None else "", a.body, self.comment(a)))
        return params, manifests

    def copy(self) -> list[Parameter]:
        got = self.first("manifest", "GET")
        pushed = [a for a in self.actions if a.kind == "push-manifest"]
        tagged = next((a for a in reversed(pushed) if a.reference and ":" not in a.reference), pushed[-1])
        return [Parameter("SOURCE_REGISTRY", got.registry, "source registry base URL"),
                Parameter("SOURCE_REPOSITORY", got.repository or "", "source repository"),
                Parameter("SOURCE_REFERENCE", got.reference or "", "source tag (or digest)"),
                Parameter("DEST_REGISTRY", tagged.registry, "destination registry base URL"),
                Parameter("DEST_REPOSITORY", tagged.repository or "", "destination repository"),
                Parameter("DEST_REFERENCE", tagged.reference or "", "destination tag"),
                Parameter("PLATFORM", self.platform(), "os/arch[/variant] picked from an index, or all")]

    # --- anything else: one step per action ----------------------------------------------------

    def registry(self, url: str) -> Value:
        return Value(name=_registry_param(self.params.registries.get(url, "registry")))

    def repository(self, name: str | None) -> Value:
        var = self.params.repositories.get(name or "")
        return Value(name=_repository_param(var)) if var else Value(literal=name or "")

    def reference(self, ref: str | None) -> Value:
        if ref is not None and ref == self.params.reference:
            return Value(name="REFERENCE")
        return Value(literal=ref or "")

    def step_parameters(self) -> list[Parameter]:
        p = self.params
        out = [Parameter(_registry_param(var), url, "registry base URL") for url, var in p.registries.items()]
        out += [Parameter(_repository_param(var), repo, "repository") for repo, var in p.repositories.items()]
        if p.reference:
            out.append(Parameter("REFERENCE", p.reference, "the tag to resolve"))
        return out

    @staticmethod
    def comment(action: Action) -> str:
        where = f"step {action.step!r}" if action.step else "no step"
        numbers = action.exchanges
        span = f"exchange {numbers[0]}" if len(numbers) == 1 else f"exchanges {', '.join(map(str, numbers))}"
        return f"{where}, {span}"

    def skip(self, action: Action) -> None:
        self.skipped.append(f"{action.kind} {action.path} ({', '.join(map(str, action.exchanges))}): "
                            "the trace lacks what is needed to repeat it")

    def step(self, action: Action) -> Step | None:
        comment = self.comment(action)
        base = {"registry": self.registry(action.registry)}
        repo = self.repository(action.repository)
        kind = action.kind
        if kind == "ping":
            return Step("ping", base, comment)
        if kind == "manifest":
            args = {**base, "repository": repo, "reference": self.reference(action.reference),
                    "accept": Value(name="ACCEPT") if action.accept in (None, self.accept) else
                    Value(literal=check.header_value("Accept", action.accept))}
            return Step("get_manifest" if action.method == "GET" else "head_manifest", args, comment)
        if kind == "blob":
            args = {**base, "repository": repo, "digest": Value(literal=action.digest or ""),
                    "size": Value(literal=action.size if action.size is not None else -1)}
            return Step("get_blob" if action.method == "GET" else "head_blob", args, comment)
        if kind == "push-blob" and action.digest:
            args = {**base, "repository": repo, "digest": Value(literal=action.digest)}
            return Step("push_blob", args, comment, chunks=list(action.chunks))
        if kind == "mount" and action.digest:
            args = {**base, "repository": repo, "digest": Value(literal=action.digest),
                    "source": self.repository(action.source)}
            return Step("mount_blob", args, comment)
        if kind == "push-manifest" and action.body is not None:
            args = {**base, "repository": repo, "reference": self.reference(action.reference),
                    "media_type": Value(literal=action.media_type or mediatypes.OCI_MANIFEST)}
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
        self.skipped: list[str] = []
        s = self.annotated.summary
        kind = _kind(self.annotated.trace.operation, self.actions)
        script = Script(kind=kind, title=s.title, summary=s.line, operation=s.operation or "trace",
                        created=self.annotated.trace.created, parameters=[], accept=self.accept)
        if kind == "pull":
            script.parameters = self.pull()
        elif kind == "push":
            script.parameters, script.manifests = self.push()
        elif kind == "copy":
            script.parameters = self.copy()
        else:
            script.parameters = self.step_parameters()
            for action in self.actions:
                step = self.step(action)
                if step is None:
                    self.skip(action)
                else:
                    script.steps.append(step)
        script.skipped = self.skipped
        return script


def build(annotated: AnnotatedTrace) -> Script:
    """The script view of a trace: its parameters, and its flow (pull, push, copy) or steps."""
    return _Builder(annotated).build()


def render(annotated: AnnotatedTrace, options: RenderOptions, templates: Templates, template: str) -> str:
    """The trace as the script ``template`` spells (``curl.sh.j2`` or ``python.py.j2``), with the
    filters of that language's ``templates``."""
    script = build(annotated)
    if options.title:
        script.title = options.title
    return templates.render(template, script=script)
