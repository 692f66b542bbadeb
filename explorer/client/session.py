"""A traced operation: recorder + clients + the guarantee that the trace is written.

Rule 1: whatever happens (success, a registry error, a bug, Ctrl-C), the trace of
everything that went over the wire is sealed and saved before the error goes
up: a failed operation is exactly when people need its trace.
Rule 2: nothing the session lets out carries a secret. The error that goes up
(message, hint, and every exception chained to it, which ``--debug`` prints)
and the ``--debug`` log lines are scrubbed like the trace: every secret the
session knows, and every URL's non-allowlisted query values.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import field
from pathlib import Path

import httpx

from explorer import trace as tracefile
from explorer.client.registry import RegistryClient
from explorer.client.credentials import CredentialSource, Credentials
from explorer.errors import ExplorerError, Interrupted, Terminated, UsageError
from explorer.recording.recorder import Recorder, RecordingTransport
from explorer.recording.redact import Secrets, redact_argv, redact_urls
from explorer.client.schemes import Schemes
from explorer.records import record
from explorer.trace import Outcome, Trace

__all__ = ["ClientOptions", "TraceSession"]


@record
class ClientOptions:
    """How to reach registries: credentials, scheme, TLS, retries (shared by every trace command)."""

    credentials: Credentials | None = None
    host_credentials: dict[str, Credentials] = field(default_factory=dict)  # by API host; win over the above
    plain_http: bool | None = None  # None: https, tried first for loopback registries (then http); see schemes.py
    insecure: bool = False
    retries: int = 3
    timeout: float = 30.0  # --timeout: seconds a connection may stall (no bytes, or a drip) before a request fails
    text_cap: int = 64 * 1024
    binary_cap: int = 0
    inner_transport: httpx.BaseTransport | None = None  # tests: a WSGITransport or MockTransport
    debug_log: bool = False  # --debug: one scrubbed log line per HTTP request and retry, on stderr
    record: bool = True  # False: exchanges are not recorded (benchmarks: the recorder's cost)
    warn: Callable[[str], None] = field(default=lambda message: print(f"warning: {message}", file=sys.stderr))


class TraceSession:
    """Records one operation. ``with session.running(): ...`` saves the trace whatever happens.

    Without an ``output`` the trace is only sealed, kept in ``session.trace``.
    """

    def __init__(
        self,
        operation: str,
        target: str,
        output: Path | None,
        *,
        argv: list[str] | None = None,
        options: ClientOptions | None = None,
    ) -> None:
        if output is not None and output.is_dir():
            raise UsageError(
                f"the trace output {output} is a directory", "give a file name with -o, e.g. -o pull.trace.json"
            )
        self.options = options or ClientOptions()
        self.secrets = Secrets()
        self.credentials = CredentialSource(
            self.secrets, self.options.credentials, per_host=self.options.host_credentials
        )
        self.output = output
        command = ["regexplore", *(argv if argv is not None else sys.argv[1:])]
        self.trace = Trace(command=redact_argv(command, self.secrets), operation=operation,
                           target=redact_urls(target, self.secrets))
        self.recorder = Recorder(
            self.trace, secrets=self.secrets, text_cap=self.options.text_cap, binary_cap=self.options.binary_cap
        )
        self.transport = RecordingTransport(
            self.recorder, self.options.inner_transport, verify=not self.options.insecure, record=self.options.record
        )
        self.schemes = Schemes(self.options.plain_http)  # one scheme per registry, whichever client asks
        self._clients: list[RegistryClient] = []
        self.saved: Path | None = None

    def client(self, registry: str) -> RegistryClient:
        """A client for ``registry`` sharing this session's recorder and connection pools."""
        timeout = httpx.Timeout(self.options.timeout)
        client = RegistryClient(
            registry,
            recorder=self.recorder,
            credentials=self.credentials,
            plain_http=self.options.plain_http,
            insecure=self.options.insecure,
            schemes=self.schemes,
            retries=self.options.retries,
            timeout=timeout,
            transport=self.transport,
            warn=self.options.warn,
        )
        self._clients.append(client)
        return client

    @contextmanager
    def running(self) -> Iterator[TraceSession]:
        with _debug_log(self.secrets, self.options.debug_log):
            try:
                yield self
            except Terminated:  # SIGTERM, as the CLI delivers it
                self._finish(Outcome("interrupted", "terminated (SIGTERM)"))
                error = Interrupted(f"terminated (SIGTERM){self._written()}")
                error.exit_code = 128 + signal.SIGTERM
                raise error from None
            except KeyboardInterrupt:
                self._finish(Outcome("interrupted", "interrupted by the user (Ctrl-C)"))
                raise Interrupted(f"interrupted{self._written()}") from None
            except ExplorerError as exc:
                _scrub_exception(exc, self.secrets)
                self._finish(Outcome("failed", exc.message))
                raise
            except Exception as exc:
                _scrub_exception(exc, self.secrets)
                self._finish(Outcome("failed", f"{type(exc).__name__}: {exc}"))
                raise
            else:
                self._finish(Outcome("ok", None))

    def _written(self) -> str:
        return f"; the trace so far was written to {self.output}" if self.output is not None else ""

    def _finish(self, outcome: Outcome) -> None:
        for client in self._clients:
            client.close()
        self.transport.close()
        self.trace.outcome = outcome
        self.recorder.seal()
        if self.output is None:  # a library caller keeps the trace in memory (``session.trace``)
            return
        try:
            self.saved = tracefile.save(self.trace, self.output)
        except OSError as exc:
            error = ExplorerError(
                f"cannot write the trace to {self.output}: {exc.strerror or exc}", "choose another -o path"
            )
            if outcome.message:
                error.add_note(f"the {self.trace.operation or 'operation'} itself: {outcome.message}")
            raise error from None


# --- keeping secrets out of errors and logs (``redact_urls``: known secrets, and every URL's
# non-allowlisted query values and password, as in traces) -------------------------------------
def _scrub_exception(exc: BaseException, secrets: Secrets) -> None:
    """Scrub ``exc`` and every exception chained to it (what ``--debug`` tracebacks print), in place."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(redact_urls(a, secrets) if isinstance(a, str) else a for a in current.args)
        if isinstance(current, ExplorerError):
            current.message = redact_urls(current.message, secrets)
            current.hint = redact_urls(current.hint, secrets) if current.hint else current.hint
        current = current.__cause__ or current.__context__


class _ScrubbedStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Log lines on the CURRENT ``sys.stderr`` (redirected in tests), scrubbed of secrets."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = secrets
        self.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass

    def format(self, record: logging.LogRecord) -> str:
        return redact_urls(super().format(record), self.secrets)


@contextmanager
def _debug_log(secrets: Secrets, enabled: bool) -> Iterator[None]:
    """With ``enabled``: httpx's request lines and regexplore's debug lines on stderr while the session runs."""
    if not enabled:
        yield
        return
    handler = _ScrubbedStderr(secrets)
    loggers = {logging.getLogger("httpx"): logging.INFO, logging.getLogger("explorer"): logging.DEBUG}
    previous = {logger: logger.level for logger in loggers}
    for logger, level in loggers.items():
        logger.addHandler(handler)
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, level in previous.items():
            logger.removeHandler(handler)
            logger.setLevel(level)
