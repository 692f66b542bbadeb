"""The scripts of a trace collection's requests: what each test asserts and what it stores for the next.

Rule: pure. Every trace value reaches JavaScript through ``snippets.literal``; a variable a
script reads is named by us (``configDigest``), never by the trace.

* the status the trace saw (a 5xx/429 is accepted as transient); a push's existence check
  (blob or manifest HEAD that answered 404 before an upload) accepts 200 too and, on 200,
  marks the thing present so its upload requests skip themselves (``pm.execution.skipRequest``):
  a push collection run twice uploads nothing the second time;
* ``Docker-Content-Digest`` when the trace's value is a valid digest; bodies of GETs hashed;
* registry requests never follow a redirect themselves (Postman would keep ``Authorization``
  on a redirect to the same host name): a GET the trace got directly but the live registry
  redirects is fetched from the Location by the test, without credentials;
* captures: the registry's Bearer challenge (``realm``, ``service``), the token, ``Location``
  chains (``uploadLocation``, ``blobLocation``), and the digests a live manifest names, with
  an index's child picked by its ``platform`` fields (the ``platform`` variable), not its position.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from explorer.annotate import AnnotatedExchange
from explorer.protocol import digest as digests, endpoints
from explorer.render.postman.snippets import (ABSOLUTE, BEARER_CHALLENGE, CHALLENGE, TOKEN_GRANT, body_hashes_to,
                                              literal, redirected_without_credentials, skip_request_if, variable)

__all__ = ["HASH_LIMIT", "Scripts", "platform_text"]

HASH_LIMIT = 16 * 1024 * 1024  # bodies larger than this are not hashed in the sandbox (CryptoJS is slow)
_PLATFORM_PART = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")

# at run time: the index entry whose platform is the "os/architecture[/variant]" in `wanted`
_PICK = ("const pick = (index, wanted) => { const [os, arch, variant] = wanted.split(\"/\"); "
         "return (index.manifests || []).find((m) => m.platform && m.platform.os === os && "
         "m.platform.architecture === arch && (!variant || m.platform.variant === variant)); };")


def platform_text(entry: object) -> str | None:
    """``os/architecture[/variant]`` of an index entry, or None (absent, or not plain words)."""
    platform = entry.get("platform") if isinstance(entry, dict) else None
    if not isinstance(platform, dict):
        return None
    parts = [platform.get("os"), platform.get("architecture")] + (
        [platform["variant"]] if platform.get("variant") else [])
    if not all(isinstance(p, str) and p and set(p) <= _PLATFORM_PART for p in parts):
        return None
    return "/".join(parts)  # type: ignore[arg-type]


@dataclass
class Scripts:
    """Builds the scripts of one trace collection (state: which requests a push may skip)."""

    digest_vars: dict[str, str]  # digest → our variable name
    skip_when: dict[int, str] = field(default_factory=dict)  # exchange number → variable that, "yes", skips it
    # exchange number of a HEAD → (its "present" variable, the digest variable the live answer must name, if any)
    checked: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    platform: str | None = None  # the first platform picked from an index (the ``platform`` variable's value)
    storage_digest: dict[str, str] = field(default_factory=dict)  # storage URL → digest of the blob redirected there

    def value(self, digest: str) -> str:
        """A digest as JavaScript: our variable when it has one, else the (valid) digest as a literal."""
        name = self.digest_vars.get(digest)
        return variable(name) if name else literal(digest)

    # --- pre-request -------------------------------------------------------------------------
    def prerequest(self, a: AnnotatedExchange) -> list[str]:
        present = self.skip_when.get(a.number)
        if present is None:
            return []
        return [skip_request_if(f"pm.collectionVariables.get({literal(present)}) === \"yes\"",
                                "the registry already has it")]

    # --- tests ---------------------------------------------------------------------------------
    def tests(self, a: AnnotatedExchange) -> list[str]:
        ex = a.exchange
        resp = ex.response
        if resp is None:
            return ["// The trace got no answer here (its error is in the description): any answer will do.",
                    'pm.test("any answer (the trace got none)", function () '
                    "{ pm.expect(pm.response.code).to.be.above(99); });"]
        status = resp.status
        lines = []
        present, same = self.checked.get(a.number, (None, None))
        if present is not None:
            # 200, or a redirect to where the blob is stored (registry requests do not follow): it is there
            found = "(pm.response.code === 200 || (pm.response.code >= 300 && pm.response.code < 400))"
            there = found + (f' && pm.response.headers.get("Docker-Content-Digest") === {variable(same)}'
                             if same else "")
            lines += [f'pm.test("status is {status} as in the trace, or 200 or a redirect: already there", '
                      f"function () {{ pm.expect(pm.response.code === {status} || {found}).to.equal(true); }});",
                      f'pm.collectionVariables.set({literal(present)}, {there} ? "yes" : "");']
        elif status >= 500 or status == 429:
            lines.append(f'pm.test("any answer (the trace saw a transient {status})", function () '
                         "{ pm.expect(pm.response.code).to.be.above(99); });")
        else:
            lines.append(f'pm.test("status is {status} as in the trace", function () '
                         f"{{ pm.response.to.have.status({status}); }});")
        got = resp.header("docker-content-digest")
        if got and status < 400 and digests.is_valid(got) and present is None:
            lines.append(f"pm.test({literal('Docker-Content-Digest is ' + digests.short(got))}, function () {{ "
                         f'pm.expect(pm.response.headers.get("Docker-Content-Digest")).to.eql({self.value(got)}); }});')
        lines += self.captures(a)
        hashed = self.hashed_digest(a)
        if a.participant.role.startswith("Registry") and ex.request.method == "GET" and hashed and status == 200:
            # registry requests do not follow redirects (they may carry credentials): a blob the live
            # registry redirects, where the trace got it directly, is fetched here without them
            return redirected_without_credentials(
                body_hashes_to(self.value(hashed), "the redirected body hashes to the digest asked for", "res"), lines)
        return lines

    def captures(self, a: AnnotatedExchange) -> list[str]:
        ex, role = a.exchange, a.participant.role
        resp = ex.response
        assert resp is not None
        lines: list[str] = []
        hashed = self.hashed_digest(a)
        if hashed and (resp.body is None or resp.body.size <= HASH_LIMIT) and ex.request.method == "GET":
            lines += body_hashes_to(self.value(hashed), "the body hashes to the digest asked for")
        if resp.status == 401 and role == "Registry":  # only the registry's own challenge names the token server
            lines += [*CHALLENGE,
                      'pm.test("a WWW-Authenticate challenge says how to authenticate", function () '
                      '{ pm.expect(challenge).to.not.equal(""); });', BEARER_CHALLENGE]
        if role.startswith("Auth") and resp.status == 200:
            lines += TOKEN_GRANT
        location = resp.header("location")
        if location and 300 <= resp.status < 400 and role.startswith("Registry"):
            lines += [ABSOLUTE, 'const target = pm.response.headers.get("Location");',
                      'pm.test("redirected to the blob\'s storage", function () { pm.expect(target).to.be.a("string"); });',
                      'pm.collectionVariables.set("blobLocation", absolute(target));']
        elif location and resp.status == 202 and role.startswith("Registry"):
            lines += [ABSOLUTE, 'const next = pm.response.headers.get("Location");',
                      'pm.test("Location says where the upload continues", function () { pm.expect(next).to.be.a("string"); });',
                      'pm.collectionVariables.set("uploadLocation", absolute(next));']
        return lines + self.manifest_captures(a)

    def hashed_digest(self, a: AnnotatedExchange) -> str | None:
        """The digest a GET's body must hash to: a blob's or manifest's, or a redirected blob's."""
        ex = a.exchange
        if a.participant.role.startswith("Storage"):
            return self.storage_digest.get(ex.request.url)
        match = endpoints.classify(ex.request.method, ex.request.url)
        if match is None or ex.response is None or ex.response.status != 200:
            return None
        ref = match.reference or ""
        if (match.endpoint.id == "end-2" or match.endpoint.id == "end-3") and digests.is_valid(ref):
            return ref
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
        if not isinstance(data, dict):
            return []
        lines = ["const manifest = pm.response.json();"]
        config = data.get("config")
        if isinstance(config, dict) and config.get("digest") in self.digest_vars:
            lines.append(f"if (manifest.config) pm.collectionVariables.set("
                         f"{literal(self.digest_vars[config['digest']])}, manifest.config.digest);")
        for i, item in enumerate(data.get("layers") or []):
            name = self.digest_vars.get(item.get("digest")) if isinstance(item, dict) else None
            if name:
                lines.append(f"if (manifest.layers && manifest.layers[{i}]) "
                             f"pm.collectionVariables.set({literal(name)}, manifest.layers[{i}].digest);")
        lines += self.platform_picks(data)
        return lines if len(lines) > 1 else []

    def platform_picks(self, index: dict) -> list[str]:
        """For each child the trace fetched: pick the live entry of the same platform, by its fields."""
        lines: list[str] = []
        for item in index.get("manifests") or []:
            name = self.digest_vars.get(item.get("digest")) if isinstance(item, dict) else None
            platform = platform_text(item)
            if not name or platform is None:
                continue
            if self.platform is None or self.platform == platform:
                self.platform = platform
                wanted = variable("platform")
            else:
                wanted = literal(platform)
            if not lines:
                lines.append(_PICK)
            lines += [f"const chosen_{name} = pick(manifest, {wanted});",
                      f"pm.test(\"the index lists the platform \" + {wanted}, function () "
                      f"{{ pm.expect(chosen_{name}).to.be.an(\"object\"); }});",
                      f"if (chosen_{name}) pm.collectionVariables.set({literal(name)}, chosen_{name}.digest);"]
        return lines
