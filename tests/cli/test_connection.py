"""The connection options are declared once (``cli/options.py``) and reach every command that talks to a registry
through ``@connection_options``; errors and signals are handled in one place (``cli/base.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from explorer.cli import app
from tests.infra.runner import login_args, run_cli

CLI = Path(__file__).resolve().parents[2] / "explorer" / "cli"
CREDENTIALS = {"--username", "--password-stdin", "--password"}
TRANSPORT = {"--plain-http", "--insecure", "--retries", "--timeout"}
# command -> the connection options it must offer (copy has per-side credentials of its own)
COMMANDS = {
    ("trace", "pull"): CREDENTIALS | TRANSPORT | {"--jobs"},
    ("trace", "push"): CREDENTIALS | TRANSPORT | {"--jobs"},
    ("trace", "copy"): TRANSPORT | {"--jobs"},
    **{("trace", verb): CREDENTIALS | TRANSPORT for verb in ("tags", "catalog", "manifest", "tag", "delete",
                                                             "referrers")},
    ("probe",): CREDENTIALS | TRANSPORT,
}


def _options(path: tuple[str, ...]) -> set[str]:
    command = typer.main.get_command(app)
    for word in path:
        command = command.get_command(None, word)  # type: ignore[union-attr]
    return {opt for param in command.params for opt in param.opts}


@pytest.mark.parametrize("path", list(COMMANDS), ids=[" ".join(p) for p in COMMANDS])
def test_every_registry_command_offers_the_connection_options(path):
    assert COMMANDS[path] <= _options(path)


def test_each_connection_option_is_declared_once():
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CLI.glob("*.py")))
    for flag in sorted(CREDENTIALS | TRANSPORT | {"--jobs"}):
        declared = re.findall(rf'typer\.Option\(\s*(?:"[^"]*",\s*)*"{re.escape(flag)}"', source)
        expected = 2 if flag == "--timeout" else 1  # proxy's --timeout: its own upstream, its own help
        assert len(declared) == expected, (flag, declared)
    assert "password_stdin: PasswordStdinOpt" not in source  # no command repeats the flags


def test_commands_get_the_values_of_the_flags(registry, tmp_path):
    """--jobs, --retries, --timeout and the credentials reach the library through one Connection."""
    extra, stdin = login_args(registry)
    out = tmp_path / "tags.trace.json"
    run = run_cli("trace", "tags", f"{registry.host}/test/small", "--plain-http", "--retries", "0",
                  "--timeout", "5", "-o", str(out), *extra, stdin=stdin)
    assert run.code == 0, run.output
    assert "1.0" in run.stdout.splitlines() and f"trace: {out}" in run.stdout
    assert "--plain-http" in out.read_text()  # the trace records the command line


def test_an_internal_error_is_one_line_and_exit_1(monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("explorer.operations.tags", broken)
    run = run_cli("trace", "tags", "127.0.0.1:1/team/app", "-o", str(tmp_path / "t.json"))
    assert run.code == 1
    assert run.stderr.splitlines() == ["error: internal error: ZeroDivisionError: boom",
                                       "hint: rerun with --debug for the traceback, and please report it"]


def test_ctrl_c_outside_an_operation_is_one_line_and_exit_130(monkeypatch, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("explorer.operations.tags", interrupted)
    run = run_cli("trace", "tags", "127.0.0.1:1/team/app", "-o", str(tmp_path / "t.json"))
    assert (run.code, run.stderr) == (130, "error: interrupted\n")
