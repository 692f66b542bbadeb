"""The one exception tree of regexplore.

Rule: every layer (even the pure ``protocol/`` package) may raise these errors.

    ExplorerError                 one-line message + hint; exit code 1 unless said otherwise
    ├── UsageError                bad input from the user (exit 2)
    │   ├── InvalidReference      an image reference that breaks the grammar
    │   ├── InvalidPlatform       a --platform value that is not os/arch[/variant]
    │   ├── TraceFormatError      a trace file we cannot read (unknown/newer format, bad JSON)
    │   ├── UnknownFormat         a render/export format we do not have
    │   └── BadSource             a push source that is not a usable OCI image layout
    ├── ProtocolViolation         the registry (or token server) broke the protocol
    │   ├── InvalidDigest         a digest outside the grammar (never used as a URL part or file name)
    │   ├── MalformedHeader       a header we could not parse (WWW-Authenticate, Link, Range, ...)
    │   └── ManifestError         a manifest that is too big, not JSON, of the wrong type, cyclic, ...
    ├── DigestMismatch            content did not hash to the digest it was asked by
    ├── NoMatchingPlatform        an index without the wanted platform
    ├── AuthError                 credentials refused, token server failed, unsafe realm
    ├── RegistryError             the registry answered with an error status (code from its body)
    ├── TransportError            connection refused/reset, timeout (after retries)
    └── Interrupted               Ctrl-C during an operation (exit 130; SIGTERM: 143)

    Terminated (a KeyboardInterrupt)  SIGTERM, as the CLI delivers it: operations stop as for Ctrl-C
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BadSource",
    "DigestMismatch",
    "ExplorerError",
    "Interrupted",
    "InvalidDigest",
    "InvalidPlatform",
    "InvalidReference",
    "MalformedHeader",
    "ManifestError",
    "NoMatchingPlatform",
    "Terminated",
    "ProtocolViolation",
    "RegistryError",
    "TraceFormatError",
    "TransportError",
    "UnknownFormat",
    "UsageError",
]


class ExplorerError(Exception):
    """Base of every error regexplore reports to a user.

    ``message`` is one line saying what is wrong; ``hint`` (optional) says what
    to do about it. The CLI prints ``error: <message>`` and, when present,
    ``hint: <hint>``, then exits with ``exit_code``.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ExplorerError):
    """Bad input from the user: a malformed argument, a missing file, conflicting flags."""

    exit_code = 2


class InvalidReference(UsageError):
    """An image reference that does not follow the distribution/reference grammar."""


class InvalidPlatform(UsageError):
    """A platform string that is not ``os/arch[/variant]``."""


class TraceFormatError(UsageError):
    """A trace file that is not JSON, not a trace, or of an unknown/newer format."""


class UnknownFormat(UsageError):
    """A render or export format name we do not know."""


class BadSource(UsageError):
    """A push source that is not an OCI image layout, or lacks the named tag or a blob."""


class ProtocolViolation(ExplorerError):
    """The registry or token server sent something the protocol does not allow."""


class InvalidDigest(ProtocolViolation):
    """A digest outside the grammar ``algorithm:encoded`` (or not a registered algorithm's form)."""


class MalformedHeader(ProtocolViolation):
    """A header value we could not parse (WWW-Authenticate, Link, Range, Content-Range, Location)."""


class ManifestError(ProtocolViolation):
    """A manifest that is too large, not JSON, of an unexpected media type, or nested too deep."""


class DigestMismatch(ExplorerError):
    """Content whose size or digest differs from the descriptor it was fetched by."""


class NoMatchingPlatform(ExplorerError):
    """An image index that has no manifest for the wanted platform."""


class AuthError(ExplorerError):
    """Authentication failed: wrong credentials, token server error, unsafe token realm."""


class RegistryError(ExplorerError):
    """The registry answered an error status; ``code`` is the first error code of its body."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code


class TransportError(ExplorerError):
    """A connection-level failure (refused, reset, timed out) that retries did not cure."""


class Interrupted(ExplorerError):
    """The user pressed Ctrl-C; what happened so far was saved."""

    exit_code = 130


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised by the CLI's handler like Ctrl-C's KeyboardInterrupt, so every flow stops the same way."""
