#!/usr/bin/env python3
"""push localhost:5000/team/app:1.0: the registry requests of a regexplore trace, as a plain httpx script.

Recorded <timestamp> (16 exchanges · 42 B down · 5.0 MB up · <time>).
Pushes the trace's manifests to REGISTRY/REPOSITORY: each blob a manifest lists is checked with
HEAD and uploaded from SOURCE only when missing; a manifest already there is not sent again.

    python3 THIS_FILE [REGISTRY_URL]
    REGISTRY_USERNAME=me REGISTRY_PASSWORD=secret python3 THIS_FILE http://127.0.0.1:5000

Parameters (environment variables, defaults from the trace):
    REGISTRY           registry base URL (default http://localhost:5000)
    REPOSITORY         repository pushed to (default team/app)
    REFERENCE          the tag pushed (default 1.0)
    CHUNK_SIZE         bytes per PATCH; 0 = one PUT per blob (default 0)
    OUT                where fetched blobs and manifests are written, as blobs/sha256/<hex>
    SOURCE             a directory holding what is uploaded as blobs/sha256/<hex> (an OCI image layout)

Credentials come from REGISTRY_USERNAME/REGISTRY_PASSWORD only when a
registry asks. They go to that registry and to the token realm its own challenge names (Basic to
a realm only over https or loopback), never to another host a redirect or Location names.
Nothing secret is stored in this file. Needs only httpx (pip install httpx).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx

REGISTRY = (sys.argv[1] if len(sys.argv) > 1 else os.environ.get("REGISTRY") or 'http://localhost:5000').rstrip("/")
REPOSITORY = (os.environ.get('REPOSITORY') or 'team/app')
REFERENCE = (os.environ.get('REFERENCE') or '1.0')
ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'  # the manifest formats this client understands
OUT = Path(os.environ.get("OUT") or "regexplore-out")
SOURCE = Path(os.environ.get("SOURCE") or ".")
CHUNK_SIZE = int(os.environ.get("CHUNK_SIZE") or 0)  # bytes per PATCH; 0 = one PUT per blob
CHUNK = 1024 * 1024  # bytes read or written at a time: blobs are streamed, never held in memory
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
MANIFEST_LIMIT = 4 * 1024 * 1024  # what distribution accepts; a longer answer is refused, not held


def say(message: str) -> None:
    """Print registry text without control characters (a hostile server cannot drive the terminal)."""
    print("".join(c if c.isprintable() else " " for c in message))


def fail(message: str) -> None:
    print("error: " + "".join(c if c.isprintable() else " " for c in message), file=sys.stderr)
    raise SystemExit(1)


def valid_digest(digest: object) -> str:
    """A digest from a manifest becomes a URL and a file name only if it is sha256:<64 hex>."""
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        fail(f"not a sha256 digest: {digest!r}")
    return digest


def blob_path(digest: str, root: Path) -> Path:
    return root / "blobs" / "sha256" / valid_digest(digest).partition(":")[2]


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    url = httpx.URL(str(url))
    return url.scheme, url.host, url.port


# --- authentication: the registry says what it wants in a 401 ----------------------------------

def basic(username: str, password: str) -> str:
    """The Basic credential: base64 of "user:password" (encoded, not encrypted: use TLS)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """'Bearer realm="https://auth",service="reg",scope="repository:a:pull"' → ("bearer", {...}).

    A scope value may hold commas ("pull,push"), so split on quotes, not on commas."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(re.findall(r'(\w+)="([^"]*)"', rest))


def basic_allowed(realm: str) -> bool:
    """Basic credentials travel to a token realm only over https or on loopback."""
    url = httpx.URL(realm)
    if url.scheme == "https":
        return True
    try:
        return url.scheme == "http" and (url.host == "localhost" or ipaddress.ip_address(url.host).is_loopback)
    except ValueError:
        return False


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
    """Answers ONE registry's 401 challenges the way docker does, with ``<side>_USERNAME``/``_PASSWORD``.

    The first request goes out without credentials. A 401 from this registry names the scheme:
    ``Basic`` → send the user's credentials; ``Bearer realm=…,service=…`` → ask that token server
    for a token (one per scope). Requests to any other origin (an upload Location elsewhere) get
    nothing, and a 401 from another origin (a redirect's storage host) is not answered. httpx drops
    Authorization when a redirect leaves the registry: the storage host never sees it.
    """

    def __init__(self, base: str, side: str) -> None:
        self.base, self.side = base, side
        self.username = os.environ.get(f"{side}_USERNAME")
        self.password = os.environ.get(f"{side}_PASSWORD", "")
        self.scheme: str | None = None  # None until a 401 told us
        self.realm = self.service = ""
        self.tokens: dict[str, str] = {}  # scope → token

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        own = origin(request.url) == origin(self.base)
        if own and self.scheme is not None:
            yield from self.authorize(request, scope_for(request))
        response = yield request
        if not own or response.status_code != 401 or origin(response.url) != origin(self.base):
            return
        if "Authorization" in request.headers and self.scheme == "basic":
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
            if not basic_allowed(self.realm):
                fail(f"not sending {self.side}_USERNAME's password to {self.realm}: a token realm needs https or loopback")
            params.append(("account", self.username))
            headers["Authorization"] = basic(self.username, self.password)
        response = yield httpx.Request("GET", self.realm, params=params, headers=headers)
        response.read()
        if response.status_code != 200:
            fail(f"the token server refused ({response.status_code}): check {self.side}_USERNAME/{self.side}_PASSWORD")
        grant = response.json()
        token = grant.get("token") or grant.get("access_token") if isinstance(grant, dict) else None
        if not isinstance(token, str) or not re.fullmatch(r"[A-Za-z0-9._~+/=-]+", token):
            fail("no usable token in the token server's answer")
        return token


def check(response: httpx.Response, *expected: int) -> httpx.Response:
    """Stop with the registry's own error codes when the status is not one we expect."""
    if response.status_code not in expected:
        response.read()
        codes = re.findall(r'"code"\s*:\s*"([A-Z_]+)"', response.text)
        fail(f"{response.request.method} {response.request.url} → {response.status_code} {' '.join(codes)}")
    return response


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


class Manifest:
    """A manifest as served: its exact bytes, media type, digest and parsed JSON."""

    def __init__(self, content: bytes, media_type: str) -> None:
        self.content, self.media_type = content, media_type
        self.digest = "sha256:" + hashlib.sha256(content).hexdigest()
        try:
            data = json.loads(content)
        except ValueError:
            fail(f"manifest {self.digest} is not JSON")
        self.data = data if isinstance(data, dict) else {}

    @property
    def is_index(self) -> bool:
        kind = f"{self.data.get('mediaType')} {self.media_type}"
        return "image.index" in kind or "manifest.list" in kind or "manifests" in self.data

    def blobs(self) -> list[str]:
        """The config and layers this manifest lists, each checked before it names a URL or a file."""
        listed = [self.data.get("config")] + list(self.data.get("layers") or [])
        return [valid_digest(d.get("digest")) for d in listed if isinstance(d, dict)]

    def children(self) -> list[dict]:
        return [m for m in self.data.get("manifests") or [] if isinstance(m, dict)]

    def pick(self, wanted: str) -> str:
        """The digest of the index entry whose platform fields match os/arch[/variant]."""
        os_name, arch, *rest = wanted.split("/") + [""]
        for entry in self.children():
            platform = entry.get("platform") if isinstance(entry.get("platform"), dict) else {}
            if (platform.get("os"), platform.get("architecture")) == (os_name, arch) and (
                    not rest[0] or platform.get("variant") == rest[0]):
                return valid_digest(entry.get("digest"))
        fail(f"the index has no manifest for platform {wanted}: set PLATFORM")


class Registry:
    """One registry (a base URL) and the API calls on it, with its own client and credentials."""

    def __init__(self, base: str, side: str = "REGISTRY") -> None:
        self.base = base
        self.client = httpx.Client(auth=RegistryAuth(base, side), timeout=httpx.Timeout(30.0, read=300.0),
                                   headers={"User-Agent": "regexplore-script/1"})

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def ping(self) -> None:
        """end-1: is this a v2 registry? (200, or 401 and the auth dance)"""
        response = check(self.client.get(self.url("/v2/")), 200)
        say(f"ok registry {self.base} ({response.headers.get('Docker-Distribution-API-Version', 'no version header')})")

    def fetch_manifest(self, repository: str, reference: str, keep: bool = False) -> Manifest:
        """end-3: a tag (or digest) → a manifest; its digest is of the exact bytes served."""
        with self.client.stream("GET", self.url(f"/v2/{repository}/manifests/{reference}"),
                                headers={"Accept": ACCEPT}) as response:
            check(response, 200)
            content = b""
            for chunk in response.iter_bytes(CHUNK):
                content += chunk
                if len(content) > MANIFEST_LIMIT:
                    fail(f"the manifest {repository}:{reference} is larger than {MANIFEST_LIMIT} bytes; refusing it")
        manifest = Manifest(content, response.headers.get("Content-Type", ""))
        served = response.headers.get("Docker-Content-Digest")
        if served and served != manifest.digest:
            fail(f"Docker-Content-Digest says {served} but the manifest hashes to {manifest.digest}")
        if reference.startswith("sha256:") and manifest.digest != reference:
            fail(f"asked for {reference}, got content hashing to {manifest.digest}")
        if keep:
            path = blob_path(manifest.digest, OUT)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(manifest.content)
        say(f"ok manifest {manifest.digest} ({len(manifest.content)} bytes, {manifest.media_type})")
        return manifest

    def fetch_blob(self, repository: str, digest: str, path: Path) -> None:
        """end-2: stream a blob to ``path``, hashing as it arrives; a 307 to storage is followed without our token."""
        valid_digest(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        hasher, received = hashlib.sha256(), 0
        partial = path.with_name(path.name + ".partial")
        with self.client.stream("GET", self.url(f"/v2/{repository}/blobs/{digest}"), follow_redirects=True) as response:
            check(response, 200)
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    received += len(chunk)
        if "sha256:" + hasher.hexdigest() != digest:
            partial.unlink()
            fail(f"blob {digest}: got {received} bytes hashing to sha256:{hasher.hexdigest()}")
        partial.replace(path)
        say(f"ok blob {digest} ({received} bytes) verified")

    def blob_there(self, repository: str, digest: str) -> bool:
        """end-2 (HEAD): does the registry have it?"""
        return self.client.head(self.url(f"/v2/{repository}/blobs/{valid_digest(digest)}")).status_code == 200

    def open_upload(self, repository: str, **params: str) -> httpx.Response:
        """end-4a (or end-11 with mount/from): 202 and a Location to upload to, or 201 when mounted."""
        return check(self.client.post(self.url(f"/v2/{repository}/blobs/uploads/"), params=params), 201, 202)

    def upload(self, digest: str, location: str, path: Path) -> None:
        """end-5/end-6: PATCH CHUNK_SIZE chunks (Content-Range inclusive, no "bytes "), then PUT the rest with ?digest=."""
        if not path.is_file():
            fail(f"{path} is missing: SOURCE must hold the blobs to upload")
        size, offset = path.stat().st_size, 0
        octet = {"Content-Type": "application/octet-stream"}
        while CHUNK_SIZE > 0 and size - offset > CHUNK_SIZE:
            headers = {**octet, "Content-Range": f"{offset}-{offset + CHUNK_SIZE - 1}", "Content-Length": str(CHUNK_SIZE)}
            response = check(self.client.patch(location, content=read_chunks(path, offset, CHUNK_SIZE), headers=headers), 202)
            location, offset = urljoin(location, response.headers["Location"]), offset + CHUNK_SIZE
        headers = {**octet, "Content-Length": str(size - offset)}
        if offset:
            headers["Content-Range"] = f"{offset}-{size - 1}"
        separator = "&" if "?" in location else "?"  # keep the session's own query (distribution's _state)
        check(self.client.put(f"{location}{separator}digest={digest}", content=read_chunks(path, offset), headers=headers), 201)
        say(f"ok blob {digest} uploaded ({size} bytes)")

    def location(self, response: httpx.Response) -> str:
        return urljoin(self.url("/"), response.headers["Location"])

    def push_blob(self, repository: str, digest: str, root: Path) -> None:
        """HEAD first; upload from ``root`` (an OCI layout) only what is missing."""
        if self.blob_there(repository, digest):
            say(f"ok blob {digest} already there: upload skipped")
            return
        self.upload(digest, self.location(self.open_upload(repository)), blob_path(digest, root))

    def put_manifest(self, repository: str, reference: str, media_type: str, content: bytes) -> None:
        """end-7: manifests go last (every blob they name is there); skipped when these bytes already are."""
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        there = self.client.head(self.url(f"/v2/{repository}/manifests/{reference}"), headers={"Accept": media_type})
        if there.status_code == 200 and there.headers.get("Docker-Content-Digest") == digest:
            say(f"ok manifest {digest} already there as {repository}:{reference}: skipped")
            return
        response = check(self.client.put(self.url(f"/v2/{repository}/manifests/{reference}"), content=content,
                                         headers={"Content-Type": media_type}), 201)
        say(f"ok manifest {response.headers.get('Docker-Content-Digest')} pushed as {repository}:{reference}")

    def close(self) -> None:
        self.client.close()


REGISTRIES: dict[tuple[str, str], Registry] = {}


def on(base: str, side: str = "REGISTRY") -> Registry:
    """The Registry for a base URL (one client and one set of tokens each)."""
    if (base, side) not in REGISTRIES:
        REGISTRIES[(base, side)] = Registry(base, side)
    return REGISTRIES[(base, side)]


# --- push: for each manifest, its missing blobs first, then the manifest ------------------------

def push_manifest(registry: Registry, reference: str, media_type: str, digest: str, text: str) -> None:
    """Upload what the manifest lists and the registry lacks, then the manifest (text, or SOURCE's copy)."""
    # a lone surrogate (a shared trace's JSON may escape one) goes as its JSON escape, the same string
    content = text.encode("utf-8", "backslashreplace") if text else blob_path(digest, SOURCE).read_bytes()
    for blob in Manifest(content, media_type).blobs():
        registry.push_blob(REPOSITORY, blob, SOURCE)
    registry.put_manifest(REPOSITORY, reference, media_type, content)


def main() -> None:
    registry = on(REGISTRY)
    registry.ping()
    # step 'push manifest', exchange 16
    push_manifest(registry, REFERENCE, 'application/vnd.oci.image.manifest.v1+json', '', '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [{"mediaType": "application/octet-stream", "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2", "size": 1}, {"mediaType": "application/octet-stream", "digest": "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06", "size": 1}, {"mediaType": "application/octet-stream", "digest": "sha256:a0e70458d19e37e14d6388030a017c587283e2fb6ef10c0744cad0294c47e8f8", "size": 1}], "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910", "size": 1}}')
    say("done")


if __name__ == "__main__":
    try:
        main()
    except httpx.HTTPError as exc:
        fail(f"{type(exc).__name__}: {exc}")
    finally:
        for opened in REGISTRIES.values():
            opened.close()
