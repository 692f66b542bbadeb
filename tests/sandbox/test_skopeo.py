"""skopeo 1.9 pushes to and pulls from the sandbox (anonymous, basic, token + redirects): digests survive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.protocol.mediatypes import Platform
from explorer.oci.sample import SampleImage, build_sample
from explorer.sandbox import Sandbox
from tests.infra.skopeo import SkopeoError, skopeo_copy, skopeo_inspect
from tests.infra.tools import require_tool


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleImage]:
    image = build_sample([Platform("linux", "amd64"), Platform("linux", "arm64", "v8")], seed="sandbox-skopeo")
    directory = tmp_path_factory.mktemp("layout") / "oci"
    image.write_layout(directory, "1")
    return directory, image


def _pulled_root(directory: Path) -> str:
    (entry,) = json.loads((directory / "index.json").read_text())["manifests"]
    return str(entry["digest"])


def _stored_blobs(directory: Path) -> set[str]:
    return {f"sha256:{path.name}" for path in (directory / "blobs" / "sha256").iterdir()}


@pytest.mark.parametrize("auth,redirect", [("none", False), ("basic", False), ("token", True)])
def test_skopeo_push_inspect_pull_round_trip(
    auth: str, redirect: bool, layout: tuple[Path, SampleImage], tmp_path: Path
) -> None:
    require_tool("skopeo")
    directory, image = layout
    with Sandbox(auth=auth, redirect=redirect) as sandbox:
        creds = None if auth == "none" else (sandbox.username, sandbox.password)
        target = f"docker://{sandbox.registry_host}/team/sample:1"
        skopeo_copy(f"oci:{directory}:1", target, dest_creds=creds)
        raw = skopeo_inspect(target, raw=True, creds=creds)
        assert raw == image.manifest()
        inspected = skopeo_inspect(f"docker://{sandbox.registry_host}/team/sample@{image.platforms['linux/amd64']}",
                                   creds=creds)
        assert (inspected["Digest"], inspected["Architecture"]) == (image.platforms["linux/amd64"], "amd64")
        pull_creds = None if auth == "token" else creds  # token auth grants anonymous pulls
        back = tmp_path / "back"
        skopeo_copy(target, f"oci:{back}:1", src_creds=pull_creds)
        assert _pulled_root(back) == image.digest
        assert _stored_blobs(back) == image.all_digests()
        if auth != "none":
            with pytest.raises(SkopeoError):
                skopeo_copy(f"oci:{directory}:1", f"docker://{sandbox.registry_host}/anonymous:1")
