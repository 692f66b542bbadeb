"""Postman Collection v2.1.0 from a trace: one folder per step, one request per exchange, tests that run.

Rule 1: pure; imports ``explorer.annotate``, ``explorer.render`` (``replay`` for the
parameters, ``postman_api`` for the whole-API tour) and the standard library. JSON
formats are built as dicts (no template).

Rules of the collection (what newman runs in CI against the live registry):

* values a user changes are collection variables: ``{{registry}}`` (base URL with
  scheme), ``{{repository}}``, ``{{reference}}``, ``{{realm}}``, ``{{service}}`` and
  one variable per digest (``{{configDigest}}``, ``{{layer1Digest}}``, …), defaulting
  to the trace's values; the manifest request's test stores the digests the live
  registry names, so later requests follow it;
* credentials exist only as ``{{username}}``/``{{password}}`` with EMPTY values
  (pass them with ``newman run --env-var username=… --env-var password=…``);
* auth is what the trace did, per request: no ``Authorization`` → ``noauth``;
  ``Basic`` → Postman's basic auth; ``Bearer`` → bearer ``{{token}}``, which the
  token request's test stores with ``pm.collectionVariables.set``. The
  collection's own auth is the trace's main scheme, so most requests inherit it;
* every request's test asserts the status the trace saw (a 5xx/429 is accepted as
  transient) and ``Docker-Content-Digest``; blob and manifest bodies are hashed;
* ``Location`` chains through variables: ``{{uploadLocation}}`` for upload sessions,
  ``{{blobLocation}}`` for a blob redirect (that request keeps ``followRedirects:
  false`` so the 307 itself is tested, as in the trace);
* binary request bodies cannot be embedded: ``mode: file`` names the blob's file in
  an OCI layout (``blobs/sha256/<hex>``) and the description says so.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qsl, urljoin, urlsplit

from explorer.annotate import AnnotatedExchange, AnnotatedTrace, annotate, human_size
from explorer.protocol import digest as digests
from explorer.protocol import endpoints, mediatypes
from explorer.render.base import RenderOptions
from explorer.render.replay import Parameters, base_url, parameters
from explorer.trace import Trace

__all__ = ["SCHEMA", "all_endpoints", "collection", "export", "extension", "name", "render", "url_object"]

name = "postman"
export = True  # a full-fidelity export: every exchange, never collapsed (`regexplore export`)
extension = ".postman_collection.json"

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
HASH_LIMIT = 16 * 1024 * 1024  # bodies larger than this are not hashed in the sandbox (CryptoJS is slow)
_DROPPED_HEADERS = {"host", "connection", "user-agent", "accept-encoding", "authorization", "content-length",
                    "transfer-encoding", "proxy-authorization", "cookie"}
BEARER = {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]}
BASIC = {"type": "basic", "basic": [{"key": "username", "value": "{{username}}", "type": "string"},
                                    {"key": "password", "value": "{{password}}", "type": "string"}]}
NOAUTH = {"type": "noauth"}


def url_object(raw: str) -> dict[str, object]:
    """A Postman URL object whose parts agree with ``raw`` (``{{var}}`` hosts carry their scheme)."""
    head, _, query = raw.partition("?")
    out: dict[str, object] = {"raw": raw}
    if head.startswith("{{"):
        host, _, path = head.partition("}}")
        out["host"] = [host + "}}"]
    else:
        parts = urlsplit(head)
        out["protocol"] = parts.scheme
        out["host"] = (parts.hostname or "").split(".")
        if parts.port:
            out["port"] = str(parts.port)
        path = parts.path
    if path:
        out["path"] = path.lstrip("/").split("/")
    if query:
        out["query"] = [{"key": k, "value": v} for k, _, v in (item.partition("=") for item in query.split("&"))]
    return out


# a Location may be relative: resolve it against this request (the sandbox has no URL class)
_ABSOLUTE = ('((location) => /^[a-z][a-z0-9+.-]*:/i.test(location) ? location : (pm.request.url.protocol || "http")'
             ' + "://" + pm.request.url.getRemote() + (location.startsWith("/") ? "" : "/") + location)')


def _script(kind: str, lines: list[str]) -> dict[str, object]:
    return {"listen": kind, "script": {"type": "text/javascript", "exec": lines}}


def _js(value: str) -> str:
    return json.dumps(value)


class _Collection:
    def __init__(self, annotated: AnnotatedTrace) -> None:
        self.annotated = annotated
        self.params: Parameters = parameters(annotated)
        self.storage_digest: dict[str, str] = {}  # storage URL → digest of the blob redirected to it
        self.main_auth = {"bearer": BEARER, "basic": BASIC}.get(self.params.auth, NOAUTH)
        self.file_bodies = False  # set by ``body``: some request reads its body from a file

    # --- values → variables -------------------------------------------------------------
    def digest_ref(self, value: str) -> str:
        named = self.params.digests.get(value)
        return f"{{{{{named}}}}}" if named else value

    def repo_ref(self, value: str) -> str:
        named = self.params.repositories.get(value)
        return f"{{{{{named}}}}}" if named else value

    def templated_query(self, query: str) -> str:
        items = []
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key in ("digest", "mount"):
                value = self.digest_ref(value)
            elif key == "from":
                value = self.repo_ref(value)
            elif key == "scope":
                value = " ".join(self.templated_scope(s) for s in value.split(" "))
            elif key == "service" and value == self.params.service:
                value = "{{service}}"
            elif key == "account":
                value = "{{username}}"
            items.append(f"{key}={value}")
        return "&".join(items)

    def templated_scope(self, scope: str) -> str:
        kind, _, rest = scope.partition(":")
        resource, _, actions = rest.rpartition(":")
        return f"{kind}:{self.repo_ref(resource)}:{actions}" if kind == "repository" and resource else scope

    def raw_url(self, a: AnnotatedExchange) -> tuple[str, list[str]]:
        """(raw URL with variables, pre-request lines that set the real URL at run time)."""
        url = a.exchange.request.url
        parts = urlsplit(url)
        role = a.participant.role
        if role.startswith("Auth"):
            head = "{{realm}}" if self.params.realm and url.split("?")[0] == self.params.realm.split("?")[0] else \
                url.split("?")[0]
            query = self.templated_query(parts.query)
            return (f"{head}?{query}" if query else head), []
        if role.startswith("Storage") and url in self.storage_digest:
            return "{{blobLocation}}", ['pm.request.url.update(pm.collectionVariables.get("blobLocation"));']
        route = endpoints.parse_route(parts.path)
        if not role.startswith("Registry") or route is None:
            return url, []
        if route.kind == "upload":
            query = [(k, self.digest_ref(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                     if k == "digest"]
            shown = "{{uploadLocation}}" + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
            lines = ['let target = pm.collectionVariables.get("uploadLocation");']
            for key, value in query:
                lines.append(f'target += (target.includes("?") ? "&" : "?") + {_js(key)} + "=" + '
                             f'encodeURIComponent(pm.variables.replaceIn({_js(value)}));')
            lines.append("pm.request.url.update(target);")
            return shown, lines
        path = parts.path
        if route.name:
            prefix = f"/v2/{route.name}/"
            path = path.replace(prefix, f"/v2/{self.repo_ref(route.name)}/", 1)
        if route.reference and path.endswith("/" + route.reference):
            value = route.reference
            ref = self.digest_ref(value) if digests.is_valid(value) else (
                "{{reference}}" if value == self.params.reference else value)
            path = path[: -len(value)] + ref
        registry = self.params.registries.get(base_url(url), "registry")
        query = self.templated_query(parts.query)
        return f"{{{{{registry}}}}}{path}" + (f"?{query}" if query else ""), []

    # --- one request ----------------------------------------------------------------------
    def auth(self, a: AnnotatedExchange) -> dict[str, object] | None:
        scheme = (a.exchange.request.header("authorization") or "").split(" ")[0].lower()
        wanted = {"bearer": BEARER, "basic": BASIC}.get(scheme, NOAUTH)
        return None if wanted is self.main_auth else wanted

    def tests(self, a: AnnotatedExchange) -> list[str]:
        ex = a.exchange
        resp = ex.response
        if resp is None:
            return [f"// The trace got no answer here: {ex.error}"]
        status = resp.status
        lines = []
        if status >= 500 or status == 429:
            lines.append(f'pm.test("any answer (the trace saw a transient {status})", function () '
                         "{ pm.expect(pm.response.code).to.be.above(99); });")
        else:
            lines.append(f'pm.test("status is {status} as in the trace", function () '
                         f"{{ pm.response.to.have.status({status}); }});")
        got = resp.header("docker-content-digest")
        if got and status < 400:
            lines.append(f'pm.test("Docker-Content-Digest is {digests.short(got)}", function () {{ '
                         f'pm.expect(pm.response.headers.get("Docker-Content-Digest"))'
                         f".to.eql(pm.variables.replaceIn({_js(self.digest_ref(got))})); }});")
        lines += self.captures(a)
        return lines

    def captures(self, a: AnnotatedExchange) -> list[str]:
        ex, role = a.exchange, a.participant.role
        resp = ex.response
        assert resp is not None
        lines: list[str] = []
        location = resp.header("location")
        wanted = self.hashed_digest(a)
        if wanted and (resp.body is None or resp.body.size <= HASH_LIMIT) and ex.request.method == "GET":
            lines += ["const sha256 = require(\"crypto-js\").SHA256;",
                      'pm.test("the body hashes to the digest asked for", function () {',
                      "    const bytes = require(\"crypto-js\").lib.WordArray.create(pm.response.stream);",
                      f'    pm.expect("sha256:" + sha256(bytes).toString()).to.eql(pm.variables.replaceIn({_js(wanted)}));',
                      "});"]
        if resp.status == 401:
            lines += ['const challenge = pm.response.headers.get("WWW-Authenticate") || "";',
                      'pm.test("a WWW-Authenticate challenge says how to authenticate", function () '
                      "{ pm.expect(challenge).to.not.equal(\"\"); });",
                      'const param = (n) => (challenge.match(new RegExp(n + \'="([^"]*)"\')) || [])[1];',
                      'if (/^bearer/i.test(challenge)) { pm.collectionVariables.set("realm", param("realm")); '
                      'pm.collectionVariables.set("service", param("service")); }']
        if role.startswith("Auth") and resp.status == 200:
            lines += ["const grant = pm.response.json();",
                      'pm.test("a token came back", function () { pm.expect(grant.token || grant.access_token)'
                      ".to.be.a(\"string\"); });",
                      'pm.collectionVariables.set("token", grant.token || grant.access_token);']
        if location and 300 <= resp.status < 400 and role.startswith("Registry"):
            lines += ['const target = pm.response.headers.get("Location");',
                      'pm.test("redirected to the blob\'s storage", function () { pm.expect(target).to.be.a("string"); });',
                      f'pm.collectionVariables.set("blobLocation", {_ABSOLUTE}(target));']
        elif location and resp.status == 202:
            lines += ['const next = pm.response.headers.get("Location");',
                      'pm.test("Location says where the upload continues", function () { pm.expect(next).to.be.a("string"); });',
                      f'pm.collectionVariables.set("uploadLocation", {_ABSOLUTE}(next));']
        lines += self.manifest_captures(a)
        return lines

    def hashed_digest(self, a: AnnotatedExchange) -> str | None:
        """The digest a GET's body must hash to: a blob's or manifest's, or a redirected blob's."""
        ex = a.exchange
        if a.participant.role.startswith("Storage"):
            got = self.storage_digest.get(ex.request.url)
            return self.digest_ref(got) if got else None
        match = endpoints.classify(ex.request.method, ex.request.url)
        if match is None or ex.response is None or ex.response.status != 200:
            return None
        if match.endpoint.id == "end-2" or (match.endpoint.id == "end-3" and digests.is_valid(match.reference or "")):
            return self.digest_ref(match.reference or "")
        return None

    def manifest_captures(self, a: AnnotatedExchange) -> list[str]:
        """Store the digests the live manifest names, so the next requests follow it."""
        ex = a.exchange
        resp = ex.response
        match = endpoints.classify(ex.request.method, ex.request.url)
        if match is None or match.endpoint.id != "end-3" or ex.request.method != "GET" or resp is None \
                or resp.status != 200 or resp.body is None or resp.body.text is None or resp.body.truncated:
            return []
        try:
            data = json.loads(resp.body.text)
        except ValueError:
            return []
        lines = ["const manifest = pm.response.json();"]
        if isinstance(data.get("config"), dict) and data["config"].get("digest") in self.params.digests:
            var = self.params.digests[data["config"]["digest"]]
            lines.append(f"if (manifest.config) pm.collectionVariables.set({_js(var)}, manifest.config.digest);")
        for key in ("layers", "manifests"):
            for i, item in enumerate(data.get(key) or []):
                var = self.params.digests.get(item.get("digest")) if isinstance(item, dict) else None
                if var:
                    lines.append(f"if (manifest.{key} && manifest.{key}[{i}]) "
                                 f"pm.collectionVariables.set({_js(var)}, manifest.{key}[{i}].digest);")
        return lines if len(lines) > 1 else []

    def body(self, a: AnnotatedExchange) -> tuple[dict[str, object] | None, str]:
        body = a.exchange.request.body
        if body is None or body.size == 0:
            return None, ""
        media = a.exchange.request.header("content-type")
        if body.text is not None and not body.truncated and mediatypes.is_textual(media):
            language = "json" if media and "json" in media else "text"
            return {"mode": "raw", "raw": body.text, "options": {"raw": {"language": language}}}, ""
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
                     f"{urlsplit(ex.request.url).path}` → `{answer}`.")
        lines += [f"- error `{e.code}`: {e.meaning}" for e in a.errors]
        return "\n".join(lines) + note

    def item(self, a: AnnotatedExchange) -> dict[str, object]:
        ex = a.exchange
        raw, prerequest = self.raw_url(a)
        headers = [{"key": k, "value": v} for k, v in ex.request.headers if k.lower() not in _DROPPED_HEADERS]
        request: dict[str, object] = {"method": ex.request.method, "header": headers, "url": url_object(raw)}
        body, note = self.body(a)
        if body is not None:
            request["body"] = body
        auth = self.auth(a)
        if auth is not None:
            request["auth"] = auth
        request["description"] = self.description(a, note)
        events = [_script("test", self.tests(a))]
        if prerequest:
            events.insert(0, _script("prerequest", prerequest))
        item: dict[str, object] = {"name": f"{a.number}. {a.request_label}", "event": events, "request": request}
        resp = ex.response
        if resp is not None and 300 <= resp.status < 400 and a.participant.role.startswith("Registry"):
            item["protocolProfileBehavior"] = {"followRedirects": False}
            target = urljoin(ex.request.url, resp.header("location") or "")
            match = endpoints.classify(ex.request.method, ex.request.url)
            if match is not None and match.reference:
                self.storage_digest[target] = match.reference
        if resp is not None and resp.body is not None and resp.body.text is not None:
            item["response"] = [{"name": f"as recorded: {resp.status} {resp.reason}".strip(),
                                 "originalRequest": {"method": ex.request.method, "header": [], "url": raw},
                                 "status": resp.reason or str(resp.status), "code": resp.status,
                                 "header": [{"key": k, "value": v} for k, v in resp.headers],
                                 "body": resp.body.text}]
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
        return [{"name": f"{n}. {step}", "item": items,
                 "description": f"Step `{step}` of the trace: {len(items)} request{'s' if len(items) != 1 else ''}."}
                for n, (step, items) in enumerate(folders.items(), start=1)]

    def variables(self) -> list[dict[str, object]]:
        p = self.params
        values: list[tuple[str, str, str]] = []
        values += [(var, url, "registry base URL with scheme") for url, var in p.registries.items()]
        values += [(var, repo, "repository name") for repo, var in p.repositories.items()]
        if p.reference:
            values.append(("reference", p.reference, "the tag the trace resolved"))
        if p.realm:
            values += [("realm", p.realm, "token server URL (the 401 challenge's realm; updated when challenged)"),
                       ("service", p.service or "", "the challenge's service")]
        values += [(var, value, "digest (the manifest request stores the live value)") for value, var in p.digests.items()]
        values += [("username", "", "registry user: pass it with --env-var, never store it here"),
                   ("password", "", "registry password: pass it with --env-var, never store it here"),
                   ("token", "", "set by the token request's test"),
                   ("uploadLocation", "", "set from the Location of the last upload response"),
                   ("blobLocation", "", "set from the Location of the last blob redirect")]
        return [{"key": k, "value": v, "type": "string", "description": d} for k, v, d in values]

    def build(self, options: RenderOptions) -> dict[str, object]:
        s = self.annotated.summary
        title = options.title or s.title
        folders = self.folders()
        files = self.file_bodies
        description = (
            f"Recorded by regexplore: {title} ({s.line}), outcome {s.outcome}.\n\n"
            "Every request of the trace, in order, grouped by step. Point it at another registry by editing the "
            "variables; credentials go in only at run time:\n\n"
            "    newman run COLLECTION --env-var registry=http://127.0.0.1:5000 "
            "--env-var username=USER --env-var password=PASS"
            + (" --env-var repository=REPO --working-dir LAYOUT" if files else "") + "\n\n"
            + ("Blob bodies are files of the OCI image layout that was pushed (`blobs/sha256/<hex>` under "
               "`--working-dir`); run it on a repository that lacks them, as the trace saw it.\n\n"
               if files else "")
            + "Tests check the status the trace saw, Docker-Content-Digest and the sha256 of every body fetched.")
        return {
            "info": {"_postman_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "regexplore:" + title)),
                     "name": f"regexplore: {title}", "description": description, "schema": SCHEMA},
            "item": folders,
            "auth": self.main_auth,
            "variable": self.variables(),
        }


def collection(trace: Trace, options: RenderOptions | None = None) -> dict[str, object]:
    """The collection as a dict (``render`` is its JSON text)."""
    return _Collection(annotate(trace)).build(options or RenderOptions())


def render(trace: Trace, options: RenderOptions) -> str:
    return json.dumps(collection(trace, options), indent=2, ensure_ascii=False) + "\n"


def all_endpoints(options: RenderOptions | None = None) -> str:
    """The whole registry API as a collection that runs top to bottom against an empty repository."""
    from explorer.render import postman_api

    return json.dumps(postman_api.collection(options or RenderOptions()), indent=2, ensure_ascii=False) + "\n"
