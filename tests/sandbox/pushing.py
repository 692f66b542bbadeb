"""Small registry operations for the sandbox tests, written against the wire protocol with httpx.

Deliberately independent of ``explorer.client.registry``: the sandbox is tested by
plain requests so a client bug cannot hide a registry bug.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ACCEPT = {"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def with_digest(location: str, digest: str) -> str:
    """The upload Location with ``digest=`` ADDED (httpx's ``params=`` would replace ``_state``)."""
    return f"{location}{'&' if '?' in location else '?'}{urlencode({'digest': digest})}"


def push_blob(client: httpx.Client, name: str, data: bytes, **kwargs: Any) -> str:
    """POST + PUT ?digest= (the two-step monolithic upload); returns the digest."""
    digest = sha256(data)
    opened = client.post(f"/v2/{name}/blobs/uploads/", **kwargs)
    assert opened.status_code == 202, opened.text
    done = client.put(with_digest(opened.headers["Location"], digest), content=data,
                      headers={"Content-Type": "application/octet-stream"}, **kwargs)
    assert done.status_code == 201, done.text
    return digest


def manifest_for(config: bytes, layers: list[bytes], **extra: Any) -> bytes:
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": LAYER, "digest": sha256(layer), "size": len(layer)} for layer in layers],
        **extra,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def push_image(client: httpx.Client, name: str, tag: str, seed: str = "x", **extra: Any) -> tuple[str, bytes]:
    """Config + one layer + manifest under ``tag``; returns (manifest digest, manifest bytes)."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layer = f"layer of {seed}".encode() * 10
    push_blob(client, name, config)
    push_blob(client, name, layer)
    manifest = manifest_for(config, [layer], **extra)
    answer = client.put(f"/v2/{name}/manifests/{tag}", content=manifest, headers={"Content-Type": OCI_MANIFEST})
    assert answer.status_code == 201, answer.text
    return answer.headers["Docker-Content-Digest"], manifest


def error_codes(response: httpx.Response) -> list[str]:
    return [entry["code"] for entry in response.json()["errors"]]
