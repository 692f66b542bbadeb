"""The whole registry API as a Postman tour: every endpoint, runnable top to bottom on an empty repository.

Rule 1: pure data and one builder. ``postman.all_endpoints`` is the public entry point
(``regexplore export postman --all-endpoints``). No trace value reaches it: its scripts
are fixed text.

Rule 2: one collection for every kind of registry. Folder 1 probes ``/v2/`` without
credentials and records what the challenge asks for (``authScheme`` = ``none``, ``basic``
or ``bearer``); for Bearer it fetches one token covering every scope the tour needs from
the realm that challenge names (the only other host that sees the credentials).
Every later folder's pre-request script hands the credentials to Postman's own auth
helpers (``pm.request.authorizeUsing``), so the same file passes against anonymous,
htpasswd and token registries (credentials via ``--env-var username=… --env-var password=…``).

Rule 3: tests accept exactly what the OCI spec allows where registries differ, and
the description says which answer CNCF distribution 2.8 gives (it ignores ``n`` on
tags, has no referrers API, refuses DELETE by tag with 400, answers a single-POST
upload with 202 and ignores ``digest-algorithm`` and ``?tag=``).

The pushed image is built in the first request's pre-request script: a JSON config
blob and a two-chunk text layer, hashed with the sandbox's crypto-js, and an OCI
manifest naming both (an artifact in OCI 1.1 terms: its config media type says what it is).
"""

from __future__ import annotations

import uuid
from typing import Any

from explorer.protocol import endpoints
from explorer.render.base import RenderOptions
from explorer.render.postman.shapes import BASIC, NOAUTH, SCHEMA, script, url_object, variables
from explorer.render.postman.snippets import (ABSOLUTE, BEARER_CHALLENGE, CHALLENGE, TOKEN_GRANT, body_hashes_to,
                                              OTHER_ORIGIN_NOAUTH, redirected_without_credentials, skip_request_if,
                                              status_is, variable)

__all__ = ["FOLDERS", "collection"]

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ACCEPT = ("application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
          "application/vnd.docker.distribution.manifest.list.v2+json, "
          "application/vnd.docker.distribution.manifest.v2+json")
REPO = "{{registry}}/v2/{{repository}}"

BUILD_IMAGE = [
    "// Build a tiny image in memory: a JSON config, a text layer sent in two chunks, and a manifest.",
    "const crypto = require(\"crypto-js\");",
    "const digestOf = (text) => \"sha256:\" + crypto.SHA256(text).toString();  // ASCII: bytes = characters",
    "if (!pm.variables.get(\"mountRepository\")) pm.collectionVariables.set(\"mountRepository\", pm.variables.get(\"repository\") + \"-mounted\");",
    "const config = JSON.stringify({created: \"2026-01-01T00:00:00Z\", note: \"pushed by the regexplore Postman tour\"});",
    "const part1 = \"Hello from the regexplore Postman tour.\\n\";",
    "const part2 = \"This layer went up in two chunks: PATCH, then the final PUT.\\n\";",
    "const manifest = JSON.stringify({schemaVersion: 2, mediaType: \"" + MANIFEST + "\",",
    "  config: {mediaType: \"application/vnd.regexplore.tour.config.v1+json\", digest: digestOf(config), size: config.length},",
    "  layers: [{mediaType: \"text/plain\", digest: digestOf(part1 + part2), size: (part1 + part2).length}]});",
    "const values = {configJson: config, configDigest: digestOf(config), layerPart1: part1, layerPart2: part2,",
    "  layerDigest: digestOf(part1 + part2), firstChunkRange: \"0-\" + (part1.length - 1),",
    "  manifestJson: manifest, manifestDigest: digestOf(manifest), manifestSize: String(manifest.length)};",
    "Object.keys(values).forEach((key) => pm.collectionVariables.set(key, values[key]));",
]
ATTACH_CREDENTIALS = [
    "// Hand the credentials folder 1 found to Postman's auth helpers (none, Basic or Bearer).",
    "const scheme = pm.collectionVariables.get(\"authScheme\");",
    "if (scheme === \"bearer\") pm.request.authorizeUsing(\"bearer\", {token: pm.collectionVariables.get(\"token\")});",
    "if (scheme === \"basic\") pm.request.authorizeUsing(\"basic\", {username: pm.variables.get(\"username\"),",
    "  password: pm.variables.get(\"password\")});",
]
READ_CHALLENGE = [
    *CHALLENGE,
    "const scheme = pm.response.code === 200 ? \"none\" : (/^bearer/i.test(challenge) ? \"bearer\" : \"basic\");",
    "pm.collectionVariables.set(\"authScheme\", scheme);",
    BEARER_CHALLENGE,
    "console.log(\"this registry wants: \" + scheme + (challenge ? \" (\" + challenge + \")\" : \"\"));",
]
STORE_LOCATION = [ABSOLUTE, "pm.collectionVariables.set(\"uploadLocation\", absolute(pm.response.headers.get(\"Location\")));"]


