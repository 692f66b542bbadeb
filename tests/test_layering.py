"""The rooms of explorer/ and which may import which, enforced by reading every module's imports with ast.

Ground floor (imports nothing of ours but the ground floor): errors, atomic, units, printable, jsonfields, records
(``@record``, the data classes' decorator), collector (the garbage collector paused), protocol/ (pure, stdlib only), then intent ← trace, the data model. Beside them: oci/ (image layouts), sandbox/.
Reading a trace: annotate ← render ← openapi; check, diff, importers. None of them loads network code.
Talking to registries: recording/ (the recording transport; its redact/ is pure) ← client/ ← flows/ ←
operations ← cli/. proxy/ records with recording/ and serves with sandbox/. Nobody imports cli/.
A room may always import its own modules.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "explorer"
STDLIB = set(sys.stdlib_module_names)

BASE = ("explorer.errors", "explorer.atomic", "explorer.protocol", "explorer.units", "explorer.printable",
        "explorer.jsonfields", "explorer.records", "explorer.collector", "explorer.__init__")
MODEL = (*BASE, "explorer.intent", "explorer.trace")
REDACT = "explorer.recording.redact"
# room (dotted, longest prefix wins) -> explorer modules it may import (prefix match), third-party packages
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("explorer.errors", (), ()),
    ("explorer.atomic", (), ()),
    ("explorer.units", (), ()),
    ("explorer.printable", (), ()),
    ("explorer.jsonfields", ("explorer.errors",), ()),
    ("explorer.records", (), ()),
    ("explorer.collector", (), ()),
    ("explorer.protocol", ("explorer.errors", "explorer.records"), ()),
    ("explorer.intent", BASE, ()),
    ("explorer.trace", MODEL, ()),
    ("explorer.oci", BASE, ()),
    ("explorer.sandbox", BASE, ()),
    # reading a trace: no network code
    (REDACT, BASE, ()),
    ("explorer.annotate", (*MODEL, REDACT), ()),
    ("explorer.render", (*MODEL, REDACT, "explorer.annotate"), ("jinja2", "markupsafe", "yaml")),
    ("explorer.openapi", (*MODEL, REDACT, "explorer.render"), ("yaml", "jinja2", "markupsafe")),
    ("explorer.check", (*MODEL, REDACT, "explorer.annotate"), ()),
    ("explorer.diff", (*MODEL, "explorer.annotate"), ()),
    ("explorer.importers", (*MODEL, REDACT), ("yaml",)),
    # talking to registries
    # certifi: httpx's CA bundle, loaded by recording/tls.py before httpx is imported (the early handshakes)
    ("explorer.recording", MODEL, ("httpx", "httpcore", "certifi")),
    ("explorer.client", (*MODEL, "explorer.recording"), ("httpx",)),
    ("explorer.client.credentials", (*BASE, REDACT), ()),  # finds credentials; never talks to a registry
    ("explorer.flows", (*MODEL, "explorer.recording", "explorer.client", "explorer.oci"), ("httpx",)),
    ("explorer.flows.progress", (), ()),
    # the library's public face: typed operations over the flows and the session; no typer, no rich, no httpx
    ("explorer.operations", (*MODEL, "explorer.client", "explorer.flows", "explorer.oci", "explorer.annotate",
                             "explorer.render"), ()),
    # the recording proxy: the recorder's transport and the built-in registry's HTTP server; no flows, no client
    ("explorer.proxy", (*MODEL, "explorer.recording", "explorer.annotate", "explorer.sandbox.server"), ("httpx",)),
]
NOBODY_IMPORTS = ("explorer.cli",)


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        out.append((name.removesuffix(".__init__"), path))
    return out


def _imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level] if not path.name == "__init__.py" else module.split(".")[: len(module.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            folder = PACKAGE.parent.joinpath(*target.split("."))
            submodules = [f"{target}.{alias.name}" for alias in node.names
                          if (folder / f"{alias.name}.py").exists() or (folder / alias.name).is_dir()]
            # `from explorer.recording import redact` imports explorer.recording.redact (the room's
            # __init__ is a docstring); `from explorer.trace import Trace` imports explorer.trace
            found.update(submodules if len(submodules) == len(node.names) else [target, *submodules])
    return found


def _rule(module: str):
    best = None
    for prefix, allowed, third in RULES:
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, allowed, third)
    return best


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_imports_follow_the_layering(module, path):
    rule = _rule(module)
    imports = _imports(path, module)
    for target in imports:
        if module == "explorer.__main__" or module.startswith("explorer.cli"):
            break  # the CLI package's modules import each other; nothing else may import them
        assert not any(target == n or target.startswith(n + ".") for n in NOBODY_IMPORTS), f"{module} imports {target}"
    if rule is None:
        return
    prefix, allowed, third = rule
    for target in imports:
        top = target.split(".")[0]
        if top == "__future__" or top in STDLIB:
            continue
        if top == "explorer":
            if target == "explorer":
                continue
            ok = any(target == a or target.startswith(a + ".") for a in (*allowed, prefix))
            assert ok, f"{module} may not import {target} (layer {prefix})"
        else:
            assert top in third, f"{module} may not import third-party {top}"



def test_rendering_a_saved_trace_loads_no_network_code():
    import subprocess

    code = (
        "import sys\n"
        "from explorer import trace\n"
        "import explorer.render as r\n"
        "from explorer.annotate import annotate\n"
        "from explorer.render import RenderOptions\n"
        "t = annotate(trace.Trace())\n"
        "for name in r.FORMATS:\n"
        "    r.get(name).render(t, RenderOptions())\n"
        "leaked = [m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore')\n"
        "          or m.startswith(('explorer.recording.recorder', 'explorer.client'))]\n"
        "assert not leaked, leaked\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent)
