"""Synthetic traces shaped like the recorder's: every hop its own exchange, flows' step labels.

Each ``case_*`` function returns a Trace; :data:`CASES` maps a case name to it.
The values (hosts, digests, times) are fixed so outputs are reproducible.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from explorer.trace import Body, Exchange, Outcome, RecordedRequest, RecordedResponse, Timings, Trace

REG = "localhost:5000"
REG2 = "localhost:6000"
AUTH = "localhost:5001"
CDN = "localhost:5005"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCTET = "application/octet-stream"


def dg(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def body(size: int, media_type: str | None = None, text: str | None = None) -> Body:
    return Body(size=size, sha256=hashlib.sha256(str(size).encode()).hexdigest(), media_type=media_type, text=text)


def json_body(data: object, media_type: str = "application/json") -> Body:
    text = json.dumps(data)
    return Body(size=len(text), sha256=hashlib.sha256(text.encode()).hexdigest(), media_type=media_type, text=text)


class Builder:
    """Appends exchanges with increasing times; ``bearer`` adds the redacted Authorization header."""

    def __init__(self, operation: str, target: str, command: list[str] | None = None) -> None:
        self.trace = Trace(command=command or ["regexplore", "trace", operation, target], operation=operation,
                           target=target, created="2026-01-01T12:00:00.000Z",
                           tool={"name": "regexplore", "version": "0.1.0"})
        self.clock = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
        self.bearer = False
        self.seeds: list[str] = []  # blobs in order of first use: the manifests written by done() list them

    def add(self, method: str, url: str, status: int | None, *, step: str | None, reason: str = "",
            req_headers: list[tuple[str, str]] | None = None, headers: list[tuple[str, str]] | None = None,
            resp_body: Body | None = None, req_body: Body | None = None, error: str | None = None,
            ms: float = 12.5, auth: bool | None = None) -> Exchange:
        hdrs = list(req_headers or [])
        if (self.bearer if auth is None else auth):
            hdrs.append(("Authorization", "Bearer <redacted>"))
        response = None if status is None else RecordedResponse(
            status=status, reason=reason or _REASONS.get(status, ""), headers=list(headers or []), body=resp_body)
        ex = Exchange(id=len(self.trace.exchanges) + 1, step=step,
                      started=self.clock.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                      duration_ms=ms, request=RecordedRequest(method, url, hdrs, req_body), response=response,
                      error=error, timings=Timings(send=0.1, wait=ms - 1, receive=0.9))
        self.clock += timedelta(milliseconds=ms + 1)
        self.trace.exchanges.append(ex)
        return ex

    # --- recurring shapes -------------------------------------------------------------------

    def ping(self, token: bool = False, host: str = REG) -> None:
        if token:
            self.add("GET", f"http://{host}/v2/", 401, step="ping", headers=[
                ("WWW-Authenticate", f'Bearer realm="http://{AUTH}/token",service="registry.test"')])
        else:
            self.add("GET", f"http://{host}/v2/", 200, step="ping",
                     headers=[("Docker-Distribution-API-Version", "registry/2.0")])

    def challenge(self, method: str, url: str, step: str, scope: str, **kw: object) -> None:
        """401 with a scoped challenge, the token request, then the same request with the token."""
        self.add(method, url, 401, step=step, auth=False, headers=[
            ("WWW-Authenticate", f'Bearer realm="http://{AUTH}/token",service="registry.test",scope="{scope}"')])
        q = scope.replace(":", "%3A").replace("/", "%2F").replace(",", "%2C")
        self.add("GET", f"http://{AUTH}/token?scope={q}&service=registry.test", 200, step="authenticate",
                 auth=False, resp_body=json_body({"token": "<redacted>", "expires_in": 300}))
        self.bearer = True
        self.add(method, url, **kw, step=step)  # type: ignore[arg-type]

    def manifest(self, repo: str, ref: str, media_type: str, size: int, step: str,
                 host: str = REG, scope: str | None = None) -> None:
        url = f"http://{host}/v2/{repo}/manifests/{ref}"
        kw = dict(status=200, headers=[("Content-Type", media_type), ("Docker-Content-Digest", dg(ref))],
                  resp_body=body(size, media_type, "{}"))
        if scope:
            self.challenge("GET", url, step, scope, **kw)
        else:
            self.add("GET", url, step=step, **kw)  # type: ignore[arg-type]

    def seed(self, seed: str) -> None:
        if seed not in self.seeds:
            self.seeds.append(seed)

    def blob(self, repo: str, seed: str, size: int, step: str, redirect: bool = False, host: str = REG) -> None:
        self.seed(seed)
        url = f"http://{host}/v2/{repo}/blobs/{dg(seed)}"
        if redirect:
            hexpart = dg(seed)[7:]
            target = f"http://{CDN}/blobs/sha256/{hexpart[:2]}/{hexpart}/data?X-Amz-Signature=<redacted>"
            self.add("GET", url, 307, step=step, headers=[("Location", target)])
            self.add("GET", target, 200, step=step, auth=False, resp_body=body(size, OCTET), ms=40)
        else:
            self.add("GET", url, 200, step=step, resp_body=body(size, OCTET), ms=30)

    def upload(self, repo: str, seed: str, size: int, step: str, chunks: int = 0, host: str = REG) -> None:
        self.seed(seed)
        base = f"http://{host}/v2/{repo}/blobs/uploads/"
        loc = f"/v2/{repo}/blobs/uploads/u-{seed}?_state=<redacted>"
        self.add("POST", base, 202, step=step, headers=[("Location", loc), ("Range", "0-0"),
                                                         ("Docker-Upload-UUID", f"u-{seed}")])
        done = 0
        for i in range(chunks):
            part = size // chunks
            rng = f"{done}-{done + part - 1}"
            self.add("PATCH", f"http://{host}{loc}", 202, step=step, req_body=body(part, OCTET),
                     req_headers=[("Content-Range", rng)], headers=[("Location", loc), ("Range", f"0-{done + part - 1}")])
            done += part
        last = body(size - done, OCTET) if size - done else None
        self.add("PUT", f"http://{host}{loc}&digest={dg(seed).replace(':', '%3A')}", 201, step=step, req_body=last,
                 headers=[("Location", f"/v2/{repo}/blobs/{dg(seed)}"), ("Docker-Content-Digest", dg(seed))])

    def head_blob(self, repo: str, seed: str, size: int, step: str, present: bool, host: str = REG) -> None:
        self.seed(seed)
        self.add("HEAD", f"http://{host}/v2/{repo}/blobs/{dg(seed)}", 200 if present else 404, step=step,
                 headers=[("Content-Length", str(size))] if present else [])

    def put_manifest(self, repo: str, ref: str, step: str, host: str = REG) -> None:
        self.add("PUT", f"http://{host}/v2/{repo}/manifests/{ref}", 201, step=step,
                 req_headers=[("Content-Type", OCI_MANIFEST)], req_body=body(1187, OCI_MANIFEST, "{}"),
                 headers=[("Docker-Content-Digest", dg("manifest" + ref)),
                          ("Location", f"/v2/{repo}/manifests/{dg('manifest' + ref)}")])

    def done(self, status: str = "ok", message: str | None = None) -> Trace:
        """The trace; placeholder manifests (``{}``) now list the blobs used, as real ones would."""
        layers = [{"mediaType": OCTET, "digest": dg(s), "size": 1} for s in self.seeds if not s.startswith("config")]
        config = next((s for s in self.seeds if s.startswith("config")), "config")
        image = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": layers,
                            "config": {"mediaType": OCI_CONFIG, "digest": dg(config), "size": 1}})
        index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": dg("arm64"), "size": 1187,
             "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}]})
        for ex in self.trace.exchanges:
            for b in (ex.request.body, ex.response.body if ex.response else None):
                if b is not None and b.text == "{}":
                    b.text = index if b.media_type == OCI_INDEX else image
        self.trace.outcome = Outcome(status, message)
        return self.trace


_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 307: "Temporary Redirect",
            401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}

PULL = "repository:team/app:pull"
PUSH = "repository:team/app:pull,push"


def case_pull_anonymous() -> Trace:
    b = Builder("pull", f"{REG}/team/app:1.0")
    b.ping()
    b.manifest("team/app", "1.0", OCI_MANIFEST, 1187, "resolve tag")
    b.blob("team/app", "config", 1469, "fetch config")
    for i in range(1, 4):
        b.blob("team/app", f"layer{i}", 3_400_000 * i, f"fetch layer {i}/3")
    return b.done()


def case_pull_token() -> Trace:
    b = Builder("pull", f"{REG}/team/app:1.0")
    b.ping(token=True)
    b.manifest("team/app", "1.0", OCI_MANIFEST, 1187, "resolve tag", scope=PULL)
    b.blob("team/app", "config", 1469, "fetch config")
    for i in range(1, 3):
        b.blob("team/app", f"layer{i}", 2_100_000 * i, f"fetch layer {i}/2")
    return b.done()


def case_pull_redirect() -> Trace:
    b = Builder("pull", f"{REG}/team/app:1.0")
    b.ping()
    b.manifest("team/app", "1.0", OCI_MANIFEST, 1187, "resolve tag")
    b.blob("team/app", "config", 1469, "fetch config", redirect=True)
    for i in range(1, 5):
        b.blob("team/app", f"layer{i}", 1_000_000 * i, f"fetch layer {i}/4", redirect=True)
    return b.done()


def case_pull_multiarch() -> Trace:
    b = Builder("pull", f"{REG}/team/app:1.0")
    b.ping(token=True)
    b.manifest("team/app", "1.0", OCI_INDEX, 1210, "resolve tag", scope=PULL)
    b.manifest("team/app", dg("arm64"), OCI_MANIFEST, 1187, "fetch manifest linux/arm64/v8")
    b.blob("team/app", "config", 1469, "fetch config", redirect=True)
    for i in range(1, 6):
        b.blob("team/app", f"layer{i}", 900_000 * i, f"fetch layer {i}/5", redirect=True)
    return b.done()


def case_push_first() -> Trace:
    b = Builder("push", f"{REG}/team/app:1.0")
    b.ping(token=True)
    b.seed("layer1")
    b.challenge("HEAD", f"http://{REG}/v2/team/app/blobs/{dg('layer1')}", "check layer 1/3", PUSH, status=404)
    b.upload("team/app", "layer1", 2_000_000, "upload layer 1/3")
    for i in (2, 3):
        b.head_blob("team/app", f"layer{i}", 1000, f"check layer {i}/3", present=False)
        b.upload("team/app", f"layer{i}", 1_500_000, f"upload layer {i}/3")
    b.head_blob("team/app", "config", 1469, "check config", present=False)
    b.upload("team/app", "config", 1469, "upload config")
    b.put_manifest("team/app", "1.0", "push manifest")
    return b.done()


def case_push_second() -> Trace:
    b = Builder("push", f"{REG}/team/app:1.1")
    b.ping(token=True)
    b.seed("layer1")
    b.challenge("HEAD", f"http://{REG}/v2/team/app/blobs/{dg('layer1')}", "layer 1/4 already present, skipped",
                PUSH, status=200, headers=[("Content-Length", "2000000")])
    for i in (2, 3):
        b.head_blob("team/app", f"layer{i}", 1_500_000, f"layer {i}/4 already present, skipped", present=True)
    b.head_blob("team/app", "layer4", 1000, "check layer 4/4", present=False)
    b.upload("team/app", "layer4", 700_000, "upload layer 4/4")
    b.head_blob("team/app", "config2", 1469, "check config", present=False)
    b.upload("team/app", "config2", 1469, "upload config")
    b.put_manifest("team/app", "1.1", "push manifest")
    return b.done()


def case_push_chunked() -> Trace:
    b = Builder("push", f"{REG}/team/big:1.0")
    b.ping()
    b.head_blob("team/big", "big", 0, "check layer 1/1", present=False)
    b.upload("team/big", "big", 50_000_000, "upload layer 1/1", chunks=8)
    b.head_blob("team/big", "config", 1469, "check config", present=False)
    b.upload("team/big", "config", 1469, "upload config")
    b.put_manifest("team/big", "1.0", "push manifest")
    return b.done()


def case_copy_mount() -> Trace:
    b = Builder("copy", f"{REG}/team/app:1.0 → {REG}/team/copy:1.0")
    b.ping()
    b.manifest("team/app", "1.0", OCI_MANIFEST, 1187, "fetch manifest")
    for i in (1, 2, 3):
        b.seed(f"layer{i}")
        url = f"http://{REG}/v2/team/copy/blobs/uploads/?mount={dg(f'layer{i}').replace(':', '%3A')}&from=team%2Fapp"
        if i < 3:
            b.add("POST", url, 201, step=f"mount layer {i}/3", headers=[
                ("Location", f"/v2/team/copy/blobs/{dg(f'layer{i}')}"), ("Docker-Content-Digest", dg(f"layer{i}"))])
        else:
            loc = "/v2/team/copy/blobs/uploads/u-3?_state=<redacted>"
            b.add("POST", url, 202, step=f"mount layer {i}/3", headers=[("Location", loc), ("Range", "0-0")])
            b.blob("team/app", "layer3", 3_000_000, "fetch layer 3/3")
            b.add("PUT", f"http://{REG}{loc}&digest={dg('layer3')}", 201, step="upload layer 3/3",
                  req_body=body(3_000_000, OCTET), headers=[("Docker-Content-Digest", dg("layer3"))])
    b.put_manifest("team/copy", "1.0", "push manifest")
    return b.done()


def case_copy_across() -> Trace:
    b = Builder("copy", f"{REG}/team/app:1.0 → {REG2}/mirror/app:1.0")
    b.ping()
    b.ping(host=REG2)
    b.manifest("team/app", "1.0", OCI_MANIFEST, 1187, "fetch manifest")
    for i in (1, 2):
        b.blob("team/app", f"layer{i}", 1_000_000, f"fetch layer {i}/2", redirect=True)
        b.head_blob("mirror/app", f"layer{i}", 0, f"check layer {i}/2", present=False, host=REG2)
        b.upload("mirror/app", f"layer{i}", 1_000_000, f"upload layer {i}/2", host=REG2)
    b.put_manifest("mirror/app", "1.0", "push manifest", host=REG2)
    return b.done()


def case_pull_failed() -> Trace:
    b = Builder("pull", f"{REG}/team/app:2.0")
    b.ping()
    errors = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {"Tag": "2.0"}}]}
    b.add("GET", f"http://{REG}/v2/team/app/manifests/2.0", 404, step="resolve tag",
          headers=[("Content-Type", "application/json")], resp_body=json_body(errors))
    return b.done("failed", "manifest unknown: team/app:2.0")


def case_pull_broken_storage() -> Trace:
    b = Builder("pull", f"{REG}/team/app:1.0")
    b.ping()
    b.manifest("team/app", "1.0", OCI_MANIFEST, 1187, "resolve tag")
    b.blob("team/app", "config", 1469, "fetch config")
    for i in (1, 2, 3):
        b.blob("team/app", f"layer{i}", 1_000_000, f"fetch layer {i}/4", redirect=True)
    b.seed("layer4")
    b.add("GET", f"http://{REG}/v2/team/app/blobs/{dg('layer4')}", 307, step="fetch layer 4/4",
          headers=[("Location", f"http://{CDN}/blobs/l4")])
    b.add("GET", f"http://{CDN}/blobs/l4", None, step="fetch layer 4/4", auth=False,
          error="ConnectError: [Errno 111] Connection refused")
    return b.done("failed", "cannot reach localhost:5005")


def case_pull_resumed() -> Trace:
    """A layer whose body broke off after its 200, read on from there with ``Range`` (a 206)."""
    b = Builder("pull", f"{REG}/team/app:1.0")
    b.ping()
    b.manifest("team/app", "1.0", OCI_MANIFEST, 1187, "resolve tag")
    b.blob("team/app", "config", 1469, "fetch config")
    b.seed("layer1")
    url, size, cut = f"http://{REG}/v2/team/app/blobs/{dg('layer1')}", 3_400_000, 1_048_576
    cut_body = Body(size=cut, sha256=hashlib.sha256(b"cut").hexdigest(), media_type=OCTET, complete=False)
    b.add("GET", url, 200, step="fetch layer 1/1", headers=[("Content-Length", str(size))], resp_body=cut_body,
          error=f"RemoteProtocolError: peer closed connection without sending complete message body "
                f"(received {cut} bytes, expected {size})")
    b.add("GET", url, 206, step="fetch layer 1/1", req_headers=[("Range", f"bytes={cut}-")],
          headers=[("Content-Length", str(size - cut)), ("Content-Range", f"bytes {cut}-{size - 1}/{size}")],
          resp_body=body(size - cut, OCTET))
    return b.done()


def case_tags_paged() -> Trace:
    b = Builder("tags", f"{REG}/team/app")
    b.ping()
    pages = [["1.0", "1.1"], ["1.2", "2.0"], ["latest"]]
    last = None
    for i, tags in enumerate(pages, start=1):
        q = "?n=2" + (f"&last={last}" if last else "")
        link = [("Link", f'</v2/team/app/tags/list?n=2&last={tags[-1]}>; rel="next"')] if i < len(pages) else []
        b.add("GET", f"http://{REG}/v2/team/app/tags/list{q}", 200, step=f"list tags page {i}",
              headers=[("Content-Type", "application/json"), *link],
              resp_body=json_body({"name": "team/app", "tags": tags}))
        last = tags[-1]
    return b.done()


def case_torture() -> Trace:
    """Every character the formats treat specially, in URLs, headers, errors and labels."""
    nasty = 'a#b;c"d<e>f&g`h\ni'
    b = Builder("pull", f"{REG}/team/app:{nasty}")
    b.ping()
    b.add("GET", f"http://{REG}/v2/team/app/manifests/{nasty}", 404, step=f"resolve tag {nasty} end",
          req_headers=[("Accept", f"{OCI_MANIFEST}; q=1 {nasty}")],
          headers=[("Content-Type", "application/json; charset=utf-8"),
                   ("Link", '</v2/team/app/tags/list?n=2&last=b>; rel="next"'), ("X-Odd", nasty)],
          resp_body=json_body({"errors": [{"code": "MANIFEST_UNKNOWN", "message": f"no {nasty} end"},
                                          {"code": "NAME#UNKNOWN;", "message": "<script>alert(1)</script>"}]}))
    b.add("GET", f"http://{REG}/v2/team/app/tags/list?n=2&last={nasty}", 500, step="end",
          resp_body=body(20, "text/html", "<html>oops & </html>"), reason=f"Bad {nasty}")
    b.add("GET", f"http://other.example:8080/x?y={nasty}", None, step="%% wrap: nowrap: @enduml ' --> ;",
          error=f"ConnectError: {nasty}")
    return b.done("failed", nasty)


def case_big(layers: int = 2498) -> Trace:
    """5,000 exchanges: a pull of ``layers`` redirected layers, one of them retried after a 503."""
    b = Builder("pull", f"{REG}/team/huge:1.0")
    b.ping()
    b.manifest("team/huge", "1.0", OCI_MANIFEST, 400_000, "resolve tag")
    b.blob("team/huge", "config", 1469, "fetch config")
    for i in range(1, layers + 1):
        step = f"fetch layer {i}/{layers}"
        if i == layers // 2:
            url = f"http://{REG}/v2/team/huge/blobs/{dg(f'l{i}')}"
            b.add("GET", url, 503, step=step, headers=[("Retry-After", "1")])
            b.blob("team/huge", f"l{i}", 1000 + i, step, redirect=True)
        else:
            b.blob("team/huge", f"l{i}", 1000 + i, step, redirect=True)
    return b.done()


CASES: dict[str, Callable[[], Trace]] = {
    "pull_anonymous": case_pull_anonymous,
    "pull_token": case_pull_token,
    "pull_redirect": case_pull_redirect,
    "pull_multiarch": case_pull_multiarch,
    "push_first": case_push_first,
    "push_second": case_push_second,
    "push_chunked": case_push_chunked,
    "copy_mount": case_copy_mount,
    "copy_across": case_copy_across,
    "pull_failed": case_pull_failed,
    "pull_broken_storage": case_pull_broken_storage,
    "pull_resumed": case_pull_resumed,
    "tags_paged": case_tags_paged,
    "torture": case_torture,
}