_status = status_is


def _header(name: str, variable: str | None = None) -> str:
    if variable is None:
        return f'pm.test("{name} is present", function () {{ pm.response.to.have.header("{name}"); }});'
    return (f'pm.test("{name} is {{{{{variable}}}}}", function () {{ pm.expect(pm.response.headers.get("{name}"))'
            f'.to.eql(pm.variables.get("{variable}")); }});')


def _error(code: str) -> str:
    return (f'pm.test("the error body names {code}", function () {{ pm.expect(pm.response.json().errors'
            f'.map((e) => e.code)).to.include("{code}"); }});')


def _body_digest(name: str) -> list[str]:
    return body_hashes_to(variable(name), f"the body hashes to {{{{{name}}}}}")


def _skip_unless(condition: str, why: str) -> list[str]:
    return [skip_request_if(f"!({condition})", why)]


def _request(eid: str | None, title: str, method: str, raw: str, *, tests: list[str], teach: str,
             pre: list[str] | None = None, headers: dict[str, str] | None = None, body: str | None = None,
             auth: dict[str, Any] | None = None, follow: bool = True) -> dict[str, Any]:
    """One item: ``teach`` is the lesson; the endpoint's spec meaning is prepended for ``end-*`` ids."""
    head = f"**{eid} · {endpoints.by_id(eid).title}**: {endpoints.by_id(eid).meaning}\n\n" if eid else ""
    request: dict[str, Any] = {"method": method, "url": url_object(raw), "description": head + teach,
                               "header": [{"key": k, "value": v} for k, v in (headers or {}).items()]}
    if body is not None:
        request["body"] = {"mode": "raw", "raw": body}
    if auth is not None:
        request["auth"] = auth
    events = [script("test", tests)]
    if pre and any("pm.request.url.update(" in line for line in pre):
        pre = [*pre, OTHER_ORIGIN_NOAUTH]  # a Location or Link on another origin gets no credentials
    if pre:
        events.insert(0, script("prerequest", pre))
    item: dict[str, Any] = {"name": f"{eid} {title}" if eid else title, "event": events, "request": request}
    if not follow:
        item["protocolProfileBehavior"] = {"followRedirects": False}
    return item


