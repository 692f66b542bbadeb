"""An annotated Markdown page a newcomer learns from → ``templates/markdown.md.j2``.

Rule 1: pure; ``view`` gives the same collapsing as the diagrams, ``mermaid`` the diagram,
``replay`` the story.

Rule 2: all the thinking happens here; the template loops and prints. Every text
from the trace goes through ``md`` (Markdown/HTML specials escaped) or ``code``
(an inline code span that survives backticks); our own texts that mark code with
backticks and hold trace values (why, meanings) go through ``prose``; bodies go
into fences longer than any backtick run they contain. All of them drop terminal
control sequences: no raw HTML, no link or image, no escape code comes out.

The page: title, one paragraph saying what happened (operation, target, how the
client authenticated, what was fetched or pushed, exchanges, bytes, time), the
Mermaid diagram, then each step: the request line and the headers that matter,
the answer, why it happened, the spec's endpoint id and error-code meanings, and
the pitfall the exchange teaches (:data:`PITFALLS`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from explorer.annotate import AnnotatedExchange, AnnotatedTrace, ErrorInfo, human_duration, human_size, one_line
from explorer.annotate.challenges import readable_challenges
from explorer.printable import printable, printable_lines
from explorer.protocol import endpoints, ratelimit, urls
from explorer.render import jsontext, mermaid, view
from explorer.render.base import RenderOptions, Templates
from explorer.render.replay import plan
from explorer.trace import Body, Trace

__all__ = ["PITFALLS", "TEMPLATES", "code", "escape", "fence", "pitfalls", "prose", "render"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#|!~&@])")  # @: GFM turns a bare e-mail address into a mailto: link
BODY_LINES = 30  # lines of a JSON/text body shown before "…"
REQUEST_HEADERS = ("accept", "authorization", "content-type", "content-range", "range", "content-length")
RESPONSE_HEADERS = ("www-authenticate", "docker-content-digest", "content-type", "content-length", "location",
                    "range", "link", "docker-upload-uuid", "oci-subject", "oci-tag", "oci-filters-applied",
                    "retry-after", "content-range", "docker-distribution-api-version")

#: situation → the lesson an exchange teaches (one short paragraph each)
PITFALLS: dict[str, str] = {
    "challenge": "A 401 here is normal, not a failure: it is how the registry names the token it wants "
                 "(`realm`, `service`, `scope`). Clients retry once with a token; a second 401 means the "
                 "credentials lack the right.",
    "insufficient scope": "`error=\"insufficient_scope\"`: the token is valid but does not grant this action. "
                          "For a private or missing repository this is what \"pull access denied\" is made of.",
    "basic": "HTTP Basic: the password travels (base64, not encrypted) on every request, so only over TLS.",
    "token scope": "Token scope: a token is good only for the scopes asked for ({scope}). Pushing needs "
                   "`pull,push`, a mount also `pull` on the source repository; the token server quietly grants "
                   "less when you may not, and the registry answers 401 later.",
    "token no scope": "This token carries no repository scope: it only proves who you are. The registry will "
                      "challenge again, per repository, with the scope it needs.",
    "accept": "`Accept` negotiation. The spec guarantees only this: a client lists the manifest types it can "
              "read, and the registry answers with one of them (its `Content-Type`) or refuses. Which one, and "
              "how it refuses, is registry behaviour. Distribution 2.8 (tested): the order of the `Accept` values "
              "does not pick the format, the registry serves the format the manifest was pushed in when it is "
              "accepted; leave the index types out for a multi-platform tag and you get 404 MANIFEST_UNKNOWN "
              "(\"accept header does not support OCI indexes\"), not one platform. Older registries instead "
              "converted to a schema-1 manifest with a different digest: the digest you see can depend on what "
              "you accept.",
    "verify": "Verify the bytes: hash what arrived and compare with the digest you asked for; "
              "`Docker-Content-Digest` may be missing (a CDN) and is not proof by itself.",
    "redirect": "The registry sent the client elsewhere for the bytes. The `Authorization` header is dropped "
                "on a redirect to another host: the registry token must never reach the CDN (S3-style "
                "stores even reject it).",
    "storage leak": "WARNING: this request carried the registry's `Authorization` to the storage host. A "
                    "careful client drops it when a redirect changes host.",
    "blob exists": "The blob is already in the repository, so its upload is skipped: that is why a second "
                   "push of a similar image sends almost nothing.",
    "blob missing": "404 is the expected answer here: the blob must be uploaded.",
    "location": "`Location` is opaque (distribution signs its state into `_state=`): always use the newest one "
                "and add `digest=` with `&`.",
    "mount refused": "202 instead of 201 on a mount: the registry did NOT link the blob (unknown in the source, "
                     "no pull right there, or mounting off) and opened an ordinary upload session instead: the "
                     "bytes must be uploaded after all.",
    "mounted": "201 on a mount: the blob was linked from the other repository without sending a byte.",
    "monolithic 202": "202 to a single-POST upload: the registry does not support it and discarded the body; "
                      "send the bytes again with PUT to the Location.",
    "chunk": "`Content-Range` is inclusive with no `bytes ` prefix; the answer's `Range` says how much the "
             "registry holds. A chunk out of order gets 416.",
    "manifest last": "Manifests go last: the registry accepts one only when every blob it names is present "
                     "(else 400 MANIFEST_BLOB_UNKNOWN).",
    "ignored n": "The registry returned more than `n` entries: it ignored the page size (distribution 2.8 does "
                 "for tags). Follow `Link` headers rather than counting.",
    "paginated": "A `Link: <…>; rel=\"next\"` header means there is another page: follow its URL as given.",
    "rate limited": "429: slow down and honour `Retry-After`. On Docker Hub, HEAD does not count as a pull; GET "
                    "of a manifest does.",
    "transient": "A 5xx is the server's failure, not the request's: retrying (with backoff) is right.",
}


def escape(text: str) -> str:
    """``text`` as literal Markdown prose: one line, no control characters, a backslash before every
    punctuation Markdown, GFM autolinks or HTML act on (no raw HTML, no link, no image, no entity)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(printable(str(text)).split()))


