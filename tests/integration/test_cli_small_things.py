"""Issue 12 §6 against distribution: copy credentials per registry, the platform warning, default trace
names with the registry, and no trace file for a usage error."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from explorer.cli.options import default_output, named_output
from explorer.trace import load
from tests.infra.runner import run_cli


def _docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *registries) -> None:
    folder = tmp_path / "docker-config"
    folder.mkdir()
    auths = {r.host: {"auth": base64.b64encode(f"{r.username}:{r.password}".encode()).decode()} for r in registries}
    (folder / "config.json").write_text(json.dumps({"auths": auths}))
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))


def _authorizations(path: Path, host: str) -> set[str]:
    return {(ex.request.header("authorization") or "none").split()[0] for ex in load(path).exchanges
            if f"//{host}/" in ex.request.url}


@pytest.mark.parametrize("stdin_side", ["src", "dest"])
def test_copy_takes_one_side_from_stdin_and_the_other_from_the_docker_config(
        stdin_side, registry_basic, registry_token, tmp_path, monkeypatch) -> None:
    by_side = {"src": registry_basic, "dest": registry_token}
    other = by_side["dest" if stdin_side == "src" else "src"]
    _docker_config(tmp_path, monkeypatch, other)  # only the other side's registry is in the Docker config
    out = tmp_path / "copy.trace.json"
    typed = by_side[stdin_side]
    run = run_cli("trace", "copy", f"{registry_basic.host}/test/small:1.0",
                  f"{registry_token.host}/side/{stdin_side}:1.0", "-o", str(out), "--plain-http",
                  f"--{stdin_side}-username", typed.username, f"--{stdin_side}-password-stdin",
                  stdin=typed.password + "\n")
    assert run.code == 0, run.output
    assert "warning" not in run.stderr
    assert "Basic" in _authorizations(out, registry_basic.host)
    assert "Bearer" in _authorizations(out, registry_token.host)
    text = out.read_text()
    assert registry_basic.password not in text and registry_token.password not in text


def test_copy_refuses_two_passwords_on_stdin_and_writes_no_trace(registry_basic, registry_token, tmp_path) -> None:
    out = tmp_path / "copy.trace.json"
    run = run_cli("trace", "copy", f"{registry_basic.host}/test/small:1.0", f"{registry_token.host}/x/y:1.0",
                  "-o", str(out), "--src-username", "a", "--src-password-stdin", "--dest-username", "b",
                  "--dest-password-stdin", stdin="pw\npw\n")
    assert run.code == 2
    assert run.stderr.splitlines()[0] == ("error: --src-password-stdin and --dest-password-stdin exclude each other: "
                                          "standard input holds one password")
    assert not out.exists()
    run = run_cli("trace", "copy", f"{registry_basic.host}/test/small:1.0", f"{registry_token.host}/x/y:1.0",
                  "-o", str(out), "--src-password-stdin", stdin="pw\n")
    assert run.code == 2 and "--src-password-stdin needs --src-username" in run.stderr and not out.exists()


def test_copy_creds_on_the_command_line_still_work_with_a_warning(registry_basic, tmp_path) -> None:
    out = tmp_path / "copy.trace.json"
    creds = f"{registry_basic.username}:{registry_basic.password}"
    run = run_cli("trace", "copy", f"{registry_basic.host}/test/small:1.0", f"{registry_basic.host}/warned/app:1.0",
                  "-o", str(out), "--plain-http", "--src-creds", creds)
    assert run.code == 0, run.output
    assert "warning: --src-creds puts the password on the command line" in run.stderr
    assert registry_basic.password not in out.read_text()


def test_platform_a_single_platform_image_lacks_is_warned_about(registry_anonymous, tmp_path) -> None:
    image = f"{registry_anonymous.host}/test/small:1.0"  # linux/amd64 only
    run = run_cli("trace", "pull", image, "-o", str(tmp_path / "a.trace.json"), "--platform", "linux/arm64")
    assert run.code == 0, run.output
    assert (f"warning: image {image} was found but its platform (linux/amd64) does not match the specified "
            "platform (linux/arm64)") in run.stderr
    run = run_cli("trace", "pull", image, "-o", str(tmp_path / "b.trace.json"), "--platform", "linux/amd64")
    assert run.code == 0 and "warning" not in run.stderr, run.output


def test_default_trace_names_name_the_registry_unless_docker_hub(registry_anonymous, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = run_cli("trace", "pull", f"{registry_anonymous.host}/test/small:1.0", "--platform", "linux/amd64")
    assert run.code == 0, run.output
    port = registry_anonymous.host.rsplit(":", 1)[1]
    assert (tmp_path / f"pull-127.0.0.1_{port}-test_small-1.0.trace.json").exists()
    assert default_output("pull", "library/alpine", "3.20", None, "docker.io") == Path(
        "pull-library_alpine-3.20.trace.json")
    assert default_output("push", "a/b", None, None, "[::1]:5000") == Path("push-1_5000-a_b-latest.trace.json")
    assert named_output("tags", "team/app", "reg.example:443") == Path("tags-reg.example_443-team_app.trace.json")
