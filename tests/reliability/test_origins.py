"""Credentials never go to another origin: not on redirects, not to a plain-http token realm on another host.

- a 307 to the same host on another port (registry 127.0.0.1:A → storage
  127.0.0.1:B) drops ``Authorization`` (httpx's same-origin rule, which we rely on);
- a 307 from https to plain http on the SAME host and port (the proxy speaks
  both on one port) drops it too;
- Basic credentials go to a token realm on another host only over https or
  loopback: a plain-http realm on a non-loopback address gets an anonymous
  token request and a warning; an https registry with a plain-http realm is refused.
"""

from __future__ import annotations

import pytest

from explorer.client.credentials import Credentials
from explorer.errors import AuthError
from explorer.flows.pull import pull
from explorer.protocol import reference
from explorer.protocol.mediatypes import Platform
from explorer.client.session import ClientOptions, TraceSession
from tests.infra.faults import Respond, Rule
from tests.infra.network import non_loopback_address
from tests.infra.static_server import StaticServer
from tests.reliability.conftest import SMALL, pull_via

AMD64 = Platform("linux", "amd64")


def _blobs(image) -> list[dict]:
    manifest = image.manifest()
    return [manifest["config"], *manifest["layers"]]


def _storage_path(digest: str) -> str:
    hexpart = digest.split(":", 1)[1]
    return f"/docker/registry/v2/blobs/sha256/{hexpart[:2]}/{hexpart}/data"


def test_redirect_to_another_port_of_the_same_host_drops_basic_credentials(registry_basic, proxies, seeded_images,
                                                                          tmp_path):
    storage = StaticServer(registry_basic.storage_root, host_name="127.0.0.1").start()
    try:
        proxy = proxies(registry_basic.url)
        for blob in _blobs(seeded_images[SMALL]):
            proxy.add(Rule(Respond(307, {"Location": storage.url + _storage_path(blob["digest"])}),
                           method="GET", path=blob["digest"], times=None))
        run = pull_via(proxy.host, registry_basic, tmp_path / "t.json")
        assert run.code == 0, run.output
        redirected = proxy.requests("GET", "/blobs/")
        assert len(redirected) == 4 and all((s.header("authorization") or "").startswith("Basic ") for s in redirected)
        assert len(storage.requests) == 4
        assert all(r.header("authorization") is None for r in storage.requests)
    finally:
        storage.stop()


def test_https_to_http_downgrade_on_the_same_host_and_port_drops_credentials(registry_basic, proxies,
                                                                            seeded_images, tmp_path):
    image = seeded_images[SMALL]
    proxy = proxies(registry_basic.url, tls=True)  # https and http on one port
    for blob in _blobs(image):
        hexpart = blob["digest"].split(":", 1)[1]
        proxy.add(Rule(Respond(307, {"Location": f"{proxy.url}/cdn/{hexpart}"}), method="GET", path=blob["digest"],
                       times=None))
        proxy.add(Rule(Respond(200, {"Content-Type": "application/octet-stream"}, image.blob_bytes(blob["digest"])),
                       method="GET", path=f"^/cdn/{hexpart}$", times=None))
    options = ClientOptions(credentials=Credentials(registry_basic.username, registry_basic.password),
                            plain_http=False, insecure=True, retries=0)
    session = TraceSession("pull", SMALL, tmp_path / "t.json", options=options)
    with session.running():
        client = session.client(proxy.host)
        pull(client, reference.parse(f"{proxy.host}/{SMALL}"), platform=AMD64, jobs=1)
    over_https = [s for s in proxy.seen if s.scheme == "https" and "/blobs/" in s.target]
    over_http = [s for s in proxy.seen if s.scheme == "http"]
    assert len(over_https) == 4 and all((s.header("authorization") or "").startswith("Basic ") for s in over_https)
    assert len(over_http) == 4 and all(s.target.startswith("/cdn/") for s in over_http)
    assert all(s.header("authorization") is None for s in over_http)


def _realm_elsewhere(registry, proxies, *, tls: bool, bind: str):
    origin = registry.token_server.realm.rsplit("/", 1)[0]
    token = proxies(origin, bind=bind, host_name=bind, tls=tls)
    realm = token.https_url if tls else token.url
    front = proxies(registry.url, rewrites={origin: realm})
    return front, token


@pytest.fixture
def other_host() -> str:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to play another host")
    return address


def test_no_basic_credentials_to_a_plain_http_realm_on_another_host(registry_token, proxies, other_host, tmp_path):
    front, token = _realm_elsewhere(registry_token, proxies, tls=False, bind=other_host)
    run = pull_via(front.host, registry_token, tmp_path / "t.json")
    assert run.code == 0, run.output  # anonymous tokens may pull test/small
    assert f"warning: not sending credentials to token server http://{token.host}/token" in run.stderr
    assert token.seen and all(s.header("authorization") is None for s in token.seen)
    assert all("account=" not in s.target for s in token.seen)


def test_basic_credentials_go_to_an_https_realm_on_another_host(registry_token, proxies, other_host, tmp_path):
    front, token = _realm_elsewhere(registry_token, proxies, tls=True, bind=other_host)
    run = pull_via(front.host, registry_token, tmp_path / "t.json", SMALL, "--insecure")
    assert run.code == 0, run.output
    assert "warning" not in run.stderr
    assert token.seen and all(s.scheme == "https" for s in token.seen)
    assert all((s.header("authorization") or "").startswith("Basic ") for s in token.seen)


def test_basic_credentials_go_to_a_loopback_realm(registry_token, front, tmp_path):
    fronted = front(registry_token, token=True)
    run = pull_via(fronted.host, registry_token, tmp_path / "t.json")
    assert run.code == 0, run.output
    assert all((s.header("authorization") or "").startswith("Basic ") for s in fronted.token.seen)


def test_an_https_registry_with_a_plain_http_realm_is_refused(registry_token, proxies, tmp_path):
    origin = registry_token.token_server.realm.rsplit("/", 1)[0]
    proxy = proxies(registry_token.url, tls=True)
    token = proxies(origin)
    proxy.extra_rewrites[origin] = token.url
    options = ClientOptions(credentials=Credentials(registry_token.username, registry_token.password),
                            plain_http=False, insecure=True, retries=0)
    session = TraceSession("pull", SMALL, tmp_path / "t.json", options=options)
    with pytest.raises(AuthError, match="is plain http; refusing it"):
        with session.running():
            pull(session.client(proxy.host), reference.parse(f"{proxy.host}/{SMALL}"), platform=AMD64)
    assert token.seen == []