def code(text: str) -> str:
    """An inline code span holding ``text`` exactly (longer backtick fences when it contains backticks)."""
    text = " ".join(printable(str(text)).split())
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def prose(text: str) -> str:
    """Our own teaching text, which marks code with backticks (`` `last` ``), holding trace values.

    Backtick pairs become code spans (literal, whatever they hold); everything else is
    escaped as :func:`escape` does. A trace value with backticks in it is shown as code
    at worst, never as markup.
    """
    parts = re.split(r"`([^`]*)`", " ".join(printable(str(text)).split()))
    return "".join(code(p) if i % 2 else _MD_SPECIAL.sub(r"\\\1", p) for i, p in enumerate(parts) if p or not i % 2)


def fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    return "`" * max(3, longest + 1)


TEMPLATES = Templates(md=escape, prose=prose, code=code, fence=fence)


@dataclass
class ExchangeView:
    number: int
    endpoint: str  # "end-3 · Fetch manifest" or "Token request"
    meaning: str
    request_block: str  # request line and the headers that matter, one per line
    host: str
    status_line: str
    response_block: str  # the response headers that matter ("" when none)
    body_note: str
    body_text: str | None
    body_language: str
    why: str
    errors: list[str]
    lessons: list[str]
    took: str


@dataclass
class Block:
    kind: str  # "step", "loop", "exchange", "gap", "note" (transfers that ran concurrently)
    text: str = ""
    level: int = 3
    exchange: ExchangeView | None = None
    children: list[Block] = field(default_factory=list)


def _scope_of(url: str) -> str:
    return " ".join(v for k, v in parse_qsl(urls.split(url).query) if k == "scope")


