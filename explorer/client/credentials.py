"""Where credentials come from: flags, Docker config, credential helpers, podman auth.json.

Order, as ``docker``/``skopeo`` users expect:
1. ``--username U --password-stdin`` (or ``--password``) on the command line;
2. the Docker config (``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``):
   ``credHelpers[host]``, ``auths[host]`` (base64 ``auth`` or ``identitytoken``),
   then ``credsStore``; helpers run as ``docker-credential-<name> get``;
3. ``$REGISTRY_AUTH_FILE``, else podman's ``$XDG_RUNTIME_DIR/containers/auth.json``
   or ``~/.config/containers/auth.json``;
4. anonymous.

Rule: nothing here talks to a registry. Every secret found is registered in
the ``Secrets`` set so the recorder scrubs it from every output.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from pathlib import Path

from explorer.errors import AuthError, UsageError
from explorer.recording.redact import Secrets
from explorer.records import record

__all__ = ["Credentials", "CredentialSource", "lookup", "docker_config_path"]

# keys under which Docker Hub credentials are stored
_DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


@record(frozen=True)  # its own __repr__ (kept)
class Credentials:
    """A username with a password, or an identity (refresh) token, and where it came from."""

    username: str | None = None
    password: str | None = None
    identity_token: str | None = None
    source: str = "command line"

    def __repr__(self) -> str:  # never print secrets, not even in --debug tracebacks
        kind = "identity token" if self.identity_token else "password"
        return f"Credentials(username={self.username!r}, {kind}=<redacted>, source={self.source!r})"


class CredentialSource:
    """Resolves credentials per registry host, once, and registers every secret it hands out."""

    def __init__(
        self,
        secrets: Secrets,
        explicit: Credentials | None = None,
        *,
        env: dict[str, str] | None = None,
        home: Path | None = None,
        per_host: dict[str, Credentials] | None = None,
    ) -> None:
        self.secrets = secrets
        self._explicit = explicit
        self._per_host = dict(per_host or {})  # copy's --src-creds/--dest-creds, by API host
        for creds in self._per_host.values():
            self._register(creds)
        self._env = dict(os.environ) if env is None else env
        self._home = home or Path.home()
        self._cache: dict[str, Credentials | None] = {}
        if explicit is not None:
            self._register(explicit)

    def for_host(self, host: str) -> Credentials | None:
        if host in self._per_host:
            return self._per_host[host]
        if self._explicit is not None:
            return self._explicit
        if host not in self._cache:
            creds = lookup(host, env=self._env, home=self._home)
            if creds is not None:
                self._register(creds)
            self._cache[host] = creds
        return self._cache[host]

    def _register(self, creds: Credentials) -> None:
        if creds.password and creds.username is not None:
            self.secrets.add_basic(creds.username, creds.password)
        self.secrets.add(creds.password)
        self.secrets.add(creds.identity_token)


def docker_config_path(env: dict[str, str], home: Path) -> Path:
    base = env.get("DOCKER_CONFIG")
    return (Path(base) if base else home / ".docker") / "config.json"


def lookup(host: str, *, env: dict[str, str], home: Path) -> Credentials | None:
    """Credentials for ``host`` (``registry-1.docker.io`` is Docker Hub) from config files, or None."""
    docker_cfg = _read_json(docker_config_path(env, home))
    if docker_cfg is not None:
        found = _from_docker_config(docker_cfg, host, env)
        if found is not None:
            return found
    for path in _podman_auth_paths(env, home):
        cfg = _read_json(path)
        if cfg is not None:
            found = _from_auths(cfg.get("auths") or {}, host, str(path))
            if found is not None:
                return found
    return None


def _keys_for(host: str) -> tuple[str, ...]:
    if host in _DOCKER_HUB_KEYS or host.endswith("docker.io"):
        return _DOCKER_HUB_KEYS
    return (host, f"https://{host}", f"http://{host}", f"https://{host}/v2/", f"https://{host}/v1/")


def _from_docker_config(cfg: dict[str, object], host: str, env: dict[str, str]) -> Credentials | None:
    helpers = cfg.get("credHelpers") or {}
    if isinstance(helpers, dict):
        for key in _keys_for(host):
            if key in helpers:
                return _run_helper(str(helpers[key]), key, env)
    auths = cfg.get("auths") or {}
    if isinstance(auths, dict):
        found = _from_auths(auths, host, "docker config")
        if found is not None:
            return found
    store = cfg.get("credsStore")
    if isinstance(store, str) and store:
        for key in _keys_for(host):
            creds = _run_helper(store, key, env, missing_ok=True)
            if creds is not None:
                return creds
    return None


def _from_auths(auths: dict[str, object], host: str, source: str) -> Credentials | None:
    for key in _keys_for(host):
        entry = auths.get(key)
        if not isinstance(entry, dict):
            continue
        token = entry.get("identitytoken")
        auth = entry.get("auth")
        username = entry.get("username")
        password = entry.get("password")
        if isinstance(auth, str) and auth:
            try:
                decoded = base64.b64decode(auth, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise UsageError(
                    f"the 'auth' entry for {key} in {source} is not base64 of user:password",
                    "run `docker login` again",
                ) from None
            username, _, password = decoded.partition(":")
        if isinstance(token, str) and token:
            return Credentials(username=username if isinstance(username, str) else None,
                               identity_token=token, source=source)
        if isinstance(username, str) and isinstance(password, str) and (username or password):
            return Credentials(username=username, password=password, source=source)
    return None


def _run_helper(name: str, server: str, env: dict[str, str], *, missing_ok: bool = False) -> Credentials | None:
    program = f"docker-credential-{name}"
    try:
        proc = subprocess.run(
            [program, "get"], input=server.encode(), capture_output=True, env=env, timeout=30, check=False
        )
    except FileNotFoundError:
        if missing_ok:
            return None
        raise AuthError(f"credential helper {program} is configured but not installed") from None
    except subprocess.TimeoutExpired:
        raise AuthError(f"credential helper {program} did not answer within 30 s") from None
    if proc.returncode != 0:
        # helpers answer "credentials not found in native keychain" for unknown servers
        return None
    try:
        data = json.loads(proc.stdout)
        username, secret = data["Username"], data["Secret"]
    except (ValueError, KeyError, TypeError):
        raise AuthError(f"credential helper {program} returned something that is not its JSON answer") from None
    if username == "<token>":
        return Credentials(identity_token=secret, source=f"credential helper {name}")
    return Credentials(username=username, password=secret, source=f"credential helper {name}")


def _podman_auth_paths(env: dict[str, str], home: Path) -> list[Path]:
    if env.get("REGISTRY_AUTH_FILE"):
        return [Path(env["REGISTRY_AUTH_FILE"])]
    paths = []
    if env.get("XDG_RUNTIME_DIR"):
        paths.append(Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    paths.append(home / ".config" / "containers" / "auth.json")
    return paths


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise UsageError(f"{path} is not valid JSON", "fix or remove the file") from None
    return data if isinstance(data, dict) else None
