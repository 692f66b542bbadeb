"""The canary harness: every output regexplore makes of a trace, searched for every secret in every encoding.

Three parts, used by the ``test_canary_*.py`` modules and ``test_secrets.py``:

- ``Canaries``: named secret values. Each is looked for in every encoding an output
  may give it (``encodings``): raw, percent-encoded (``quote`` with and without
  ``/`` safe, ``quote_plus``), JSON-escaped (ASCII and UTF-8, and Jinja2's
  HTML-safe ``tojson``), HTML-escaped, each dot-separated part of a JWT, the
  first and last ``CUT`` characters of each of those (all a shortened message
  or a capped body keeps), and its letters and digits alone. ``add_basic`` adds
  base64 of ``user:password``.
- ``Outputs``: labelled texts (files, a command's stdout and stderr). Each is also
  searched as our formats would have escaped a secret: HTML entities, Mermaid
  ``#NN;`` codes, Markdown/JSON ``\\`` escapes and PlantUML ``~`` escapes are
  undone, swimlanes.io links are decoded, and a letters-and-digits-only view
  catches any escaping that only adds punctuation.
- ``trace_outputs(trace, workdir)``: the trace file; every renderer of
  ``explorer.render.FORMATS`` in-process, with the default and the widest
  options; and through the CLI (``run_cli``) ``render`` of every format to a
  file and ``--link``, ``export`` of every export format to a file,
  ``explain`` (to stdout and ``--full`` to a file) and ``show``, with their
  stdout and stderr (``cli=`` chooses how many CLI commands).

``assert_clean(canaries, outputs)`` fails naming each canary, encoding and
output (and view) where one was found, with a little context.
"""

from __future__ import annotations

import base64
import html
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

from explorer import render
from explorer.annotate import annotate
from explorer import trace as tracefile
from tests.infra.runner import Run, run_cli

__all__ = ["Canaries", "Leak", "Outputs", "assert_clean", "encodings", "find_leaks", "trace_outputs"]

MIN_CANARY = 8  # shorter values would be found by chance; every canary here is longer
MIN_SKELETON = 16  # letters and digits needed before the punctuation-blind view is searched
CUT = 12  # a secret's first or last this many characters count as a leak (a shortened message, a capped body)

#: how ``trace_outputs`` calls every renderer in-process
OPTION_SETS: dict[str, render.RenderOptions] = {
    "defaults": render.RenderOptions(),
    "full, timing, markdown, link": render.RenderOptions(full=True, timing=True, markdown=True, link=True),
}


def _html_safe_json(value: str) -> str:
    """What Jinja2's ``tojson`` writes inside a string (the HTML viewer's embedded details)."""
    text = json.dumps(value)[1:-1]
    for ch, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(ch, code)
    return text


_NOT_ALNUM = re.compile(r"[\W_]+")


def skeleton(text: str) -> str:
    """Letters and digits only."""
    return _NOT_ALNUM.sub("", text)


def encodings(value: str) -> dict[str, str]:
    """Every form ``value`` may take in an output, by name (distinct forms only, raw first)."""
    forms = {
        "raw": value,
        "percent-encoded": quote(value, safe=""),
        "percent-encoded (path)": quote(value),
        "form-encoded": quote_plus(value),
        "JSON-escaped": json.dumps(value)[1:-1],
        "JSON-escaped (UTF-8)": json.dumps(value, ensure_ascii=False)[1:-1],
        "JSON for HTML": _html_safe_json(value),
        "HTML-escaped": html.escape(value),
    }
    parts = value.split(".")
    if len(parts) == 3 and all(len(part) >= MIN_CANARY for part in parts):
        forms.update({f"JWT part {i}": part for i, part in enumerate(parts, start=1)})
    for name, form in list(forms.items()):  # what is left of it when a message or a body was cut short
        if len(form) > CUT:
            forms[f"{name}, first {CUT} characters"] = form[:CUT]
            forms[f"{name}, last {CUT} characters"] = form[-CUT:]
    distinct: dict[str, str] = {}
    for name, form in forms.items():
        if form not in distinct.values():
            distinct[name] = form
    return distinct


