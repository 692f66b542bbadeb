"""Run skopeo 1.9 in isolation: no user config, no shared blob-info cache, plain http on loopback.

Rules: test infrastructure, standard library + ``tests.infra.tools``. Every call
gets a fresh private directory that serves as ``HOME``, ``XDG_*`` and the auth
file location, so the user's ``auth.json``/``registries.conf`` are never read and
nothing leaks between calls.

The blob-info cache: as root, containers/image keeps it in
``/var/lib/containers/cache/blob-info-cache-v1.boltdb`` and remembers where blobs
were pushed, so later pushes try cross-repository mounts. Its location is chosen
by the *effective* uid that containers/image reads from ``_CONTAINERS_ROOTLESS_UID``;
setting that to a non-zero value moves the cache to ``$XDG_DATA_HOME/containers/cache``
inside the private directory: every copy starts with an empty cache, like a
first push.

Credentials go into private auth files (``--src-authfile``/``--dest-authfile``),
never on the command line. ``--insecure-policy`` skips the signature policy.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.infra.tools import require_tool

__all__ = ["SkopeoError", "skopeo_copy", "skopeo_inspect"]

Credentials = tuple[str, str]


class SkopeoError(RuntimeError):
    """skopeo exited non-zero; the message carries its stderr."""


def skopeo_copy(
    src: str,
    dst: str,
    *,
    src_creds: Credentials | None = None,
    dest_creds: Credentials | None = None,
    all_images: bool = True,
    preserve_digests: bool = True,
    extra_args: tuple[str, ...] = (),
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``skopeo copy SRC DST`` (``oci:DIR:TAG``, ``docker://HOST/REPO:TAG``, ``dir:DIR``...).

    By default every image of an index is copied (``--all``) and digests must be
    kept (``--preserve-digests``), as fixtures seeding known images need.
    """
    with tempfile.TemporaryDirectory(prefix="regexplore-skopeo-") as private:
        args = ["copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false"]
        args += ["--src-authfile", _authfile(Path(private), "src", src, src_creds)]
        args += ["--dest-authfile", _authfile(Path(private), "dest", dst, dest_creds)]
        if all_images:
            args.append("--all")
        if preserve_digests:
            args.append("--preserve-digests")
        args += [*extra_args, src, dst]
        return _run(args, Path(private), timeout)


def skopeo_inspect(
    ref: str,
    *,
    raw: bool = False,
    config: bool = False,
    creds: Credentials | None = None,
    timeout: float = 60,
) -> Any:
    """Parsed JSON of ``skopeo inspect [--raw|--config] REF``."""
    with tempfile.TemporaryDirectory(prefix="regexplore-skopeo-") as private:
        args = ["inspect", "--tls-verify=false", "--authfile", _authfile(Path(private), "auth", ref, creds)]
        if raw:
            args.append("--raw")
        if config:
            args.append("--config")
        result = _run([*args, ref], Path(private), timeout)
        return json.loads(result.stdout)


def skopeo_env(private: Path) -> dict[str, str]:
    """The environment that isolates one skopeo run in ``private``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("REGISTRY_AUTH", "DOCKER_"))}
    env.update(
        HOME=str(private),
        XDG_DATA_HOME=str(private / "data"),
        XDG_CONFIG_HOME=str(private / "config"),
        XDG_RUNTIME_DIR=str(private / "run"),
        XDG_CACHE_HOME=str(private / "cache"),
        _CONTAINERS_ROOTLESS_UID="65534",
        REGISTRY_AUTH_FILE=str(private / "auth.json"),
    )
    for name in ("data", "config", "run", "cache"):
        (private / name).mkdir(exist_ok=True)
    (private / "auth.json").write_text('{"auths": {}}')
    return env


def _run(args: list[str], private: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    skopeo = require_tool("skopeo")
    command = [skopeo, "--insecure-policy", *args]
    result = subprocess.run(
        command, env=skopeo_env(private), capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise SkopeoError(f"skopeo {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def _authfile(private: Path, name: str, ref: str, creds: Credentials | None) -> str:
    """A private auth file holding ``creds`` for the registry host of ``ref`` (or nothing)."""
    auths: dict[str, dict[str, str]] = {}
    if creds is not None:
        host = _docker_host(ref)
        if host is None:
            raise ValueError(f"credentials given for {ref!r}, which is not a docker:// reference")
        auths[host] = {"auth": base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode("ascii")}
    path = private / f"{name}-auth.json"
    path.write_text(json.dumps({"auths": auths}))
    path.chmod(0o600)
    return str(path)


def _docker_host(ref: str) -> str | None:
    if not ref.startswith("docker://"):
        return None
    return ref.removeprefix("docker://").split("/", 1)[0]
