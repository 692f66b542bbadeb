"""How an operation reaches a registry (``ConnectionOptions``), and the one way an operation runs traced.

Rule: no typer, no rich, no printing. Progress goes to a callback; warnings come back
in the result; errors are raised (``explorer.errors``), with the trace written first
when a ``trace_file`` was given.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Union

from explorer.client.credentials import Credentials
from explorer.errors import ExplorerError, InvalidDigest, InvalidReference, UsageError
from explorer.flows.progress import NullProgress, Progress
from explorer.protocol import digest, reference
from explorer.protocol.reference import Reference
from explorer.client.session import ClientOptions, TraceSession
from explorer.records import record

if TYPE_CHECKING:  # a plain function as progress: callbacks.py, imported when one is given
    from explorer.operations.callbacks import ProgressCallback

__all__ = ["ConnectionOptions", "Progressable", "as_progress", "parse_image", "traced"]


@record(frozen=True)
class ConnectionOptions:
    """How to reach registries; the defaults are the CLI's.

    ``plain_http``: speak http:// without an https probe (default: https; a loopback
    registry is tried over https first, then http if it does not speak TLS).
    ``insecure``: do not verify TLS certificates. ``jobs``: concurrent blob transfers.
    ``retries``: retries of transient failures. ``timeout``: seconds a connection may
    stall before its request fails (and is retried). ``debug_log``: one scrubbed log
    line per request on stderr.
    """

    plain_http: bool = False
    insecure: bool = False
    jobs: int = 8
    retries: int = 3
    timeout: float = 30.0
    debug_log: bool = False

    def __post_init__(self) -> None:
        for name, value, low, high in (("jobs", self.jobs, 1, 32), ("retries", self.retries, 0, 10),
                                       ("timeout", self.timeout, 1, 3600)):
            if not low <= value <= high:
                raise UsageError(f"{name}={value!r} is out of range", f"give {name} between {low} and {high}")

    def client_options(self, credentials: Credentials | None = None, *,
                       per_host: dict[str, Credentials] | None = None, keep_bodies: int | None = None) -> ClientOptions:
        """The session's options for these connection options."""
        options = ClientOptions(credentials=credentials, host_credentials=dict(per_host or {}),
                                plain_http=self.plain_http or None, insecure=self.insecure, retries=self.retries,
                                timeout=self.timeout, debug_log=self.debug_log)
        if keep_bodies is not None:
            options.binary_cap = keep_bodies
            options.text_cap = max(options.text_cap, keep_bodies)
        return options


Progressable = Union[Progress, "ProgressCallback", None]  # what an operation's ``progress`` may be


def as_progress(progress: Progressable) -> Progress:
    """A ``Progress`` object as it is, a plain function wrapped, None as silence."""
    if progress is None:
        return NullProgress()
    if hasattr(progress, "advance"):
        return progress  # type: ignore[return-value]
    from explorer.operations.callbacks import CallbackProgress

    return CallbackProgress(progress)  # type: ignore[arg-type]


def parse_image(text: str) -> Reference:
    """An image reference (``InvalidReference`` if malformed), whose digest, if any, we can verify.

    Content fetched by digest is checked against it: a digest we cannot compute
    (``md5:…``) is refused here, before any request.
    """
    ref = reference.parse(text)
    if ref.digest is not None:
        try:
            digest.require_verifiable(ref.digest)
        except InvalidDigest:
            algorithm = ref.digest.split(":", 1)[0]
            raise InvalidReference(
                f"cannot use the {algorithm} digest of {text!r}: regexplore verifies what it fetches by digest "
                "and knows sha256 and sha512",
                "name the image by its sha256 digest or by a tag",
            ) from None
    return ref


@contextmanager
def traced(operation: str, target: str, equivalent: Sequence[str], *, credentials: Credentials | None,
           options: ConnectionOptions | None, trace_file: str | os.PathLike[str] | None,
           command: Sequence[str] | None, per_host: dict[str, Credentials] | None = None,
           keep_bodies: int | None = None) -> Iterator[TraceSession]:
    """One traced operation: the trace is sealed, and written to ``trace_file`` when given, whatever happens.

    ``command`` is what the trace records as its command line (default: ``trace OPERATION``
    and the ``equivalent`` words); a failed operation's error notes where its trace went.
    """
    client_options = (options or ConnectionOptions()).client_options(credentials, per_host=per_host,
                                                                     keep_bodies=keep_bodies)
    argv = list(command) if command is not None else ["trace", operation, *equivalent]
    output = Path(trace_file) if trace_file is not None else None
    session = TraceSession(operation, target, output, argv=argv, options=client_options)
    try:
        with session.running():
            yield session
    except ExplorerError as exc:
        if session.saved:
            exc.add_note(f"trace of the failed {operation}: {session.saved}")
        raise

