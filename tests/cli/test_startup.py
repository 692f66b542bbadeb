"""What ``regexplore trace pull|push|copy`` has loaded when it opens its first connection.

Start-up counts in every transfer (issue 17: process start to first request byte ≤ 100 ms),
so nothing of rendering, annotating or other commands may be imported before the first
request, no regular expression a pull never uses may be compiled, and no CA bundle may be
loaded for a loopback registry (its https probe shakes hands without one). A transfer's app
holds its one command (typer builds every command an app holds). The child stops itself at
its first ``connect``: no server needed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# modules that must not be loaded when the first request goes out
HEAVY = ("jinja2", "rich", "yaml", "pygments", "jsonschema", "explorer.render", "explorer.annotate",
         "explorer.openapi", "explorer.check", "explorer.diff", "explorer.importers", "explorer.sandbox",
         "explorer.cli.outputs", "explorer.cli.spec", "explorer.cli.builtin", "explorer.cli.diff",
         "explorer.cli.proxy", "explorer.cli.trace_api",
         "encodings.idna")  # socket and ssl load it for a str host name: an ASCII one is given as bytes

CHILD = r"""
import gc, json, os, re, socket, ssl, sys
patterns = set()  # every regular expression given to re's functions (compiled, or found in re's cache)
def recording(function):
    def call(pattern, *args, **kwargs):
        patterns.add(getattr(pattern, "pattern", pattern))
        return function(pattern, *args, **kwargs)
    return call
for name in ("compile", "match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer"):
    setattr(re, name, recording(getattr(re, name)))
collections, running = [], []  # the collector's runs in the command before start-up's objects were frozen
gc.callbacks.append(lambda phase, info: collections.append(info["generation"])
                    if phase == "start" and running and not gc.get_freeze_count() else None)
cas = []
_load = ssl.SSLContext.load_verify_locations
def load_verify_locations(self, *args, **kwargs):
    cas.append(repr(args)[:80])
    return _load(self, *args, **kwargs)
ssl.SSLContext.load_verify_locations = load_verify_locations
from explorer.recording import preconnect
early = []  # per start of early connections: their number, and the heavy modules already loaded then
def start(addresses):  # recorded, not started: the pools then connect themselves, and stop here
    early.append([len(addresses), sorted(m for m in sys.modules if m.split(".")[0] in ("typer", "httpx", "httpcore"))])
preconnect.start = start
def connect(self, address):
    heavy = sorted(m for m in sys.modules if m.startswith(HEAVY))
    compiled = [f"{module}.{name}" for module, names in LAZY.items() for name in names
                if module in sys.modules and getattr(sys.modules[module], name) in patterns]
    loaded = list(sys.modules)  # in the order their imports began
    order = [m for m in loaded if m in ("httpcore", "httpx", "explorer.client.session", "typer")]
    print(json.dumps({"heavy": heavy, "cas": cas, "address": list(address)[:2], "early": early, "compiled": compiled,
                      "collections": collections, "frozen": gc.get_freeze_count(), "order": order}), flush=True)
    os._exit(0)
