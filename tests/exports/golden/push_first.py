#!/usr/bin/env python3
"""push localhost:5000/team/app:1.0: the registry requests of a regexplore trace, as a plain httpx script.

Recorded <timestamp> (16 exchanges · 42 B down · 5.0 MB up · <time>). Run it against any registry
that holds the same content (a mirror, a copy, the original):

    python3 THIS_FILE [REGISTRY_URL]
    REGISTRY_USERNAME=me REGISTRY_PASSWORD=secret python3 THIS_FILE http://127.0.0.1:5000

Parameters (environment variables, defaults from the trace):
    REGISTRY       registry base URL (default http://localhost:5000)
    REPOSITORY     repository (default team/app)
    REFERENCE      the tag to resolve (default 1.0)
    OUT            where fetched blobs and manifests are written, as blobs/sha256/<hex>
    SOURCE         a directory holding what is uploaded as blobs/sha256/<hex> (an OCI image layout)

Credentials come from REGISTRY_USERNAME / REGISTRY_PASSWORD only when the registry asks;
nothing secret is stored in this file. Needs only httpx (pip install httpx).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx

REGISTRY = (sys.argv[1] if len(sys.argv) > 1 else os.environ.get("REGISTRY", 'http://localhost:5000')).rstrip("/")
REPOSITORY = os.environ.get('REPOSITORY', 'team/app')
REFERENCE = os.environ.get('REFERENCE', '1.0')
ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'  # the manifest formats this client understands
OUT = Path(os.environ.get("OUT", "regexplore-out"))
SOURCE = Path(os.environ.get("SOURCE", "."))
CHUNK = 1024 * 1024  # bytes read or written at a time: blobs are streamed, never held in memory


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(1)


# --- authentication: the registry says what it wants in a 401 ----------------------------------

def basic(username: str, password: str) -> str:
    """The Basic credential: base64 of "user:password" (encoded, not encrypted: use TLS)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """'Bearer realm="https://auth",service="reg",scope="repository:a:pull"' → ("bearer", {...}).

    A scope value may hold commas ("pull,push"), so split on quotes, not on commas."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(re.findall(r'(\w+)="([^"]*)"', rest))


def scope_for(request: httpx.Request) -> str:
    """The token scope a request needs, by distribution's rules: GET/HEAD pull, DELETE delete,
    anything else pull,push; a mount also needs pull on the repository it mounts from."""
    path = request.url.path
    if path.startswith("/v2/_catalog"):
        return "registry:catalog:*"
    found = re.match(r"^/v2/(.+?)/(manifests|blobs|tags|referrers)/", path)
    if not found:
        return ""
    actions = {"GET": "pull", "HEAD": "pull", "DELETE": "delete"}.get(request.method, "pull,push")
    scope = f"repository:{found.group(1)}:{actions}"
    source = request.url.params.get("from")
    return f"{scope} repository:{source}:pull" if source else scope


class RegistryAuth(httpx.Auth):
    """Answers the registry's 401 challenges the way docker does.

    The first request goes out without credentials. A 401 names the scheme:
    ``Basic`` → send the user's credentials on every request; ``Bearer realm=…,service=…``
    → ask that token server for a token (one per scope, sent ahead of time once the
    realm is known, so uploads never need a second try). httpx drops Authorization when
    a redirect leaves the registry's host: the CDN that serves blob bytes never sees it.
    """

    def __init__(self) -> None:
        self.username = os.environ.get("REGISTRY_USERNAME")
        self.password = os.environ.get("REGISTRY_PASSWORD", "")
        self.scheme: str | None = None  # None until a 401 told us
        self.realm = self.service = ""
        self.tokens: dict[str, str] = {}  # scope → token

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        if self.scheme is not None:
            yield from self.authorize(request, scope_for(request))
        response = yield request
        if response.status_code != 401 or "Authorization" in request.headers and self.scheme == "basic":
            return
        self.scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if self.scheme == "bearer":
            self.realm, self.service = params.get("realm", ""), params.get("service", "")
            self.tokens.pop(params.get("scope", scope_for(request)), None)  # a stale or too weak token
        yield from self.authorize(request, params.get("scope", scope_for(request)))
        yield request

    def authorize(self, request: httpx.Request, scope: str) -> Iterator[httpx.Request]:
        if self.scheme == "basic" and self.username:
            request.headers["Authorization"] = basic(self.username, self.password)
        elif self.scheme == "bearer":
            if scope not in self.tokens:
                self.tokens[scope] = yield from self.fetch_token(scope)
            request.headers["Authorization"] = f"Bearer {self.tokens[scope]}"

    def fetch_token(self, scope: str) -> Iterator[httpx.Request]:
        """GET <realm>?service=…&scope=… (one scope parameter each), with Basic credentials if any."""
        params = [("service", self.service)] + [("scope", s) for s in scope.split()]
        headers = {}
        if self.username:
            params.append(("account", self.username))
            headers["Authorization"] = basic(self.username, self.password)
        response = yield httpx.Request("GET", self.realm, params=params, headers=headers)
        response.read()
        if response.status_code != 200:
            fail(f"the token server refused ({response.status_code}): check REGISTRY_USERNAME/REGISTRY_PASSWORD")
        grant = response.json()
        return grant.get("token") or grant.get("access_token")


client = httpx.Client(auth=RegistryAuth(), timeout=httpx.Timeout(30.0, read=300.0),
                      headers={"User-Agent": "regexplore-script/1"})


def check(response: httpx.Response, *expected: int) -> httpx.Response:
    """Stop with the registry's own error codes when the status is not one we expect."""
    if response.status_code not in expected:
        response.read()
        codes = re.findall(r'"code"\s*:\s*"([A-Z_]+)"', response.text)
        fail(f"{response.request.method} {response.request.url} → {response.status_code} {' '.join(codes)}")
    return response


