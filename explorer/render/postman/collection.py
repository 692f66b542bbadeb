"""A trace as a Postman Collection v2.1.0: one folder per step, one request per exchange, tests that run.

Rule: pure; ``replay`` gives the parameters and the plan. JSON formats are built as dicts (no template).

Rules of the collection (what newman runs in CI against the live registry):

* values a user changes are collection variables: ``{{registry}}`` (base URL with
  scheme), ``{{repository}}``, ``{{reference}}``, ``{{realm}}``, ``{{service}}``,
  ``{{platform}}`` (a pull of an index) and one variable per digest (``{{configDigest}}``,
  ``{{layer1Digest}}``, …), defaulting to the trace's values; the manifest request's test
  stores the digests the live registry names, so later requests follow it;
* the trace is untrusted: hosts, repositories, tags and digests of registry requests are
  checked against the grammar first (``grammar.check``: refused with exit 2), every other
  recorded text is made inert (no ``{{…}}`` left for Postman to fill in) and reaches
  JavaScript only as a JSON literal;
* credentials exist only as ``{{username}}``/``{{password}}`` with EMPTY values
  (pass them with ``newman run --env-var username=… --env-var password=…``) and go only
  to the first registry and to the realm its own challenge names: every other host
  (storage, "Other", a second registry, another token server) is ``noauth``;
* auth is what the trace did, per request: no ``Authorization`` → ``noauth``;
  ``Basic`` → Postman's basic auth; ``Bearer`` → bearer ``{{token}}``, which the
  token request's test stores. The collection's own auth is the trace's main scheme;
* a push checks before it uploads: see ``assertions`` (run twice, it uploads nothing the
  second time);
* binary request bodies cannot be embedded: ``mode: file`` names the blob's file in
  an OCI layout (``blobs/sha256/<hex>``) and the description says so.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from explorer.annotate import AnnotatedExchange, AnnotatedTrace, human_size
from explorer.protocol import digest as digests
from explorer.protocol import endpoints, mediatypes, urls
from explorer.render.base import RenderOptions
from explorer.render.postman import grammar
from explorer.render.postman.assertions import Scripts
from explorer.render.postman.shapes import (BASIC, BEARER, NOAUTH, SCHEMA, inert_header, inert_text, inert_url,
                                            script, url_object, variables)
from explorer.render.postman.snippets import OTHER_ORIGIN_NOAUTH, literal
from explorer.render.replay import Parameters, base_url, parameters, plan

__all__ = ["build"]

_DROPPED_HEADERS = {"host", "connection", "user-agent", "accept-encoding", "authorization", "content-length",
                    "transfer-encoding", "proxy-authorization", "cookie"}
_QUERY_SAFE = "-._~:/!$'()*+,;@[]"  # a query value keeps these; & = # ? % braces and spaces are encoded

_CANNOT_COPY = ("This copy cannot run in Postman: {why}; use `regexplore export python` (or `curl`) of this trace, "
                "or `regexplore trace copy`, instead.")


def _q(value: str) -> str:
    return quote(value, safe=_QUERY_SAFE, errors="surrogatepass")  # a lone surrogate: as in shapes.inert_header


class _Collection:
    def __init__(self, annotated: AnnotatedTrace) -> None:
        grammar.check(annotated)
        self.annotated = annotated
        self.params: Parameters = parameters(annotated)
        self.realm = grammar.registry_realm(annotated)
        self.main_auth = {"bearer": BEARER, "basic": BASIC}.get(self.params.auth, NOAUTH)
        self.scripts = Scripts(self.params.digests)
        self.file_bodies = False  # set by ``body``: some request reads its body from a file
        self.plan_skips()

    # --- a push checks first ---------------------------------------------------------------
    def plan_skips(self) -> None:
        """HEADs that found a blob (or the manifest) missing may find it present: their uploads then skip."""
        by_number = {a.number: a for a in self.annotated.exchanges}
        retried = {a.number: a.retry_of for a in self.annotated.exchanges if a.retry_of is not None}
        actions = plan(self.annotated)
        for i, action in enumerate(actions):
            head = by_number.get(action.exchanges[0])
            if head is None or head.exchange.request.method != "HEAD" or head.exchange.response is None \
                    or head.exchange.response.status != 404:
                continue
            if action.kind in ("push-blob", "mount") and len(action.exchanges) > 1:
                name = self.params.digests.get(action.digest or "")
                uploads = action.exchanges[1:]
                expected = None
            elif action.kind == "manifest" and i + 1 < len(actions) and actions[i + 1].kind == "push-manifest" \
                    and actions[i + 1].repository == action.repository:
                name = self.params.digests.get(actions[i + 1].digest or "")
                uploads = actions[i + 1].exchanges
                expected = name
            else:
                continue
            if not name:
                continue
            present = f"{name}Present"
            self.scripts.checked[head.number] = (present, expected)
            for number in uploads:
                self.scripts.skip_when[number] = present
                if number in retried:  # the 401 before it would open nothing either
                    self.scripts.skip_when[retried[number]] = present

    # --- values → variables -------------------------------------------------------------
    def digest_ref(self, value: str) -> str:
        named = self.params.digests.get(value)
        return f"{{{{{named}}}}}" if named else value

    def repo_ref(self, value: str) -> str:
        named = self.params.repositories.get(value)
        return f"{{{{{named}}}}}" if named else value

    def templated_query(self, url: str) -> str:
        items = []
        for key, value in urls.query_pairs(url):
            if key in ("digest", "mount") and value in self.params.digests:
                shown = self.digest_ref(value)
            elif key == "from" and value in self.params.repositories:
                shown = self.repo_ref(value)
            elif key == "scope":
                shown = " ".join(self.templated_scope(s) for s in value.split(" "))
            elif key == "service" and value == self.params.service:
                shown = "{{service}}"
            elif key == "account":
                shown = "{{username}}"
            else:
                shown = _q(value)
            items.append(f"{_q(key)}={shown}")
        return "&".join(items)

    def templated_scope(self, scope: str) -> str:
        kind, _, rest = scope.partition(":")
        resource, _, actions = rest.rpartition(":")
        if kind == "repository" and resource in self.params.repositories:
            return f"{kind}:{self.repo_ref(resource)}:{_q(actions)}"
        return _q(scope)

    def is_realm(self, url: str) -> bool:
        return self.realm is not None and url.split("?")[0] == self.realm

    def raw_url(self, a: AnnotatedExchange) -> tuple[str, list[str]]:
        """(raw URL with variables, pre-request lines that set the real URL at run time)."""
        url = a.exchange.request.url
        parts = urls.split(url)
        role = a.participant.role
        if role.startswith("Auth") and self.is_realm(url):
            query = self.templated_query(url)
            return "{{realm}}" + (f"?{query}" if query else ""), []
        if role.startswith("Storage") and url in self.scripts.storage_digest:
            return "{{blobLocation}}", ['pm.request.url.update(pm.collectionVariables.get("blobLocation"));']
        if not role.startswith("Registry"):
            return inert_url(url), []
        route = endpoints.parse_route(parts.path)
        if route is not None and route.kind == "upload":
            query = [(k, v) for k, v in urls.query_pairs(url) if k == "digest"]
            shown = "{{uploadLocation}}" + ("?" + "&".join(f"{k}={self.digest_ref(v)}" for k, v in query)
                                            if query else "")
            lines = ['let target = pm.collectionVariables.get("uploadLocation");']
            for key, value in query:
                expr = self.scripts.value(value)
                lines.append(f'target += (target.includes("?") ? "&" : "?") + {literal(key)} + "=" + '
                             f"encodeURIComponent({expr});")
            lines.append("pm.request.url.update(target);")
            return shown, lines
        path = parts.path
        if route is not None and route.name:
            prefix = f"/v2/{route.name}/"
            path = path.replace(prefix, f"/v2/{self.repo_ref(route.name)}/", 1)
        if route is not None and route.reference and path.endswith("/" + route.reference):
            value = route.reference
            ref = self.digest_ref(value) if digests.is_valid(value) else (
                "{{reference}}" if value == self.params.reference else value)
            path = path[: -len(value)] + ref
        registry = self.params.registries.get(base_url(url), "registry")
        query = self.templated_query(url)
        return f"{{{{{registry}}}}}{path}" + (f"?{query}" if query else ""), []

    # --- one request ----------------------------------------------------------------------
    def auth(self, a: AnnotatedExchange) -> dict[str, object] | None:
        """Credentials only for the first registry and its own realm; every other host gets none."""
        scheme = (a.exchange.request.header("authorization") or "").split(" ")[0].lower()
        role = a.participant.role
        if role == "Registry":
            wanted = {"bearer": BEARER, "basic": BASIC}.get(scheme, NOAUTH)
        elif role.startswith("Auth") and self.is_realm(a.exchange.request.url):
            wanted = BASIC if scheme == "basic" else NOAUTH
        else:
            wanted = NOAUTH
        return None if wanted is self.main_auth else wanted

    def body(self, a: AnnotatedExchange) -> tuple[dict[str, object] | None, str]:
        body = a.exchange.request.body
        if body is None or body.size == 0:
            return None, ""
        media = a.exchange.request.header("content-type")
        if body.text is not None and not body.truncated and mediatypes.is_textual(media):
            language = "json" if media and "json" in media else "text"
            text = inert_text(body.text)
            note = "" if text == body.text else (
                "\n\nThe recorded body held `{ {` pairs written here as `{ {` so that Postman fills in nothing: "
                "it is not byte-identical to what the trace sent.")
            return {"mode": "raw", "raw": text, "options": {"raw": {"language": language}}}, note
        src = f"blobs/sha256/{body.sha256}"
        self.file_bodies = True
        chunk = a.exchange.request.header("content-range")
        where = (f"it is bytes {chunk} of a blob, not a file of an OCI image layout: cut them from the blob "
                 f"into `{src}`" if chunk else f"put the file at `{src}` (an OCI image layout's blob path)")
        return {"mode": "file", "file": {"src": src}}, (
            f"\n\nThe body ({human_size(body.size)}, sha256 `{body.sha256}`) is binary and cannot be embedded: "
            f"{where} or pick it in Postman.")

    def description(self, a: AnnotatedExchange, note: str) -> str:
        ex = a.exchange
        head = f"**{a.endpoint_id} · {a.endpoint}**" if a.endpoint_id else f"**{a.endpoint}**"
        lines = [f"{head}: {a.meaning}" if a.meaning else head, "", a.why, ""]
        answer = f"{ex.response.status} {ex.response.reason}".strip() if ex.response else f"no answer ({ex.error})"
        lines.append(f"In the trace (exchange {a.number}, step `{a.step}`): `{ex.request.method} "
                     f"{urls.split(ex.request.url).path}` → `{answer}`.")
        lines += [f"- error `{e.code}`: {e.meaning}" for e in a.errors]
        if a.number in self.scripts.skip_when:
            lines.append("\nSkipped when the check before it found the registry already has it.")
        return inert_text("\n".join(lines) + note)

    def item(self, a: AnnotatedExchange) -> dict[str, object]:
        ex = a.exchange
        raw, prerequest = self.raw_url(a)
        headers = [{"key": inert_header(k), "value": inert_header(v)} for k, v in ex.request.headers
                   if k.lower() not in _DROPPED_HEADERS]
        request: dict[str, object] = {"method": ex.request.method, "header": headers, "url": url_object(raw)}
        body, note = self.body(a)
        if body is not None:
            request["body"] = body
        auth = self.auth(a)
        if auth is not None:
            request["auth"] = auth
        request["description"] = self.description(a, note)
        events = [script("test", self.scripts.tests(a))]
        if prerequest:  # the URL is set at run time from a Location: another origin gets no credentials
            prerequest = [*prerequest, OTHER_ORIGIN_NOAUTH]
        prerequest = self.scripts.prerequest(a) + prerequest
        if prerequest:
            events.insert(0, script("prerequest", prerequest))
        item: dict[str, object] = {"name": inert_text(f"{a.number}. {a.request_label}"), "event": events,
                                   "request": request}
        resp = ex.response
        if a.participant.role.startswith("Registry"):  # never followed with credentials: see ``assertions``
            item["protocolProfileBehavior"] = {"followRedirects": False}
        if resp is not None and 300 <= resp.status < 400 and a.participant.role.startswith("Registry"):
            target = urls.join(ex.request.url, resp.header("location") or "")
            match = endpoints.classify(ex.request.method, ex.request.url)
            if match is not None and match.reference:
                self.scripts.storage_digest[target] = match.reference
        if resp is not None and resp.body is not None and resp.body.text is not None:
            item["response"] = [{"name": inert_text(f"as recorded: {resp.status} {resp.reason}".strip()),
                                 "originalRequest": {"method": ex.request.method, "header": [], "url": raw},
                                 "status": inert_header(resp.reason or str(resp.status)), "code": resp.status,
                                 "header": [{"key": inert_header(k), "value": inert_header(v)}
                                            for k, v in resp.headers],
                                 "body": inert_text(resp.body.text)}]
        return item

    # --- the whole collection ------------------------------------------------------------------
    def folders(self) -> list[dict[str, object]]:
        folders: dict[str, list[dict[str, object]]] = {}
        previous_step = None
        for a in self.annotated.exchanges:
            if a.https_probe:  # the collection talks to the registry the client went on with
                continue
            step = a.step or "requests"
            if step == "authenticate" and previous_step:
                step = previous_step  # a token request serves the step that needed it
            previous_step = step
            folders.setdefault(step, []).append(self.item(a))
        return [{"name": inert_text(f"{n}. {step}"), "item": items,
                 "description": inert_text(f"Step `{step}` of the trace: {len(items)} "
                                           f"request{'s' if len(items) != 1 else ''}.")}
                for n, (step, items) in enumerate(folders.items(), start=1)]

    def variables(self) -> list[dict[str, str]]:
        p = self.params
        values: list[tuple[str, str, str]] = []
        values += [(var, url, "registry base URL with scheme") for url, var in p.registries.items()]
        values += [(var, repo, "repository name") for repo, var in p.repositories.items()]
        if p.reference:
            values.append(("reference", p.reference, "the tag the trace resolved"))
        if self.scripts.platform:
            values.append(("platform", self.scripts.platform, "os/architecture[/variant] picked from the index"))
        if self.realm:
            values += [("realm", inert_url(self.realm),
                        "token server URL (the registry's 401 challenge's realm; updated when challenged)"),
                       ("service", _q(p.service or ""), "the challenge's service")]
        values += [(var, value, "digest (the manifest request stores the live value)") for value, var in p.digests.items()]
        values += [("username", "", "registry user: pass it with --env-var, never store it here"),
                   ("password", "", "registry password: pass it with --env-var, never store it here"),
                   ("token", "", "set by the token request's test"),
                   ("uploadLocation", "", "set from the Location of the last upload response"),
                   ("blobLocation", "", "set from the Location of the last blob redirect")]
        return variables(values)

    def cannot_copy(self) -> str | None:
        """Why this copy cannot run in Postman, or None (a copy within one registry that only mounts runs)."""
        if self.annotated.trace.operation != "copy":
            return None
        if len(self.params.registries) > 1:
            return ("it goes between two registries, and Postman holds one set of credentials and cannot send one "
                    "response's bytes as another request's body")
        if self.file_bodies:
            return "some blobs were not mounted but uploaded, and Postman cannot send a response's bytes as a body"
        return None

    def build(self, options: RenderOptions) -> dict[str, Any]:
        s = self.annotated.summary
        title = options.title or s.title
        folders = self.folders()
        files = self.file_bodies
        why_not = self.cannot_copy()
        description = (
            (_CANNOT_COPY.format(why=why_not) + "\n\n" if why_not else "")
            + f"Recorded by regexplore: {title} ({s.line}), outcome {s.outcome}.\n\n"
            "Every request of the trace, in order, grouped by step. Point it at another registry by editing the "
            "variables; credentials go in only at run time, and only to the registry and its token server:\n\n"
            "    newman run COLLECTION --env-var registry=http://127.0.0.1:5000 "
            "--env-var username=USER --env-var password=PASS"
            + (" --env-var repository=REPO --working-dir LAYOUT" if files else "") + "\n\n"
            + ("Blob bodies are files of the OCI image layout that was pushed (`blobs/sha256/<hex>` under "
               "`--working-dir`). Each upload first checks whether the registry has the blob and skips itself "
               "when it does: run it twice, the second run uploads nothing.\n\n" if files else "")
            + "Tests check the status the trace saw, Docker-Content-Digest and the sha256 of every body fetched.")
        return {
            "info": {"_postman_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "regexplore:" + title)),
                     "name": inert_text(f"regexplore: {title}"), "description": inert_text(description),
                     "schema": SCHEMA},
            "item": folders,
            "auth": self.main_auth,
            "variable": self.variables(),
        }


def build(annotated: AnnotatedTrace, options: RenderOptions) -> dict[str, Any]:
    """The collection of an annotated trace (refuses, exit 2, a trace whose protocol values break the grammar)."""
    return _Collection(annotated).build(options)