def _discover() -> list[dict[str, Any]]:
    token_scopes = ("scope=repository:{{repository}}:pull,push,delete&scope=repository:{{mountRepository}}:pull,push,delete"
                    "&scope=registry:catalog:*")
    return [
        _request("end-1", "probe without credentials", "GET", "{{registry}}/v2/", auth=NOAUTH,
                 pre=BUILD_IMAGE[3:4],
                 tests=[_status(200, 401), *READ_CHALLENGE],
                 teach="Every client starts here. 200: no credentials needed. 401: the WWW-Authenticate challenge "
                       "says `Basic` (send user:password on every request) or `Bearer realm=…,service=…` (ask that "
                       "token server first). The test stores what it found in `authScheme`, `realm` and `service`."),
        _request(None, "token for the whole tour", "GET", "{{realm}}?service={{service}}&" + token_scopes +
                 "&account={{username}}",
                 auth=BASIC,
                 pre=[*_skip_unless('pm.collectionVariables.get("authScheme") === "bearer"', "no token server"),
                      'if (!pm.variables.get("username")) pm.request.authorizeUsing("noauth");'],
                 tests=[_status(200), *TOKEN_GRANT],
                 teach="Docker token auth (not part of the registry API): GET the challenge's realm with `service` "
                       "and one `scope` parameter per resource (`repository:NAME:pull,push,delete`, "
                       "`registry:catalog:*`), with Basic credentials or none (anonymous pull). The token server "
                       "grants the intersection of what you ask and what you may do, and does not fail when you get "
                       "less: the registry's 401 `insufficient_scope` tells you later. Skipped unless the probe saw a "
                       "Bearer challenge."),
        _request("end-1", "probe with credentials", "GET", "{{registry}}/v2/", pre=ATTACH_CREDENTIALS,
                 tests=[_status(200), _header("Docker-Distribution-API-Version")],
                 teach="The same probe with the credentials just obtained: 200 proves they work. "
                       "`Docker-Distribution-API-Version: registry/2.0` is informative only (OCI: do not rely on it)."),
    ]


def _push() -> list[dict[str, Any]]:
    octet = {"Content-Type": "application/octet-stream"}
    return [
        _request("end-2", "is the config there? (no)", "HEAD", REPO + "/blobs/{{configDigest}}", pre=BUILD_IMAGE,
                 tests=[_status(404)],
                 teach="Pushers check before uploading: 200 means the blob is already in the repository and the "
                       "upload is skipped (a second push of the same image sends almost nothing); 404 means upload "
                       "it. The pre-request script built the image: see the variables `configJson`, `layerPart1/2`, "
                       "`manifestJson` and their digests."),
        _request("end-4b", "upload the config in one POST", "POST", REPO + "/blobs/uploads/?digest={{configDigest}}",
                 headers=octet, body="{{configJson}}",
                 tests=[_status(201, 202), 'if (pm.response.code === 202) {', *STORE_LOCATION, "}",
                        'pm.collectionVariables.set("configUploaded", pm.response.code === 201 ? "yes" : "no");'],
                 teach="Single-request monolithic upload. 201 = done. 202 = the registry does not support it and "
                       "opened an ordinary upload session instead, DISCARDING the body: send it again with PUT to "
                       "the Location. Distribution 2.8 answers 202."),
        _request("end-6", "finish the config upload with PUT", "PUT", "{{uploadLocation}}&digest={{configDigest}}",
                 headers=octet, body="{{configJson}}",
                 pre=[*_skip_unless('pm.collectionVariables.get("configUploaded") !== "yes"', "the POST stored it"),
                      'const at = pm.collectionVariables.get("uploadLocation");',
                      'pm.request.url.update(at + (at.includes("?") ? "&" : "?") + "digest=" + pm.variables.get("configDigest"));'],
                 tests=[_status(201), _header("Docker-Content-Digest", "configDigest"), _header("Location")],
                 teach="PUT to the session's Location (keep its query, e.g. distribution's signed `_state`, and add "
                       "`digest=` with `&`). The registry hashes what it received and refuses a mismatch with 400 "
                       "DIGEST_INVALID."),
        _request("end-4a", "open an upload session for the layer", "POST", REPO + "/blobs/uploads/",
                 tests=[_status(202), _header("Location"), _header("Docker-Upload-UUID"), *STORE_LOCATION],
                 teach="An empty POST opens a session: 202 with `Location` (where the bytes go), "
                       "`Docker-Upload-UUID` and `Range: 0-0`. Treat Location as opaque and always use the newest one."),
        _request("end-5", "send the first chunk", "PATCH", "{{uploadLocation}}",
                 headers={**octet, "Content-Range": "{{firstChunkRange}}"}, body="{{layerPart1}}",
                 pre=['pm.request.url.update(pm.collectionVariables.get("uploadLocation"));'],
                 tests=[_status(202), _header("Range"),
                        'pm.test("Range says how much the registry holds", function () { pm.expect(pm.response.'
                        'headers.get("Range").replace("bytes=", "")).to.eql(pm.variables.get("firstChunkRange")); });',
                        *STORE_LOCATION],
                 teach="`Content-Range: start-end` is inclusive and has no `bytes ` prefix. The answer's `Range: "
                       "0-<last byte>` is what the registry holds; a chunk out of order gets 416. Every chunk but the "
                       "last should be at least `OCI-Chunk-Min-Length` when the registry sends one."),
        _request("end-13", "ask how far the upload got", "GET", "{{uploadLocation}}",
                 pre=['pm.request.url.update(pm.collectionVariables.get("uploadLocation"));'],
                 tests=[_status(204), _header("Range"), *STORE_LOCATION],
                 teach="Upload status: 204 with `Range` (and a fresh `Location`). Use it to resume after a failure "
                       "or a 416."),
        _request("end-6", "send the last chunk and close", "PUT", "{{uploadLocation}}&digest={{layerDigest}}",
                 headers=octet, body="{{layerPart2}}",
                 pre=['const at = pm.collectionVariables.get("uploadLocation");',
                      'pm.request.url.update(at + (at.includes("?") ? "&" : "?") + "digest=" + pm.variables.get("layerDigest"));'],
                 tests=[_status(201), _header("Docker-Content-Digest", "layerDigest")],
                 teach="The closing PUT may carry the final bytes; `digest` is of the WHOLE blob, all chunks together."),
        _request("end-7", "push the manifest by tag", "PUT", REPO + "/manifests/{{tag}}",
                 headers={"Content-Type": MANIFEST}, body="{{manifestJson}}",
                 tests=[_status(201), _header("Docker-Content-Digest", "manifestDigest"), _header("Location")],
                 teach="Manifests go last: the registry accepts one only when every blob it names is in the "
                       "repository (else 400 MANIFEST_BLOB_UNKNOWN). Content-Type must equal the manifest's "
                       "`mediaType`; the digest is of the exact bytes sent."),
        _request("end-7b", "push by digest with ?tag=", "PUT", REPO + "/manifests/{{manifestDigest}}?tag={{tag}}-b",
                 headers={"Content-Type": MANIFEST}, body="{{manifestJson}}",
                 tests=[_status(201), _header("Docker-Content-Digest", "manifestDigest"),
                        'pm.test("OCI-Tag lists the tags set, when the registry supports ?tag=", function () {',
                        '    const tags = pm.response.headers.get("OCI-Tag");',
                        '    if (tags) pm.expect(tags).to.include(pm.variables.get("tag") + "-b"); });'],
                 teach="OCI main (unreleased): push by digest and tag in one request; `OCI-Tag` lists the tags "
                       "accepted. Registries that predate it, like distribution 2.8, ignore `?tag=` and store the "
                       "manifest untagged (201 without OCI-Tag)."),
    ]


