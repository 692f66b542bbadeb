"""explorer/render/replay.py: the parameters and the plan of actions a reproducing script sends again.

Input: the real recordings (recordings/README.md says how they were made). The exports built on
this plan are run for real in tests/render/test_scripts.py and tests/faithful.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer import trace
from explorer.annotate import annotate
from explorer.render import replay

RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"


def _load(name: str):
    return annotate(trace.load(RECORDINGS / name))


def _plan(name: str) -> list[tuple[str, str, int]]:
    return [(a.kind, a.method, len(a.exchanges)) for a in replay.plan(_load(name))]


def test_token_pull_parameters_name_every_digest_from_the_manifest():
    annotated = _load("token/pull.trace.json")
    params = replay.parameters(annotated)
    assert list(params.repositories) == ["test/small"] and params.reference == "1.0"
    assert params.auth == "bearer" and params.credentials and params.realm.endswith("/token")
    assert params.service == "regexplore-token-registry"
    assert sorted(params.digests.values()) == ["configDigest", "layer1Digest", "layer2Digest", "layer3Digest",
                                               "manifestDigest"]
    assert params.registry == next(iter(params.registries)) and params.registries[params.registry] == "registry"


def test_pull_plan_leaves_authentication_and_retries_to_the_script():
    plan = replay.plan(_load("token/pull.trace.json"))
    assert [a.kind for a in plan] == ["ping", "manifest", "blob", "blob", "blob", "blob"]
    kinds = {a.number: a.intent.kind for a in _load("token/pull.trace.json").exchanges}
    covered = {n for action in plan for n in action.exchanges}
    assert all(kinds[n] == "authenticate" or kinds[n] in ("ping", "resolve") for n in set(kinds) - covered)


def test_redirected_blob_is_one_action_with_its_storage_hop():
    plan = replay.plan(_load("redirect/pull.trace.json"))
    blobs = [a for a in plan if a.kind == "blob"]
    assert len(blobs) == 4 and all(len(a.exchanges) == 2 for a in blobs)  # GET 307 + storage GET
    assert all(a.size and a.size > 0 for a in blobs)  # the size is the storage answer's


def test_chunked_push_groups_each_upload_session_into_its_blob():
    plan = _plan("anonymous/push-chunked.trace.json")
    assert [k for k, _, _ in plan] == ["ping"] + ["push-blob"] * 4 + ["manifest", "push-manifest"]
    blob_actions = [a for a in replay.plan(_load("anonymous/push-chunked.trace.json")) if a.kind == "push-blob"]
    assert all(a.check_first for a in blob_actions)
    assert any(a.chunks for a in blob_actions)  # PATCH sizes kept for the chunked ones


def test_second_push_checks_and_uploads_nothing():
    plan = replay.plan(_load("anonymous/push-second.trace.json"))
    pushes = [a for a in plan if a.kind == "push-blob"]
    assert pushes and all(len(a.exchanges) == 1 and a.status == 200 for a in pushes)
    assert not [a for a in plan if a.kind == "push-manifest"]


def test_copy_within_a_registry_mounts():
    annotated = _load("token/copy-mount.trace.json")
    params = replay.parameters(annotated)
    assert list(params.repositories.values()) == ["repository", "repository2"]
    plan = replay.plan(annotated)
    mounts = [a for a in plan if a.kind == "mount"]
    assert len(mounts) == 8 and {a.source for a in mounts} == {"test/multi"}
    assert [a.reference for a in plan if a.kind == "push-manifest"][-1] == "1"  # the index last, by tag


@pytest.mark.parametrize("kind, path", [
    ("ping", "/v2/"), ("tags", "/v2/r/tags/list?n=2"), ("manifest", "/v2/r/manifests/1"),
    ("blob", "/v2/r/blobs/sha256:ab"), ("push-blob", "/v2/r/blobs/uploads/"),
])
def test_action_paths_for_comments(kind, path):
    action = replay.Action(kind=kind, method="GET", registry="http://x", repository="r", reference="1",
                           digest="sha256:ab", query="n=2" if kind == "tags" else "")
    assert action.path == path


def test_helpers():
    assert replay.base_url("http://127.0.0.1:5000/v2/x?y=1") == "http://127.0.0.1:5000"
    assert replay.repository_of("http://h/v2/a/b/manifests/1") == "a/b"
    assert replay.repository_of("http://h/token?scope=x") is None
    manifest = {"config": {"digest": "sha256:c"}, "layers": [{"digest": "sha256:l1"}, {"digest": "sha256:l2"}]}
    assert [d for _, d in replay.digests_in_manifest(manifest)] == ["sha256:c", "sha256:l1", "sha256:l2"]
