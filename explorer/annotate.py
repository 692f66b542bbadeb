"""What each exchange of a trace means: endpoint, participant, short labels and why it happened.

Rule 1: pure. Imports only ``explorer.trace``, ``explorer.protocol``, ``explorer.errors``
and the standard library: no files, no clock, no network, no httpx. Values in
(a :class:`~explorer.trace.Trace`), values out (an :class:`AnnotatedTrace`).

Rule 2: nothing here is stored in a trace. Meaning is derived at render time,
so a better classifier improves old recordings.

Rule 3: every label and note is ONE printable line (newlines and control
characters become spaces); renderers only escape for their own syntax.

Roles (DESIGN.md): ``Registry`` is the host of ``/v2/...`` requests (a second
one, as in a ``copy``, is ``Registry 2``); ``Auth`` receives token requests (to
a Bearer ``realm`` seen in a challenge, or a non-/v2 URL carrying
``service=``/``scope=``), even when the realm is on the registry's own host;
``Storage`` is where a registry redirect (3xx ``Location``) pointed; any other
host is ``Other``. Lanes are ordered Client, Registry…, Auth…, Storage…, Other….

Labels and teaching lines are data tables keyed by endpoint id or by a
*situation* string (``"blob exists"``, ``"mount refused"``, …):
:data:`REQUEST_LABELS`, :data:`RESPONSE_LABELS` and :data:`WHY`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urljoin, urlsplit

from explorer.protocol import challenge, digest, endpoints, errorcodes, mediatypes
from explorer.trace import Exchange, Trace

__all__ = [
    "REQUEST_LABELS",
    "RESPONSE_LABELS",
    "AnnotatedExchange",
    "AnnotatedTrace",
    "ErrorInfo",
    "Participant",
    "StepCounter",
    "Summary",
    "WHY",
    "annotate",
    "human_duration",
    "human_size",
    "one_line",
    "step_counter",
    "step_family",
]

@dataclass(frozen=True)
class Participant:
    """A lane of the sequence diagram: ``id`` is a safe identifier (``[A-Za-z0-9]+``)."""

    id: str  # "Client", "Registry", "Registry2", "Auth", "Storage", "Other"
    role: str  # "Client", "Registry", "Registry 2", ...
    host: str  # netloc ("" for the client)


CLIENT = Participant("Client", "Client", "")


@dataclass(frozen=True)
class StepCounter:
    """The ``i/n`` (or trailing ``i``) counter of a step label: ``fetch layer 2/5``."""

    index: int
    total: int | None
    noun: str  # the word before the counter: "layer", "page"; "" when there is none


@dataclass(frozen=True)
class ErrorInfo:
    """One entry of an ``{"errors": [...]}`` body, named with the spec's meaning."""

    code: str
    message: str
    meaning: str
    oci_id: str | None  # "code-7"

    @property
    def line(self) -> str:
        ref = f" ({self.oci_id})" if self.oci_id else ""
        extra = f": {self.message}" if self.message and self.message.lower() != self.meaning.lower() else ""
        return one_line(f"{self.code}{ref} {self.meaning}{extra}")


@dataclass(frozen=True)
class AnnotatedExchange:
    exchange: Exchange
    number: int  # 1-based position in the trace
    participant: Participant
    endpoint_id: str | None  # "end-3"; None for token, storage and unknown requests
    endpoint: str  # short title: "pull manifest", "token request", "redirect to storage"
    meaning: str  # one line from the spec table
    request_label: str
    response_label: str
    why: str
    errors: tuple[ErrorInfo, ...]
    step: str | None
    family: str | None  # the step label without its counter
    counter: StepCounter | None
    kind: str  # shape of the exchange, equal for "the same kind of exchange"
    failed: bool  # no response (connection error)
    unusual: bool  # failed, unexpected error status, or a notable fallback
    retry_of: int | None  # number of the earlier exchange this one repeats after a 401
    bytes_down: int
    bytes_up: int

    @property
    def note(self) -> str:
        """``end-3 · Fetch manifest: <meaning>``; "" when the request is not one we know."""
        head = f"{self.endpoint_id} · {self.endpoint}" if self.endpoint_id else self.endpoint
        return f"{head}: {self.meaning}" if self.meaning else ""