def _pull() -> list[dict[str, Any]]:
    accept = {"Accept": ACCEPT}
    return [
        _request("end-3", "HEAD the manifest", "HEAD", REPO + "/manifests/{{tag}}", headers=accept,
                 tests=[_status(200), _header("Docker-Content-Digest", "manifestDigest"), _header("Content-Length", "manifestSize")],
                 teach="HEAD resolves a tag to a digest and size without downloading (Docker Hub does not count it "
                       "as a pull). The `Accept` list matters: the digest you see depends on the formats you accept."),
        _request("end-3", "GET the manifest by tag", "GET", REPO + "/manifests/{{tag}}", headers=accept,
                 tests=[_status(200), _header("Content-Type"), *_body_digest("manifestDigest")],
                 teach="Content-Type is the manifest's media type; verify the body hashes to Docker-Content-Digest "
                       "(or to the digest you asked for)."),
        _request("end-3", "GET the manifest by digest", "GET", REPO + "/manifests/{{manifestDigest}}",
                 headers=accept, tests=[_status(200), *_body_digest("manifestDigest")],
                 teach="By digest the content can never change: pinned references are what reproducible pulls use."),
        _request("end-3", "GET a tag that does not exist", "GET", REPO + "/manifests/no-such-tag", headers=accept,
                 tests=[_status(404), _error("MANIFEST_UNKNOWN")],
                 teach="Errors come as `{\"errors\": [{\"code\", \"message\", \"detail\"}]}`; MANIFEST_UNKNOWN is "
                       "OCI code-7."),
        _request("end-2", "HEAD the layer", "HEAD", REPO + "/blobs/{{layerDigest}}",
                 tests=[_status(200), _header("Content-Length")],
                 teach="HEAD a blob for existence and size; Docker-Content-Digest comes back too."),
        _request("end-2", "GET the config blob", "GET", REPO + "/blobs/{{configDigest}}", follow=False,
                 tests=redirected_without_credentials(
                     body_hashes_to(variable("configDigest"), "the redirected body hashes to {{configDigest}}", "res"),
                     [_status(200), *_body_digest("configDigest")]),
                 teach="Blob GETs may answer 307 to a CDN or object store. The registry's Authorization must not "
                       "follow: Postman's own redirects drop it only when the host NAME changes, so this request "
                       "does not follow and its test fetches the Location itself, without credentials. Always "
                       "hash what arrives."),
        _request("end-2", "GET part of the layer with Range", "GET", REPO + "/blobs/{{layerDigest}}",
                 headers={"Range": "bytes=0-4"}, follow=False,
                 tests=redirected_without_credentials(
                     ['pm.test("the target answers 200 or 206", function () { pm.expect(res.code).to.be.oneOf([200, 206]); });'],
                     [_status(200, 206), 'if (pm.response.code === 206) pm.test("Content-Range", function () '
                      '{ pm.expect(pm.response.headers.get("Content-Range")).to.match(/^bytes 0-4\\//); });'],
                     {"Range": "bytes=0-4"}),
                 teach="OCI: registries SHOULD support Range (206 Partial Content + `Content-Range: bytes 0-4/size`); "
                       "a registry that ignores it answers 200 with everything. Used to resume downloads. A redirect "
                       "is followed by the test, with the Range and without credentials."),
    ]