def blob_path(digest: str, root: Path) -> Path:
    algorithm, _, encoded = digest.partition(":")
    if not re.fullmatch(r"[a-z0-9]+", algorithm) or not re.fullmatch(r"[a-f0-9]{32,}", encoded):
        fail(f"not a digest: {digest!r}")
    return root / "blobs" / algorithm / encoded


def keep(digest: str, data: bytes) -> None:
    path = blob_path(digest, OUT)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# --- the registry API, one function per endpoint -------------------------------------------------

def ping(registry: str) -> None:
    """end-1: is this a v2 registry? (200, or 401 and the auth dance)"""
    response = check(client.get(f"{registry}/v2/"), 200)
    print(f"ok registry {registry} ({response.headers.get('Docker-Distribution-API-Version', 'no version header')})")


def get_manifest(registry: str, repository: str, reference: str, accept: str, expect: str) -> bytes:
    """end-3: resolve a tag (or digest) to a manifest; the digest is of the exact bytes served."""
    response = check(client.get(f"{registry}/v2/{repository}/manifests/{reference}", headers={"Accept": accept}), 200)
    digest = "sha256:" + hashlib.sha256(response.content).hexdigest()
    served = response.headers.get("Docker-Content-Digest")
    if served and served != digest:
        fail(f"Docker-Content-Digest says {served} but the manifest hashes to {digest}")
    if reference.startswith("sha256:") and digest != reference:
        fail(f"asked for {reference}, got content hashing to {digest}")
    if expect and digest != expect:
        print(f"note: {repository}:{reference} is {digest} now; the trace saw {expect}")
    keep(digest, response.content)
    print(f"ok manifest {digest} ({len(response.content)} bytes, {response.headers.get('Content-Type')})")
    return response.content


def head_manifest(registry: str, repository: str, reference: str, accept: str, expect: str) -> None:
    """end-3 (HEAD): digest and size without the body."""
    response = check(client.head(f"{registry}/v2/{repository}/manifests/{reference}", headers={"Accept": accept}), 200, 404)
    found = f"{response.headers.get('Docker-Content-Digest')} exists" if response.status_code == 200 else "not there (404)"
    print(f"ok manifest {repository}:{reference} {found}")


def get_blob(registry: str, repository: str, digest: str, size: int) -> None:
    """end-2: stream a blob to OUT, hashing as it arrives; a 307 to a CDN is followed without our token."""
    path = blob_path(digest, OUT)
    path.parent.mkdir(parents=True, exist_ok=True)
    hasher, received = hashlib.sha256(), 0
    partial = path.with_suffix(".partial")
    with client.stream("GET", f"{registry}/v2/{repository}/blobs/{digest}", follow_redirects=True) as response:
        check(response, 200)
        with partial.open("wb") as out:
            for chunk in response.iter_bytes(CHUNK):
                hasher.update(chunk)
                out.write(chunk)
                received += len(chunk)
    if "sha256:" + hasher.hexdigest() != digest or (size >= 0 and received != size):
        partial.unlink()
        fail(f"blob {digest}: got {received} bytes hashing to sha256:{hasher.hexdigest()}")
    partial.replace(path)
    print(f"ok blob {digest} ({received} bytes) verified")


def head_blob(registry: str, repository: str, digest: str, size: int) -> None:
    """end-2 (HEAD): does the blob exist, and how big is it?"""
    response = check(client.head(f"{registry}/v2/{repository}/blobs/{digest}", follow_redirects=True), 200, 404)
    found = f"exists ({response.headers.get('Content-Length')} bytes)" if response.status_code == 200 else "not there (404)"
    print(f"ok blob {digest} {found}")


