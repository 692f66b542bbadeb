"""The flows both registries go through, each a few traced operations named by step.

Rule: a flow only drives a ``Target`` (targets.py) — the same CLI words, or the
same flow functions in a ``TraceSession`` — so both registries get identical
requests up to what they answer. Every blob transfer runs with ``--jobs 1``:
the order of exchanges is then the client's, not the thread scheduler's, and
whatever the auth code does about token round trips it does on both sides.
Images are the deterministic samples of ``explorer.oci.sample``, so digests match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.client.registry import RegistryClient
from explorer.flows.pull import pull
from explorer.flows.tag import retag
from explorer.protocol.mediatypes import Platform
from explorer.protocol.reference import parse
from explorer.oci.sample import build_artifact, build_sample
from tests.faithful.targets import Target, Traced

__all__ = ["FLOWS", "Flow", "expected_error"]

Steps = dict[str, Traced]
WRONG_PASSWORD = "not-the-password"
SBOM = "application/vnd.example.sbom"


@dataclass(frozen=True)
class Flow:
    name: str
    run: Callable[[Target, str], Steps]  # (target, repository without host) -> traced steps, in order


def _push_sample(t: Target, repo: str, *extra: str, name: str) -> Traced:
    return t.cli("push", "--sample", f"{t.host}/{repo}", "--jobs", "1", *extra, name=name)


def pull_and_its_errors(t: Target, repo: str) -> Steps:
    """Pull one platform of an index; then the error cases of a pull, the missing blob last."""
    ref = f"{t.host}/{repo}:1"
    return {
        "push an index": _push_sample(t, f"{repo}:1", "--sample-platforms", "linux/amd64,linux/arm64",
                                      name="push.json"),
        "pull linux/arm64": t.cli("pull", ref, "--platform", "linux/arm64", "--jobs", "1", name="pull.json"),
        "unknown manifest: pull a tag that is not there": t.cli("pull", f"{t.host}/{repo}:nope", name="tag.json"),
        "unknown manifest: pull from a repository that is not there": t.cli(
            "pull", f"{t.host}/{repo}/nothing-here:1", name="repo.json"),
        "wrong password": t.cli("pull", ref, "--platform", "linux/arm64", "--jobs", "1", name="password.json",
                                password=WRONG_PASSWORD),
        "unknown blob: delete a layer, then pull": t.session(
            "pull", _delete_last_layer_then_pull(ref), name="blob.json"),
    }


def _delete_last_layer_then_pull(image: str) -> Callable[[RegistryClient], object]:
    ref = parse(image)
    index = build_sample([Platform("linux", "amd64"), Platform("linux", "arm64")])  # what --sample-platforms pushed
    last_layer = index.manifest(index.platforms["linux/amd64"])["layers"][-1]["digest"]

    def run(client: RegistryClient) -> object:
        with client.step("delete layer 3/3"):
            client.delete_blob(ref.repository, last_layer, context=str(ref))
        return pull(client, ref, platform=Platform("linux", "amd64"), jobs=1)

    return run


def push_twice_then_delete(t: Target, repo: str) -> Steps:
    digest = build_sample().digest
    return {
        "first push": _push_sample(t, f"{repo}:1", name="first.json"),
        "second push": _push_sample(t, f"{repo}:1", name="second.json"),
        "delete by digest": t.cli("delete", f"{t.host}/{repo}@{digest}", name="delete.json"),
        "manifest after delete": t.cli("manifest", f"{t.host}/{repo}@{digest}", name="gone.json"),
    }


def chunked_push(t: Target, repo: str) -> Steps:
    layout = build_sample(layers=2, seed="chunked").write_layout(t.workdir / "chunked", "1")
    ref = f"{t.host}/{repo}:1"
    return {
        "push in 4 KiB chunks": t.cli("push", f"{layout}:1", ref, "--chunk-size", "4KiB", "--jobs", "1",
                                      name="push.json"),
        "pull it back": t.cli("pull", ref, "--jobs", "1", name="pull.json"),
    }


def mount(t: Target, repo: str) -> Steps:
    return {
        "push the source": _push_sample(t, f"{repo}/source:1", name="source.json"),
        "push with --mount-from": _push_sample(t, f"{repo}/target:1", "--mount-from", f"{repo}/source",
                                               name="mounted.json"),
        "mount from a repository without the blobs": _push_sample(
            t, f"{repo}/other:1", "--mount-from", f"{repo}/empty", name="fallback.json"),
    }


def tags_pagination(t: Target, repo: str) -> Steps:
    ref = parse(f"{t.host}/{repo}:1")

    def add_tags(client: RegistryClient) -> object:
        return [retag(client, ref, tag) for tag in ("v2", "v3", "v4", "v5")]

    return {
        "push": _push_sample(t, f"{repo}:1", name="push.json"),
        "tag v2 … v5": t.session("tag", add_tags, name="tag.json"),
        "tags": t.cli("tags", f"{t.host}/{repo}", name="tags.json"),
        "tags -n 2": t.cli("tags", f"{t.host}/{repo}", "-n", "2", name="tags-n2.json"),
    }


def referrers(t: Target, repo: str) -> Steps:
    subject = build_sample()
    artifact = build_artifact(subject.root, SBOM, b'{"sbom": true}')
    layout = artifact.write_layout(t.workdir / "artifact", "sbom")
    at_subject = f"{t.host}/{repo}@{subject.digest}"
    return {
        "push the subject": _push_sample(t, f"{repo}:1", name="subject.json"),
        "push an artifact": t.cli("push", f"{layout}:sbom", f"{t.host}/{repo}:sbom", "--jobs", "1",
                                  name="artifact.json"),
        "referrers": t.cli("referrers", at_subject, name="referrers.json"),
        "referrers of one artifactType": t.cli("referrers", at_subject, "--artifact-type", SBOM,
                                               name="filtered.json"),
    }


def bad_digest(t: Target, repo: str) -> Steps:
    image = build_sample(seed="corrupt")
    layout = image.write_layout(t.workdir / "corrupt", "1")
    layer = image.manifest()["layers"][0]["digest"]
    path = layout / "blobs" / "sha256" / layer.split(":", 1)[1]
    path.write_bytes(b"X" * path.stat().st_size)  # the closing PUT's digest= no longer matches the bytes
    return {"push a corrupt layer": t.cli("push", f"{layout}:1", f"{t.host}/{repo}:1", "--jobs", "1",
                                          name="push.json")}


FLOWS = [
    Flow("pull and its errors", pull_and_its_errors),
    Flow("push twice, then delete", push_twice_then_delete),
    Flow("chunked push", chunked_push),
    Flow("mount", mount),
    Flow("tags pagination", tags_pagination),
    Flow("referrers", referrers),
    Flow("bad digest on upload finish", bad_digest),
]

#: steps that must fail, and the error code the CLI names; every other step must succeed
EXPECTED_ERRORS = {
    "unknown manifest: pull a tag that is not there": "MANIFEST_UNKNOWN",
    "unknown manifest: pull from a repository that is not there": "MANIFEST_UNKNOWN",
    "wrong password": "UNAUTHORIZED",
    "unknown blob: delete a layer, then pull": "BLOB_UNKNOWN",
    "manifest after delete": "MANIFEST_UNKNOWN",
    "push a corrupt layer": "DIGEST_INVALID",
}


def expected_error(step: str, auth: str) -> str | None:
    """What ``step`` must fail with (None: succeed); a registry without auth never reads the password."""
    if step == "wrong password" and auth == "none":
        return None
    return EXPECTED_ERRORS.get(step)
