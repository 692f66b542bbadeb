"""Credentials are bound to the registry named in the image reference (issue 13, "credentials follow whatever
URL a server names"): hostile registries on loopback name other hosts, and a listener there asserts that no
credential arrives, neither the ``--username`` password nor the Docker config's entry for that very host.

- a ``Link`` to another origin is refused with a clear error (nothing is sent there);
- an upload ``Location`` on another origin is followed without credentials; its own 401 is not answered,
  and the courtesy DELETE is not sent there;
- the confused deputy: a hostile registry's POST names the victim's manifest URL in another registry the
  Docker config holds credentials for; nothing authenticated reaches the victim, no DELETE, the manifest stays;
  the same trick on the hostile registry's own origin gets no DELETE either (only upload URLs are cancelled);
- a storage host reached through a 307 answers 401 Bearer with its own realm: no credential goes to it or to
  its realm.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer import trace as tracefile
from tests.infra.faults import Respond, Rewrite, Rule
from tests.infra.hostile_server import Answer, HostileServer
from tests.infra.registry import seed
from tests.infra.runner import run_cli
from tests.infra.skopeo import skopeo_inspect
from tests.reliability.canary_sources import login
from tests.reliability.conftest import SMALL, pull_via, unique_repository

CANARY = "canary-pw-7f3a9c"
BASIC = {"WWW-Authenticate": 'Basic realm="hostile"'}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def servers():
    started: list[HostileServer] = []

    def make(host_name: str = "127.0.0.1") -> HostileServer:
        server = HostileServer(host_name).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def _stored(source: str, host: str, user: str, password: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials for ``host`` in the Docker config (``docker-config``) or a credential helper it names."""
    login(source, host, user, password, workdir).apply(monkeypatch)


def _authenticated(answer: Answer):
    """``answer`` to a request carrying Basic credentials, else the Basic challenge."""
    return lambda request: answer if request.header("authorization") else Answer(401, BASIC)


def _failed_trace(path: Path) -> tracefile.Trace:
    trace = tracefile.load(path)
    assert trace.outcome.status == "failed"
    assert CANARY not in path.read_text()  # nor CANARY-stored
    return trace


STORED = pytest.mark.parametrize("source", ["docker-config", "credential-helper"])


@STORED
def test_a_link_to_another_host_is_refused_and_gets_nothing(source, servers, tmp_path, monkeypatch):
    hostile, listener = servers(), servers("localhost")
    _stored(source, listener.host, "victim", CANARY + "-stored", tmp_path, monkeypatch)
    hostile.route("GET", r"^/v2/$", Answer(401, BASIC))
    link = f'<{listener.url}/v2/team/app/tags/list?last=a&n=1>; rel="next"'
    hostile.route("GET", r"/tags/list", _authenticated(
        Answer(200, {**JSON, "Link": link}, b'{"name": "team/app", "tags": ["a"]}')))
    out = tmp_path / "tags.json"
    run = run_cli("trace", "tags", f"{hostile.host}/team/app", "-n", "1", "-o", str(out),
                  "--username", "alice", "--password-stdin", stdin=CANARY + "\n")
    assert run.code == 1, run.output
    first = run.stderr.splitlines()[0]
    assert "Link header" in first and "another host" in first and listener.host in first, run.stderr
    assert listener.requests == []
    assert hostile.seen("GET", "/tags/list")[-1].header("authorization").startswith("Basic ")
    _failed_trace(out)


@STORED
def test_an_upload_location_on_another_host_gets_no_credential_and_no_delete(source, servers, tmp_path, monkeypatch):
    hostile, listener = servers(), servers("localhost")
    _stored(source, listener.host, "victim", CANARY + "-stored", tmp_path, monkeypatch)
    hostile.route("GET", r"^/v2/$", Answer(401, BASIC))
    hostile.route("HEAD", r"/blobs/", _authenticated(Answer(404)))
    elsewhere = f"{listener.url}/v2/team/app/blobs/uploads/stolen-session"
    hostile.route("POST", r"/blobs/uploads/$", _authenticated(Answer(202, {"Location": elsewhere})))
    listener.route("*", r"", Answer(401, {"WWW-Authenticate": 'Basic realm="listener"'}))
    out = tmp_path / "push.json"
    run = run_cli("trace", "push", "--sample", f"{hostile.host}/team/app:1", "-o", str(out), "--jobs", "1",
                  "--retries", "0", "--username", "alice", "--password-stdin", stdin=CANARY + "\n")
    assert run.code == 1, run.output
    assert "internal error" not in run.stderr
    puts = listener.seen("PUT", "/blobs/uploads/stolen-session")
    assert len(puts) == 1, listener.requests  # followed once, without credentials; its 401 not answered
    assert listener.credentials_seen(CANARY, CANARY + "-stored") == []
    assert listener.seen("DELETE") == []  # the courtesy DELETE stays on the registry's own origin
    trace = _failed_trace(out)
    assert [ex.response.status for ex in trace.exchanges if "stolen-session" in ex.request.url] == [401]


