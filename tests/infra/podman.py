"""Run podman 4 in isolation: vfs storage in a private directory, no user config, plain http allowed.

Rules: test infrastructure, standard library + ``tests.infra.tools``. Each
:class:`Podman` has its own storage (vfs driver: no kernel overlay needed), its
own empty ``registries.conf`` and its own auth file, so the user's configuration
is never read. Credentials go into the auth file, never on the command line.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

from tests.infra.tools import require_tool

__all__ = ["Podman", "PodmanError"]


class PodmanError(RuntimeError):
    """podman exited non-zero; the message carries its stderr."""


class Podman:
    def __init__(self, home: Path) -> None:
        self.binary = require_tool("podman")
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        (home / "storage.conf").write_text(
            f'[storage]\ndriver = "vfs"\nrunroot = "{home / "run"}"\ngraphroot = "{home / "graph"}"\n')
        (home / "registries.conf").write_text('unqualified-search-registries = []\n')
        self.authfile = home / "auth.json"
        self.authfile.write_text('{"auths": {}}')

    def login(self, host: str, username: str, password: str) -> None:
        auth = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.authfile.write_text(json.dumps({"auths": {host: {"auth": auth}}}))

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_AUTH", "DOCKER_CONFIG"))}
        env.update(HOME=str(self.home), XDG_RUNTIME_DIR=str(self.home / "run"), XDG_CONFIG_HOME=str(self.home),
                   CONTAINERS_STORAGE_CONF=str(self.home / "storage.conf"),
                   CONTAINERS_REGISTRIES_CONF=str(self.home / "registries.conf"))
        command = [self.binary, "--log-level=error", *args]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        if done.returncode:
            raise PodmanError(f"podman {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        return done

    def pull(self, image: str) -> str:
        """Pull ``image`` (``host/repo:tag``) over plain http; the image ID."""
        self.run("pull", "--tls-verify=false", "--authfile", str(self.authfile), f"docker://{image}")
        return self.run("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()

    def push(self, image: str, destination: str) -> None:
        self.run("push", "--tls-verify=false", "--authfile", str(self.authfile), image, f"docker://{destination}")