def pitfalls(a: AnnotatedExchange, trace: Trace) -> list[str]:
    """The lessons (keys of :data:`PITFALLS`) this exchange teaches."""
    ex = a.exchange
    req, resp = ex.request, ex.response
    if resp is None:
        return []
    keys: list[str] = []
    status, eid = resp.status, a.endpoint_id or ""
    if status == 401:
        chs = readable_challenges(resp.header_list("www-authenticate"))
        if any(c.error == "insufficient_scope" for c in chs):
            keys.append("insufficient scope")
        elif any(c.scheme == "basic" for c in chs):
            keys.append("basic")
        elif chs:
            keys.append("challenge")
    if a.participant.kind == "auth" and status == 200:
        keys.append("token scope" if _scope_of(req.url) else "token no scope")
    if eid == "end-3" and req.header("accept") and req.method in ("GET", "HEAD") and status == 200:
        keys.append("accept")
    storage = a.participant.kind == "storage"
    if (eid == "end-2" and req.method == "GET" and status == 200) or (storage and status == 200):
        keys.append("storage leak" if storage and req.header("authorization") else "verify")
    if 300 <= status < 400 and a.participant.kind == "registry":
        keys.append("redirect")
    if eid == "end-2" and req.method == "HEAD" and "exists" in a.response_label:
        keys.append("blob exists")
    if eid == "end-2" and req.method == "HEAD" and "missing" in a.response_label:
        keys.append("blob missing")
    if eid == "end-11":
        keys.append("mounted" if status == 201 else "mount refused")
    if eid == "end-4b" and status == 202:
        keys.append("monolithic 202")
    elif eid.startswith("end-4") and status == 202:
        keys.append("location")
    if eid == "end-5":
        keys.append("chunk")
    if eid.startswith("end-7") and status == 201:
        keys.append("manifest last")
    if eid.startswith("end-8") or eid == "catalog":
        keys += _page_lessons(req.url, resp.header("link"), resp.body)
    if status == 429:
        keys.append("rate limited")
    elif status >= 500:
        keys.append("transient")
    return keys


def _page_lessons(url: str, link: str | None, body: Body | None) -> list[str]:
    asked = dict(parse_qsl(urls.split(url).query)).get("n")
    try:
        data = json.loads(body.text) if body is not None and body.text else None
    except ValueError:
        data = None
    items = next((v for v in data.values() if isinstance(v, list)), None) if isinstance(data, dict) else None
    out = []
    if asked and asked.isdigit() and items is not None and len(items) > int(asked):
        out.append("ignored n")
    if link and "next" in link:
        out.append("paginated")
    return out


def _body(body: Body | None, media: str | None) -> tuple[str, str | None, str]:
    """(one-line note, text to show or None, fence language)."""
    if body is None or body.size == 0:
        return "no body", None, ""
    note = f"{human_size(body.size)}" + (f" {media}" if media else "")
    if body.text is None:
        return note + (" (binary, not kept)" if not body.base64 else " (binary)"), None, ""
    text = printable_lines(body.text)
    language = "json" if media and "json" in media else "text"
    if language == "json":
        try:
            text = jsontext.dumps(json.loads(text), indent=2)
        except ValueError:
            pass
    lines = text.splitlines()
    if len(lines) > BODY_LINES:
        text = "\n".join(lines[:BODY_LINES]) + f"\n… ({len(lines) - BODY_LINES} more lines)"
    if body.truncated:
        text += "\n… (truncated in the trace)"
    return note, text, language


def _error(e: ErrorInfo) -> str:
    """``MANIFEST_UNKNOWN`` (code-7): meaning — the registry's message (already Markdown)."""
    spec = f" ({e.oci_id})" if e.oci_id else ""
    said = f" — the registry said: {escape(e.message)}" if e.message and e.message.lower() != e.meaning.lower() else ""
    return f"{code(e.code)}{spec}: {escape(e.meaning)}{said}"


