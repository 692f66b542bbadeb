"""regexplore as a library: every operation as a typed function; the CLI is a thin shell over these.

    from explorer import operations as rx

    pulled = rx.pull("127.0.0.1:5000/team/app:1.0", trace_file="pull.trace.json",
                     options=rx.ConnectionOptions(plain_http=True))
    print(pulled.digest, pulled.summary())
    rx.render(pulled.trace, "mermaid", "pull.mmd")
    rx.export("pull.trace.json", "postman", "pull.postman_collection.json")

Traced operations (each records every HTTP exchange into ``result.trace``)::

    pull(image)                 -> Pulled       images.py
    push(source, destination)   -> Pushed       images.py   (an OCI layout DIR[:TAG] or a sample image)
    copy(source, destination)   -> Copied       images.py
    tags(repository)            -> Listed       api.py
    catalog(registry)           -> Listed       api.py
    manifest(image)             -> ManifestFound  api.py
    tag(image, new_tag)         -> Tagged       api.py
    delete(image_at_digest)     -> Deleted      api.py
    referrers(image_at_digest)  -> Referrers    api.py
    probe(registry)             -> Probed       api.py

Each takes the same keywords: ``credentials`` (a :class:`Credentials`; default: the Docker
config, then podman's auth.json, else anonymous), ``options`` (a :class:`ConnectionOptions`:
plain_http, insecure, jobs, retries, timeout), ``progress`` (a function receiving
:class:`ProgressEvent`, or an ``explorer.flows.progress.Progress``), ``trace_file`` (where the trace
goes, written whatever happens: a failed operation's error notes it) and ``command`` (what the
trace records as its command line). Outputs, from a trace or a trace file::

    render(trace, fmt, output=None) -> Rendered     outputs.py
    export(trace, fmt, output=None) -> Rendered     outputs.py

Errors are ``explorer.errors.ExplorerError`` (``UsageError`` for bad arguments, raised
before any request). Nothing here imports typer or rich, or prints.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

#: where each public name lives; imported on first use, so a pull loads neither the other
#: operations' flows nor the renderers before its first request (start-up, issue 17)
_WHERE = {
    "Credentials": "explorer.client.credentials", "build_sample": "explorer.oci.sample",
    **dict.fromkeys(("catalog", "delete", "manifest", "probe", "referrers", "tag", "tags"), "explorer.operations.api"),
    **dict.fromkeys(("copy", "pull", "push"), "explorer.operations.images"),
    "ConnectionOptions": "explorer.operations.options", "ProgressEvent": "explorer.operations.callbacks",
    **dict.fromkeys(("Rendered", "export", "render"), "explorer.operations.outputs"),
    **dict.fromkeys(("Pulled", "Traced"), "explorer.operations.results"),
    **dict.fromkeys(("Copied", "Pushed"), "explorer.operations.push_results"),
    **dict.fromkeys(("Deleted", "Listed", "ManifestFound", "Probed", "Referrers", "Tagged"),
                    "explorer.operations.api_results"),
}

if TYPE_CHECKING:
    from explorer.client.credentials import Credentials
    from explorer.operations.api import catalog, delete, manifest, probe, referrers, tag, tags
    from explorer.operations.images import copy, pull, push
    from explorer.operations.callbacks import ProgressEvent
    from explorer.operations.options import ConnectionOptions
    from explorer.operations.api_results import Deleted, Listed, ManifestFound, Probed, Referrers, Tagged
    from explorer.operations.outputs import Rendered, export, render
    from explorer.operations.push_results import Copied, Pushed
    from explorer.operations.results import Pulled, Traced
    from explorer.oci.sample import build_sample


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(where), name)
    globals()[name] = value  # once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "ConnectionOptions",
    "Copied",
    "Credentials",
    "Deleted",
    "Listed",
    "ManifestFound",
    "Probed",
    "ProgressEvent",
    "Pulled",
    "Pushed",
    "Referrers",
    "Rendered",
    "Tagged",
    "Traced",
    "build_sample",
    "catalog",
    "copy",
    "delete",
    "export",
    "manifest",
    "probe",
    "pull",
    "push",
    "referrers",
    "render",
    "tag",
    "tags",
]
