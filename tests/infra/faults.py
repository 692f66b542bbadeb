"""The fault vocabulary of the fault proxy: rules, faults, and the response they edit.

Rules: test infrastructure, standard library only, no I/O: these are plain
data plus the pure edits (``apply_rewrite``, ``bearer_expired``) the proxy in
``tests/infra/fault_proxy.py`` applies. See that module's docstring for the
order in which faults act on a request.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

__all__ = [
    "DropResponse",
    "EchoRequest",
    "EditRequest",
    "Fault",
    "ProxyResponse",
    "RejectStaleBearer",
    "Reset",
    "ResetRequest",
    "Respond",
    "Rewrite",
    "Rule",
    "Seen",
    "Stall",
    "Throttle",
    "Truncate",
    "WrongLength",
    "apply_rewrite",
    "bearer_expired",
    "close_body",
]


class Fault:
    """Base of every fault; ``name`` appears in ``Seen.faults``."""

    @property
    def name(self) -> str:
        return type(self).__name__


@dataclass
class EditRequest(Fault):
    """Change the request before it is forwarded (e.g. drop ``Range`` to play a server without ranges)."""

    drop_headers: tuple[str, ...] = ()
    set_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ResetRequest(Fault):
    """Read ``after`` bytes of the request body, then reset the connection; nothing is forwarded."""

    after: int = 0


@dataclass
class Respond(Fault):
    """Answer without asking the upstream."""

    status: int
    headers: dict[str, str] | list[tuple[str, str]] = field(default_factory=dict)
    body: bytes = b""
    retry_after: str | None = None

    def response(self) -> ProxyResponse:
        headers = list(self.headers.items()) if isinstance(self.headers, dict) else list(self.headers)
        if self.retry_after is not None:
            headers.append(("Retry-After", self.retry_after))
        if not any(k.lower() == "content-type" for k, _ in headers) and self.body:
            headers.append(("Content-Type", "application/json"))
        return ProxyResponse(self.status, http.client.responses.get(self.status, "Unknown"), headers, self.body)


@dataclass
class EchoRequest(Fault):
    """Answer without asking the upstream, echoing the request: its line in the reason phrase, and its line
    and every header (``Authorization``, ``Cookie``, …) in a registry error body, as a debugging proxy,
    a WAF or a careless server does."""

    status: int = 403
    code: str = "DENIED"

    def response(self, method: str, target: str, headers: list[tuple[str, str]]) -> ProxyResponse:
        sent = "; ".join(f"{name}: {value}" for name, value in headers)
        error = {"code": self.code, "message": f"refused {method} {target} sent with {sent}",
                 "detail": {"method": method, "target": target, "headers": dict(headers)}}
        body = json.dumps({"errors": [error]}).encode()
        headers_out = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        return ProxyResponse(self.status, f"Refused {target}", headers_out, body)


@dataclass
class RejectStaleBearer(Fault):
    """A strict registry: an expired Bearer JWT gets 401 ``error="invalid_token"`` (distribution 2.8 allows ~60 s)."""

    rejected: int = 0


@dataclass
class Rewrite(Fault):
    """Change the upstream's (or a synthesised) response: status, headers, body, or anything via ``edit``."""

    status: int | None = None
    set_headers: dict[str, str] = field(default_factory=dict)
    add_headers: list[tuple[str, str]] = field(default_factory=list)
    drop_headers: tuple[str, ...] = ()
    body: bytes | None = None
    edit: Callable[[ProxyResponse], None] | None = None


@dataclass
class WrongLength(Fault):
    """Declare ``length`` as Content-Length but send the real body (then close the connection)."""

    length: int


@dataclass
class DropResponse(Fault):
    """Forward the request, then reset the connection instead of answering (the answer is lost)."""


@dataclass
class Stall(Fault):
    """Wait ``seconds`` before the headers (``after=None``) or after ``after`` body bytes."""

    seconds: float
    after: int | None = None


@dataclass
class Throttle(Fault):
    """Send the body ``chunk`` bytes at a time with ``delay`` seconds between chunks."""

    chunk: int = 16 * 1024
    delay: float = 0.05


@dataclass
class Truncate(Fault):
    """Send ``after`` body bytes, then close cleanly; ``fix_length`` also declares that shorter length."""

    after: int
    fix_length: bool = False


@dataclass
class Reset(Fault):
    """Send the headers and ``after`` body bytes, then reset the connection (TCP RST)."""

    after: int = 0


@dataclass
class Rule:
    fault: Fault | tuple[Fault, ...]
    method: str | None = None
    path: str = ""
    skip: int = 0
    times: int | None = 1
    matched: int = 0
    applied: int = 0

    def faults(self) -> tuple[Fault, ...]:
        return self.fault if isinstance(self.fault, tuple) else (self.fault,)

    def take(self, method: str, target: str) -> bool:
        """Count a match; True when this occurrence is one the rule applies to."""
        if self.method is not None and self.method.upper() != method:
            return False
        if self.path and not re.search(self.path, target):
            return False
        self.matched += 1
        if self.matched <= self.skip:
            return False
        if self.times is not None and self.matched > self.skip + self.times:
            return False
        self.applied += 1
        return True


@dataclass
class ProxyResponse:
    """A response on its way to the client; ``body`` is bytes or an iterator of chunks."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes | Iterable[bytes] = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def set_header(self, name: str, value: str) -> None:
        self.drop_header(name)
        self.headers.append((name, value))

    def drop_header(self, name: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]

    def read_body(self) -> bytes:
        if not isinstance(self.body, bytes):
            chunks = self.body
            self.body = b"".join(chunks)
            close_body(chunks)
        return self.body


@dataclass(frozen=True)
class Seen:
    """One request the proxy received, what it answered and which faults it applied."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    status: int | None
    faults: tuple[str, ...]
    body_size: int
    scheme: str = "http"
    response_headers: tuple[tuple[str, str], ...] = ()  # as delivered (origins rewritten): a capture's answer

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def apply_rewrite(response: ProxyResponse, fault: Rewrite) -> None:
    if fault.status is not None:
        response.status = fault.status
        response.reason = http.client.responses.get(fault.status, "Unknown")
    for name in fault.drop_headers:
        response.drop_header(name)
    for name, value in fault.set_headers.items():
        response.set_header(name, value)
    response.headers.extend(fault.add_headers)
    if fault.body is not None:
        response.read_body()  # drain the upstream's answer: closing mid-body makes some servers print tracebacks
        response.body = fault.body
        if "content-length" not in {name.lower() for name in fault.drop_headers}:
            response.set_header("Content-Length", str(len(fault.body)))
    if fault.edit is not None:
        fault.edit(response)


def bearer_expired(headers: list[tuple[str, str]]) -> bool:
    value = next((v for k, v in headers if k.lower() == "authorization"), "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        return False
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return False
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return isinstance(exp, (int, float)) and time.time() >= exp


def close_body(body: bytes | Iterable[bytes]) -> None:
    """Close a streamed body (the upstream connection behind it); bytes need nothing."""
    close = getattr(body, "close", None)
    if close is not None:
        close()
