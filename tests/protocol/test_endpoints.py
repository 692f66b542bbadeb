"""The endpoint table (distribution-spec "Endpoints") and classify()."""

from __future__ import annotations

import pytest

from explorer.protocol.endpoints import ENDPOINTS, Route, by_id, classify, parse_route
from explorer.protocol import endpoints

D = "sha256:" + "ab" * 32
REQUIRED_IDS = [
    "end-1", "end-2", "end-3", "end-4a", "end-4b", "end-5", "end-6", "end-7", "end-8a", "end-8b", "end-9",
    "end-10", "end-11", "end-12a", "end-12b", "end-13", "end-14", "catalog",
]


def test_table_has_every_spec_endpoint_once() -> None:
    ids = [endpoint.id for endpoint in ENDPOINTS]
    assert len(ids) == len(set(ids))
    assert set(REQUIRED_IDS) <= set(ids)
    assert set(ids) - set(REQUIRED_IDS) == {"end-4c", "end-7b"}  # OCI main additions


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.id)
def test_rows_are_complete(endpoint) -> None:  # type: ignore[no-untyped-def]
    assert by_id(endpoint.id) is endpoint
    assert endpoint.methods and all(method.isupper() for method in endpoint.methods)
    assert endpoint.success and endpoint.failure
    assert endpoint.category in {"pull", "push", "discovery", "management"}
    assert endpoint.source in {"oci", "oci-main", "docker"}
    assert endpoint.title and endpoint.meaning.endswith(".") and "\n" not in endpoint.meaning
    assert endpoint.path.startswith(("/v2/", "<blob-push-location>"))


@pytest.mark.parametrize(
    ("endpoint_id", "methods", "success", "failure"),
    [
        ("end-1", ("GET",), (200,), (404, 401)),
        ("end-2", ("GET", "HEAD"), (200,), (404,)),
        ("end-3", ("GET", "HEAD"), (200,), (404,)),
        ("end-4a", ("POST",), (202,), (404,)),
        ("end-4b", ("POST",), (201, 202), (404, 400)),
        ("end-5", ("PATCH",), (202,), (404, 416)),
        ("end-6", ("PUT",), (201,), (404, 400, 416)),
        ("end-7", ("PUT",), (201,), (404, 413)),
        ("end-8a", ("GET",), (200,), (404,)),
        ("end-8b", ("GET",), (200,), (404,)),
        ("end-9", ("DELETE",), (202,), (404, 400, 405)),
        ("end-10", ("DELETE",), (202,), (404, 400, 405)),
        ("end-11", ("POST",), (201, 202), (404,)),
        ("end-12a", ("GET",), (200,), (404, 400)),
        ("end-12b", ("GET",), (200,), (404, 400)),
        ("end-13", ("GET",), (204,), (404,)),
        ("end-14", ("DELETE",), (204,), (404, 400)),
        ("catalog", ("GET",), (200,), (400, 401, 404)),
    ],
)
def test_spec_rows(endpoint_id: str, methods: tuple[str, ...], success: tuple[int, ...], failure: tuple[int, ...]) -> None:
    endpoint = by_id(endpoint_id)
    assert (endpoint.methods, endpoint.success, endpoint.failure) == (methods, success, failure)


def test_by_id_unknown() -> None:
    with pytest.raises(KeyError):
        by_id("end-99")


