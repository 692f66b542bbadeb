"""``explorer.operations``: the library's public face (httpx style: a small explicit ``__all__``, pinned here).

Against the built-in registry in-process (real sockets on loopback, token auth, redirects).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from explorer import operations as rx
from explorer.errors import ExplorerError, RegistryError, UsageError
from explorer.sandbox import Sandbox

PUBLIC = [
    "ConnectionOptions", "Copied", "Credentials", "Deleted", "Listed", "ManifestFound", "Probed", "ProgressEvent",
    "Pulled", "Pushed", "Referrers", "Rendered", "Tagged", "Traced", "build_sample", "catalog", "copy", "delete",
    "export", "manifest", "probe", "pull", "push", "referrers", "render", "tag", "tags",
]
PLAIN = rx.ConnectionOptions(plain_http=True)


def test_the_public_api_is_pinned():
    assert rx.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(rx, name) is not None


def test_using_the_library_imports_neither_typer_nor_rich(tmp_path):
    code = (
        "import sys\n"
        "from explorer import operations as rx\n"
        "from explorer.sandbox import Sandbox\n"
        "with Sandbox(auth='token', redirect=True) as s:\n"
        "    login = rx.Credentials(s.username, s.password)\n"
        "    options = rx.ConnectionOptions(plain_http=True)\n"
        "    rx.push(rx.build_sample(), f'{s.registry_host}/a/b:1', credentials=login, options=options)\n"
        "    pulled = rx.pull(f'{s.registry_host}/a/b:1', credentials=login, options=options, progress=print)\n"
        "    rx.render(pulled.trace, 'html', 'pull.html')\n"
        "assert pulled.layers == 3, pulled\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click'))\n"
        "assert not leaked, leaked\n"
        "print('clean')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("clean")
    assert "ProgressEvent(kind='start'" in done.stdout  # a plain function is a progress callback
    assert (tmp_path / "pull.html").stat().st_size > 0


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(auth="token", redirect=True) as running:
        login = rx.Credentials(running.username, running.password)
        rx.push(rx.build_sample(["linux/amd64", "linux/arm64/v8"]), f"{running.registry_host}/team/app:1",
                credentials=login, options=PLAIN)
        yield running


def _login(sandbox) -> rx.Credentials:
    return rx.Credentials(sandbox.username, sandbox.password)


def test_every_operation_returns_its_typed_result(sandbox, tmp_path):
    host, login = sandbox.registry_host, _login(sandbox)
    given = {"credentials": login, "options": PLAIN}
    pulled = rx.pull(f"{host}/team/app:1", platform="linux/arm64/v8", layout=tmp_path / "layout", **given)
    assert isinstance(pulled, rx.Pulled) and str(pulled.platform) == "linux/arm64/v8" and pulled.layers == 3
    assert (tmp_path / "layout" / "index.json").exists() and pulled.trace_file is None
    copied = rx.copy(f"{host}/team/app:1", f"{host}/team/copy:1", all_platforms=True, **given)
    assert isinstance(copied, rx.Copied) and copied.mounted == 8 and copied.uploaded == 0
    assert copied.trace.target == f"{host}/team/app:1 -> {host}/team/copy:1"
    assert rx.tags(f"{host}/team/copy", **given).items == ["1"]
    assert "team/app" in rx.catalog(host, **given).items
    found = rx.manifest(f"{host}/team/app:1", **given)
    assert found.digest == copied.digest and found.text.startswith("{")
    tagged = rx.tag(f"{host}/team/app:1", "stable", **given)
    assert tagged.pushed and tagged.reference == f"{host}/team/app:stable" and tagged.digest == found.digest
    assert rx.referrers(f"{host}/team/app@{found.digest}", **given).referrers == []
    deleted = rx.delete(f"{host}/team/copy@{found.digest}", **given)
    assert deleted.reference == f"{host}/team/copy@{found.digest}"
    assert rx.tags(f"{host}/team/copy", **given).items == []
    probed = rx.probe(host, **given)
    assert probed.features["referrers-api"].supported is True
    for result in (pulled, copied, found, tagged, deleted, probed):
        assert isinstance(result, rx.Traced) and result.trace.outcome.status == "ok"
        assert result.trace.command[:2] == ["regexplore", "trace"]  # the equivalent command, by default
        assert "exchanges" in result.summary()


def test_a_failed_operation_writes_its_trace_then_raises_with_a_note(sandbox, tmp_path):
    out = tmp_path / "failed.trace.json"
    with pytest.raises(RegistryError) as raised:
        rx.pull(f"{sandbox.registry_host}/team/missing:1", credentials=_login(sandbox), options=PLAIN,
                trace_file=out, command=["my", "words"])
    assert f"trace of the failed pull: {out}" in raised.value.__notes__
    text = out.read_text()
    assert '"status": "failed"' in text and '["regexplore", "my", "words"]' in text
    assert sandbox.password not in text


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda host: rx.pull(f"{host}/x@md5:" + "0" * 32), "cannot use the md5 digest"),
    (lambda host: rx.delete(f"{host}/team/app:1"), "names no digest"),
    (lambda host: rx.push("no-such-layout:1", f"{host}/team/app:1"), "no-such-layout"),
    (lambda host: rx.pull(f"{host}/team/app:1", platform="linux"), "invalid platform"),
    (lambda host: rx.copy(f"{host}/a:1", f"{host}/b:1", source_credentials=rx.Credentials("a", "x"),
                          destination_credentials=rx.Credentials("b", "y")), "one identity"),
    (lambda host: rx.ConnectionOptions(jobs=0), "jobs=0 is out of range"),
])
def test_bad_arguments_raise_a_usage_error_before_any_request(sandbox, tmp_path, monkeypatch, call, fragment):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as raised:
        call(sandbox.registry_host)
    assert fragment in raised.value.message
    assert list(Path(tmp_path).iterdir()) == []


def test_render_and_export_read_a_trace_or_a_trace_file(sandbox, tmp_path):
    pulled = rx.pull(f"{sandbox.registry_host}/team/app:1", credentials=_login(sandbox), options=PLAIN,
                     trace_file=tmp_path / "pull.trace.json")
    drawn = rx.render(pulled.trace, "plantuml")
    assert drawn.file is None and drawn.text.startswith("@startuml")
    assert rx.render(pulled.trace, "swimlanes", link=True).text.startswith("https://swimlanes.io/#")  # --link
    script = rx.export(tmp_path / "pull.trace.json", "curl", tmp_path / "out" / "pull.sh")
    assert script.file == tmp_path / "out" / "pull.sh" and script.file.stat().st_mode & 0o111
    with pytest.raises(ExplorerError, match="unknown export format 'mermaid'"):
        rx.export(pulled.trace, "mermaid")
