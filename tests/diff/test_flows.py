"""``regexplore diff`` on real flows: skopeo vs regexplore, a push twice, two registries, two pulls."""

from __future__ import annotations

from pathlib import Path

from explorer import trace as tracefile
from explorer.diff import compare
from explorer.oci.sample import build_sample
from explorer.sandbox import Sandbox
from tests.conftest import SMALL
from tests.infra.runner import login_args, run_cli
from tests.infra.skopeo import skopeo_copy
from tests.proxy.conftest import host_of, proxy_in_front, saved


def _pull(registry_host: str, tmp_path: Path, name: str, account=None, *extra: str) -> Path:
    args, stdin = login_args(account)
    out = tmp_path / name
    run = run_cli("trace", "pull", f"{registry_host}/{SMALL}", "--plain-http", "-q", "-o", str(out),
                  "--oci-layout", str(tmp_path / f"{name}.layout"), *extra, *args, stdin=stdin)
    assert run.code == 0, run.output
    return out


def test_two_pulls_by_the_same_client_compare_equal(registry_token, tmp_path: Path) -> None:
    a = _pull(registry_token.host, tmp_path, "a.trace.json", registry_token)
    b = _pull(registry_token.host, tmp_path, "b.trace.json", registry_token)
    run = run_cli("diff", str(a), str(b), "--ignore", "timings,header-values")
    assert run.code == 0, run.output
    assert "the flows match" in run.stdout
    slower = tracefile.load(b)
    slower.exchanges[-1].duration_ms += 250  # two real pulls may well end within the same millisecond
    tracefile.save(slower, b)
    assert run_cli("diff", str(a), str(b)).code == 1  # the wall times differ, and timings are compared
    assert run_cli("diff", str(a), str(b), "--ignore", "timings,header-values").code == 0


def test_skopeo_and_regexplore_pulling_the_same_image(registry_token, tmp_path: Path) -> None:
    ours = _pull(registry_token.host, tmp_path, "ours.trace.json", registry_token)
    with proxy_in_front(registry_token.url) as proxy:
        skopeo_copy(f"docker://{host_of(proxy)}/{SMALL}", f"oci:{tmp_path / 'skopeo'}:1",
                    src_creds=registry_token.creds)
    theirs = tmp_path / "skopeo.trace.json"
    saved(proxy, theirs)
    result = compare(tracefile.load(ours), tracefile.load(theirs))
    blobs = sum(1 for ex in tracefile.load(ours).exchanges if "/blobs/" in ex.request.url)
    assert result.pairs >= blobs + 1  # every blob and the manifest paired across the two clients
    run = run_cli("diff", str(ours), str(theirs), "--format", "markdown")
    assert run.code == 1
    assert "| exchanges |" in run.stdout and "```mermaid" in run.stdout
    html = tmp_path / "diff.html"
    assert run_cli("diff", str(ours), str(theirs), "--format", "html", "-o", str(html)).code == 1
    page = html.read_text()
    assert page.count("<svg") >= 2 and "vs" in page


def test_the_same_push_twice_turns_every_upload_into_a_head_200(registry_anonymous, tmp_path: Path) -> None:
    image = build_sample(layers=2, seed="diff-push-twice")
    image.write_layout(tmp_path / "layout", tag="1")
    traces = []
    for name in ("first", "second"):
        out = tmp_path / f"{name}.trace.json"
        run = run_cli("trace", "push", f"{tmp_path / 'layout'}:1", f"{registry_anonymous.host}/difftest/twice:1",
                      "--plain-http", "-q", "-o", str(out))
        assert run.code == 0, run.output
        traces.append(tracefile.load(out))
    result = compare(*traces)
    heads = [d for d in result.differences if d.kind == "status" and d.what.startswith("HEAD end-2")]
    assert len(heads) == len(image.blobs)
    assert {(d.a, d.b) for d in heads} == {("404", "200")}
    only_first = {d.what.split()[1] for d in result.differences if d.kind == "only-in-a"}
    assert {"end-4a", "end-6"} <= only_first or {"end-4b"} <= only_first
    assert not [d for d in result.differences if d.kind == "only-in-b"]


def test_distribution_and_the_built_in_registry_running_the_same_flow(registry_anonymous, seeded_images,
                                                                        tmp_path: Path) -> None:
    a = _pull(registry_anonymous.host, tmp_path, "distribution.trace.json")
    with Sandbox() as sandbox:
        seeded_images[SMALL].write_layout(tmp_path / "small", tag="1.0")
        assert run_cli("trace", "push", f"{tmp_path / 'small'}:1.0", f"{sandbox.registry_host}/{SMALL}",
                       "--plain-http", "-q", "-o", str(tmp_path / "seed.trace.json")).code == 0
        b = _pull(sandbox.registry_host, tmp_path, "builtin.trace.json")
    result = compare(tracefile.load(a), tracefile.load(b))
    kept = result.kept(frozenset({"timings", "header-values"}))
    assert not [d for d in kept if d.kind in ("only-in-a", "only-in-b", "status", "order")], kept
