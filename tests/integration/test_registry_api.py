"""tags / catalog / manifest / tag / delete against the real distribution registry."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from explorer.protocol import headers
from explorer.oci.sample import build_sample
from tests.infra.runner import run_cli
from tests.integration.helpers import core_signature, traced


def _push_sample(registry, tmp_path, dest: str) -> None:
    run, _ = traced(registry, tmp_path, "push", "--sample", dest, name="seed-push.json")
    assert run.code == 0, run.output


def _follows_links(pages) -> None:
    """Each page after the first is exactly the URL the previous page's Link named; the last has none."""
    for previous, page in zip(pages, pages[1:]):
        link = headers.parse_link(previous.response.header("link"))["next"]
        assert page.request.url == headers.resolve_location(previous.request.url, link)
    assert pages[-1].response.header("link") is None


def test_tags_with_a_page_size_list_every_tag(registry, tmp_path):
    repo = f"{registry.host}/api/tags"
    _push_sample(registry, tmp_path, f"{repo}:1")
    for number in range(2, 7):
        run, trace = traced(registry, tmp_path, "tag", f"{repo}:1", f"v{number}", name=f"tag{number}.json")
        assert run.code == 0, run.output
        assert not [ex for ex in trace.exchanges if "/blobs/" in ex.request.url]  # no blob moves
        scopes = [parse_qs(urlsplit(ex.request.url).query).get("scope") for ex in trace.exchanges
                  if ex.step == "authenticate"]  # one token for the fetch and the push, after the ping
        assert scopes == ([["repository:api/tags:pull,push"]] if registry.variant in ("token", "redirect") else [])
    run, trace = traced(registry, tmp_path, "tags", repo, "-n", "2", name="tags.json")
    assert run.code == 0, run.output
    assert sorted(run.stdout.splitlines()[:6]) == ["1", "v2", "v3", "v4", "v5", "v6"]
    pages = [ex for ex in trace.exchanges if (ex.step or "").startswith("list tags page") and ex.response.status == 200]
    assert pages[0].request.url.endswith("/tags/list?n=2")
    _follows_links(pages)
    # measured: distribution 2.8.2 ignores n on tags/list (all tags, unsorted, one page, no Link)
    assert len(pages) == 1 and "6 tags in 1 pages" in run.stdout


def test_catalog_pagination_follows_link_to_the_end(registry_anonymous, tmp_path):
    reg = registry_anonymous
    for number in range(1, 6):
        _push_sample(reg, tmp_path, f"{reg.host}/api/catalog-{number}:1")
    run, trace = traced(reg, tmp_path, "catalog", reg.host, "-n", "2", name="catalog.json")
    assert run.code == 0, run.output
    lines = run.stdout.splitlines()
    listed = lines[: next(i for i, line in enumerate(lines) if " repositories in " in line)]
    assert listed == sorted(listed) and {f"api/catalog-{n}" for n in range(1, 6)} <= set(listed)
    pages = [ex for ex in trace.exchanges if ex.step and ex.step.startswith("list repositories page")]
    assert [ex.step for ex in pages] == [f"list repositories page {n}" for n in range(1, len(pages) + 1)]
    assert len(pages) >= 4 and "n=2" in pages[0].request.url
    _follows_links(pages)
    assert f"{len(listed)} repositories in {len(pages)} pages" in run.stdout


def test_catalog_needs_the_catalog_scope(registry_token, tmp_path):
    reg = registry_token
    run, trace = traced(reg, tmp_path, "catalog", reg.host, name="anonymous.json", creds=False)
    assert run.code == 1
    assert run.stderr.startswith("error: UNAUTHORIZED: authentication required")
    assert trace.outcome.status == "failed"
    last = trace.exchanges[-1]
    assert (last.step, last.request.method, last.response.status) == ("list repositories page 1", "GET", 401)
    token_scopes = [ex.request.url for ex in trace.exchanges if ex.step == "authenticate"]
    assert any("registry%3Acatalog%3A%2A" in url for url in token_scopes)

    run, trace = traced(reg, tmp_path, "catalog", reg.host, "-n", "1", name="user.json")
    assert run.code == 0, run.output
    listed = run.stdout.splitlines()
    assert "test/multi" in listed and "test/small" in listed
    pages = [ex for ex in trace.exchanges if ex.step and ex.step.startswith("list repositories page")
             and ex.response.status == 200]
    assert len(pages) >= 2
    _follows_links(pages)


def test_manifest_prints_the_exact_bytes_and_digest(registry, tmp_path, seeded_images):
    image = seeded_images["test/small:1.0"]
    run, trace = traced(registry, tmp_path, "manifest", f"{registry.host}/test/small:1.0", name="manifest.json")
    assert run.code == 0, run.output
    lines = run.stdout.splitlines()
    assert lines[0].encode() == image.manifests[image.digest]
    assert lines[1].startswith(f"digest: {image.digest} (application/vnd.oci.image.manifest.v1+json")
    fetch = [(ex.request.method, ex.response.status) for ex in trace.exchanges
             if ex.step == "fetch manifest" and ex.response.status != 401]
    assert fetch == [("HEAD", 200), ("GET", 200)]


def test_delete_by_digest_then_the_manifest_is_gone(registry, tmp_path):
    image = build_sample(seed=f"delete-{registry.variant}")
    layout = image.write_layout(tmp_path / "layout", "1")
    repo = f"{registry.host}/api/delete"
    run, _ = traced(registry, tmp_path, "push", f"{layout}:1", f"{repo}:1", name="push.json")
    assert run.code == 0, run.output
    run, trace = traced(registry, tmp_path, "delete", f"{repo}@{image.digest}", name="delete.json")
    assert run.code == 0, run.output
    assert core_signature(trace)[-1] == ("DELETE", "end-9", 202)
    assert trace.exchanges[-1].step == "delete manifest"
    run, trace = traced(registry, tmp_path, "manifest", f"{repo}@{image.digest}", name="gone.json")
    assert run.code == 1
    assert run.stderr.startswith("error: MANIFEST_UNKNOWN")
    assert core_signature(trace)[-2:] == [("HEAD", "end-3", 404), ("GET", "end-3", 404)]


def test_delete_and_referrers_need_a_digest(tmp_path):
    for verb in ("delete", "referrers"):
        out = tmp_path / f"{verb}.json"
        run = run_cli("trace", verb, "127.0.0.1:5000/team/app:1.0", "-o", str(out))
        assert run.code == 2
        assert run.stderr.startswith(f"error: 127.0.0.1:5000/team/app:1.0 names no digest; {verb} takes IMAGE@sha256:")
        assert not out.exists()  # a usage error writes no trace


def test_bad_tag_and_bad_chunk_size_exit_2(tmp_path):
    run = run_cli("trace", "tag", "127.0.0.1:5000/team/app:1.0", "bad tag!", "-o", str(tmp_path / "t.json"))
    assert run.code == 2 and "invalid tag" in run.stderr
    assert not (tmp_path / "t.json").exists()
    out = tmp_path / "p.json"
    run = run_cli("trace", "push", "--sample", "127.0.0.1:5000/team/app:1", "--chunk-size", "lots", "-o", str(out))
    assert run.code == 2 and "--chunk-size 'lots' is not a size" in run.stderr
    assert not out.exists()
