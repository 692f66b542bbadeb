"""Tags list and catalog: sorting, n/last, Link followed to the end, PAGINATION_NUMBER_INVALID."""

from __future__ import annotations

import httpx

from tests.sandbox.pushing import OCI_MANIFEST, error_codes, push_image


def _tag_all(client: httpx.Client, name: str, tags: list[str]) -> None:
    _, manifest = push_image(client, name, tags[0])
    for tag in tags[1:]:
        assert client.put(f"/v2/{name}/manifests/{tag}", content=manifest,
                          headers={"Content-Type": OCI_MANIFEST}).status_code == 201


def _follow(client: httpx.Client, url: str, key: str) -> tuple[list[list[str]], list[str]]:
    """Pages and the Link values seen, following rel=next until there is none."""
    pages, links = [], []
    while url:
        answer = client.get(url)
        assert answer.status_code == 200
        pages.append(answer.json()[key])
        link = answer.headers.get("Link")
        links.append(link or "")
        url = answer.links["next"]["url"] if link else ""
    return pages, links


def test_tags_sorted_and_paginated_to_the_end(client: httpx.Client) -> None:
    tags = ["v2", "latest", "1.0", "B", "a", "v10"]
    _tag_all(client, "pages/app", tags)
    everything = client.get("/v2/pages/app/tags/list")
    assert everything.json() == {"name": "pages/app", "tags": sorted(tags)}
    assert "Link" not in everything.headers
    pages, links = _follow(client, "/v2/pages/app/tags/list?n=2", "tags")
    assert pages == [["1.0", "B"], ["a", "latest"], ["v10", "v2"]]
    assert links == ['</v2/pages/app/tags/list?last=B&n=2>; rel="next"',
                     '</v2/pages/app/tags/list?last=latest&n=2>; rel="next"', ""]
    after = client.get("/v2/pages/app/tags/list", params={"last": "latest"}).json()["tags"]
    assert after == ["v10", "v2"]
    assert client.get("/v2/pages/app/tags/list", params={"n": "0"}).json()["tags"] == []


def test_tags_errors(client: httpx.Client) -> None:
    unknown = client.get("/v2/nobody/tags/list")
    assert (unknown.status_code, error_codes(unknown)) == (404, ["NAME_UNKNOWN"])
    assert unknown.json()["errors"][0]["detail"] == {"name": "nobody"}
    _tag_all(client, "t", ["1"])
    for n in ("x", "-1", "1.5"):
        answer = client.get("/v2/t/tags/list", params={"n": n})
        assert (answer.status_code, error_codes(answer)) == (400, ["PAGINATION_NUMBER_INVALID"]), n


def test_catalog_pages_with_link_like_distribution(client: httpx.Client) -> None:
    assert client.get("/v2/_catalog").json() == {"repositories": []}
    for name in ("c", "a/x", "b", "a"):
        push_image(client, name, "1")
    assert client.get("/v2/_catalog").json() == {"repositories": ["a", "a/x", "b", "c"]}
    pages, links = _follow(client, "/v2/_catalog?n=2", "repositories")
    # a full page always carries Link (distribution), so the walk ends with an empty page
    assert pages == [["a", "a/x"], ["b", "c"], []]
    assert links[0] == '</v2/_catalog?last=a%2Fx&n=2>; rel="next"'
    three, _ = _follow(client, "/v2/_catalog?n=3", "repositories")
    assert three == [["a", "a/x", "b"], ["c"]]
    bad = client.get("/v2/_catalog", params={"n": "many"})
    assert (bad.status_code, error_codes(bad)) == (400, ["PAGINATION_NUMBER_INVALID"])