def _discover_content() -> list[dict[str, Any]]:
    next_page = [ABSOLUTE, 'const link = pm.response.headers.get("Link") || "";',
                 'const next = (link.match(/<([^>]*)>\\s*;\\s*rel="?next"?/) || [])[1];',
                 'pm.collectionVariables.set("nextPage", next ? absolute(next) : "");']
    follow = [*_skip_unless('pm.collectionVariables.get("nextPage")', "no Link header: that was the last page"),
              'pm.request.url.update(pm.collectionVariables.get("nextPage"));']
    return [
        _request("end-8a", "list tags", "GET", REPO + "/tags/list",
                 tests=[_status(200), 'pm.test("our tag is listed", function () { pm.expect(pm.response.json().tags)'
                        '.to.include(pm.variables.get("tag")); });'],
                 teach="`{\"name\", \"tags\"}`; sorted lexically. The registry may paginate even unasked (then a "
                       "`Link` header is present)."),
        _request("end-8b", "list tags, one per page", "GET", REPO + "/tags/list?n=1",
                 tests=[_status(200), 'pm.test("a tags array", function () { pm.expect(pm.response.json().tags)'
                        '.to.be.an("array"); });', *next_page,
                        'if (pm.response.json().tags.length > 1) console.log("this registry ignored n=1 '
                        '(distribution 2.8 does)");'],
                 teach="`n` caps the page, `last` starts after a tag, and `Link: <…>; rel=\"next\"` points to the next "
                       "page: follow the Link rather than building URLs. Distribution 2.8 ignores `n` on tags and "
                       "returns them all without a Link, so the test only checks the shape."),
        _request("end-8b", "next page of tags (from Link)", "GET", "{{nextPage}}", pre=follow,
                 tests=[_status(200)], teach="Follows the previous answer's Link; skipped when there was none."),
        _request("catalog", "list repositories, one per page", "GET", "{{registry}}/v2/_catalog?n=1",
                 tests=[_status(200), 'pm.test("a repositories array", function () { pm.expect(pm.response.json()'
                        '.repositories).to.be.an("array"); });', *next_page],
                 teach="Docker extension, not OCI. Needs `registry:catalog:*` with token auth; many registries "
                       "(Docker Hub included) disable it (401/404). Distribution paginates it with `n`/`last`/`Link`."),
        _request("catalog", "next page of repositories (from Link)", "GET", "{{nextPage}}", pre=follow,
                 tests=[_status(200)], teach="The catalog's Link keeps `n` and adds `last`."),
        _request("end-12a", "list referrers", "GET", REPO + "/referrers/{{manifestDigest}}",
                 tests=[_status(200, 404), 'if (pm.response.code === 200) pm.test("an image index", function () '
                        '{ pm.expect(pm.response.json().manifests).to.be.an("array"); });'],
                 teach="OCI 1.1: manifests whose `subject` is this digest (signatures, SBOMs), as an image index. "
                       "404 means the registry has no referrers API (distribution 2.8): clients then read the "
                       "fallback tag `sha256-<hex>`."),
        _request("end-12b", "list referrers of one artifact type", "GET",
                 REPO + "/referrers/{{manifestDigest}}?artifactType=application/vnd.example.sbom",
                 tests=[_status(200, 404), 'if (pm.response.code === 200) pm.test("filter reported", function () '
                        '{ pm.response.to.have.header("OCI-Filters-Applied"); });'],
                 teach="With `artifactType` the registry filters and says so in `OCI-Filters-Applied`; 404 as above."),
    ]


