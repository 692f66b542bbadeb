"""explorer/client/credentials.py: where credentials come from, in docker's order, and that every one is a secret.

Real files and real helper programs (a ``docker-credential-*`` script on PATH); no registry.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from explorer.client.credentials import Credentials, CredentialSource, docker_config_path, lookup
from explorer.errors import AuthError, UsageError
from explorer.recording.redact import Secrets

HOST = "registry.example.test"


def _write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _helper(bin_dir: Path, name: str, script: str) -> None:
    """A real credential helper: ``docker-credential-<name> get`` reads the server on stdin."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    program = bin_dir / f"docker-credential-{name}"
    program.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": f"{tmp_path / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"}


def test_config_path_honours_docker_config(tmp_path: Path) -> None:
    assert docker_config_path({}, tmp_path) == tmp_path / ".docker" / "config.json"
    assert docker_config_path({"DOCKER_CONFIG": "/etc/d"}, tmp_path) == Path("/etc/d/config.json")


def test_auths_entry_is_decoded(tmp_path: Path, env: dict[str, str]) -> None:
    _write(tmp_path / ".docker/config.json", {"auths": {HOST: {"auth": _auth("alice", "pa:ss")}}})
    creds = lookup(HOST, env=env, home=tmp_path)
    assert creds == Credentials(username="alice", password="pa:ss", source="docker config")


def test_auths_key_forms_and_docker_hub_aliases(tmp_path: Path, env: dict[str, str]) -> None:
    _write(tmp_path / ".docker/config.json", {"auths": {
        f"https://{HOST}/v1/": {"auth": _auth("bob", "one")},
        "https://index.docker.io/v1/": {"auth": _auth("hub", "two")},
    }})
    assert lookup(HOST, env=env, home=tmp_path).username == "bob"
    hub = lookup("registry-1.docker.io", env=env, home=tmp_path)
    assert (hub.username, hub.password) == ("hub", "two")
    assert lookup("other.test", env=env, home=tmp_path) is None


def test_identity_token_wins_over_password(tmp_path: Path, env: dict[str, str]) -> None:
    _write(tmp_path / ".docker/config.json",
           {"auths": {HOST: {"auth": _auth("carol", ""), "identitytoken": "refresh-123456"}}})
    creds = lookup(HOST, env=env, home=tmp_path)
    assert creds.identity_token == "refresh-123456" and creds.password is None and creds.username == "carol"


def test_broken_auth_entry_is_a_usage_error(tmp_path: Path, env: dict[str, str]) -> None:
    _write(tmp_path / ".docker/config.json", {"auths": {HOST: {"auth": "%%%not base64"}}})
    with pytest.raises(UsageError, match="not base64"):
        lookup(HOST, env=env, home=tmp_path)


def test_invalid_json_config_is_a_usage_error(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker/config.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid JSON"):
        lookup(HOST, env=env, home=tmp_path)


def test_cred_helper_runs_with_the_server_on_stdin(tmp_path: Path, env: dict[str, str]) -> None:
    _helper(tmp_path / "bin", "canary",
            'read server\nprintf \'{"ServerURL":"%s","Username":"from-helper","Secret":"s3cret-%s"}\' '
            '"$server" "$server"\n')
    _write(tmp_path / ".docker/config.json", {"credHelpers": {HOST: "canary"},
                                              "auths": {HOST: {"auth": _auth("ignored", "x")}}})
    creds = lookup(HOST, env=env, home=tmp_path)
    assert creds == Credentials(username="from-helper", password=f"s3cret-{HOST}", source="credential helper canary")


def test_helper_token_user_means_identity_token(tmp_path: Path, env: dict[str, str]) -> None:
    _helper(tmp_path / "bin", "tok", 'echo \'{"Username":"<token>","Secret":"idtok-abcdef"}\'\n')
    _write(tmp_path / ".docker/config.json", {"credHelpers": {HOST: "tok"}})
    creds = lookup(HOST, env=env, home=tmp_path)
    assert creds.identity_token == "idtok-abcdef" and creds.username is None


def test_helper_not_found_answer_is_anonymous(tmp_path: Path, env: dict[str, str]) -> None:
    _helper(tmp_path / "bin", "empty", "echo 'credentials not found in native keychain' >&2; exit 1\n")
    _write(tmp_path / ".docker/config.json", {"credsStore": "empty"})
    assert lookup(HOST, env=env, home=tmp_path) is None


def test_missing_configured_helper_is_an_auth_error(tmp_path: Path, env: dict[str, str]) -> None:
    _write(tmp_path / ".docker/config.json", {"credHelpers": {HOST: "absent"}})
    with pytest.raises(AuthError, match="docker-credential-absent is configured but not installed"):
        lookup(HOST, env=env, home=tmp_path)


def test_missing_creds_store_is_anonymous(tmp_path: Path, env: dict[str, str]) -> None:
    _write(tmp_path / ".docker/config.json", {"credsStore": "absent"})
    assert lookup(HOST, env=env, home=tmp_path) is None


def test_helper_garbage_is_an_auth_error(tmp_path: Path, env: dict[str, str]) -> None:
    _helper(tmp_path / "bin", "garbage", "echo not-json\n")
    _write(tmp_path / ".docker/config.json", {"credHelpers": {HOST: "garbage"}})
    with pytest.raises(AuthError, match="not its JSON answer"):
        lookup(HOST, env=env, home=tmp_path)


def test_podman_auth_file_after_docker_config(tmp_path: Path, env: dict[str, str]) -> None:
    _write(tmp_path / ".config/containers/auth.json", {"auths": {HOST: {"auth": _auth("pod", "man1")}}})
    assert lookup(HOST, env=env, home=tmp_path).username == "pod"
    runtime = _write(tmp_path / "run/containers/auth.json", {"auths": {HOST: {"auth": _auth("xdg", "man2")}}})
    assert lookup(HOST, env={**env, "XDG_RUNTIME_DIR": str(tmp_path / "run")}, home=tmp_path).username == "xdg"
    explicit = _write(tmp_path / "elsewhere.json", {"auths": {HOST: {"auth": _auth("file", "man3")}}})
    found = lookup(HOST, env={**env, "REGISTRY_AUTH_FILE": str(explicit)}, home=tmp_path)
    assert (found.username, found.source) == ("file", str(explicit))
    # the Docker config comes first
    _write(tmp_path / ".docker/config.json", {"auths": {HOST: {"auth": _auth("docker", "first")}}})
    assert lookup(HOST, env={**env, "XDG_RUNTIME_DIR": str(runtime.parents[1])}, home=tmp_path).username == "docker"


def test_source_order_and_every_secret_registered(tmp_path: Path, env: dict[str, str]) -> None:
    _write(tmp_path / ".docker/config.json", {"auths": {
        HOST: {"auth": _auth("cfg-user", "cfg-password-1")},
        "other.test": {"identitytoken": "cfg-identity-2"},
    }})
    secrets = Secrets()
    per_host = {"copy.test": Credentials("copier", "per-host-password-3", source="--dest-username")}
    source = CredentialSource(secrets, env=env, home=tmp_path, per_host=per_host)
    assert source.for_host("copy.test").username == "copier"
    assert source.for_host(HOST).username == "cfg-user"
    assert source.for_host("other.test").identity_token == "cfg-identity-2"
    assert source.for_host("nobody.test") is None
    for secret in ("per-host-password-3", "cfg-password-1", "cfg-identity-2", _auth("cfg-user", "cfg-password-1")):
        assert secret in secrets, secret
        assert secret not in secrets.scrub(f"x {secret} y")

    explicit = CredentialSource(Secrets(), Credentials("flag-user", "flag-password-4"), env=env, home=tmp_path)
    assert explicit.for_host(HOST).username == "flag-user"  # flags beat the config
    assert "flag-password-4" in explicit.secrets


def test_lookup_happens_once_per_host(tmp_path: Path, env: dict[str, str]) -> None:
    counter = tmp_path / "calls"
    _helper(tmp_path / "bin", "count", f'echo x >> {counter}\necho \'{{"Username":"u","Secret":"once-only-5"}}\'\n')
    _write(tmp_path / ".docker/config.json", {"credHelpers": {HOST: "count"}})
    source = CredentialSource(Secrets(), env=env, home=tmp_path)
    assert source.for_host(HOST) == source.for_host(HOST)
    assert counter.read_text().count("x") == 1


def test_repr_never_shows_the_secret() -> None:
    text = repr(Credentials("dave", "hunter2-password"))
    assert "hunter2" not in text and "dave" in text
    assert "tok-999" not in repr(Credentials(identity_token="tok-999"))
