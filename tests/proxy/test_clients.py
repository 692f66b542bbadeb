"""Real clients through ``regexplore proxy``: skopeo, podman, oras-py and regexplore itself.

For each, against real distribution in its variants (and the built-in registry):
the client's own result equals a direct pull (digests), and the proxy's trace
holds the client's flow as a direct trace would: recorded under the upstream URLs
(the real realm, the real storage host), with the token exchange and the storage
hop, every exchange carrying ``via``, annotated with roles, and no credential.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.annotate import annotate
from explorer.oci.sample import SampleImage, build_sample
from explorer.sandbox import Sandbox
from explorer.trace import Trace
from tests.conftest import SMALL
from tests.infra.podman import Podman
from tests.infra.runner import login_args, run_cli
from tests.infra.skopeo import skopeo_copy, skopeo_inspect
from tests.proxy.conftest import assert_no_secret, host_of, proxy_in_front, saved


def _check_flow(trace: Trace, registry, proxy_host: str, pulled: bool = True) -> None:
    """Upstream URLs only, ``via`` on every exchange, the variant's token and storage hops."""
    assert trace.operation == "proxy" and trace.exchanges
    for ex in trace.exchanges:
        assert ex.via is not None and ex.via.url.startswith(f"http://{proxy_host}/")
        assert proxy_host not in ex.request.url
    hosts = {ex.request.url.split("/")[2] for ex in trace.exchanges}
    assert registry.host in hosts
    if registry.variant == "token":
        realm_host = registry.token_server.url.split("/")[2]
        token_hops = [ex for ex in trace.exchanges if ex.request.url.split("/")[2] == realm_host]
        assert token_hops and all(ex.response and ex.response.status == 200 for ex in token_hops)
        assert any(ex.response and ex.response.status == 401 for ex in trace.exchanges)
    if registry.variant == "redirect" and pulled:
        storage = [ex for ex in trace.exchanges if ex.request.url.split("/")[2] == registry.redirect_host]
        assert storage, "the 307's storage hop went through the proxy"
        assert all(ex.request.header("Authorization") is None for ex in storage)
    annotated = annotate(trace)
    assert all(ax.step for ax in annotated.exchanges), "every proxied exchange gets a step label (by inference)"
    roles = " ".join(str(p.role) for p in annotated.participants).lower()
    assert "registry" in roles
    if registry.variant == "token":
        assert "auth" in roles
    if registry.variant == "redirect" and pulled:
        assert "storage" in roles


def _pulled_digest(layout: Path) -> str:
    return json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]


def test_skopeo_pull_through_the_proxy(registry, seeded_images: dict[str, SampleImage], tmp_path: Path) -> None:
    with proxy_in_front(registry.url) as proxy:
        skopeo_copy(f"docker://{host_of(proxy)}/{SMALL}", f"oci:{tmp_path / 'out'}:1", src_creds=registry.creds)
    trace = saved(proxy, tmp_path / "skopeo.trace.json")
    assert _pulled_digest(tmp_path / "out") == seeded_images[SMALL].digest
    _check_flow(trace, registry, host_of(proxy))
    assert any("skopeo" in (ex.request.header("User-Agent") or "") for ex in trace.exchanges)
    assert_no_secret(tmp_path / "skopeo.trace.json", registry.password)


def test_skopeo_push_through_the_proxy(registry, tmp_path: Path) -> None:
    image = build_sample(layers=2, seed=f"proxy-skopeo-{registry.variant}")
    image.write_layout(tmp_path / "layout", tag="1")
    repo = f"proxytest/skopeo-{registry.variant}:1"
    with proxy_in_front(registry.url) as proxy:
        skopeo_copy(f"oci:{tmp_path / 'layout'}:1", f"docker://{host_of(proxy)}/{repo}", dest_creds=registry.creds)
    trace = saved(proxy, tmp_path / "push.trace.json")
    direct = skopeo_inspect(f"docker://{registry.host}/{repo}", raw=True, creds=registry.creds)
    assert direct == image.manifest()
    _check_flow(trace, registry, host_of(proxy), pulled=False)
    methods = {ex.request.method for ex in trace.exchanges}
    assert {"HEAD", "POST", "PUT"} <= methods
    assert_no_secret(tmp_path / "push.trace.json", registry.password)


