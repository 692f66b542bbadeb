"""A wheel built from this tree renders exactly what the checkout renders, templates read from inside it.

The dev venv is an editable install (``explorer/templates`` is the checkout's symlink to
``templates/``); the README's main command is a non-editable ``pip install .``. This test builds
the wheel that command builds, installs it into an empty directory and renders from there, with
the checkout kept off ``sys.path`` (``python -S``: no ``.pth`` file of the editable install runs).
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from explorer import render
from explorer import trace as tracefile
from explorer.annotate import annotate
from tests.render import factory

REPO = Path(__file__).resolve().parents[2]
FORMATS = ("mermaid", "html", "markdown", "curl", "cassette")  # html includes svg.svg.j2; cassette: yaml

SCRIPT = """
import json, sys
sys.path[:0] = [sys.argv[1]]
sys.path.append(sys.argv[2])
import explorer
from explorer import render, trace
from explorer.annotate import annotate
from explorer.render import base
annotated = annotate(trace.load(sys.argv[3]))
out = {name: render.get(name).render(annotated, render.RenderOptions()) for name in sys.argv[4:]}
print(json.dumps({"package": explorer.__file__, "templates": str(base.template_root()), "outputs": out}))
"""


def test_a_wheel_built_from_the_tree_renders_from_its_own_templates(tmp_path):
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(REPO)], check=True, capture_output=True)
    (wheel,) = wheels.glob("regexplore-*.whl")
    packed = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("explorer/templates/")}
    assert packed == {f"explorer/templates/{p.name}" for p in (REPO / "templates").iterdir()}
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)], check=True,
                   capture_output=True)
    saved = tracefile.save(factory.case_pull_redirect(), tmp_path / "pull.trace.json")
    dependencies = sysconfig.get_paths()["purelib"]  # jinja2, yaml …; its .pth files (the editable install) not run
    run = subprocess.run([sys.executable, "-S", "-c", SCRIPT, str(site), dependencies, str(saved), *FORMATS],
                         check=True, capture_output=True, text=True, cwd=tmp_path)
    result = json.loads(run.stdout)
    assert Path(result["package"]).is_relative_to(site), result["package"]
    assert Path(result["templates"]) == site / "explorer" / "templates"
    annotated = annotate(tracefile.load(saved))
    for name in FORMATS:
        assert result["outputs"][name] == render.get(name).render(annotated, render.RenderOptions()), name