@pytest.mark.parametrize(
    ("method", "url", "endpoint_id", "name", "reference"),
    [
        ("GET", "/v2/", "end-1", None, None),
        ("GET", "/v2", "end-1", None, None),
        ("GET", "https://registry-1.docker.io/v2/", "end-1", None, None),
        ("GET", f"/v2/library/alpine/blobs/{D}", "end-2", "library/alpine", D),
        ("HEAD", f"http://127.0.0.1:5000/v2/a/blobs/{D}", "end-2", "a", D),
        ("GET", "/v2/library/alpine/manifests/3.20", "end-3", "library/alpine", "3.20"),
        ("HEAD", f"/v2/a/b/c/manifests/{D}", "end-3", "a/b/c", D),
        ("get", "/v2/a/manifests/latest?ns=docker.io", "end-3", "a", "latest"),
        ("POST", "/v2/team/app/blobs/uploads/", "end-4a", "team/app", None),
        ("POST", "/v2/team/app/blobs/uploads", "end-4a", "team/app", None),
        ("POST", f"/v2/a/blobs/uploads/?digest={D}", "end-4b", "a", None),
        ("POST", "/v2/a/blobs/uploads/?digest-algorithm=sha512", "end-4c", "a", None),
        ("PATCH", "/v2/a/blobs/uploads/5b1c-uuid?_state=abc", "end-5", "a", "5b1c-uuid"),
        ("PUT", f"https://r/v2/a/blobs/uploads/5b1c-uuid?_state=abc&digest={D}", "end-6", "a", "5b1c-uuid"),
        ("PUT", "/v2/a/manifests/1.0", "end-7", "a", "1.0"),
        ("PUT", f"/v2/a/manifests/{D}?tag=a&tag=b", "end-7b", "a", D),
        ("GET", "/v2/a/b/tags/list", "end-8a", "a/b", None),
        ("GET", "/v2/a/tags/list?n=10", "end-8b", "a", None),
        ("GET", "/v2/a/tags/list?n=10&last=v1", "end-8b", "a", None),
        ("GET", "/v2/a/tags/list?last=v1", "end-8b", "a", None),
        ("DELETE", f"/v2/a/manifests/{D}", "end-9", "a", D),
        ("DELETE", "/v2/a/manifests/old-tag", "end-9", "a", "old-tag"),
        ("DELETE", f"/v2/a/blobs/{D}", "end-10", "a", D),
        ("POST", f"/v2/dst/blobs/uploads/?mount={D}&from=src/app", "end-11", "dst", None),
        ("POST", f"/v2/dst/blobs/uploads/?digest={D}&mount={D}&from=src", "end-11", "dst", None),
        ("GET", f"/v2/a/referrers/{D}", "end-12a", "a", D),
        ("GET", f"/v2/a/referrers/{D}?artifactType=application%2Fvnd.example", "end-12b", "a", D),
        ("GET", "/v2/a/blobs/uploads/5b1c-uuid", "end-13", "a", "5b1c-uuid"),
        ("DELETE", "/v2/a/blobs/uploads/5b1c-uuid?_state=x", "end-14", "a", "5b1c-uuid"),
        ("GET", "/v2/_catalog", "catalog", None, None),
        ("GET", "/v2/_catalog?n=2&last=b", "catalog", None, None),
        # repository names that contain the markers
        ("GET", "/v2/org/manifests/manifests/x", "end-3", "org/manifests", "x"),
        ("GET", "/v2/tags/tags/list", "end-8a", "tags", None),
        ("GET", "/v2/blobs/blobs/uploads/u", "end-13", "blobs", "u"),
        ("GET", f"/v2/referrers/blobs/{D}", "end-2", "referrers", D),
        ("GET", "/v2/a/blobs/uploads/some/opaque/id", "end-13", "a", "some/opaque/id"),
        # percent-encoded parts are decoded
        ("GET", "/v2/a/manifests/sha256%3Aabc", "end-3", "a", "sha256:abc"),
    ],
)
def test_classify(method: str, url: str, endpoint_id: str, name: str | None, reference: str | None) -> None:
    match = classify(method, url)
    assert match is not None
    assert (match.endpoint.id, match.name, match.reference) == (endpoint_id, name, reference)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "https://auth.docker.io/token?service=registry.docker.io&scope=repository:a:pull"),
        ("GET", "https://production.cloudflare.docker.com/registry-v2/docker/registry/v2/blobs/sha256/ab/x/data"),
        ("POST", "/v2/"),
        ("HEAD", "/v2/a/tags/list"),
        ("POST", "/v2/a/manifests/x"),
        ("PATCH", "/v2/a/blobs/uploads/"),
        ("GET", "/v2/A/manifests/x"),  # not a repository name
        ("GET", "/v2/a//b/manifests/x"),
        ("GET", "/v2/manifests/x"),  # no repository
        ("GET", "/v2/a/manifests/"),
        ("GET", "/v2/a/manifests/x/y"),
        ("GET", "/v2/a/tags/list/more"),
        ("GET", "/v2/a/unknown/x"),
        ("GET", "/v3/a/manifests/x"),
        ("GET", "/v2x/a/manifests/x"),
        ("GET", "http://[::1/v2/"),
        ("GET", ""),
    ],
)
def test_classify_returns_none(method: str, url: str) -> None:
    assert classify(method, url) is None


