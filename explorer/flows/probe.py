"""``regexplore probe``: find out what a registry supports by trying it, in a scratch repository.

Every feature is a stable key (``FEATURES``) answered ``True``, ``False`` or ``None``
(could not tell), with the ids of the exchanges that prove it. The probe works in
``<base>/probe-<random>`` (and ``…-mount`` for the mount), pushes two tiny blobs and
one manifest under two tags, and cleans up: manifests and blobs are deleted where
the registry allows it; what it could not delete is said in the notes.

Rule: a flow; each request is a ``RegistryClient`` call or ``client.request`` with
every status accepted, so an answer is evidence, never an error.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from explorer.client.registry import RegistryClient
from explorer.protocol import challenge, digest as digests, headers, mediatypes
from explorer.trace import Exchange

__all__ = ["FEATURES", "Feature", "ProbeResult", "probe", "report"]

FEATURES = (
    "referrers-api", "cross-repo-mount", "chunked-upload", "oci-chunk-min-length", "out-of-order-chunk-416",
    "monolithic-post-upload", "delete-manifest", "delete-tag", "delete-blob", "tags-pagination", "catalog",
    "catalog-pagination", "blob-range-get", "redirects-to-storage", "token-auth", "anonymous-pull",
)
_ANY = tuple(range(100, 600))


@dataclass
class Feature:
    supported: bool | None = None
    evidence: list[int] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"supported": self.supported, "evidence": self.evidence, "note": self.note}


@dataclass
class ProbeResult:
    registry: str
    repository: str
    features: dict[str, Feature] = field(default_factory=lambda: {key: Feature() for key in FEATURES})

    def to_dict(self) -> dict[str, Any]:
        return {"registry": self.registry, "repository": self.repository,
                "features": {k: f.to_dict() for k, f in self.features.items()}}


class _Prober:
    def __init__(self, client: RegistryClient, result: ProbeResult, exchanges: list[Exchange]) -> None:
        self.client, self.result, self.exchanges = client, result, exchanges

    def count(self) -> int:
        return len(self.exchanges)

    def send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self.client.request(method, url, ok=_ANY, context=f"probe {self.result.registry}", **kw)

    def attempt(self, step: str, key: str, wanted: int, what: str, method: str, url: str,
                **kw: Any) -> tuple[httpx.Response, int]:
        """One request in its own step, answering ``key``: supported when the status is ``wanted``."""
        with self.client.step(step):
            start = self.count()
            answer = self.send(method, url, **kw)
            self.mark(key, answer.status_code == wanted, f"{what}: {answer.status_code}", start)
        return answer, start

    def mark(self, key: str, supported: bool | None, note: str = "", since: int = 0) -> None:
        feature = self.result.features[key]
        feature.supported, feature.note = supported, note
        feature.evidence = [ex.id for ex in self.exchanges[since:]]


def _blob(seed: str) -> tuple[bytes, str]:
    data = f"regexplore probe {seed}\n".encode() * 8
    return data, digests.compute(data)


def probe(client: RegistryClient, registry: str, base: str, exchanges: list[Exchange]) -> ProbeResult:
    """Try every feature against ``registry``; ``exchanges`` is the live list the recorder appends to."""
    repo = f"{base}/probe-{secrets.token_hex(4)}"
    result = ProbeResult(registry, repo)
    p = _Prober(client, result, exchanges)
    count = p.count
    client.expect_scopes(f"repository:{repo}:pull,push,delete", f"repository:{repo}-mount:pull,push,delete")
    url = client.url
    with client.step("ping"):
        start = count()
        p.send("GET", url("/v2/"))
    _auth_features(p, start)
    config, config_digest = _blob("config")
    layer, layer_digest = _blob("layer")
    with client.step("monolithic upload"):
        start = count()
        answer = p.send("POST", url(f"/v2/{repo}/blobs/uploads/"), params=[("digest", config_digest)],
                        content=config, headers={"Content-Type": mediatypes.OCTET_STREAM})
        if answer.status_code == 202:
            loc = headers.resolve_location(str(answer.request.url), answer.headers["location"])
            p.send("PUT", headers.add_query(loc, [("digest", config_digest)]), content=config,
                   headers={"Content-Type": mediatypes.OCTET_STREAM})
        p.mark("monolithic-post-upload", answer.status_code == 201,
               "" if answer.status_code == 201 else f"POST ?digest= answered {answer.status_code}", start)
    _chunked(p, repo, layer, layer_digest)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
                           "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": config_digest,
                                      "size": len(config)},
                           "layers": [{"mediaType": mediatypes.OCI_LAYER, "digest": layer_digest,
                                       "size": len(layer)}]}).encode()
    manifest_digest = digests.compute(manifest)
    with client.step("push manifest"):
        for tag in ("probe-a", "probe-b"):
            client.put_manifest(repo, tag, manifest, mediatypes.OCI_MANIFEST, context=f"{repo}:{tag}")
    _reads(p, repo, manifest_digest, layer_digest)
    _mount(p, repo, config_digest)
    _deletes(p, repo, manifest_digest, (config_digest, layer_digest))
    return result


def _auth_features(p: _Prober, start: int) -> None:
    """From the first, credential-less GET /v2/ (what every client sends first) and its challenge."""
    while len(p.exchanges) > start + 1 and p.exchanges[start].response is None:
        start += 1  # the https probe of a loopback registry: not the registry's answer
    first = p.exchanges[start].response if len(p.exchanges) > start else None
    if first is None:
        p.mark("token-auth", None, "no answer to /v2/", start)
        return
    chs = challenge.parse_challenges(first.header_list("www-authenticate"), strict=False) \
        if first.status == 401 else []
    bearer = any(c.scheme == "bearer" for c in chs)
    p.mark("token-auth", bearer, "Bearer challenge" if bearer else ("Basic challenge" if chs else
                                                                    f"/v2/ answered {first.status}"), start)
    anonymous = True if first.status == 200 else (None if bearer else False)
    p.mark("anonymous-pull", anonymous, "/v2/ answered without credentials" if first.status == 200 else
           ("a Bearer registry may still grant anonymous pull tokens" if bearer else "credentials required"), start)


def _chunked(p: _Prober, repo: str, layer: bytes, digest: str) -> None:
    client, url = p.client, p.client.url
    with client.step("chunked upload"):
        start = p.count()
        opened = p.send("POST", url(f"/v2/{repo}/blobs/uploads/"), headers={"Content-Length": "0"})
        p.mark("oci-chunk-min-length", "oci-chunk-min-length" in opened.headers,
               opened.headers.get("oci-chunk-min-length", "no OCI-Chunk-Min-Length on the POST 202"), start)
        session = client._session(opened)  # noqa: SLF001 - the client's own Location/Range reading
        half = len(layer) // 2
        session = client.upload_chunk(session, layer[:half], 0, half - 1, context=repo)
        session = client.upload_chunk(session, layer[half:], half, len(layer) - 1, context=repo)
        done = client.finish_upload(session, digest, context=repo)
        p.mark("chunked-upload", done.status_code == 201, "", start)
    with client.step("out-of-order chunk"):
        start = p.count()
        opened = p.send("POST", url(f"/v2/{repo}/blobs/uploads/"), headers={"Content-Length": "0"})
        session = client._session(opened)  # noqa: SLF001
        answer = p.send("PATCH", session.location, content=layer[10:20],
                        headers={"Content-Type": mediatypes.OCTET_STREAM, "Content-Range": "10-19"})
        p.mark("out-of-order-chunk-416", answer.status_code == 416, f"a chunk at 10-19 first: {answer.status_code}",
               start)
        client.cancel_upload(session, context=repo)


def _reads(p: _Prober, repo: str, manifest_digest: str, blob: str) -> None:
    client, url = p.client, p.client.url
    p.attempt("referrers", "referrers-api", 200, "GET referrers", "GET", url(f"/v2/{repo}/referrers/{manifest_digest}"))
    with client.step("tags page"):
        start = p.count()
        answer = p.send("GET", url(f"/v2/{repo}/tags/list"), params=[("n", "1")])
        paged = answer.status_code == 200 and "link" in answer.headers
        p.mark("tags-pagination", paged, "Link rel=next with n=1" if paged else f"{answer.status_code}, no Link",
               start)
    with client.step("catalog"):
        start = p.count()
        answer = p.send("GET", url("/v2/_catalog"), params=[("n", "1")])
        p.mark("catalog", answer.status_code == 200, f"GET /v2/_catalog: {answer.status_code}", start)
        paged = answer.status_code == 200 and "link" in answer.headers
        p.mark("catalog-pagination", paged if answer.status_code == 200 else False,
               "Link rel=next with n=1" if paged else "no Link", start)
    answer, start = p.attempt("blob range", "blob-range-get", 206, "Range bytes=0-9", "GET",
                              url(f"/v2/{repo}/blobs/{blob}"), headers={"Range": "bytes=0-9"})
    moved = bool(answer.history) and answer.url.host != answer.history[0].url.host
    p.mark("redirects-to-storage", moved, f"blob GET went to {answer.url.host}" if moved else
           "blob GET answered by the registry itself", start)


def _mount(p: _Prober, repo: str, blob: str) -> None:
    answer, _ = p.attempt("cross-repository mount", "cross-repo-mount", 201, "POST ?mount=&from=", "POST",
                          p.client.url(f"/v2/{repo}-mount/blobs/uploads/"), params=[("mount", blob), ("from", repo)],
                          headers={"Content-Length": "0"})
    with p.client.step("cross-repository mount"):
        if answer.status_code == 202:
            p.client.cancel_upload(p.client._session(answer), context=repo)  # noqa: SLF001
        elif answer.status_code == 201:
            p.send("DELETE", p.client.url(f"/v2/{repo}-mount/blobs/{blob}"))


def _deletes(p: _Prober, repo: str, manifest_digest: str, blobs: tuple[str, ...]) -> None:
    client, url = p.client, p.client.url
    p.attempt("delete tag", "delete-tag", 202, "DELETE by tag", "DELETE", url(f"/v2/{repo}/manifests/probe-b"))
    answer, _ = p.attempt("delete manifest", "delete-manifest", 202, "DELETE by digest", "DELETE",
                          url(f"/v2/{repo}/manifests/{manifest_digest}"))
    if answer.status_code != 202:
        p.result.features["delete-manifest"].note += f"; scratch repository {repo} is left behind"
    with client.step("delete blob"):
        start = p.count()
        codes = [p.send("DELETE", url(f"/v2/{repo}/blobs/{blob}")).status_code for blob in blobs]
        p.mark("delete-blob", all(code == 202 for code in codes), f"DELETE blobs: {codes}", start)


def _cell(feature: Feature) -> str:
    return {True: "yes", False: "no", None: "?"}[feature.supported]


def report(results: list[ProbeResult], viewers: list[str] | None = None, markdown: bool = False) -> str:
    """A table of every feature (one column per registry); Markdown links each answer to its exchanges."""
    names = [r.registry for r in results]
    rows = []
    for key in FEATURES:
        cells = []
        for n, result in enumerate(results):
            feature = result.features[key]
            cell = _cell(feature)
            if markdown and viewers and feature.evidence:
                cell += " (" + ", ".join(f"[#{i}]({viewers[n]}#x={i})" for i in feature.evidence[:6]) + ")"
            elif feature.evidence:
                cell += f" #{feature.evidence[0]}" + (f"-{feature.evidence[-1]}" if len(feature.evidence) > 1 else "")
            cells.append(cell)
        rows.append((key, *cells))
    header = ("feature", *names)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in (header, *rows)) + "\n"
