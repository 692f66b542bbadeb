"""Start the real CNCF distribution registry (Debian ``docker-registry`` 2.8.2) for tests.

Rules: test infrastructure; imports the standard library, ``bcrypt``, ``yaml`` and the
other ``tests.infra`` modules, plus ``explorer.oci.sample`` only to seed images. One
process per variant, on a free 127.0.0.1 port, configured by a YAML file in its own
work directory, logging to ``registry.log`` there, stopped by its PID.

Variants:

    anonymous   no auth
    basic       htpasswd (bcrypt cost 5: the registry checks bcrypt on EVERY request)
    token       Bearer tokens from our TokenServer (RS256 JWT with x5c)
    redirect    Bearer tokens too, plus the ``redirect`` storage middleware: blob GET/HEAD
                answer 307 to a StaticServer at http://localhost:RPORT (another origin
                than 127.0.0.1), like Docker Hub → CDN; Authorization must not follow.

Any variant may be started with ``tls=True``: https only, with a self-signed certificate for
127.0.0.1/localhost made for it (``http.tls`` in the config; ``url`` is then ``https://…``).
"""

from __future__ import annotations

import secrets
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
import yaml

from tests.infra.network import self_signed_files
from tests.infra.skopeo import skopeo_copy
from tests.infra.static_server import StaticServer
from tests.infra.token_server import TokenServer
from tests.infra.tools import require_tool

__all__ = ["VARIANTS", "RegistryStartError", "RunningRegistry", "seed", "start_registry"]

VARIANTS = ("anonymous", "basic", "token", "redirect")
USERNAME = "tester"
HTTP_SECRET = "regexplore-test-http-secret"
READY_TIMEOUT = 15.0


class RegistryStartError(RuntimeError):
    """The registry did not come up; the message ends with its log."""


@dataclass
class RunningRegistry:
    """A running registry variant and everything tests need to talk to it."""

    variant: str
    host: str  # "127.0.0.1:PORT"
    url: str  # "http://127.0.0.1:PORT"
    username: str | None
    password: str | None
    token_server: TokenServer | None
    redirect_host: str | None  # "localhost:RPORT" of the CDN
    cdn: StaticServer | None
    storage_root: Path
    log_path: Path
    config_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def creds(self) -> tuple[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return self.username, self.password

    @property
    def service(self) -> str | None:
        return self.token_server.service if self.token_server else None

    def blob_data_path(self, digest: str) -> Path:
        """Where the registry stores a blob's bytes (tests tamper with it)."""
        algorithm, _, encoded = digest.partition(":")
        return self.storage_root / "docker/registry/v2/blobs" / algorithm / encoded[:2] / encoded / "data"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for server in (self.token_server, self.cdn):
            if server is not None:
                server.stop()


def start_registry(variant: str, workdir: Path, *, tls: bool = False) -> RunningRegistry:
    """Start ``variant`` with its helpers; files go under ``workdir/variant`` (``workdir/variant-tls``)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown registry variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    binary = require_tool("docker-registry")
    home = Path(workdir) / (f"{variant}-tls" if tls else variant)
    storage = home / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    password = f"canary-pw-{secrets.token_hex(8)}" if variant != "anonymous" else None
    username = USERNAME if password else None
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "fields": {"variant": variant}},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {"secret": HTTP_SECRET, "headers": {"X-Content-Type-Options": ["nosniff"]}},
    }
    token_server = cdn = None
    if variant == "basic":
        htpasswd = home / "htpasswd"
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(5)).decode("ascii")  # type: ignore[union-attr]
        htpasswd.write_text(f"{username}:{hashed}\n")
        config["auth"] = {"htpasswd": {"realm": "regexplore-basic", "path": str(htpasswd)}}
    if variant in ("token", "redirect"):
        token_server = TokenServer(
            service=f"regexplore-{variant}-registry", users={username: password}  # type: ignore[dict-item]
        ).start()
        cert = token_server.write_cert(home / "token-ca.pem")
        config["auth"] = {
            "token": {
                "realm": token_server.realm,
                "service": token_server.service,
                "issuer": token_server.issuer,
                "rootcertbundle": str(cert),
            }
        }
    if tls:
        cert, key = self_signed_files(home / "tls")
        config["http"] = {**config["http"], "tls": {"certificate": str(cert), "key": str(key)}}  # type: ignore[dict-item]
    if variant == "redirect":
        cdn = StaticServer(storage).start()
        config["middleware"] = {"storage": [{"name": "redirect", "options": {"baseurl": cdn.url}}]}
    try:
        process, port = _launch(binary, config, home, "https" if tls else "http")
    except BaseException:
        for server in (token_server, cdn):
            if server is not None:
                server.stop()
        raise
    return RunningRegistry(
        variant=variant,
        host=f"127.0.0.1:{port}",
        url=f"{'https' if tls else 'http'}://127.0.0.1:{port}",
        username=username,
        password=password,
        token_server=token_server,
        redirect_host=cdn.host if cdn else None,
        cdn=cdn,
        storage_root=storage,
        log_path=home / "registry.log",
        config_path=home / "config.yml",
        process=process,
    )


def seed(registry: RunningRegistry, image: object, repo: str, tag: str) -> None:
    """Put ``image`` (a ``SampleImage``) into ``registry`` as ``repo:tag`` with ``skopeo copy``."""
    layout = _layout_for(image, registry.config_path.parent.parent / "layouts")
    skopeo_copy(f"oci:{layout}:seed", f"docker://{registry.host}/{repo}:{tag}", dest_creds=registry.creds)


def _layout_for(image: object, parent: Path) -> Path:
    """A layout holding ``image`` as tag ``seed``, written once per image under ``parent``."""
    digest: str = image.digest  # type: ignore[attr-defined]
    directory = parent / digest.replace(":", "-")
    if not (directory / "index.json").exists():
        image.write_layout(directory, "seed")  # type: ignore[attr-defined]
    return directory


def _launch(binary: str, config: dict[str, object], home: Path, scheme: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start the registry on a free port (retrying when another process took it)."""
    log_path = home / "registry.log"
    last_error = ""
    for _attempt in range(5):
        port = _free_port()
        config["http"] = {**config["http"], "addr": f"127.0.0.1:{port}"}  # type: ignore[dict-item]
        (home / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [binary, "serve", str(home / "config.yml")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=home,
            )
        if _wait_ready(process, port, scheme):
            return process, port
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        last_error = log_path.read_text(errors="replace")[-2000:]
        if "address already in use" not in last_error:
            break
    raise RegistryStartError(f"docker-registry did not start (config {home / 'config.yml'}); log:\n{last_error}")


def _wait_ready(process: subprocess.Popen[bytes], port: int, scheme: str) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    url = f"{scheme}://127.0.0.1:{port}/v2/"
    unverified = ssl._create_unverified_context() if scheme == "https" else None  # our own self-signed certificate
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1, context=unverified):
                return True
        except urllib.error.HTTPError:
            return True  # 401: up and asking for credentials
        except OSError:
            time.sleep(0.01)
    return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
