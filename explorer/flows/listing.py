"""Listings that paginate: a repository's tags (end-8a/8b) and the registry's catalog (``_catalog``).

Steps: ``ping``, then ``list tags page N`` / ``list repositories page N``, one per page.

Rules: the next page is the one the ``Link: <…>; rel="next"`` header names
(resolved against the request URL), never a URL we build ourselves; ``n`` is
sent on the first request only. A Link that points to a page already fetched
is a protocol violation, not an endless loop. The catalog's scope
``registry:catalog:*`` comes from ``auth``'s scope computation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.client.registry import RegistryClient
from explorer.errors import ProtocolViolation
from explorer.protocol import headers
from explorer.trace import Intent

__all__ = ["Listing", "list_repositories", "list_tags"]

MAX_PAGES = 10_000


@dataclass
class Listing:
    items: list[str] = field(default_factory=list)
    pages: int = 0


def list_tags(client: RegistryClient, repository: str, *, page_size: int | None = None, context: str) -> Listing:
    """Every tag of ``repository``, page by page."""
    url = _first_page(client.url(f"/v2/{repository}/tags/list"), page_size)
    return _paginate(client, url, "tags", Intent("list-tags", endpoint="end-8a", repository=repository), context)


def list_repositories(client: RegistryClient, *, page_size: int | None = None) -> Listing:
    """Every repository the registry's catalog lists, page by page."""
    url = _first_page(client.url("/v2/_catalog"), page_size)
    return _paginate(client, url, "repositories", Intent("catalog", endpoint="catalog"), f"{client.registry}/v2/_catalog")


def _first_page(url: str, page_size: int | None) -> str:
    return headers.add_query(url, [("n", str(page_size))]) if page_size is not None else url


def _paginate(client: RegistryClient, url: str, key: str, intent: Intent, context: str) -> Listing:
    with client.step(Intent("ping")):
        client.ping()
    listing = Listing()
    seen: set[str] = set()
    next_url: str | None = url
    while next_url is not None:
        if next_url in seen or listing.pages >= MAX_PAGES:
            raise ProtocolViolation(f"the {key} listing of {context} links back to a page already read: {next_url}")
        seen.add(next_url)
        listing.pages += 1
        with client.step(intent.but(index=listing.pages)):
            body, next_url = client.list_page(next_url, context=context)
        values = body.get(key)
        if isinstance(values, list):
            listing.items.extend(str(value) for value in values)
    return listing
