"""The meaning of one exchange: endpoint, situation, labels, why, errors.

Rule: pure; reads only the exchange (and the roles derived from the whole
trace); every label and note is one printable line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from explorer.annotate.intents import infer
from explorer.annotate.challenges import readable_challenges
from explorer.annotate.model import AnnotatedExchange, ErrorInfo, Participant
from explorer.annotate.roles import Roles
from explorer.annotate.texts import (
    COUNTED,
    REQUEST_LABELS,
    RESPONSE_LABELS,
    WHY,
    StepCounter,
    one_line,
    shorten_digests,
)
from explorer.protocol import digest, endpoints, errorcodes, mediatypes, urls
from explorer.trace import Exchange, Intent, Trace
from explorer.units import human_size


def _counter(intent: Intent) -> StepCounter | None:
    """The layer ``i/n`` or page ``i`` an exchange is about, from its intent (never from its label)."""
    if intent.index is None:
        return None
    noun = intent.item or ("page" if intent.kind in ("list-tags", "catalog") else "")
    return StepCounter(intent.index, intent.total, noun)


_FALLBACK_TAG = re.compile(r"^(sha256|sha512)-[0-9a-f]{64,128}$")  # the referrers tag schema: <alg>-<hex>
_PUSH_KINDS = frozenset({"check-manifest", "push-manifest", "check-blob", "open-upload", "upload-chunk",
                         "close-upload", "mount"})


def _is_push_context(trace: Trace, intent: Intent | None) -> bool:
    """Part of a push (from the exchange's intent; a trace without intent: from its operation)."""
    if intent is not None and intent.kind and intent.kind != "other":
        return intent.kind in _PUSH_KINDS
    return trace.operation in ("push", "copy")


class Annotator:
    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.roles = Roles(trace.exchanges)
        self.intents = infer(trace, self.roles)
        self.challenged: dict[tuple[str, str], int] = {}  # (method, url) → number of its 401
        self.http_hosts: set[str] | None = None  # hosts spoken to over plain http (made when first needed)
        self.repositories = {m.name for ex in trace.exchanges if self.roles(ex).kind == "registry"
                             and (m := endpoints.classify(ex.request.method, ex.request.url)) is not None and m.name}

    def participant(self, ex: Exchange) -> Participant:
        return self.roles(ex)

    def one(self, position: int, number: int, ex: Exchange) -> AnnotatedExchange:
        """Exchange ``position`` (0-based) of the trace, drawn as ``number`` (its id)."""
        req, resp = ex.request, ex.response
        who = self.participant(ex)
        intent = self.intents[position]
        match = endpoints.classify(req.method, req.url) if who.kind == "registry" else None
        if match is not None:
            eid, title, meaning = match.endpoint.id, match.endpoint.title, match.endpoint.meaning
        elif who.kind == "auth":
            eid, title, meaning = None, "Token request", ("Docker token auth: the realm from the 401 challenge"
                                                          " issues a Bearer token for the scopes asked.")
        elif who.kind == "storage":
            eid, title, meaning = None, "Redirect to storage", ("The host a registry 307 pointed to serves the"
                                                                " blob bytes; it gets no registry token.")
        else:
            eid, title, meaning = None, "Request", ""
        errors = self._errors(ex)
        key = (req.method, req.url)
        retry_of = self.challenged.get(key) if req.header("authorization") else None
        if resp is not None and resp.status == 401:
            self.challenged[key] = number
        situation, fields = self._situation(ex, who, eid, match, errors, intent)
        if retry_of is not None and situation not in ("failed", "insufficient scope", "error", "refused"):
            why = WHY["retry"] + " " + WHY[situation].format_map(fields)
        else:
            why = WHY[situation].format_map(fields)
        failed = resp is None and situation != "https probe"
        expected_4xx = situation in ("ping 401", "challenge", "basic 401", "blob missing", "manifest missing",
                                     "no referrers api", "no referrers tag")
        unusual = failed or situation == "mount refused" or situation == "storage leak" or (
            resp is not None and (resp.status >= 400 and not expected_4xx or ex.error is not None))
        status = "x" if resp is None else str(resp.status)
        step = ex.step if ex.step is not None else (intent.label() if intent.kind != "other" else None)
        return AnnotatedExchange(
            exchange=ex, number=number, participant=who, endpoint_id=eid, endpoint=title,
            meaning=one_line(meaning), request_label=one_line(self._request_label(ex, eid, match), 160),
            response_label=one_line(self._response_label(ex, situation, fields, errors), 160),
            why=one_line(why, 400), errors=errors, step=step and one_line(step, 160),
            family=f"{intent.kind} {intent.item or ''}".rstrip(),
            counter=_counter(intent), kind=f"{req.method} {eid or title} {who.id} {status}",
            failed=failed, unusual=unusual, retry_of=retry_of,
            bytes_down=(resp.body.size if resp is not None and resp.body else 0),
            bytes_up=(req.body.size if req.body else 0), intent=intent,
        )

    # which row of WHY applies, and the fields it needs
    def _situation(self, ex: Exchange, who: Participant, eid: str | None, match: endpoints.Match | None,
                   errors: tuple[ErrorInfo, ...], intent: Intent) -> tuple[str, _Fields]:
        req, resp = ex.request, ex.response
        fields = _Fields(
            error=lambda: one_line(ex.error or "") or "no reason recorded",  # never "…arrived: ."
            scope=lambda: " ".join(urls.query_params(req.url).get("scope", [])) or "no scope",
            source=lambda: (urls.query_params(req.url).get("from") or ["another repository"])[0],
            errors=lambda: "; ".join(e.line for e in errors),
        )
        fields.update(host=who.host, method=req.method, status="", ref=getattr(match, "reference", None) or "it",
                      retry_after="")
        if resp is None:
            return ("https probe" if self._https_probe(ex) else "failed"), fields
        status, family = resp.status, (eid or "").rstrip("abc")
        fields["status"] = str(status)
        if status == 401:
            chs = readable_challenges(resp.header_list("www-authenticate"))
            if any(c.scheme.lower() == "basic" for c in chs) and not any(c.scheme.lower() == "bearer" for c in chs):
                return "basic 401", fields
            if any(c.error == "insufficient_scope" for c in chs):
                return "insufficient scope", fields
            if who.kind == "auth":
                return "token failed", fields
            return ("ping 401" if family == "end-1" else "challenge"), fields
        if status == 429:
            after = resp.header("retry-after")
            fields["retry_after"] = f" (Retry-After: {after})" if after else ""
            return "rate limited", fields
        if status >= 500:
            return "server error", fields
        if who.kind == "auth":
            return ("token" if status < 400 else "token failed"), fields
        if who.kind == "storage":
            return ("storage leak" if req.header("authorization") else "storage"), fields
        if family == "end-2" and req.method == "HEAD":
            push = intent.kind == "check-blob"
            if status == 200:
                return ("blob exists" if push else "blob head"), fields
            if status == 404 and push:
                return "blob missing", fields
        if family == "end-3" and req.method == "HEAD" and status == 404 and _is_push_context(self.trace, intent):
            return "manifest missing", fields
        if family == "end-12" and status == 404:
            return "no referrers api", fields
        if family == "end-3" and status == 404 and _FALLBACK_TAG.match(getattr(match, "reference", None) or ""):
            return "no referrers tag", fields
        if status >= 400 and not errors:
            fields["status_line"] = f"{status} {resp.reason}".strip()
            fields["head"] = " (a HEAD answer never has a body)" if req.method == "HEAD" else ""
            return "refused", fields
        if status >= 400:
            return "error", fields
        if family == "end-1":
            return "ping", fields
        if 300 <= status < 400:
            fields["host"] = urls.netloc(urls.join(req.url, resp.header("location") or "")) or who.host
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

    def _https_probe(self, ex: Exchange) -> bool:
        """A failed https request to a host the trace then speaks plain http to (docker's, skopeo's and our probe)."""
        if not ex.request.url.startswith("https://"):
            return False
        if self.http_hosts is None:
            self.http_hosts = {urls.netloc(e.request.url) for e in self.trace.exchanges
                               if e.request.url.startswith("http://")}
        return urls.netloc(ex.request.url) in self.http_hosts

    def _request_label(self, ex: Exchange, eid: str | None, match: endpoints.Match | None) -> str:
        req = ex.request
        parts, q = urls.split(req.url), urls.query_params(req.url)
        is_auth = eid is None and self.participant(ex).kind == "auth"
        template = REQUEST_LABELS.get("token" if is_auth else (eid or ""), "{method} {path}{query}")

        def query() -> str:
            text = "?" + "&".join(f"{k}={v}" for k, vs in q.items() for v in vs) if q else ""
            return "?…" if eid is None and text else shorten_digests(text)

        def scope() -> str:
            scopes = " ".join(q.get("scope", []))
            return f" scope={scopes}" if scopes else ""

        facts = _Fields(
            method=lambda: req.method, path=lambda: shorten_digests(parts.path), raw_path=lambda: parts.path,
            query=query, ref=lambda: digest.short(getattr(match, "reference", None) or ""),
            digest=lambda: digest.short((q.get("digest") or [""])[0]),
            mount=lambda: digest.short((q.get("mount") or [""])[0]),
            source=lambda: (q.get("from") or ["?"])[0], scope=scope,
            range=lambda: f" {req.header('content-range')}" if req.header("content-range") else "",
            size=lambda: f" ({human_size(req.body.size)})" if req.body and req.body.size else "",
        )
        label = template.format_map(facts).replace("  ", " ").rstrip()
        name = getattr(match, "name", None)
        if name and len(self.repositories) > 1 and "{path}" not in template:  # a mount's source vs its destination
            label += f" in {name}"
        return label

    def _response_label(self, ex: Exchange, situation: str, fields: dict[str, str],
                        errors: tuple[ErrorInfo, ...]) -> str:
        label = self._answer_label(ex, situation, fields, errors)
        if ex.response is not None and ex.error:  # the answer came, then its body broke off (the size: where)
            label += f" ✗ broke off ({one_line(ex.error.split(':', 1)[0], 40)})"
        return label

    def _answer_label(self, ex: Exchange, situation: str, fields: dict[str, str],
                      errors: tuple[ErrorInfo, ...]) -> str:
        resp = ex.response
        if resp is None and situation in RESPONSE_LABELS:
            return RESPONSE_LABELS[situation]
        if resp is None:
            return f"✗ {one_line(ex.error or '') or 'no response'}"
        status = resp.status
        if status == 401 and resp.header_list("www-authenticate"):
            return _challenge_label(resp.header_list("www-authenticate"), resp.reason)  # teaches more than the code
        if situation in ("manifest missing", "no referrers api", "no referrers tag"):
            return RESPONSE_LABELS[situation].format(status=status)
        if errors:
            return f"{status} {errors[0].code}" + (f" +{len(errors) - 1}" if len(errors) > 1 else "")
        if status == 401:
            return _challenge_label([], resp.reason)
        if 300 <= status < 400:
            target = urls.join(ex.request.url, resp.header("location") or "")
            same_host = urls.netloc(target) == urls.netloc(ex.request.url)
            return f"{status} → {urls.split(target).path if same_host else urls.netloc(target)}"
        rng, counted = resp.header("range"), COUNTED.get(situation)  # before situation may change below

        def api() -> str:
            value = resp.header("docker-distribution-api-version")
            return f" ({value})" if value else ""

        def created() -> str:
            got = resp.header("docker-content-digest")
            return f" {digest.short(got)}" if got else ""

        facts = _Fields(
            status=lambda: status, reason=lambda: resp.reason or "", size=lambda: _size(ex),
            expires=lambda: _expires(ex), api=api, created=created, range=lambda: rng or "",
            kind=lambda: mediatypes.describe(_content_type(ex)) or "manifest",
            count=lambda: _count(ex, *counted) if counted else "",
            more=lambda: ", more →" if 'rel="next"' in (resp.header("link") or "") else "",
        )
        if situation in ("upload chunk", "upload status") and not rng:
            situation = "other"
        return RESPONSE_LABELS.get(situation, "{status} {reason}").format_map(facts).rstrip()

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


class _Fields(dict):  # type: ignore[type-arg]
    """The fields of a label template, each worked out only when the template names it."""

    def __init__(self, **makers: Callable[[], object]) -> None:
        super().__init__()
        self.makers = makers

    def __missing__(self, key: str) -> object:
        value = self[key] = self.makers[key]()
        return value


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
    for ch in readable_challenges(values):
        if ch.scheme.lower() == "bearer":
            err = f" {ch.error}" if ch.error else ""
            if ch.scopes:
                return f"401 Bearer{err} scope={' '.join(ch.scopes)}"
            return f"401 Bearer{err} realm={ch.realm or '?'}"
        if ch.scheme.lower() == "basic":
            return "401 Basic credentials needed"
    return f"401 {reason or 'Unauthorized'}"