def test_every_endpoint_is_reachable_by_classify() -> None:
    reached = {
        classify(method, url).endpoint.id  # type: ignore[union-attr]
        for method, url in [
            ("GET", "/v2/"), ("GET", f"/v2/a/blobs/{D}"), ("GET", "/v2/a/manifests/t"),
            ("POST", "/v2/a/blobs/uploads/"), ("POST", f"/v2/a/blobs/uploads/?digest={D}"),
            ("POST", "/v2/a/blobs/uploads/?digest-algorithm=sha512"), ("PATCH", "/v2/a/blobs/uploads/u"),
            ("PUT", f"/v2/a/blobs/uploads/u?digest={D}"), ("PUT", "/v2/a/manifests/t"),
            ("PUT", f"/v2/a/manifests/{D}?tag=t"), ("GET", "/v2/a/tags/list"), ("GET", "/v2/a/tags/list?n=1"),
            ("DELETE", "/v2/a/manifests/t"), ("DELETE", f"/v2/a/blobs/{D}"),
            ("POST", f"/v2/a/blobs/uploads/?mount={D}&from=b"), ("GET", f"/v2/a/referrers/{D}"),
            ("GET", f"/v2/a/referrers/{D}?artifactType=x"), ("GET", "/v2/a/blobs/uploads/u"),
            ("DELETE", "/v2/a/blobs/uploads/u"), ("GET", "/v2/_catalog"),
        ]
    }
    assert reached == {endpoint.id for endpoint in ENDPOINTS}


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v2/", Route("base")),
        ("/v2/_catalog/", Route("catalog")),
        ("/v2/a/blobs/uploads/", Route("uploads", "a")),
        ("/v2/a/blobs/uploads/u?x=1", Route("upload", "a", "u")),
        ("/other", None),
    ],
)
def test_parse_route(path: str, route: Route | None) -> None:
    assert parse_route(path) == route


@pytest.mark.parametrize("endpoint", [e for e in endpoints.ENDPOINTS if not e.path.startswith("<blob-push-location>")],
                         ids=lambda e: e.id)
def test_path_builds_what_classify_recognises(endpoint) -> None:
    """One table both ways: the path the client (and later replay, Postman) builds is classified back."""
    digest = "sha256:" + "ab" * 32
    path = endpoints.path(endpoint.id, "team/app", digest)
    query = endpoint.path.partition("?")[2]
    if query:  # the query the caller adds, with values of the right shape
        path += "?" + "&".join(f"{k.split('=')[0]}=x" for k in query.split("&"))
    method = "PUT" if endpoint.id.startswith("end-7") else endpoint.methods[0]
    match = endpoints.classify(method, "http://r" + path)
    assert match is not None and match.endpoint.id == endpoint.id, (path, match)
    if "<name>" in endpoint.path:
        assert match.name == "team/app"


def test_path_refuses_what_it_cannot_build() -> None:
    with pytest.raises(ValueError, match="upload's Location"):
        endpoints.path("end-5", "a", "b")
    with pytest.raises(ValueError, match="repository name"):
        endpoints.path("end-3")
    with pytest.raises(ValueError, match="needs a reference"):
        endpoints.path("end-3", "a/b")
