"""Postman Collection v2.1.0 exports: a trace's collection, and the whole-API tour.

Rule: pure. JSON is built as dicts (no template) and written as ``json.dumps(indent=2,
ensure_ascii=False)`` writes it (``render.jsontext``); the scripts inside are ASCII: ``snippets.literal``.

Modules:

* ``collection``: a trace as a collection (``regexplore export postman TRACE``);
* ``tour``: every registry endpoint, runnable on an empty repository
  (``regexplore export postman --all-endpoints``);
* ``assertions``: the per-request scripts of a trace collection;
* ``snippets``: the JavaScript both share, and :func:`snippets.literal`, the one way a
  value becomes JavaScript;
* ``shapes``: Postman's JSON shapes (URL objects, auth, events) and inert recorded text;
* ``grammar``: the protocol values checked before a collection builds URLs from them.
"""

from __future__ import annotations

from explorer.annotate import AnnotatedTrace
from explorer.render import jsontext
from explorer.render.base import RenderOptions
from explorer.render.postman import collection as _trace_collection
from explorer.render.postman import tour
from explorer.render.postman.shapes import SCHEMA, url_object

__all__ = ["SCHEMA", "all_endpoints", "collection", "render", "url_object"]


def collection(annotated: AnnotatedTrace, options: RenderOptions | None = None) -> dict[str, object]:
    """The collection as a dict (``render`` is its JSON text); refuses (exit 2) hostile protocol values."""
    return _trace_collection.build(annotated, options or RenderOptions())


def render(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    return jsontext.dumps(collection(annotated, options), indent=2) + "\n"


def all_endpoints(options: RenderOptions | None = None) -> str:
    """The whole registry API as a collection that runs top to bottom against an empty repository."""
    return jsontext.dumps(tour.collection(options or RenderOptions()), indent=2) + "\n"