def _exchange(a: AnnotatedExchange, trace: Trace, taught: set[str]) -> ExchangeView:
    """The exchange as shown; ``taught`` holds the lessons already given (each is told once)."""
    ex = a.exchange
    req, resp = ex.request, ex.response
    parts = urls.split(req.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    media = resp.header("content-type") if resp else None
    note, text, language = _body(resp.body if resp else None, media)
    if resp is not None and ex.error:  # the answer came, then its body broke off
        note += f"; then the body broke off: {ex.error}"
    keep_req = [f"{k}: {v}" for k, v in req.headers if k.lower() in REQUEST_HEADERS]
    keep_resp = [f"{k}: {v}" for k, v in (resp.headers if resp else []) if k.lower() in RESPONSE_HEADERS]
    return ExchangeView(
        number=a.number, endpoint=f"{a.endpoint_id} · {a.endpoint}" if a.endpoint_id else a.endpoint,
        meaning=a.meaning, request_block="\n".join(one_line(x, 2000) for x in [f"{req.method} {target}", *keep_req]),
        host=parts.netloc,
        status_line=f"{resp.status} {resp.reason}".strip() if resp else f"no response: {ex.error}",
        response_block="\n".join(one_line(x, 2000) for x in keep_resp), body_note=note, body_text=text, body_language=language, why=a.why,
        errors=[_error(e) for e in a.errors],
        lessons=[PITFALLS[k].format(scope=code(_scope_of(req.url))) for k in _once(pitfalls(a, trace), taught)],
        took=human_duration(ex.duration_ms))


def _once(keys: list[str], taught: set[str]) -> list[str]:
    fresh = [k for k in keys if k not in taught]
    taught.update(fresh)
    return fresh


def _blocks(annotated: AnnotatedTrace, options: RenderOptions) -> list[Block]:
    shown = view.build(annotated, notes=False, full=options.full)
    taught: set[str] = set()
    root: list[Block] = []
    stack: list[list[Block]] = [root]
    depth = 0
    for ev in shown.events:
        if ev.kind in ("section", "loop"):
            block = Block("step" if ev.kind == "section" else "loop", ev.text, level=min(3 + depth, 6))
            stack[-1].append(block)
            stack.append(block.children)
            depth += 1
        elif ev.kind == "par":  # Markdown has no parallel block: say so, then one transfer after another
            stack[-1].append(Block("note", ev.text))
        elif ev.kind == "end" and ev.closes != "par":
            stack.pop()
            depth -= 1
        elif ev.kind == "gap":
            stack[-1].append(Block("gap", ev.text))
        elif ev.kind == "arrow" and ev.arrow is not None and not ev.arrow.response:
            stack[-1].append(Block("exchange", exchange=_exchange(shown.exchanges[ev.arrow.exchange],
                                                                  annotated.trace, taught)))
    return root


def _story(annotated: AnnotatedTrace) -> str:
    """One paragraph: who talked to whom, how they authenticated, what moved."""
    s = annotated.summary
    actions = plan(annotated)
    hosts = [p for p in annotated.participants if p.host]
    kinds = {a.participant.kind for a in annotated.exchanges}
    bearer = any((a.exchange.request.header("authorization") or "").lower().startswith("bearer")
                 for a in annotated.exchanges)
    basic = any((a.exchange.request.header("authorization") or "").lower().startswith("basic")
                for a in annotated.exchanges if a.participant.kind == "registry")
    auth = ("with a Bearer token from the token server" if bearer else
            "with HTTP Basic credentials" if basic else "anonymously")
    status = {a.number: a.exchange.response.status for a in annotated.exchanges if a.exchange.response}
    refused = {id(x) for x in actions if x.kind == "mount" and 202 in (status.get(n) for n in x.exchanges)}
    kinds_of = {"manifest": lambda x: x.kind == "manifest" and x.method == "GET",
                "blob": lambda x: x.kind == "blob" and x.method == "GET",
                "uploaded": lambda x: x.kind == "push-blob" and x.status == 201,
                "present": lambda x: x.kind == "push-blob" and x.status == 200,
                "mounted": lambda x: x.kind == "mount" and id(x) not in refused,
                "refused": lambda x: id(x) in refused,
                **{k: (lambda x, k=k: x.kind == k) for k in ("push-manifest", "tags", "catalog", "referrers", "delete")}}
    counts = {k: sum(1 for x in actions if test(x)) for k, test in kinds_of.items()}
    words = {"manifest": ("fetched {} manifest", "fetched {} manifests"),
             "blob": ("downloaded {} blob", "downloaded {} blobs"),
             "uploaded": ("uploaded {} blob", "uploaded {} blobs"),
             "present": ("skipped {} blob the registry already had", "skipped {} blobs the registry already had"),
             "mounted": ("mounted {} blob from another repository", "mounted {} blobs from another repository"),
             "refused": ("had {} mount refused (uploaded instead)", "had {} mounts refused (uploaded instead)"),
             "push-manifest": ("pushed {} manifest", "pushed {} manifests"),
             "tags": ("listed tags ({} page)", "listed tags ({} pages)"),
             "catalog": ("listed repositories ({} page)", "listed repositories ({} pages)"),
             "referrers": ("asked for referrers", "asked for referrers {} times"),
             "delete": ("deleted {} item", "deleted {} items")}
    did = [words[k][n != 1].format(n) for k, n in counts.items() if n]
    storage = " Blob bytes came from a separate storage host the registry redirected to." if "storage" in kinds else ""
    what = f"{', '.join(did[:-1])} and {did[-1]}" if len(did) > 1 else (did[0] if did else "made no registry request")
    outcome = "It succeeded." if s.outcome == "ok" else \
        f"It ended {s.outcome}: {escape(s.outcome_message or 'see the last step')}."
    subject = f"a **{s.operation}** of {code(s.target)}" if s.operation and s.target else escape(s.title)
    return (f"This trace records {subject}: {s.exchanges} HTTP exchanges with {len(hosts)} "
            f"host{'s' if len(hosts) != 1 else ''} ({', '.join(escape(h.role) for h in hosts) or 'none'}), "
            f"{human_size(s.bytes_down)} down and {human_size(s.bytes_up)} up in {human_duration(s.wall_ms)}. "
            f"The client talked to the registry {auth}, {escape(what)}.{storage} {outcome}")


def render(annotated: AnnotatedTrace, options: RenderOptions) -> str:
    """The page; its Mermaid diagram is drawn from the same annotation."""
    trace = annotated.trace
    diagram = mermaid.render(annotated, options.but(markdown=True, notes=False, timing=False))
    endpoints_seen = sorted({a.endpoint_id for a in annotated.exchanges if a.endpoint_id},
                            key=lambda e: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", e)])
    return TEMPLATES.render(
        "markdown.md.j2", title=options.title or annotated.summary.title, story=_story(annotated),
        diagram=diagram, blocks=_blocks(annotated, options), summary=annotated.summary,
        endpoints=[(e, endpoints.by_id(e).title, endpoints.by_id(e).meaning) for e in endpoints_seen],
        command=" ".join(trace.command), created=trace.created, rate_limits=_rate_limits(trace))


def _rate_limits(trace: Trace) -> list[tuple[str, str]]:
    """(exchange number, what its rate-limit headers say) and ("end", what is left); [] when none was sent."""
    rows = [(str(n), limit.line()) for n, ex in enumerate(trace.exchanges, start=1) if ex.response is not None
            and (limit := ratelimit.rate_limit(ex.response.headers)) is not None]
    last = ratelimit.last_rate_limit(ex.response.headers for ex in trace.exchanges if ex.response is not None)
    return rows + [("left at the end", last.line())] if last else []
