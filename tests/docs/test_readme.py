"""Every command in the README works as written (on local stand-ins where it names the internet).

- the one-command demo: run literally in a copy of the repository (a fresh venv, a real
  ``pip install .``, so this also proves the wheel carries the templates);
- the test command: ``.ci/run`` must call exactly it (CI then runs it on every push);
- the 30-second tour: every line, with Docker Hub's ``alpine:3.20`` replaced by the same
  repository on the built-in registry (token auth + redirects, like Docker Hub);
- the commands table: exactly the CLI's commands;
- the docker/podman section: the regexplore lines, on a HAR we produce (``mitmdump``
  itself is mitmproxy's, not ours, and is not run).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from explorer.sandbox import Sandbox
from tests.infra.runner import run_cli

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _section(title: str) -> str:
    return README.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def _commands(section: str) -> list[str]:
    return [line for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S) for line in block.splitlines()
            if line.strip() and not line.startswith("#")]


def test_the_test_command_is_what_ci_runs():
    (command,) = _commands(_section("Run the tests: one command"))
    assert command == "scripts/test.sh"
    ci = (REPO / ".ci" / "run").read_text()
    assert "exec bash ./scripts/test.sh" in ci


def test_the_demo_command_works_on_a_fresh_venv(tmp_path):
    (command,) = _commands(_section("Try it: one command, offline"))
    assert command.endswith("regexplore demo")
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns(".git", ".venv", ".tools", "__pycache__", "regexplore-demo", "*.trace.json")
    shutil.copytree(REPO, copy, ignore=ignore)
    shutil.copytree(REPO / "recordings", copy / "recordings", dirs_exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    proc = subprocess.run(["bash", "-c", command], cwd=copy, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "open first: regexplore-demo/index.html" in proc.stdout
    index = (copy / "regexplore-demo" / "index.html").read_text()
    assert index.count("<section") == 5
    assert 'href="api.html"' in index  # the gallery links the OpenAPI page, written next to it
    assert "Fetch manifest (end-3)" in (copy / "regexplore-demo" / "api.html").read_text()
    # a real install, not the checkout: templates came from inside the wheel
    where = subprocess.run([str(copy / ".venv" / "bin" / "python"), "-c",
                            "import explorer.render.base as b; print(b.template_root())"],
                           capture_output=True, text=True, check=True, cwd=tmp_path).stdout.strip()
    assert "site-packages" in where and where.endswith("explorer/templates")


def test_the_tour_runs_as_written(tmp_path, monkeypatch):
    tour = _commands(_section("The 30-second tour"))
    assert tour[0] == "regexplore trace pull alpine:3.20 -o pull.trace.json"
    monkeypatch.chdir(tmp_path)
    with Sandbox(auth="token", redirect=True) as sandbox:
        image = f"{sandbox.registry_host}/library/alpine:3.20"
        login = ["--username", sandbox.username, "--password-stdin"]
        seeded = run_cli("trace", "push", "--sample", image, *login, "-o", "seed.trace.json",
                         stdin=sandbox.password + "\n")
        assert seeded.code == 0, seeded.output
        for line in tour:
            args = line.split()[1:]
            args = [image if a == "alpine:3.20" else a for a in args]
            run = run_cli(*args, *(login if args[:2] == ["trace", "pull"] else []), stdin=sandbox.password + "\n")
            assert run.code == 0, (line, run.output)
    for produced in ("pull.trace.json", "pull.md", "pull.html", "pull.postman_collection.json", "pull-explained.md"):
        assert (tmp_path / produced).stat().st_size > 0, produced
    assert (tmp_path / "pull.md").read_text().startswith("```mermaid")


def test_the_commands_table_lists_exactly_the_cli_commands():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen_docs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    table = _section("Commands")
    listed = set(re.findall(r"^\| `regexplore ((?:trace )?[a-z]+)", table, flags=re.M))
    assert listed == {" ".join(path) for path in gen.commands()}


@pytest.mark.usefixtures("registry_anonymous")
def test_the_any_client_section_runs_with_skopeo_through_the_proxy(registry_anonymous, tmp_path, monkeypatch):
    """The README's proxy commands, with Docker Hub replaced by a local registry and alpine by a seeded image."""
    import signal
    import sys

    commands = _commands(_section("Trace docker, podman, skopeo or any other client"))
    proxy_line = next(line for line in commands if line.startswith("regexplore proxy "))
    skopeo_line = next(line for line in commands if line.startswith("skopeo copy "))
    render_line = next(line for line in commands if line.startswith("regexplore render "))
    assert proxy_line == "regexplore proxy https://registry-1.docker.io -o docker-pull.trace.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    args = proxy_line.split()[1:]
    args[1] = registry_anonymous.url
    process = subprocess.Popen([sys.executable, "-m", "explorer", *args], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = re.search(r"http://127\.0\.0\.1:(\d+)", process.stderr.readline()).group(1)
        skopeo = skopeo_line.replace("PORT", port).replace("library/alpine:3.20", "test/small:1.0").split()
        skopeo[-1] = f"oci:{tmp_path / 'alpine'}:1"
        home = tmp_path / "home"
        done = subprocess.run(skopeo, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                              env={**os.environ, "HOME": str(home), "_CONTAINERS_ROOTLESS_UID": "1000",
                                   "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")})
        assert done.returncode == 0, done.stderr
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0
    monkeypatch.chdir(tmp_path)
    run = run_cli(*render_line.split()[1:])
    assert run.code == 0, run.output
    assert (tmp_path / "docker-pull.html").exists()
