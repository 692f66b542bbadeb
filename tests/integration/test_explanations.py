"""The explanations say what the real registry does (issue 12 §4), checked against distribution.

- The Accept pitfall's claims: leaving the index types out of Accept for a multi-platform tag
  gives 404 MANIFEST_UNKNOWN, and the order of Accept values does not pick the format.
- A manifest HEAD 404 before a push is the normal case; a referrers 404 means no referrers API.
- The 401 label names the realm as a URL; labels name the repository when a trace touches two.
- No explanation is empty ("The registry refused: .").
"""

from __future__ import annotations

from pathlib import Path

import httpx

from explorer.annotate import annotate
from explorer.protocol import mediatypes
from explorer.render import RenderOptions, markdown
from explorer.trace import load
from tests.infra.runner import run_cli

INDEX_TYPES = (mediatypes.OCI_INDEX, mediatypes.DOCKER_MANIFEST_LIST)
MANIFEST_TYPES = (mediatypes.OCI_MANIFEST, mediatypes.DOCKER_MANIFEST_V2)


def _get_manifest(url: str, repo: str, accept: list[str]) -> httpx.Response:
    return httpx.get(f"{url}/v2/{repo}/manifests/1.0", headers={"Accept": ", ".join(accept)})


def test_accept_pitfall_says_what_distribution_does(registry_anonymous) -> None:
    url = registry_anonymous.url
    # a multi-platform tag asked for without the index types: 404 MANIFEST_UNKNOWN, not one platform
    answer = _get_manifest(url, "test/multi", list(MANIFEST_TYPES))
    assert answer.status_code == 404
    (error,) = answer.json()["errors"]
    assert error["code"] == "MANIFEST_UNKNOWN"
    assert "accept header does not support OCI indexes" in error["message"]
    # the order of Accept values does not pick the format: the stored one is served if accepted
    for accept in ([*MANIFEST_TYPES, *INDEX_TYPES], [*INDEX_TYPES, *MANIFEST_TYPES]):
        assert _get_manifest(url, "test/multi", accept).headers["content-type"] == mediatypes.OCI_INDEX
        assert _get_manifest(url, "test/small", accept).headers["content-type"] == mediatypes.OCI_MANIFEST
    tip = markdown.PITFALLS["accept"]
    assert "404 MANIFEST_UNKNOWN" in tip and "accept header does not support OCI indexes" in tip
    assert "order" in tip and "spec" in tip


def _trace(tmp_path: Path, name: str, *args: str, stdin: str = "") -> Path:
    out = tmp_path / f"{name}.trace.json"
    run = run_cli("trace", *args, "-o", str(out), stdin=stdin)
    assert run.code in (0, 1), run.output
    return out


def test_push_and_referrers_404s_are_explained_as_normal(registry_anonymous, tmp_path: Path) -> None:
    host = registry_anonymous.host
    pushed = _trace(tmp_path, "push", "push", "--sample", f"{host}/explain/push:1.0", "--plain-http")
    heads = [a for a in annotate(load(pushed)).exchanges
             if a.endpoint_id == "end-3" and a.exchange.request.method == "HEAD"]
    assert heads and all(a.exchange.response.status == 404 for a in heads)
    for a in heads:
        assert a.response_label == "404 not there yet: the push goes on"
        assert not a.unusual and "push goes on" in a.why
    digest = load(pushed).exchanges[-1].response.header("docker-content-digest")
    listed = _trace(tmp_path, "referrers", "referrers", f"{host}/explain/push@{digest}", "--plain-http")
    annotated = annotate(load(listed)).exchanges
    (asked,) = [a for a in annotated if (a.endpoint_id or "").startswith("end-12")]
    assert asked.exchange.response.status == 404
    assert asked.response_label == "404 no referrers API: use the tag-schema fallback"
    assert "tag-schema fallback" in asked.why and not asked.unusual
    (fallback,) = [a for a in annotated if a.endpoint_id == "end-3"]  # GET the sha256-<hex> tag: none yet
    assert fallback.response_label == "404 no fallback tag: no referrers yet" and not fallback.unusual
    for path in (pushed, listed):
        text = markdown.render(annotate(load(path)), RenderOptions(full=True))
        assert "refused: ." not in text and ": ." not in text


def test_token_labels_show_the_realm_url_and_the_repository(registry_token, tmp_path: Path) -> None:
    host = registry_token.host
    copied = _trace(tmp_path, "copy", "copy", f"{host}/test/small:1.0", f"{host}/explain/copy:1.0", "--plain-http",
                    "--dest-username", registry_token.username, "--dest-password-stdin",
                    stdin=registry_token.password + "\n")
    annotated = annotate(load(copied))
    realm = registry_token.token_server.realm
    assert realm.startswith("http://")
    assert any(a.response_label == f"401 Bearer realm={realm}" for a in annotated.exchanges), \
        [a.response_label for a in annotated.exchanges if a.response_label.startswith("401")]
    blob_labels = [a.request_label for a in annotated.exchanges if a.endpoint_id in ("end-2", "end-11")]
    assert blob_labels and all(label.endswith((" in test/small", " in explain/copy")) for label in blob_labels)
    assert any(label.endswith(" in explain/copy") for label in blob_labels)