def read_chunks(path: Path, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    with path.open("rb") as source:
        source.seek(start)
        left = path.stat().st_size - start if length is None else length
        while left > 0:
            data = source.read(min(CHUNK, left))
            if not data:
                return
            left -= len(data)
            yield data


def upload(registry: str, repository: str, digest: str, location: str, chunks: list[int]) -> None:
    """end-5/end-6: PATCH each chunk (Content-Range is inclusive, no "bytes "), then PUT the rest with ?digest=."""
    path = blob_path(digest, SOURCE)
    if not path.is_file():
        fail(f"{path} is missing: SOURCE must hold the blobs to upload")
    size, offset = path.stat().st_size, 0
    octet = {"Content-Type": "application/octet-stream"}
    for length in chunks:
        headers = {**octet, "Content-Range": f"{offset}-{offset + length - 1}", "Content-Length": str(length)}
        response = check(client.patch(location, content=read_chunks(path, offset, length), headers=headers), 202)
        location, offset = urljoin(location, response.headers["Location"]), offset + length
    last = size - offset
    headers = {**octet, "Content-Length": str(last)}
    if offset:
        headers["Content-Range"] = f"{offset}-{size - 1}"
    separator = "&" if "?" in location else "?"  # keep the session's own query (distribution's _state)
    response = client.put(f"{location}{separator}digest={digest}", content=read_chunks(path, offset), headers=headers)
    check(response, 201)
    print(f"ok blob {digest} uploaded ({size} bytes)")


def push_blob(registry: str, repository: str, digest: str, check_first: int, chunks: list[int]) -> None:
    """end-2 HEAD then end-4a POST: skip what the registry has, else open a session and upload."""
    if check_first:
        present = client.head(f"{registry}/v2/{repository}/blobs/{digest}")
        if present.status_code == 200:
            print(f"ok blob {digest} already there: upload skipped")
            return
    response = check(client.post(f"{registry}/v2/{repository}/blobs/uploads/"), 202)
    upload(registry, repository, digest, urljoin(f"{registry}/", response.headers["Location"]), chunks)


def mount_blob(registry: str, repository: str, digest: str, source: str) -> None:
    """end-11: link a blob from another repository; 202 means "not mounted, upload it yourself"."""
    response = check(client.post(f"{registry}/v2/{repository}/blobs/uploads/", params={"mount": digest, "from": source}),
                     201, 202)
    if response.status_code == 201:
        print(f"ok blob {digest} mounted from {source}")
        return
    print(f"note: mount of {digest} refused (202): uploading instead")
    upload(registry, repository, digest, urljoin(f"{registry}/", response.headers["Location"]), [])


def push_manifest(registry: str, repository: str, reference: str, media_type: str, expect: str, body: str) -> None:
    """end-7: manifests go last; every blob they name must already be in the repository."""
    data = body.encode("utf-8")
    response = client.put(f"{registry}/v2/{repository}/manifests/{reference}", content=data,
                          headers={"Content-Type": media_type})
    check(response, 201)
    print(f"ok manifest {response.headers.get('Docker-Content-Digest')} pushed as {repository}:{reference}")


def get_list(registry: str, repository: str, path: str, query: str) -> None:
    """end-8 tags, end-12 referrers, _catalog: one page as the trace asked for it."""
    where = f"{registry}/v2/{repository}/{path}" if repository else f"{registry}/v2/_catalog"
    response = check(client.get(where + (f"?{query}" if query else "")), 200, 404)
    print(f"ok {response.status_code} {response.text.strip()[:200]}")


def delete(registry: str, repository: str, what: str, reference: str) -> None:
    """end-9/end-10: deletes answer 202 (or 405 when the registry disables them)."""
    response = check(client.delete(f"{registry}/v2/{repository}/{what}/{reference}"), 202, 400, 404, 405)
    print(f"ok delete {what}/{reference}: {response.status_code}")


# --- the trace, step by step ---------------------------------------------------------------------

def main() -> None:
    # step 'ping', exchange 1
    ping(REGISTRY)
    # step 'check layer 1/3', exchanges 4, 5, 6
    push_blob(REGISTRY, REPOSITORY, 'sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2', 1, chunks=[])
    # step 'check layer 2/3', exchanges 7, 8, 9
    push_blob(REGISTRY, REPOSITORY, 'sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06', 1, chunks=[])
    # step 'check layer 3/3', exchanges 10, 11, 12
    push_blob(REGISTRY, REPOSITORY, 'sha256:a0e70458d19e37e14d6388030a017c587283e2fb6ef10c0744cad0294c47e8f8', 1, chunks=[])
    # step 'check config', exchanges 13, 14, 15
    push_blob(REGISTRY, REPOSITORY, 'sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910', 1, chunks=[])
    # step 'push manifest', exchange 16
    push_manifest(REGISTRY, REPOSITORY, REFERENCE, 'application/vnd.oci.image.manifest.v1+json', 'sha256:335455aa06bffcd5578c97be16215f13147777d9f003e67d9742268244eea31c', body='{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [{"mediaType": "application/octet-stream", "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2", "size": 1}, {"mediaType": "application/octet-stream", "digest": "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06", "size": 1}, {"mediaType": "application/octet-stream", "digest": "sha256:a0e70458d19e37e14d6388030a017c587283e2fb6ef10c0744cad0294c47e8f8", "size": 1}], "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910", "size": 1}}')
    print("done")


if __name__ == "__main__":
    try:
        main()
    except httpx.HTTPError as exc:
        fail(f"{type(exc).__name__}: {exc}")
    finally:
        client.close()