@dataclass(frozen=True)
class Summary:
    title: str
    operation: str | None
    target: str | None
    exchanges: int
    failed: int
    bytes_down: int
    bytes_up: int
    wall_ms: float
    participants: tuple[Participant, ...]
    outcome: str
    outcome_message: str | None

    @property
    def line(self) -> str:
        return (f"{self.exchanges} exchanges · {human_size(self.bytes_down)} down · "
                f"{human_size(self.bytes_up)} up · {human_duration(self.wall_ms)}")


@dataclass(frozen=True)
class AnnotatedTrace:
    trace: Trace
    participants: tuple[Participant, ...]  # Client first, then role order
    exchanges: tuple[AnnotatedExchange, ...]
    summary: Summary


# --- small pure helpers -------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_COUNTER = re.compile(r"(?:(\w+)\s+)?\b(\d+)/(\d+)\b")
_TRAILING = re.compile(r"(?:(\w+)\s+)?\b(\d+)$")
_HEX64 = re.compile(r"(sha256|sha512)?([:/])?\b([a-f0-9]{64,128})\b")


def one_line(text: str, limit: int = 300) -> str:
    """``text`` as one printable line (control characters → space), cut to ``limit`` with "…"."""
    flat = _CONTROL.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def human_size(n: int | None) -> str:
    """Decimal units as registries and Docker print them: ``532 B``, ``1.2 KB``, ``34 MB``."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_duration(ms: float) -> str:
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s" if ms < 60_000 else f"{ms / 60_000:.1f} min"


def step_counter(label: str | None) -> StepCounter | None:
    """``fetch layer 2/5`` → (2, 5, "layer"); ``list tags page 3`` → (3, None, "page")."""
    if not label:
        return None
    m = _COUNTER.search(label)
    if m:
        return StepCounter(int(m.group(2)), int(m.group(3)), m.group(1) or "")
    m = _TRAILING.search(label)
    if m:
        return StepCounter(int(m.group(2)), None, m.group(1) or "")
    return None


def step_family(label: str | None) -> str | None:
    """The label with its counter replaced by ``#``: labels of one family differ only by it."""
    if label is None:
        return None
    if _COUNTER.search(label):
        return _COUNTER.sub(lambda m: (m.group(1) + " " if m.group(1) else "") + "#/#", label, count=1)
    return _TRAILING.sub(lambda m: (m.group(1) + " " if m.group(1) else "") + "#", label, count=1)


def shorten_digests(text: str) -> str:
    """Every sha256/sha512 hex run in ``text`` shortened like ``digest.short``."""
    def repl(m: re.Match[str]) -> str:
        hexpart = m.group(3)
        return f"{m.group(1) or ''}{m.group(2) or ''}{hexpart[:4]}…{hexpart[-4:]}"
    return _HEX64.sub(repl, text)


def _netloc(url: str) -> str:
    netloc = urlsplit(url).netloc.lower()
    return netloc.rpartition("@")[2]


def _is_registry_path(path: str) -> bool:
    return path == "/v2" or path.startswith("/v2/")


