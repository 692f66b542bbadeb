"""The curl and Python scripts follow the protocol a trace shows, against the live registries.

Pull: each script runs against each variant and must download and verify the same
digests the trace fetched (files under OUT/blobs/sha256/); pointed at another image
(REPOSITORY, REFERENCE, PLATFORM) it downloads THAT image, read from its manifest.
Push: a real push trace is replayed into a fresh repository from an OCI layout (SOURCE),
a pull proves the image arrived, and a second run uploads nothing. Copy: SOURCE_* and
DEST_* sides, each with its own credentials, between two registries; skopeo reads the
result. Credentials only ever come from <SIDE>_USERNAME/<SIDE>_PASSWORD.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import trace as tracefile
from explorer.annotate import annotate
from explorer.render import RenderOptions, curl, python
from tests.conftest import MULTI
from tests.infra.pulled import SMALL, script_env
from tests.infra.runner import login_args, run_cli
from tests.infra.skopeo import skopeo_inspect
from tests.infra.tools import require_tool

VARIANTS = ("anonymous", "basic", "token", "redirect")
LANGUAGES = {"python": (".py", lambda path: [sys.executable, str(path)]),
             "curl": (".sh", lambda path: [require_tool("bash"), str(path)])}


def run_script(language: str, trace: Path, args: list[str], env: dict[str, str], tmp_path: Path):
    extension, command = LANGUAGES[language]
    script = tmp_path / f"replay{extension}"
    run = run_cli("export", language, str(trace), "-o", str(script))
    assert run.code == 0, run.output
    assert os.access(script, os.X_OK)
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("REGISTRY", "REPOSITORY", "REFERENCE", "SOURCE", "DEST", "PLATFORM", "CHUNK"))}
    return subprocess.run([*command(script), *args], capture_output=True, text=True, timeout=120,
                          env={**clean, "OUT": str(tmp_path / "out"), **env}, cwd=tmp_path)


def fetched(out: Path) -> set[str]:
    return {f"sha256:{p.name}" for p in (out / "blobs" / "sha256").iterdir() if not p.name.endswith(".partial")}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_script_reproduces_a_pull(variant, language, pull_trace, live, seeded_images, tmp_path):
    registry, recorded = live(variant), pull_trace(variant)
    if registry.cdn is not None:
        registry.cdn.requests.clear()
    done = run_script(language, recorded, [registry.url], script_env(registry), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    trace = tracefile.load(pull_trace(variant))
    manifest = next(ex.response.header("docker-content-digest") for ex in trace.exchanges
                    if ex.response.status == 200 and "/manifests/" in ex.request.url)
    blobs = {ex.request.url.rsplit("/", 1)[1] for ex in trace.exchanges if "/v2/test/small/blobs/" in ex.request.url}
    assert manifest == seeded_images[SMALL].digest and len(blobs) == 4
    assert fetched(tmp_path / "out") == blobs | {manifest}
    assert done.stdout.count("verified") == 4 and done.stdout.rstrip().endswith("done")
    if variant == "redirect":  # the CDN served the bytes and never saw the registry's token
        served = [r for r in registry.cdn.requests if r.method == "GET"]
        assert len(served) == 4 and all(r.header("authorization") is None for r in served)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("platform", ["linux/arm64/v8", "linux/amd64"])
def test_pull_script_pointed_at_another_image(language, platform, pull_trace, live, seeded_images, tmp_path):
    """The trace pulled test/small; the script pulls test/multi's PLATFORM manifest and what it lists."""
    registry = live("token")
    env = {**script_env(registry), "REPOSITORY": "test/multi", "REFERENCE": "1.0", "PLATFORM": platform}
    done = run_script(language, pull_trace("token"), [registry.url], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    image = seeded_images[MULTI]
    entry = next(m for m in image.manifest()["manifests"]
                 if "/".join(filter(None, (m["platform"]["os"], m["platform"]["architecture"],
                                           m["platform"].get("variant")))) == platform)
    chosen = image.manifest(entry["digest"])
    listed = {chosen["config"]["digest"], *(layer["digest"] for layer in chosen["layers"])}
    assert fetched(tmp_path / "out") == {image.digest, entry["digest"], *listed}
    assert done.stdout.count("verified") == len(listed) and done.stdout.rstrip().endswith("done")
    assert not fetched(tmp_path / "out") & seeded_images[SMALL].all_digests()  # nothing of the recorded image


@pytest.mark.parametrize("language", LANGUAGES)
def test_wrong_credentials_fail_with_one_line(language, pull_trace, live, tmp_path):
    registry = live("token")
    env = {"REGISTRY_USERNAME": registry.username, "REGISTRY_PASSWORD": "wrong"}
    done = run_script(language, pull_trace("token"), [registry.url], env, tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: the token server refused"), done.stderr
    assert "Traceback" not in done.stderr


def test_scripts_hold_no_credentials(pull_trace, live):
    registry = live("basic")
    trace = tracefile.load(pull_trace("basic"))
    for module in (curl, python):
        text = module.render(annotate(trace), RenderOptions())
        assert registry.password not in text and "REGISTRY_PASSWORD" in text
        assert registry.url in text  # the default registry: the traced one


@pytest.fixture(scope="module")
def push_trace(live, seeded_images, tmp_path_factory) -> tuple[Path, Path]:
    """A real chunked push of test/small's content to a new repository, and its OCI layout."""
    registry = live("token")
    work = tmp_path_factory.mktemp("push")
    layout = work / "layout"
    seeded_images[SMALL].write_layout(layout, "1.0")
    out = work / "push.trace.json"
    args, stdin = login_args(registry)
    run = run_cli("trace", "push", f"{layout}:1.0", f"{registry.host}/exports/pushed:1.0", "--chunk-size", "4KiB",
                  "-o", str(out), "-q", "--jobs", "1", *args, stdin=stdin)
    assert run.code == 0, run.output
    return out, layout


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("variant", ["anonymous", "basic", "token"])
def test_script_reproduces_a_push(variant, language, push_trace, live, seeded_images, tmp_path):
    trace_path, layout = push_trace
    registry = live(variant)
    repository = f"exports/{language}-{secrets.token_hex(3)}"
    env = {**script_env(registry), "REPOSITORY": repository, "SOURCE": str(layout)}
    done = run_script(language, trace_path, [registry.url], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("uploaded") == 4, done.stdout
    image = seeded_images[SMALL]
    args, stdin = login_args(registry)
    check = run_cli("trace", "pull", f"{registry.host}/{repository}:1.0", "-o", str(tmp_path / "check.trace.json"),
                    *args, stdin=stdin)
    assert check.code == 0 and image.digest in check.stdout, check.output
    again = run_script(language, trace_path, [registry.url], env, tmp_path)  # second push: nothing uploaded
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("upload skipped") == 4 and "uploaded" not in again.stdout, again.stdout
    assert "already there as" in again.stdout and "pushed as" not in again.stdout, again.stdout


def test_the_push_script_uploads_in_the_traced_chunk_size(push_trace):
    trace = tracefile.load(push_trace[0])
    assert sum(ex.request.method == "PATCH" for ex in trace.exchanges) >= 6
    assert "CHUNK_SIZE=4096" in curl.render(annotate(trace), RenderOptions())
    assert 'CHUNK_SIZE = int(os.environ.get("CHUNK_SIZE") or 4096)' in python.render(annotate(trace), RenderOptions())


@pytest.fixture(scope="module")
def copy_trace(live, tmp_path_factory) -> Path:
    """A real copy within one registry: every blob mounted from the source repository."""
    registry = live("anonymous")
    out = tmp_path_factory.mktemp("copy") / "copy.trace.json"
    run = run_cli("trace", "copy", f"{registry.host}/{SMALL}", f"{registry.host}/exports/copied:1.0",
                  "-o", str(out), "-q", "--jobs", "1")
    assert run.code == 0, run.output
    return out


@pytest.mark.parametrize("language", LANGUAGES)
def test_copy_script_within_one_registry_mounts(language, copy_trace, live, seeded_images, tmp_path):
    registry = live("anonymous")
    target = f"exports/copy-{language}-{secrets.token_hex(3)}"
    done = run_script(language, copy_trace, [], {"DEST_REPOSITORY": target}, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("mounted from test/small") == 4, done.stdout
    assert skopeo_inspect(f"docker://{registry.host}/{target}:1.0")["Digest"] == seeded_images[SMALL].digest


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("image", "platform"), [(SMALL, "linux/amd64"), (MULTI, "all")])
def test_copy_script_between_two_registries(language, image, platform, copy_trace, live, seeded_images, tmp_path):
    """basic → anonymous, each side with its own credentials; the copy is byte-identical (skopeo reads it)."""
    source, dest = live("basic"), live("anonymous")
    repository, tag = image.split(":")
    target = f"exports/copied-{language}-{secrets.token_hex(3)}"
    env = {"SOURCE_REGISTRY": source.url, "SOURCE_REPOSITORY": repository, "SOURCE_REFERENCE": tag,
           "SOURCE_USERNAME": source.username, "SOURCE_PASSWORD": source.password,
           "DEST_REGISTRY": dest.url, "DEST_REPOSITORY": target, "DEST_REFERENCE": "2.0", "PLATFORM": platform}
    done = run_script(language, copy_trace, [], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = seeded_images[image]
    assert skopeo_inspect(f"docker://{dest.host}/{target}:2.0", raw=True) == expected.manifest()
    assert skopeo_inspect(f"docker://{dest.host}/{target}:2.0")["Digest"] == expected.digest == \
        skopeo_inspect(f"docker://{source.host}/{image}", creds=source.creds)["Digest"]
    assert "uploaded" in done.stdout and "mounted" not in done.stdout
    again = run_script(language, copy_trace, [], env, tmp_path)  # everything is there: nothing moves
    assert again.returncode == 0 and "uploaded" not in again.stdout and "skipped" in again.stdout, again.stdout


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("command", [["tags", "test/multi", "-n", "1"], ["manifest", "test/small:1.0"]])
def test_other_operations_replay_step_by_step(language, command, live, tmp_path):
    """Traces that are not a pull, push or copy become one step per request, sent again as recorded."""
    registry = live("token")
    recorded = tmp_path / "other.trace.json"
    args, stdin = login_args(registry)
    target = f"{registry.host}/{command[1]}"
    run = run_cli("trace", command[0], target, *command[2:], "-o", str(recorded), "-q", *args, stdin=stdin)
    assert run.code == 0, run.output
    done = run_script(language, recorded, [registry.url], script_env(registry), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("done")
    if command[0] == "tags":
        assert done.stdout.count('ok 200 {"name":"test/multi","tags":["1.0"]}') >= 1, done.stdout
    else:
        assert "ok manifest" in done.stdout and "ok /v2/test/small/manifests/1.0: 200" in done.stdout, done.stdout


@pytest.fixture(scope="module")
def push_index_trace(live, seeded_images, tmp_path_factory) -> tuple[Path, Path]:
    """A real push of test/multi's two-platform index (children by digest, then the index by tag)."""
    registry = live("anonymous")
    work = tmp_path_factory.mktemp("push-index")
    layout = work / "layout"
    seeded_images[MULTI].write_layout(layout, "1.0")
    out = work / "push.trace.json"
    run = run_cli("trace", "push", f"{layout}:1.0", f"{registry.host}/exports/pushed-index:1.0", "-o", str(out), "-q")
    assert run.code == 0, run.output
    return out, layout


@pytest.mark.parametrize("language", LANGUAGES)
def test_push_script_of_an_index(language, push_index_trace, live, seeded_images, tmp_path):
    trace_path, layout = push_index_trace
    registry = live("basic")
    repository = f"exports/index-{language}-{secrets.token_hex(3)}"
    env = {**script_env(registry), "REPOSITORY": repository, "SOURCE": str(layout)}
    done = run_script(language, trace_path, [registry.url], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    image = seeded_images[MULTI]
    assert skopeo_inspect(f"docker://{registry.host}/{repository}:1.0", raw=True, creds=registry.creds) == \
        image.manifest()
    assert done.stdout.count("pushed as") == 3, done.stdout  # two platform manifests, then the index
    again = run_script(language, trace_path, [registry.url], env, tmp_path)
    assert again.returncode == 0 and "uploaded" not in again.stdout and "pushed as" not in again.stdout, \
        again.stdout + again.stderr