@dataclass
class Canaries:
    """Secret values by name; ``needles()`` gives every (name, encoding, text) to look for."""

    values: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: str | None) -> None:
        if not value:
            return
        assert len(value) >= MIN_CANARY, f"canary {name!r} is too short to be looked for: {value!r}"
        if value in self.values.values():
            return
        unique, n = name, 2
        while unique in self.values:  # two sources may name theirs alike ("_state #0"): keep both
            unique, n = f"{name} ({n})", n + 1
        self.values[unique] = value

    def add_basic(self, name: str, username: str, password: str) -> None:
        """The password and the Basic credential (base64 of ``user:password``, as in a Docker config too)."""
        self.add(name, password)
        self.add(f"{name} as Basic", base64.b64encode(f"{username}:{password}".encode()).decode("ascii"))

    def update(self, other: Canaries) -> None:
        for name, value in other.values.items():
            self.add(name, value)

    def needles(self) -> Iterator[tuple[str, str, str]]:
        for name, value in self.values.items():
            for encoding, form in encodings(value).items():
                yield name, encoding, form

    def skeletons(self) -> Iterator[tuple[str, str]]:
        for name, value in self.values.items():
            bare = skeleton(value)
            if len(bare) >= MIN_SKELETON:
                yield name, bare

    def found_in(self, text: str) -> list[str]:
        """Names of the canaries in ``text`` in any encoding (for quick checks of one string)."""
        outputs = Outputs()
        outputs.add("text", text)
        return sorted({leak.canary for leak in find_leaks(self, outputs)})

    def __len__(self) -> int:
        return len(self.values)


_SWIMLANES_LINK = re.compile(r"https://swimlanes\.io/#([A-Za-z0-9+/=]+)")
_UNESCAPES = {
    "HTML entities decoded": html.unescape,
    "Mermaid #NN; codes decoded": lambda text: re.sub(
        r"#(\d{1,7});", lambda m: chr(int(m.group(1))) if int(m.group(1)) < 0x110000 else m.group(0), text),
    "backslash escapes undone": lambda text: re.sub(r"\\(.)", r"\1", text),
    "PlantUML ~ escapes undone": lambda text: re.sub(r"~(.)", r"\1", text),
}


def _swimlanes_links(text: str) -> list[str]:
    """The diagram texts inside swimlanes.io links (base64 of raw DEFLATE), decoded independently of the renderer."""
    decoded = []
    for match in _SWIMLANES_LINK.finditer(text):
        try:
            decoded.append(zlib.decompress(base64.b64decode(match.group(1)), -15).decode("utf-8"))
        except (ValueError, zlib.error):
            continue
    return decoded