def _query(url: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        out.setdefault(k, []).append(v)
    return out


# --- participants -------------------------------------------------------------------------


class _Roles:
    """Which lane each request goes to: a role kind plus the host (see the module docstring)."""

    KINDS = ("Registry", "Auth", "Storage", "Other")

    def __init__(self, exchanges: list[Exchange]) -> None:
        self.realms: set[str] = set()  # token realm URLs without query
        self.storage: set[str] = set()
        self.registry: set[str] = set()
        for ex in exchanges:
            url, resp = ex.request.url, ex.response
            if _is_registry_path(urlsplit(url).path):
                self.registry.add(_netloc(url))
            if resp is None:
                continue
            for ch in challenge.parse_challenges(resp.header_list("www-authenticate")):
                if ch.scheme.lower() == "bearer" and ch.realm:
                    self.realms.add(ch.realm.split("?")[0])
            location = resp.header("location")
            if 300 <= resp.status < 400 and location and _is_registry_path(urlsplit(url).path):
                self.storage.add(_netloc(urljoin(url, location)))
        self.lanes: dict[tuple[str, str], Participant] = {}
        keys = list(dict.fromkeys(self.key(ex) for ex in exchanges))
        for kind in self.KINDS:
            hosts = [host for k, host in keys if k == kind]
            for n, host in enumerate(hosts, start=1):
                role = kind if n == 1 else f"{kind} {n}"
                self.lanes[(kind, host)] = Participant(role.replace(" ", ""), role, host)

    def key(self, ex: Exchange) -> tuple[str, str]:
        url = ex.request.url
        host, path = _netloc(url), urlsplit(url).path
        if _is_registry_path(path):
            return "Registry", host
        if url.split("?")[0] in self.realms or {"service", "scope"} & _query(url).keys():
            return "Auth", host  # a token request, even when the realm is on the registry's host
        if host in self.storage and host not in self.registry:
            return "Storage", host
        return ("Registry" if host in self.registry else "Other"), host

    def __call__(self, ex: Exchange) -> Participant:
        return self.lanes[self.key(ex)]


# --- the table of teaching lines --------------------------------------------------------------

#: situation → one-line explanation; ``{…}`` fields are filled from the exchange.
WHY: dict[str, str] = {
    "failed": "The connection failed before any answer arrived: {error}.",
    "ping": "Checks that the host speaks the registry API v2; 200 means this client may go on without a token.",
    "ping 401": "Probes the API root without credentials; the 401 challenge names the token server (realm) and service to ask.",
    "basic 401": "The registry wants HTTP Basic credentials on every request (no token server involved).",
    "challenge": "No token for this resource yet: the 401 challenge says which scope to ask the token server for.",
    "insufficient scope": "The token does not grant what this request needs (error=insufficient_scope): the repository is private, missing, or the credentials lack rights.",
    "token": "Asks the token server named in the challenge's realm for a Bearer token for {scope}.",
    "token failed": "The token server refused to issue a token: wrong credentials or a scope it will not grant.",
    "retry": "The same request again, now carrying the Bearer token.",
    "manifest index": "Resolves {ref} to an index: one manifest per platform; the client picks its own next.",
    "manifest image": "Fetches the image manifest: it names the config blob and every layer blob by digest.",
    "manifest head": "Asks for the manifest's digest and size without downloading it (a HEAD is not counted as a pull on Docker Hub).",
    "manifest put": "Pushes the manifest; the registry accepts it only if every blob it references is already there.",
    "blob redirect": "The registry does not serve blob bytes itself: it redirects to {host}, and the client follows without the registry's Authorization.",
    "blob get": "Downloads a blob; the client checks its sha256 against the digest it asked for.",
    "storage": "Follows the redirect to the storage host for the bytes; no registry Authorization header goes there.",
    "storage leak": "Follows the redirect to the storage host, and WRONGLY sends the registry's Authorization header there.",
    "blob exists": "Checks whether the registry already has this blob: it does, so the upload is skipped.",
    "blob missing": "Checks whether the registry already has this blob: it does not, so it must be uploaded.",
    "blob head": "Asks whether the blob exists and how big it is, without downloading it.",
    "mounted": "Cross-repository mount: the registry links the blob from {source} without any bytes being uploaded.",
    "mount refused": "The mount from {source} was refused (blob not found there, no pull right, or mounting off): the registry opened an ordinary upload session instead.",
    "upload opened": "Opens an upload session; the Location header says where the bytes go next.",
    "upload monolithic": "Uploads the whole blob in the POST itself (single-request upload).",
    "upload chunk": "Sends one chunk of the blob; the Range header of the answer tells how much the registry now holds.",
    "upload close": "Closes the upload session with the digest; the registry verifies the bytes and stores the blob.",
    "upload status": "Asks how much of the upload the registry holds so far (Range).",
    "upload cancel": "Cancels the upload session; the registry drops what it received.",
    "tags": "Lists the repository's tags; a Link header means there is another page.",
    "catalog": "Lists repositories (a Docker extension many registries disable).",
    "referrers": "Lists manifests whose subject is this digest (OCI 1.1 referrers API).",
    "delete": "Deletes content; registries may refuse deletes (405 UNSUPPORTED).",
    "rate limited": "Rate limited: the registry refuses more requests for now{retry_after}.",
    "error": "The registry refused: {errors}.",
    "server error": "The server failed ({status}); the request itself may be fine and worth retrying.",
    "other": "A {method} request to {host}.",
}

#: endpoint id (or "token") → request arrow label; fields from ``_Annotator._request_label``.
REQUEST_LABELS: dict[str, str] = {
    "end-2": "{method} blob {ref}", "end-10": "{method} blob {ref}",
    "end-4b": "POST upload {digest}{size}", "end-11": "POST mount {mount} from {source}",
    "end-5": "PATCH upload{range}{size}", "end-6": "PUT upload {digest}{size}",
    "end-13": "GET upload status", "end-14": "DELETE upload",
    "end-7": "PUT {path}{size}", "end-7b": "PUT {path}{query}{size}",
    "token": "{method} {raw_path}{scope}",
}

#: situation → response arrow label (401s, 3xx, errors and failures are labelled in code).
RESPONSE_LABELS: dict[str, str] = {
    "blob exists": "{status} exists: upload skipped", "blob missing": "{status} missing: upload needed",
    "mounted": "{status} mounted", "mount refused": "{status} mount refused: upload opened instead",
    "upload opened": "{status} upload opened", "upload cancel": "{status} upload cancelled",
    "token": "{status} token{expires}", "ping": "{status} {reason}{api}",
    "upload chunk": "{status} received {range}", "upload status": "{status} received {range}",
    "upload close": "{status} created{created}", "upload monolithic": "{status} created{created}",
    "manifest put": "{status} created{created}", "manifest head": "{status} {kind}{created}",
    "manifest index": "{status} {kind} ({size})", "manifest image": "{status} {kind} ({size})",
    "tags": "{status} {count}{more}", "catalog": "{status} {count}{more}", "referrers": "{status} {count}",
    "blob head": "{status} exists ({size})", "blob get": "{status} blob ({size})",
    "storage": "{status} blob ({size})", "storage leak": "{status} blob ({size})",
}

#: situation → (JSON field, singular, plural) counted in the response body
COUNTED = {"tags": ("tags", "tag", "tags"), "catalog": ("repositories", "repository", "repositories"),
           "referrers": ("manifests", "referrer", "referrers")}

_PUSH_WORDS = ("check", "skip", "upload", "push", "mount", "present")


def _is_push_context(trace: Trace, step: str | None) -> bool:
    if step:
        return any(w in step.lower() for w in _PUSH_WORDS)
    return trace.operation == "push"


# --- per exchange ---------------------------------------------------------------------------


class _Annotator:
    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.roles = _Roles(trace.exchanges)
        self.challenged: dict[tuple[str, str], int] = {}  # (method, url) → number of its 401

    def participant(self, ex: Exchange) -> Participant:
        return self.roles(ex)

    def one(self, number: int, ex: Exchange) -> AnnotatedExchange:
        req, resp = ex.request, ex.response
        who = self.participant(ex)
        match = endpoints.classify(req.method, req.url) if who.role.startswith("Registry") else None
        if match is not None:
            eid, title, meaning = match.endpoint.id, match.endpoint.title, match.endpoint.meaning
        elif who.role.startswith("Auth"):
            eid, title, meaning = None, "Token request", ("Docker token auth: the realm from the 401 challenge"
                                                          " issues a Bearer token for the scopes asked.")
        elif who.role.startswith("Storage"):
            eid, title, meaning = None, "Redirect to storage", ("The host a registry 307 pointed to serves the"
                                                                " blob bytes; it gets no registry token.")
        else:
            eid, title, meaning = None, "Request", ""
        errors = self._errors(ex)
        key = (req.method, req.url)
        retry_of = self.challenged.get(key) if req.header("authorization") else None
        if resp is not None and resp.status == 401:
            self.challenged[key] = number
        situation, fields = self._situation(ex, who, eid, match, errors)
        if retry_of is not None and situation not in ("failed", "insufficient scope", "error"):
            why = WHY["retry"] + " " + WHY[situation].format(**fields)
        else:
            why = WHY[situation].format(**fields)
        failed = resp is None
        expected_4xx = situation in ("ping 401", "challenge", "basic 401", "blob missing")
        unusual = failed or situation == "mount refused" or situation == "storage leak" or (
            resp is not None and resp.status >= 400 and not expected_4xx)
        status = "x" if resp is None else str(resp.status)
        return AnnotatedExchange(
            exchange=ex, number=number, participant=who, endpoint_id=eid, endpoint=title,
            meaning=one_line(meaning), request_label=one_line(self._request_label(ex, eid, match), 160),
            response_label=one_line(self._response_label(ex, situation, fields, errors), 160),
            why=one_line(why, 400), errors=errors, step=ex.step, family=step_family(ex.step),
            counter=step_counter(ex.step), kind=f"{req.method} {eid or title} {who.id} {status}",
            failed=failed, unusual=unusual, retry_of=retry_of,
            bytes_down=(resp.body.size if resp is not None and resp.body else 0),
            bytes_up=(req.body.size if req.body else 0),
        )

    # which row of WHY applies, and the fields it needs
    def _situation(self, ex: Exchange, who: Participant, eid: str | None,
                   match: endpoints.Match | None, errors: tuple[ErrorInfo, ...]) -> tuple[str, dict[str, str]]:
        req, resp = ex.request, ex.response
        q = _query(req.url)
        fields = {
            "error": one_line(ex.error or ""), "host": who.host, "method": req.method, "status": "",
            "scope": " ".join(q.get("scope", [])) or "no scope", "ref": getattr(match, "reference", None) or "it",
            "source": (q.get("from") or ["another repository"])[0], "retry_after": "",
            "errors": "; ".join(e.line for e in errors),
        }
        if resp is None:
            return "failed", fields
        status, family = resp.status, (eid or "").rstrip("abc")
        fields["status"] = str(status)
        if status == 401:
            chs = challenge.parse_challenges(resp.header_list("www-authenticate"))
            if any(c.scheme.lower() == "basic" for c in chs) and not any(c.scheme.lower() == "bearer" for c in chs):
                return "basic 401", fields
            if any(c.error == "insufficient_scope" for c in chs):
                return "insufficient scope", fields
            if who.role.startswith("Auth"):
                return "token failed", fields
            return ("ping 401" if family == "end-1" else "challenge"), fields
        if status == 429:
            after = resp.header("retry-after")
            fields["retry_after"] = f" (Retry-After: {after})" if after else ""
            return "rate limited", fields
        if status >= 500:
            return "server error", fields
        if who.role.startswith("Auth"):
            return ("token" if status < 400 else "token failed"), fields
        if who.role.startswith("Storage"):
            return ("storage leak" if req.header("authorization") else "storage"), fields
        if family == "end-2" and req.method == "HEAD":
            push = _is_push_context(self.trace, ex.step)
            if status == 200:
                return ("blob exists" if push else "blob head"), fields
            if status == 404 and push:
                return "blob missing", fields
        if status >= 400:
            return "error", fields
        if family == "end-1":
            return "ping", fields
        if 300 <= status < 400:
            fields["host"] = _netloc(urljoin(req.url, resp.header("location") or "")) or who.host
            return "blob redirect", fields
        simple = {"end-2": "blob get", "end-5": "upload chunk", "end-6": "upload close", "end-8": "tags",
                  "end-12": "referrers", "end-13": "upload status", "end-14": "upload cancel",
                  "end-9": "delete", "end-10": "delete", "catalog": "catalog"}
        if family == "end-3":
            if req.method == "HEAD":
                return "manifest head", fields
            return ("manifest index" if mediatypes.is_index(_content_type(ex)) else "manifest image"), fields
        if family == "end-7":
            return "manifest put", fields
        if family == "end-11":
            return ("mounted" if status == 201 else "mount refused"), fields
        if family == "end-4":
            return ("upload monolithic" if status == 201 else "upload opened"), fields
        return simple.get(family, "other"), fields

    def _request_label(self, ex: Exchange, eid: str | None, match: endpoints.Match | None) -> str:
        req = ex.request
        parts, q = urlsplit(req.url), _query(req.url)
        is_auth = eid is None and self.participant(ex).role.startswith("Auth")
        query = "?" + "&".join(f"{k}={v}" for k, vs in q.items() for v in vs) if q else ""
        scopes = " ".join(q.get("scope", []))
        facts = {
            "method": req.method, "path": shorten_digests(parts.path), "raw_path": parts.path,
            "query": "?…" if eid is None and query else shorten_digests(query),
            "ref": digest.short(getattr(match, "reference", None) or ""),
            "digest": digest.short((q.get("digest") or [""])[0]), "mount": digest.short((q.get("mount") or [""])[0]),
            "source": (q.get("from") or ["?"])[0], "scope": f" scope={scopes}" if scopes else "",
            "range": f" {req.header('content-range')}" if req.header("content-range") else "",
            "size": f" ({human_size(req.body.size)})" if req.body and req.body.size else "",
        }
        template = REQUEST_LABELS.get("token" if is_auth else (eid or ""), "{method} {path}{query}")
        return template.format(**facts).replace("  ", " ").rstrip()

    def _response_label(self, ex: Exchange, situation: str, fields: dict[str, str],
                        errors: tuple[ErrorInfo, ...]) -> str:
        resp = ex.response
        if resp is None:
            return f"✗ {fields['error'] or 'no response'}"
        status = resp.status
        if status == 401 and resp.header_list("www-authenticate"):
            return _challenge_label(resp.header_list("www-authenticate"), resp.reason)  # teaches more than the code
        if errors:
            return f"{status} {errors[0].code}" + (f" +{len(errors) - 1}" if len(errors) > 1 else "")
        if status == 401:
            return _challenge_label([], resp.reason)
        if 300 <= status < 400:
            target = urljoin(ex.request.url, resp.header("location") or "")
            same_host = _netloc(target) == _netloc(ex.request.url)
            return f"{status} → {urlsplit(target).path if same_host else _netloc(target)}"
        api, got, rng = (resp.header(h) for h in ("docker-distribution-api-version", "docker-content-digest", "range"))
        facts = {
            "status": status, "reason": resp.reason or "", "size": _size(ex), "expires": _expires(ex),
            "api": f" ({api})" if api else "", "created": f" {digest.short(got)}" if got else "",
            "range": rng or "", "kind": mediatypes.describe(_content_type(ex)) or "manifest",
            "count": _count(ex, *COUNTED[situation]) if situation in COUNTED else "",
            "more": ", more →" if 'rel="next"' in (resp.header("link") or "") else "",
        }
        if situation in ("upload chunk", "upload status") and not rng:
            situation = "other"
        return RESPONSE_LABELS.get(situation, "{status} {reason}").format(**facts).rstrip()

    def _errors(self, ex: Exchange) -> tuple[ErrorInfo, ...]:
        resp = ex.response
        if resp is None or resp.status < 400 or resp.body is None or resp.body.text is None:
            return ()
        out = []
        for detail in errorcodes.parse_error_body(resp.body.text, resp.header("content-type")):
            known = errorcodes.lookup(detail.code)
            out.append(ErrorInfo(
                code=one_line(detail.code, 60), message=one_line(detail.message or "", 200),
                meaning=one_line(known.meaning if known else "unknown error code"),
                oci_id=known.oci_id if known else None))
        return tuple(out)


def _content_type(ex: Exchange) -> str | None:
    resp = ex.response
    if resp is None:
        return None
    return resp.header("content-type") or (resp.body.media_type if resp.body else None)


def _size(ex: Exchange) -> str:
    resp = ex.response
    if resp is not None and resp.body is not None and resp.body.size:
        return human_size(resp.body.size)
    length = resp.header("content-length") if resp is not None else None
    return human_size(int(length)) if length and length.isdigit() else "empty"


def _json_body(ex: Exchange) -> object:
    resp = ex.response
    if resp is None or resp.body is None or resp.body.text is None or resp.body.truncated:
        return None
    try:
        return json.loads(resp.body.text)
    except ValueError:
        return None


def _expires(ex: Exchange) -> str:
    data = _json_body(ex)
    if isinstance(data, dict) and isinstance(data.get("expires_in"), int):
        return f" (expires in {data['expires_in']} s)"
    return ""


def _count(ex: Exchange, field: str, singular: str, plural: str) -> str:
    data = _json_body(ex)
    items = data.get(field) if isinstance(data, dict) else None
    if not isinstance(items, list):
        return plural
    return f"{len(items)} {singular if len(items) == 1 else plural}"


def _challenge_label(values: list[str], reason: str) -> str:
    for ch in challenge.parse_challenges(values):
        if ch.scheme.lower() == "bearer":
            err = f" {ch.error}" if ch.error else ""
            if ch.scopes:
                return f"401 Bearer{err} scope={' '.join(ch.scopes)}"
            return f"401 Bearer{err} realm={_netloc(ch.realm or '')}"
        if ch.scheme.lower() == "basic":
            return "401 Basic credentials needed"
    return f"401 {reason or 'Unauthorized'}"


def _wall_ms(exchanges: Iterable[Exchange]) -> float:
    spans = []
    for ex in exchanges:
        try:
            start = datetime.fromisoformat(ex.started).timestamp() * 1000
        except ValueError:
            continue
        spans.append((start, start + ex.duration_ms))
    return max(e for _, e in spans) - min(s for s, _ in spans) if spans else 0.0


def annotate(trace: Trace) -> AnnotatedTrace:
    """Derive the meaning of every exchange of ``trace`` and a summary of the whole."""
    annotator = _Annotator(trace)
    exchanges = tuple(annotator.one(i, ex) for i, ex in enumerate(trace.exchanges, start=1))
    participants = (CLIENT, *annotator.roles.lanes.values())
    operation = trace.operation
    title = " ".join(x for x in (operation, trace.target) if x) or " ".join(trace.command) or "regexplore trace"
    summary = Summary(
        title=one_line(title, 120), operation=operation, target=trace.target,
        exchanges=len(exchanges), failed=sum(a.failed for a in exchanges),
        bytes_down=sum(a.bytes_down for a in exchanges), bytes_up=sum(a.bytes_up for a in exchanges),
        wall_ms=_wall_ms(trace.exchanges), participants=participants,
        outcome=trace.outcome.status, outcome_message=trace.outcome.message,
    )
    return AnnotatedTrace(trace=trace, participants=participants, exchanges=exchanges, summary=summary)
