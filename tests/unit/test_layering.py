"""The import direction of DESIGN.md, enforced by reading every module's imports with ast.

protocol/ ← trace, redact ← annotate ← render/ (never httpx) ; connections ← recorder ← schemes, auth ← client ← flows/
← operations (the library) ← cli, demo.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "explorer"
STDLIB = set(sys.stdlib_module_names)

# module (dotted, prefix match) -> explorer modules it may import (prefix match) and third-party packages
BASE = ("explorer.errors", "explorer.atomic", "explorer.protocol", "explorer.units", "explorer.printable",
        "explorer.jsonfields", "explorer.__init__")
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("explorer.errors", (), ()),
    ("explorer.atomic", (), ()),
    ("explorer.units", (), ()),
    ("explorer.printable", (), ()),
    ("explorer.jsonfields", ("explorer.errors",), ()),
    ("explorer.protocol", ("explorer.errors", "explorer.protocol"), ()),
    ("explorer.progress", (), ()),
    ("explorer.intent", BASE, ()),
    ("explorer.trace", (*BASE, "explorer.intent"), ()),
    ("explorer.redact", BASE, ()),
    ("explorer.table", (*BASE, "explorer.trace"), ()),
    ("explorer.annotate", (*BASE, "explorer.trace", "explorer.redact"), ()),
    ("explorer.render", (*BASE, "explorer.trace", "explorer.annotate", "explorer.render", "explorer.redact"),
     ("jinja2", "markupsafe", "yaml")),
    ("explorer.openapi", (*BASE, "explorer.trace", "explorer.redact", "explorer.render", "explorer.openapi"),
     ("yaml", "jinja2", "markupsafe")),
    ("explorer.check", (*BASE, "explorer.trace", "explorer.redact", "explorer.annotate", "explorer.check"), ()),
    ("explorer.importers", (*BASE, "explorer.trace", "explorer.redact", "explorer.importers"), ("yaml",)),
    ("explorer.sandbox", (*BASE, "explorer.sandbox"), ()),
    ("explorer.ocilayout", BASE, ()),
    ("explorer.sample", (*BASE, "explorer.ocilayout"), ()),
    ("explorer.credentials", (*BASE, "explorer.redact"), ()),
    ("explorer.taps", (*BASE, "explorer.trace"), ("httpx",)),
    ("explorer.phases", (*BASE, "explorer.trace"), ("httpx",)),
    ("explorer.pools", BASE, ("httpx", "httpcore")),
    ("explorer.connections", (*BASE, "explorer.pools"), ("httpx",)),
    ("explorer.recorder", (*BASE, "explorer.trace", "explorer.redact", "explorer.taps", "explorer.phases",
                           "explorer.connections"), ("httpx",)),
    ("explorer.schemes", (*BASE, "explorer.connections", "explorer.recorder"), ("httpx",)),
    ("explorer.bounded", BASE, ("httpx",)),
    ("explorer.auth", (*BASE, "explorer.trace", "explorer.redact", "explorer.recorder", "explorer.credentials",
                       "explorer.bounded"), ("httpx",)),
    ("explorer.sending", (*BASE, "explorer.auth", "explorer.bounded", "explorer.credentials"), ("httpx",)),
    ("explorer.diff", (*BASE, "explorer.trace", "explorer.annotate", "explorer.diff"), ()),
    # the library's public face: typed operations over the flows and the session; no typer, no rich, no httpx
    ("explorer.operations", (*BASE, "explorer.trace", "explorer.credentials", "explorer.progress", "explorer.session",
                             "explorer.flows", "explorer.ocilayout", "explorer.sample", "explorer.annotate", "explorer.render"),
     ()),
    # the recording proxy: the recorder's transport, the built-in registry's HTTP server; no flows, no client
    ("explorer.proxy", (*BASE, "explorer.trace", "explorer.redact", "explorer.recorder", "explorer.annotate",
                        "explorer.sandbox.server", "explorer.proxy"), ("httpx",)),
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
            found.add(target)
            for alias in node.names:  # `from explorer import trace` imports explorer.trace
                if target == "explorer" and (
                    (PACKAGE / f"{alias.name}.py").exists() or (PACKAGE / alias.name).is_dir()
                ):
                    found.add(f"explorer.{alias.name}")
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
        "leaked = [m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore', 'explorer.recorder')]\n"
        "assert not leaked, leaked\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent)
