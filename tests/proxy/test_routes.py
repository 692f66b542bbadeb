"""Routes: proxy paths ↔ upstream origins, and which origins may receive the client's credentials."""

from __future__ import annotations

import pytest

from explorer.proxy.routes import CREDENTIAL_ROLES, PREFIX, Routes, origin_of

UP = "https://registry.example"
PUB = "http://127.0.0.1:5555"


@pytest.mark.parametrize("url,origin", [
    ("https://Registry.Example:443/v2/", "https://registry.example"),
    ("http://127.0.0.1:80/x", "http://127.0.0.1"),
    ("http://[::1]:5000/v2/", "http://[::1]:5000"),
    ("https://auth.example:8443/token?x=1", "https://auth.example:8443"),
])
def test_origin_of(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_registry_paths_go_upstream_unchanged() -> None:
    routes = Routes(UP, PUB)
    assert routes.to_upstream("/v2/team/app/manifests/1?x=%2F") == (f"{UP}/v2/team/app/manifests/1?x=%2F", "registry")


def test_realm_of_the_registrys_challenge_is_routed_and_may_get_credentials() -> None:
    routes = Routes(UP, PUB)
    value = 'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull"'
    rewritten = routes.challenge(value, f"{UP}/v2/", "registry")
    assert rewritten == f'Bearer realm="{PUB}{PREFIX}1/token",service="registry.example",scope="repository:a:pull"'
    url, role = routes.to_upstream(f"{PREFIX}1/token?scope=repository%3Aa%3Apull")
    assert url == "https://auth.example/token?scope=repository%3Aa%3Apull"
    assert role == "realm" and role in CREDENTIAL_ROLES


def test_a_realm_named_by_another_host_gets_no_credentials() -> None:
    routes = Routes(UP, PUB)
    storage = routes.location("https://cdn.example/blob?sig=1", f"{UP}/v2/a/blobs/sha256:1", 307, "registry")
    assert storage == f"{PUB}{PREFIX}1/blob?sig=1"
    assert routes.to_upstream(f"{PREFIX}1/blob?sig=1")[1] == "storage"
    challenge = routes.challenge('Bearer realm="https://evil.example/token"', "https://cdn.example/blob", "storage")
    assert challenge == f'Bearer realm="{PUB}{PREFIX}2/token"'
    assert routes.to_upstream(f"{PREFIX}2/token")[1] == "other"
    assert "other" not in CREDENTIAL_ROLES and "storage" not in CREDENTIAL_ROLES


def test_basic_realm_names_are_not_urls() -> None:
    routes = Routes(UP, PUB)
    assert routes.challenge('Basic realm="Registry Realm"', f"{UP}/v2/", "registry") == 'Basic realm="Registry Realm"'


def test_locations_and_links_on_the_registry_stay_on_the_proxy() -> None:
    routes = Routes(UP, PUB)
    assert routes.location("/v2/a/blobs/uploads/u?_state=x", f"{UP}/v2/a/blobs/uploads/", 202, "registry") == \
        "/v2/a/blobs/uploads/u?_state=x"
    assert routes.location(f"{UP}/v2/a/blobs/uploads/u", f"{UP}/v2/a/blobs/uploads/", 202, "registry") == \
        f"{PUB}/v2/a/blobs/uploads/u"
    assert routes.link('</v2/_catalog?n=2&last=b>; rel="next"', f"{UP}/v2/_catalog?n=2") == \
        '</v2/_catalog?n=2&last=b>; rel="next"'


def test_an_upload_location_on_another_host_is_other_not_storage() -> None:
    routes = Routes(UP, PUB)
    moved = routes.location("https://victim.example/v2/x/manifests/1", f"{UP}/v2/a/blobs/uploads/", 202, "registry")
    assert moved == f"{PUB}{PREFIX}1/v2/x/manifests/1"
    assert routes.to_upstream(f"{PREFIX}1/v2/x/manifests/1") == ("https://victim.example/v2/x/manifests/1", "other")


def test_a_relative_location_from_storage_stays_on_storage() -> None:
    routes = Routes(UP, PUB)
    routes.location("https://cdn.example/a/b", f"{UP}/v2/a/blobs/sha256:1", 307, "registry")
    assert routes.location("/c", "https://cdn.example/a/b", 307, "storage") == f"{PUB}{PREFIX}1/c"


def test_unknown_routes_are_refused() -> None:
    with pytest.raises(LookupError):
        Routes(UP, PUB).to_upstream(f"{PREFIX}3/x")
