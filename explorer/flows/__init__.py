"""Multi-step registry operations (pull, push, copy, ...) over ``RegistryClient``.

Rule: a flow decides the ORDER of endpoint calls and labels each step
(``with client.step(Intent("fetch-layer", index=2, total=5, …))``: the label is derived); HTTP mechanics stay in the client,
protocol knowledge in ``protocol/``. Flows never draw: they report progress
through ``explorer.flows.progress.Progress``.
"""

__all__ = ["DEFAULT_CHUNK_SIZE"]

#: uploads' default chunk: one PUT for nearly every layer, as each PATCH is a round trip (issue 17).
#: Here, not in ``upload.py``, so that the operations' signatures need not import the upload flow.
DEFAULT_CHUNK_SIZE = 256 * 1024 * 1024