socket.socket.connect = connect
from explorer.cli import run
HEAVY, LAZY = tuple(json.loads(sys.argv[1])), json.loads(sys.argv[2])
sys.argv[1:] = sys.argv[3:]
running.append(True)
run()  # as the console script and python -m explorer do
"""


# and what a pull does not use: the other operations (their flows, results), sample images (tarfile),
# progress callbacks (the CLI's bars are a Progress object)
# and what a pull needs only on an error (the error-code table) or with credentials (html: a secret's escaped form)
NOT_FOR_A_PULL = ("explorer.flows.push", "explorer.flows.upload", "explorer.flows.copy", "explorer.flows.referrers",
                  "explorer.flows.images", "explorer.flows.probe", "explorer.oci.sample", "tarfile",
                  "explorer.operations.api_results", "explorer.operations.api", "explorer.operations.outputs",
                  "explorer.operations.push_results", "explorer.operations.callbacks", "explorer.protocol.errorcodes",
                  "html")


# regular expressions compiled on first use (by re, which caches them), not at import: a pull uses none of them
LAZY_PATTERNS = {
    "explorer.printable": ["_SEQUENCE", "_CONTROL", "_CONTROL_KEEP_LINES"],
    "explorer.protocol.headers": ["_UPLOAD_RANGE", "_CONTENT_RANGE", "_DELAY_SECONDS", "_LINK_TARGET", "_QUOTED"],
    "explorer.protocol.challenge": ["_TOKEN", "_TOKEN68", "_BARE_VALUE"],
    "explorer.protocol.digest": ["_NOT_TAG_CHARACTER"],
    "explorer.protocol.reference": ["_REFERENCE_DIGEST"],
}


# a push from a layout generates no sample image: no tarfile (its --sample does)
NOT_FOR_A_LAYOUT_PUSH = ("explorer.oci.sample", "tarfile", "explorer.flows.copy", "explorer.flows.probe",
                         "explorer.operations.api", "explorer.operations.outputs")


@pytest.mark.parametrize(("argv", "heavy"), [
    (["trace", "pull", "127.0.0.1:{port}/startup/x:1", "--oci-layout", "{tmp}/layout"], HEAVY + NOT_FOR_A_PULL),
    (["trace", "push", "{tmp}/source:1", "127.0.0.1:{port}/startup/x:1"], HEAVY + NOT_FOR_A_LAYOUT_PUSH),
    (["trace", "copy", "127.0.0.1:{port}/startup/x:1", "127.0.0.1:{port}/startup/y:1"], HEAVY),
])
def test_a_transfer_loads_nothing_heavy_before_its_first_request(tmp_path: Path, argv: list[str],
                                                                 heavy: tuple[str, ...]) -> None:
    if "push" in argv:
        from explorer.oci.sample import build_sample

        build_sample().write_layout(tmp_path / "source", "1")
    args = [a.format(port=9, tmp=tmp_path) for a in argv] + ["-q", "--retries", "0", "-o", str(tmp_path / "t.json")]
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(heavy), json.dumps(LAZY_PATTERNS), *args],
                          capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["address"] == ["127.0.0.1", 9]  # it stopped at the first connection, to the registry
    assert seen["heavy"] == [], f"imported before the first request: {seen['heavy']}"
    # httpcore and httpx first, each from the bottom of the stack, then the client, then typer (cli Rule 2d)
    assert seen["order"] == ["httpcore", "httpx", "explorer.client.session", "typer"]
    assert seen["compiled"] == [], f"compiled before the first request: {seen['compiled']}"
    assert seen["cas"] == [], "a CA bundle was loaded for a loopback registry before its first request"
    assert seen["collections"] == []  # the collector does not run while the command imports
    assert seen["frozen"] > 10_000  # and what start-up allocated is out of every later collection
    # its registry's connections were opened before typer and httpx were imported: the https probe's and http's
    assert seen["early"] == [[2, []]]


@pytest.mark.parametrize(("words", "addresses"), [
    (["trace", "pull", "127.0.0.1:5000/a:1", "-q"], [("127.0.0.1", 5000, "probe"), ("127.0.0.1", 5000, None)]),
    (["trace", "pull", "localhost/a:1"], [("localhost", 443, "probe"), ("localhost", 80, None)]),
    (["trace", "pull", "[::1]:5000/a:1"], [("::1", 5000, "probe"), ("::1", 5000, None)]),
    (["trace", "pull", "127.0.0.1:5000/a:1", "--plain-http"], [("127.0.0.1", 5000, None)]),  # no probe
    (["trace", "pull", "127.0.0.1:5000/a:1", "--insecure"], [("127.0.0.1", 5000, None), ("127.0.0.1", 5000, None)]),
    (["trace", "pull", "ghcr.io/team/app:1"], [("ghcr.io", 443, "verified")]),  # not loopback: https only
    (["trace", "pull", "ghcr.io/team/app:1", "--insecure"], [("ghcr.io", 443, None)]),  # httpx's context: TCP only
    (["trace", "pull", "alpine"], [("registry-1.docker.io", 443, "verified")]),
    (["trace", "pull", "127.0.0.1:5000/a:1", "--help"], []),
    (["trace", "pull", "-o", "t.json", "127.0.0.1:5000/a:1"], []),  # not sure which word is the image: none
    (["trace", "pull", "Not An Image!"], []),  # the command reports it
    (["trace", "push", "layout:1", "ghcr.io/team/app:1", "-q"], [("ghcr.io", 443, "verified")]),  # the destination
    (["trace", "push", "--sample", "127.0.0.1:5000/a:1", "--plain-http"], [("127.0.0.1", 5000, None)]),
    (["trace", "push", "layout:1"], []),
    (["trace", "copy", "127.0.0.1:5000/a:1", "ghcr.io/b:1"],
     [("127.0.0.1", 5000, "probe"), ("127.0.0.1", 5000, None), ("ghcr.io", 443, "verified")]),
    (["trace", "copy", "127.0.0.1:5000/a:1", "127.0.0.1:5000/b:1"],
     [("127.0.0.1", 5000, "probe"), ("127.0.0.1", 5000, None)]),
    (["trace", "tags", "127.0.0.1:5000/a"], []),
])
def test_which_connections_a_command_opens_early(monkeypatch, words, addresses) -> None:
    from explorer import cli
    from explorer.recording import preconnect

    started: list[tuple[str, int]] = []
    monkeypatch.setattr(preconnect, "start", started.extend)
    cli._preconnect(words)
    assert started == addresses


@pytest.mark.parametrize("verb", ["pull", "push", "copy"])
def test_a_transfer_builds_its_command_alone_with_the_same_help(verb: str) -> None:
    import typer.main
    from typer.testing import CliRunner

    from explorer import cli

    lone = cli.register(["--debug", "trace", verb, "127.0.0.1:5000/a:1"])
    group = typer.main.get_command(lone)
    assert list(group.commands["trace"].commands) == [verb]  # typer builds no other command's options
    assert {param.name for param in group.params} == {"debug", "version"}  # the root options are there
    runner = CliRunner()
    helps = [runner.invoke(app, ["trace", verb, "--help"], prog_name="regexplore").output for app in (lone, cli.app)]
    assert helps[0] == helps[1] and f"Usage: regexplore trace {verb} [OPTIONS]" in helps[0]


def test_the_whole_cli_is_still_there_for_help_and_tests() -> None:
    from explorer import cli

    names = {group.name for group in cli.app.registered_groups} | {c.name for c in cli.app.registered_commands}
    assert {"trace", "render", "export", "diff", "proxy", "serve"} <= names


@pytest.mark.parametrize(("argv", "paused"), [
    (["trace", "pull", "127.0.0.1:5000/a:1"], True),
    (["--debug", "trace", "copy", "127.0.0.1:5000/a:1", "127.0.0.1:5000/b:1"], True),
    (["proxy", "--upstream", "http://127.0.0.1:5000"], False),  # long-running: the collector never pauses
    (["render", "t.json", "--format", "mermaid"], False),
])
def test_only_a_transfer_pauses_the_collector_while_it_starts(argv: list[str], paused: bool) -> None:
    code = ("import gc, json, sys\n"
            "from explorer import cli\n"
            "cli.main = lambda: print(json.dumps(not gc.isenabled()))\n"
            f"sys.argv = ['regexplore', *{argv!r}]\n"
            "cli.run()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) is paused
