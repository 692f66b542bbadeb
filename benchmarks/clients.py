"""The command each client runs for each case, and the environment it runs in.

skopeo runs two ways: ``skopeo`` as a user runs it (as root, the machine's own HOME and
configuration), which the targets are judged by, and ``skopeo-isolated`` (a private HOME
and ``_CONTAINERS_ROOTLESS_UID``, as the tests run it), which earlier pages reported. Before
every push or copy, root's blob-info cache is removed so that each one is a first push
(the cache would otherwise turn it into mounts of blobs pushed by an earlier round).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.infra.skopeo import skopeo_env

PY = sys.executable
PULL_CLIENTS = ("regexplore", "regexplore-norec", "skopeo", "skopeo-isolated", "python-dxf")
PUSH_CLIENTS = ("regexplore", "regexplore-norec", "skopeo", "skopeo-isolated")
COPY_CLIENTS = ("regexplore", "skopeo", "skopeo-isolated")
ROOT_BLOB_CACHE = Path("/var/lib/containers/cache/blob-info-cache-v1.boltdb")


def clients(verb: str) -> tuple[str, ...]:
    return {"pull": PULL_CLIENTS, "push": PUSH_CLIENTS, "copy": COPY_CLIENTS}[verb]


#: how each of our clients runs a ``regexplore`` command line: recording on, and the same command with it off
OURS = {"regexplore": "explorer", "regexplore-norec": "benchmarks.norec"}


def pull_command(client: str, host: str, repo: str, out: Path) -> list[str]:
    image = f"{host}/{repo}:1"
    pull_args = ["trace", "pull", image, "-q", "-o", str(out / "t.json"), "--platform", "linux/amd64",
                 "--oci-layout", str(out / "layout")]
    if client in OURS:
        return [PY, "-m", OURS[client], *pull_args]
    if client.startswith("skopeo"):
        return ["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{image}", f"oci:{out / 'layout'}:1"]
    if client == "python-dxf":
        return [PY, "-m", "benchmarks.dxf_pull", host, repo, "1", str(out / "blobs")]
    raise ValueError(client)


def push_command(client: str, host: str, layout: Path, repo: str, out: Path) -> list[str]:
    dest = f"{host}/{repo}:1"
    push_args = ["trace", "push", f"{layout}:1", dest, "-q", "-o", str(out / "t.json")]
    if client in OURS:
        return [PY, "-m", OURS[client], *push_args]
    if client.startswith("skopeo"):
        return ["skopeo", "copy", "-q", "--dest-tls-verify=false", "--preserve-digests", f"oci:{layout}:1",
                f"docker://{dest}"]
    raise ValueError(client)


def copy_command(client: str, host: str, source: str, dest: str, out: Path) -> list[str]:
    """A copy between two repositories of one registry (the article's pull-tag-push)."""
    if client in OURS:
        return [PY, "-m", OURS[client], "trace", "copy", f"{host}/{source}:1", f"{host}/{dest}:1", "-q",
                "-o", str(out / "t.json")]
    if client.startswith("skopeo"):
        return ["skopeo", "copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests",
                f"docker://{host}/{source}:1", f"docker://{host}/{dest}:1"]
    raise ValueError(client)


def environment(client: str, verb: str, home: Path) -> dict[str, str]:
    """The environment of one run (and, for a skopeo push or copy, a first-push blob-info cache)."""
    if client == "skopeo-isolated" or not client.startswith("skopeo"):
        return skopeo_env(home) if client == "skopeo-isolated" else dict(os.environ)
    if verb in ("push", "copy"):
        ROOT_BLOB_CACHE.unlink(missing_ok=True)
    return dict(os.environ)
