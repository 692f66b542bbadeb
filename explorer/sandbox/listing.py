"""Listings with ``n``/``last``/``Link`` pagination: tags (end-8a/8b) and ``/v2/_catalog``.

Rule 1: names come sorted from storage.
Rule 2: the ``Link`` is distribution's: ``</v2/<name>/tags/list?last=<last>&n=<n>>; rel="next"``
(Go's ``url.Values.Encode`` sorts the keys, so ``last`` comes first), relative
to the registry. ``n`` that is not a non-negative integer is 400
``PAGINATION_NUMBER_INVALID``; ``n=0`` is an empty page without ``Link``.

Where the two listings differ, each follows distribution:
- tags: no ``n`` = every tag; a ``Link`` only when more tags follow (the v3 rule;
  2.8 had no tag pagination at all and listed tags unsorted);
- catalog: no ``n`` = a page of 100; a ``Link`` whenever the page is FULL,
  even when nothing follows (2.8 and v3 both do this, so a client following
  ``Link`` ends with one empty page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from explorer.protocol.endpoints import Route
from explorer.sandbox.wsgi import ApiError, Request, Response, json_response

if TYPE_CHECKING:
    from explorer.sandbox.app import RegistryApp

__all__ = ["CATALOG_PAGE", "list_catalog", "list_tags"]

CATALOG_PAGE = 100


def _page_size(request: Request, default: int | None) -> int | None:
    text = request.arg("n")
    if text is None or text == "":
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise ApiError("PAGINATION_NUMBER_INVALID", {"n": text})
    return int(text)


def _after(names: list[str], last: str | None) -> list[str]:
    return [name for name in names if name > last] if last else names


def _link(path: str, last: str, size: int) -> tuple[str, str]:
    return ("Link", f'<{path}?{urlencode([("last", last), ("n", str(size))])}>; rel="next"')


def list_tags(registry: RegistryApp, request: Request, route: Route) -> Response:
    """end-8a/8b: ``{"name": …, "tags": [...]}``, sorted, paginated."""
    name = str(route.name)
    size = _page_size(request, None)
    tags = registry.storage.tags(name)
    if tags is None:
        raise ApiError("NAME_UNKNOWN", {"name": name})
    rest = _after(tags, request.arg("last"))
    headers = []
    if size is None:
        page = rest
    else:
        page = rest[:size]
        if size and len(rest) > size:
            headers.append(_link(f"/v2/{name}/tags/list", page[-1], size))
    return json_response(200, {"name": name, "tags": page}, headers)


def list_catalog(registry: RegistryApp, request: Request, route: Route) -> Response:
    """``/v2/_catalog``: ``{"repositories": [...]}``, sorted, paginated."""
    size = _page_size(request, CATALOG_PAGE)
    assert size is not None
    page = _after(registry.storage.repositories(), request.arg("last"))[:size]
    headers = [_link("/v2/_catalog", page[-1], size)] if size and len(page) == size else []
    return json_response(200, {"repositories": page}, headers)