@pytest.mark.parametrize("variant", ["token", "basic"])
def test_podman_pull_and_push_through_the_proxy(variant: str, request: pytest.FixtureRequest,
                                                seeded_images: dict[str, SampleImage], tmp_path: Path) -> None:
    registry = request.getfixturevalue(f"registry_{variant}")
    podman = Podman(tmp_path / "podman")
    with proxy_in_front(registry.url) as proxy:
        host = host_of(proxy)
        podman.login(host, registry.username, registry.password)
        podman.pull(f"{host}/{SMALL}")
        podman.push(f"{host}/{SMALL}", f"{host}/proxytest/podman-{variant}:1")
    trace = saved(proxy, tmp_path / "podman.trace.json")
    _check_flow(trace, registry, host_of(proxy))
    assert any("containers/" in (ex.request.header("User-Agent") or "") for ex in trace.exchanges)
    pushed = skopeo_inspect(f"docker://{registry.host}/proxytest/podman-{variant}:1", creds=registry.creds)
    assert pushed["Layers"] == skopeo_inspect(f"docker://{registry.host}/{SMALL}", creds=registry.creds)["Layers"]
    manifest_puts = [ex for ex in trace.exchanges if ex.request.method == "PUT" and "/manifests/" in ex.request.url]
    assert manifest_puts and manifest_puts[-1].response.status == 201
    assert_no_secret(tmp_path / "podman.trace.json", registry.password)


def test_oras_py_through_the_proxy(registry_basic, tmp_path: Path) -> None:
    from oras import client as oras_client  # oras-py: in the test extra

    artifact = tmp_path / "hello.txt"
    artifact.write_text("hello through the proxy\n")
    with proxy_in_front(registry_basic.url) as proxy:
        host = host_of(proxy)
        client = oras_client.OrasClient(hostname=host, insecure=True, auth_backend="basic")
        client.auth.set_basic_auth(registry_basic.username, registry_basic.password)  # no config file written
        client.push(target=f"{host}/proxytest/oras:1", files=[str(artifact)], disable_path_validation=True)
        out = tmp_path / "pulled"
        files = client.pull(target=f"{host}/proxytest/oras:1", outdir=str(out))
    trace = saved(proxy, tmp_path / "oras.trace.json")
    assert [Path(f).read_text() for f in files] == ["hello through the proxy\n"]
    _check_flow(trace, registry_basic, host_of(proxy))
    assert any(ex.request.method == "PUT" and "/manifests/" in ex.request.url and ex.response.status == 201
               for ex in trace.exchanges)
    assert_no_secret(tmp_path / "oras.trace.json", registry_basic.password)


@pytest.mark.parametrize("variant", ["token", "redirect"])
def test_regexplore_through_the_proxy_records_what_it_records_itself(
    variant: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    registry = request.getfixturevalue(f"registry_{variant}")
    extra, stdin = login_args(registry)
    own = tmp_path / "own.trace.json"
    with proxy_in_front(registry.url) as proxy:
        run = run_cli("trace", "pull", f"{host_of(proxy)}/{SMALL}", "-j", "1", "--plain-http", "-q",
                      "-o", str(own), "--oci-layout", str(tmp_path / "layout"), *extra, stdin=stdin)
        assert run.code == 0, run.output
        routes = proxy.routes
    proxied = saved(proxy, tmp_path / "proxied.trace.json")
    from explorer import trace as tracefile

    mine = tracefile.load(own)
    # the client's own trace names the proxy's URLs; mapped upstream they are the proxy's record, hop for hop
    ours = [(ex.request.method, routes.to_upstream(ex.request.url.split(host_of(proxy), 1)[1])[0],
             ex.response.status if ex.response else None) for ex in mine.exchanges]
    theirs = [(ex.request.method, ex.request.url, ex.response.status if ex.response else None)
              for ex in proxied.exchanges]
    assert ours == theirs
    _check_flow(proxied, registry, host_of(proxy))
    assert_no_secret(tmp_path / "proxied.trace.json", registry.password)


@pytest.mark.parametrize("auth", ["token", "basic"])
def test_skopeo_through_the_proxy_to_the_built_in_registry(auth: str, tmp_path: Path) -> None:
    image = build_sample(layers=2, seed="proxy-builtin")
    image.write_layout(tmp_path / "layout", tag="1")
    with Sandbox(auth=auth, redirect=True) as sandbox, proxy_in_front(sandbox.registry_url) as proxy:
        creds = (sandbox.username, sandbox.password)
        host = host_of(proxy)
        skopeo_copy(f"oci:{tmp_path / 'layout'}:1", f"docker://{host}/team/app:1", dest_creds=creds)
        skopeo_copy(f"docker://{host}/team/app:1", f"oci:{tmp_path / 'back'}:1", src_creds=creds)
        storage_host = sandbox.cdn_url.split("://", 1)[1]
    trace = saved(proxy, tmp_path / "builtin.trace.json")
    assert _pulled_digest(tmp_path / "back") == image.digest
    hops = [ex for ex in trace.exchanges if ex.request.url.split("/")[2] == storage_host]
    assert hops and all(ex.request.header("Authorization") is None for ex in hops)
    assert_no_secret(tmp_path / "builtin.trace.json", sandbox.password)