@pytest.fixture
def victim(registry_basic, proxies, tmp_path, monkeypatch):
    """The basic registry behind a proxy that sees every request; the Docker config holds its credentials."""
    proxy = proxies(registry_basic.url)
    _stored("docker-config", proxy.host, registry_basic.username, registry_basic.password, tmp_path, monkeypatch)
    return proxy


def _victim_image(registry, seeded_images) -> tuple[str, str]:
    """A repository of its own holding the small image (a regression must not delete a shared one)."""
    repository = unique_repository("reliability/victim")
    seed(registry, seeded_images[SMALL], repository, "1")
    return repository, seeded_images[SMALL].digest


def test_confused_deputy_location_to_a_victims_manifest_deletes_nothing(registry_anonymous, registry_basic, victim,
                                                                       proxies, seeded_images, tmp_path):
    repository, digest = _victim_image(registry_basic, seeded_images)
    target = f"{victim.url}/v2/{repository}/manifests/{digest}"
    hostile = proxies(registry_anonymous.url)
    hostile.add(Rule(Rewrite(set_headers={"Location": target}), method="POST", path="/blobs/uploads/", times=None))
    out = tmp_path / "push.json"
    run = run_cli("trace", "push", "--sample", f"{hostile.host}/deputy/app:1", "-o", str(out), "--jobs", "1",
                  "--retries", "0")
    assert run.code == 1, run.output
    reached = victim.requests()
    assert reached and all(s.method == "PUT" for s in reached), [(s.method, s.target) for s in reached]
    assert all(s.header("authorization") is None for s in reached)  # the victim's 401 was not answered
    assert skopeo_inspect(f"docker://{registry_basic.host}/{repository}@{digest}",
                          creds=registry_basic.creds)["Digest"] == digest
    _failed_trace(out)


def test_a_location_naming_a_manifest_on_the_registry_itself_gets_no_courtesy_delete(registry_basic, proxies,
                                                                                     seeded_images, tmp_path):
    repository, digest = _victim_image(registry_basic, seeded_images)
    hostile = proxies(registry_basic.url)
    own_manifest = f"{hostile.url}/v2/{repository}/manifests/{digest}"
    hostile.add(Rule(Rewrite(set_headers={"Location": own_manifest}), method="POST", path="/blobs/uploads/",
                     times=None))
    hostile.add(Rule(Respond(500), method="PUT", path="/manifests/", times=None))  # make the upload fail there
    args = ["--username", registry_basic.username, "--password-stdin"]
    run = run_cli("trace", "push", "--sample", f"{hostile.host}/deputy/own:1", "-o", str(tmp_path / "p.json"),
                  "--jobs", "1", "--retries", "0", *args, stdin=registry_basic.password + "\n")
    assert run.code == 1, run.output
    assert hostile.requests("PUT", "/manifests/"), "the upload did not go where the Location said"
    assert hostile.requests("DELETE") == []
    assert skopeo_inspect(f"docker://{registry_basic.host}/{repository}@{digest}",
                          creds=registry_basic.creds)["Digest"] == digest


def test_a_storage_host_asking_for_bearer_at_its_own_realm_gets_no_credential(registry_basic, proxies, servers,
                                                                             seeded_images, tmp_path):
    storage = servers("localhost")
    storage.route("GET", r"^/blob", Answer(401, {"WWW-Authenticate": 'Bearer realm="{self}/token",service="cdn"'}))
    storage.route("GET", r"^/token", Answer(200, JSON, b'{"token": "storage-token"}'))
    proxy = proxies(registry_basic.url)
    proxy.add(Rule(Respond(307, {"Location": f"{storage.url}/blob"}), method="GET", path="/blobs/sha256:",
                   times=None))
    out = tmp_path / "pull.json"
    run = pull_via(proxy.host, registry_basic, out, SMALL, "--retries", "0", "--jobs", "1")
    assert run.code == 1, run.output
    first = run.stderr.splitlines()[0]
    assert f"{storage.url}, another host the registry {proxy.host} sent this request to, answered" in first, first
    assert "401" in first and "never to a host it names" in run.stderr
    assert storage.seen("GET", "^/blob")
    assert storage.seen("GET", "^/token") == []  # its realm is never asked
    assert storage.credentials_seen(registry_basic.password) == []
    assert all((s.header("authorization") or "").startswith("Basic ") for s in proxy.requests("GET", "/blobs/"))