@dataclass
class Outputs:
    """Labelled output texts; identical texts are kept once (first label wins)."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, label: str, text: str) -> None:
        if text and text not in self.texts.values():
            self.texts[label] = text
        for i, diagram in enumerate(_swimlanes_links(text), start=1):
            self.add(f"{label}, swimlanes.io link {i} decoded", diagram)

    def add_run(self, label: str, run: Run) -> None:
        self.add(f"{label}: stdout", run.stdout)
        self.add(f"{label}: stderr", run.stderr)

    def add_file(self, path: Path, label: str | None = None) -> None:
        self.add(label or f"file {path.name}", path.read_bytes().decode("utf-8", errors="replace"))

    def add_tree(self, root: Path, prefix: str = "") -> None:
        """Every file below ``root`` (what a command wrote, stray files included)."""
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            self.add_file(path, f"{prefix}file {path.relative_to(root)}")

    def update(self, other: Outputs) -> None:
        for label, text in other.texts.items():
            self.add(label, text)

    def views(self) -> Iterator[tuple[str, str, str]]:
        """(label, view name, text): each output as written and undone from each escaping that changes it."""
        for label, text in self.texts.items():
            yield label, "as written", text
            for view, undo in _UNESCAPES.items():
                undone = undo(text)
                if undone != text:
                    yield label, view, undone


@dataclass(frozen=True)
class Leak:
    canary: str
    encoding: str
    output: str
    view: str
    context: str

    def __str__(self) -> str:
        where = self.output if self.view == "as written" else f"{self.output} [{self.view}]"
        return f"{self.canary} ({self.encoding}) in {where}: …{self.context}…"


def _context(text: str, at: int, length: int) -> str:
    before = text[max(0, at - 40):at]
    after = text[at + length:at + length + 40]
    return " ".join(f"{before}⟦{text[at:at + length]}⟧{after}".split())


def _locate(views: list[tuple[str, str, str]], form: str) -> Iterator[tuple[str, str, str, int]]:
    for label, view, text in views:
        at = text.find(form)
        if at >= 0:
            yield label, view, text, at


def find_leaks(canaries: Canaries, outputs: Outputs) -> list[Leak]:
    """Every (canary, encoding, output, view) found; each form is searched once in all views joined."""
    views = list(outputs.views())
    flat = [(label, "letters and digits only", skeleton(text)) for label, text in outputs.texts.items()]
    joined = {"views": "\0".join(text for *_, text in views), "flat": "\0".join(text for *_, text in flat)}
    searches: dict[tuple[str, str], tuple[str, str]] = {}  # (where, form) -> (canary, encoding)
    for name, encoding, form in canaries.needles():
        searches.setdefault(("views", form), (name, encoding))
    for name, form in canaries.skeletons():
        searches.setdefault(("flat", form), (name, "letters and digits"))
    leaks: dict[tuple[str, str], Leak] = {}  # the first way each canary was found in each output
    for (where, form), (name, encoding) in searches.items():
        if form in joined[where]:
            for label, view, text, at in _locate(views if where == "views" else flat, form):
                leaks.setdefault((name, label), Leak(name, encoding, label, view, _context(text, at, len(form))))
    return list(leaks.values())


def assert_clean(canaries: Canaries, outputs: Outputs) -> None:
    """Fail listing every (canary, encoding, output) found; at least one canary and output must be given."""
    assert len(canaries) and outputs.texts, "nothing to search: the canary test would prove nothing"
    leaks = find_leaks(canaries, outputs)
    assert not leaks, f"{len(leaks)} secret(s) leaked:\n" + "\n".join(f"  {leak}" for leak in leaks[:40])


# --- every output of one trace ------------------------------------------------------------------------
def _cli(outputs: Outputs, label: str, *args: str) -> Run:
    run = run_cli(*args)
    assert run.code == 0, f"regexplore {' '.join(args)} failed:\n{run.output}"
    outputs.add_run(label, run)
    return run


def trace_outputs(trace: Path, workdir: Path, *, cli: str = "all") -> Outputs:
    """The trace file and everything ``render``, ``export``, ``explain`` and ``show`` make of it.

    Every renderer runs in-process with each of ``OPTION_SETS``. Through the CLI (each
    command costs ~30 ms of Typer start-up): ``cli="all"`` runs ``render`` and
    ``export`` of every format to a file, ``render swimlanes --link``, ``explain``
    (stdout, and ``--full`` to a file) and ``show``; ``cli="terminal"`` only the
    commands whose output no renderer makes alone (``show``, ``explain``,
    ``render swimlanes --link``); ``cli="none"`` none. Files the CLI writes go to
    ``workdir`` (created; it should be empty) and are all read back.
    """
    assert cli in ("all", "terminal", "none"), cli
    workdir.mkdir(parents=True, exist_ok=True)
    outputs = Outputs()
    outputs.add_file(trace, f"trace file {trace.name}")
    annotated = annotate(tracefile.load(trace))
    for name in render.names():
        renderer = render.get(name)
        for label, options in OPTION_SETS.items():
            outputs.add(f"{name} in-process ({label})", renderer.render(annotated, options))
    if cli == "none":
        return outputs
    _cli(outputs, "regexplore render swimlanes --link", "render", "swimlanes", str(trace), "--link", "--full")
    _cli(outputs, "regexplore explain", "explain", str(trace))
    _cli(outputs, "regexplore show", "show", str(trace))
    if cli == "all":
        for name in render.names():
            renderer = render.get(name)
            _cli(outputs, f"regexplore render {name}", "render", name, str(trace),
                 "-o", str(workdir / f"render-{name}{renderer.extension}"))
            if renderer.kind == "export":
                _cli(outputs, f"regexplore export {name}", "export", name, str(trace),
                     "-o", str(workdir / f"export-{name}{renderer.extension}"))
        _cli(outputs, "regexplore explain --full", "explain", str(trace), "--full", "-o", str(workdir / "explain.md"))
        outputs.add_tree(workdir, "written ")
    return outputs