def _mount_and_abandon() -> list[dict[str, Any]]:
    mount_repo = "{{registry}}/v2/{{mountRepository}}"
    at_location = ['pm.request.url.update(pm.collectionVariables.get("uploadLocation"));']
    return [
        _request("end-11", "mount the layer into another repository", "POST",
                 mount_repo + "/blobs/uploads/?mount={{layerDigest}}&from={{repository}}",
                 tests=[_status(201, 202), 'if (pm.response.code === 201) pm.test("mounted", function () '
                        '{ pm.expect(pm.response.headers.get("Docker-Content-Digest")).to.eql(pm.variables.get('
                        '"layerDigest")); });', 'if (pm.response.code === 202) {', *STORE_LOCATION, "}"],
                 teach="Cross-repository mount: no bytes move. 201 = mounted. 202 = NOT mounted (blob unknown "
                       "there, no pull right on `from`, or mounting disabled): an ordinary upload session was opened "
                       "instead, to finish with PUT. The token needs push on the target and pull on the source."),
        _request("end-2", "the mounted layer is there", "HEAD", mount_repo + "/blobs/{{layerDigest}}",
                 tests=[_status(200)], teach="A mounted blob is a blob of the target repository like any other."),
        _request("end-4c", "open a session naming the digest algorithm", "POST",
                 REPO + "/blobs/uploads/?digest-algorithm=sha256",
                 tests=[_status(202), *STORE_LOCATION],
                 teach="OCI main (unreleased): announce a non-sha256 algorithm (e.g. sha512) up front. Registries "
                       "that predate it (distribution 2.8) ignore the parameter and open an ordinary session."),
        _request("end-14", "cancel the upload", "DELETE", "{{uploadLocation}}", pre=at_location,
                 tests=[_status(204)],
                 teach="Abandon a session; clients should send it when giving up (servers also expire them)."),
        _request("end-13", "the cancelled session is gone", "GET", "{{uploadLocation}}", pre=at_location,
                 tests=[_status(404), _error("BLOB_UPLOAD_UNKNOWN")],
                 teach="BLOB_UPLOAD_UNKNOWN (code-3): cancelled, expired or never started. Start a new upload."),
    ]


def _delete() -> list[dict[str, Any]]:
    return [
        _request("end-9", "delete by tag", "DELETE", REPO + "/manifests/{{tag}}",
                 tests=[_status(202, 400, 405)],
                 teach="OCI allows removing just a tag, where supported. The old Docker API demanded a digest: "
                       "distribution 2.8 answers 400 DIGEST_INVALID here; newer versions untag; 405 = deletes off."),
        _request("end-9", "delete the manifest by digest", "DELETE", REPO + "/manifests/{{manifestDigest}}",
                 tests=[_status(202, 405)],
                 teach="202 Accepted; 405 UNSUPPORTED when the registry disables deletes. Tags pointing at it go too."),
        _request("end-3", "the manifest is gone", "GET", REPO + "/manifests/{{manifestDigest}}",
                 headers={"Accept": ACCEPT}, tests=[_status(404), _error("MANIFEST_UNKNOWN")],
                 teach="After a delete, GET by digest answers 404 MANIFEST_UNKNOWN."),
        _request("end-10", "delete the config blob", "DELETE", REPO + "/blobs/{{configDigest}}",
                 tests=[_status(202, 405)], teach="Blob deletes unlink the blob from the repository."),
        _request("end-10", "delete the layer", "DELETE", REPO + "/blobs/{{layerDigest}}",
                 tests=[_status(202, 405)], teach="Same for the layer; garbage collection frees the bytes later."),
        _request("end-10", "delete the mounted layer", "DELETE", "{{registry}}/v2/{{mountRepository}}/blobs/{{layerDigest}}",
                 tests=[_status(202, 405)], teach="The mounted copy is a link of its own repository."),
        _request("end-2", "the layer is gone", "HEAD", REPO + "/blobs/{{layerDigest}}", tests=[_status(404)],
                 teach="404 again: the tour leaves the repository as empty as it found it."),
    ]


#: (folder name, what it teaches, builder); folder 1 runs without the credentials script
FOLDERS = [
    ("1. Discover how to authenticate", "The probe, the challenge and (for Bearer registries) the token.", _discover),
    ("2. Push a tiny image", "Blobs first (monolithic, then chunked), the manifest last.", _push),
    ("3. Pull it back", "Manifests by tag and digest, blobs, Range, and an error body.", _pull),
    ("4. List tags, repositories and referrers", "Pagination with n, last and Link; the referrers API.",
     _discover_content),
    ("5. Mount, and abandon an upload", "Cross-repository mount; cancelling a session.", _mount_and_abandon),
    ("6. Delete what the tour pushed", "Manifests and blobs; what deletes answer.", _delete),
]


def collection(options: RenderOptions) -> dict[str, Any]:
    items = []
    for n, (title, teach, build) in enumerate(FOLDERS):
        folder: dict[str, Any] = {"name": title, "description": teach, "item": build()}
        if n:
            folder["event"] = [script("prerequest", ATTACH_CREDENTIALS)]
        items.append(folder)
    title = options.title or "the registry API, every endpoint"
    values = [("registry", "http://127.0.0.1:5000", "registry base URL with scheme"),
                 ("repository", "regexplore/postman-tour", "an EMPTY repository the tour may push to and delete from"),
                 ("mountRepository", "", "mount target (default: <repository>-mounted)"),
                 ("tag", "tour", "the tag pushed"),
                 ("username", "", "pass it with --env-var, never store it here"),
                 ("password", "", "pass it with --env-var, never store it here")]
    return {
        "info": {"_postman_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "regexplore:postman-tour")),
                 "name": f"regexplore: {title}", "schema": SCHEMA,
                 "description": "Every endpoint of the OCI distribution spec (end-1 … end-14, with the unreleased "
                                "end-4c, end-7b and end-14) plus Docker's `_catalog`, in an order that runs top to "
                                "bottom against an empty repository: discover auth, push a tiny image, pull it back, "
                                "list, mount, cancel an upload, delete everything. Run it:\n\n"
                                "    newman run api.json --env-var registry=http://127.0.0.1:5000 "
                                "--env-var repository=tour/demo --env-var username=USER --env-var password=PASS\n\n"
                                "Works against anonymous, Basic and Bearer-token registries; tests accept what the "
                                "spec allows where registries differ and each description says what distribution "
                                "2.8 answers."},
        "item": items,
        "auth": NOAUTH,
        "variable": variables(values),
    }
