"""Captures full of secrets, as someone else's tools write them: a vcrpy cassette and a HAR of the same traffic.

``record_cassette(fronted, registry, path)`` makes a pull by hand with plain
httpx (as a project's own test would) through the fault proxies, while vcrpy
records every hop into a cassette that keeps everything: Basic credentials,
an OAuth2 password grant (the password in a form), the refresh grant (the
refresh token the proxy added), every Bearer token, the cookie the proxy sets,
the CDN URL it signs, and a 403 whose body echoes the request's token and
cookie (found only by learning them from the other records). Every request also carries headers
no table of ours knows (``UNKNOWN_REQUEST``: ``Private-Token``, ``X-JFrog-Art-Api``,
``X-Vault-Token``, an innocently named ``X-Custom-Context``), an unknown cookie, and the
password grant an unknown ``otp`` field; the proxies add their unknown response secrets
(``canary_sources.UNKNOWN``). ``har_from_cassette`` turns those interactions into a
HAR 1.2 log, as mitmproxy would have written it, secrets and all.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import vcr
import yaml

from tests.infra.faults import EchoRequest, Rule
from tests.infra.registry import RunningRegistry
from tests.reliability.conftest import SMALL, Fronted

__all__ = ["UNKNOWN_REQUEST", "har_from_cassette", "record_cassette"]

ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
#: request-side secrets under names no table of ours knows: headers on every request, a cookie, a form field
UNKNOWN_REQUEST = {
    "Private-Token": "privatetoken-canary-yankee-zulu",  # GitLab
    "X-JFrog-Art-Api": "jfrogapi-canary-amber-basalt",  # Artifactory
    "X-Vault-Token": "vaultreq-canary-cobalt-dune",  # HashiCorp Vault
    "X-Custom-Context": "custom-canary-ember-flint",  # nothing in its name or value says secret: the allowlist
    "tracker": "tracker-canary-garnet-heath",  # a cookie the client holds
    "otp": "otp-canary-indigo-jasper",  # a form field of the password grant
}


def record_cassette(fronted: Fronted, registry: RunningRegistry, path: Path) -> None:
    """A hand-made pull of ``test/small:1.0`` through ``fronted``, recorded by vcrpy into ``path``."""
    assert registry.username and registry.password
    repository, tag = SMALL.split(":")
    # vcrpy patches http.client for every thread: the proxies' own upstream requests are not the capture
    ours = {proxy.port for proxy in (fronted.registry, fronted.cdn, fronted.token) if proxy is not None}
    recorder = vcr.VCR(record_mode="all", before_record_request=lambda r: r if r.port in ours else None)
    headers = {k: v for k, v in UNKNOWN_REQUEST.items() if k[0].isupper()}
    with recorder.use_cassette(str(path)), httpx.Client(base_url=fronted.registry.url, headers=headers) as client:
        client.cookies.set("tracker", UNKNOWN_REQUEST["tracker"])
        challenge = client.get("/v2/")
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge.headers["www-authenticate"]))
        realm, scope = params["realm"], f"repository:{repository}:pull"
        query = {"service": params["service"], "scope": scope, "account": registry.username}
        first = client.get(realm, params=query, auth=(registry.username, registry.password)).json()
        form = {"service": params["service"], "scope": scope, "client_id": "canary-capture"}
        refreshed = client.post(realm, data={**form, "grant_type": "refresh_token",
                                             "refresh_token": first["refresh_token"]}).json()
        granted = client.post(realm, data={**form, "grant_type": "password", "username": registry.username,
                                           "password": registry.password, "otp": UNKNOWN_REQUEST["otp"]}).json()
        assert first["token"] != refreshed["access_token"] != granted["access_token"]
        bearer = {"Authorization": f"Bearer {granted['access_token']}"}
        manifest = client.get(f"/v2/{repository}/manifests/{tag}", headers={**bearer, "Accept": ACCEPT})
        manifest.raise_for_status()
        layer = manifest.json()["layers"][0]["digest"]
        client.get(f"/v2/{repository}/blobs/{layer}", headers=bearer, follow_redirects=True).raise_for_status()
        fronted.registry.add(Rule(EchoRequest(403), method="GET", path="/tags/list"))
        echoed = client.get(f"/v2/{repository}/tags/list", headers=bearer)  # the token and cookie, in a body
        assert echoed.status_code == 403 and granted["access_token"] in echoed.text


def _headers(headers: dict[str, list[str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, values in headers.items() for value in values]


def _text(body: Any) -> tuple[str, str | None]:
    """(text, encoding) of a cassette body: bytes that are not UTF-8 become base64, as HAR wants."""
    data = body.get("string", "") if isinstance(body, dict) else body
    if isinstance(data, str):
        return data, None
    try:
        return bytes(data or b"").decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def har_from_cassette(path: Path) -> dict[str, Any]:
    """The cassette's interactions as a HAR 1.2 log (what mitmproxy's ``hardump`` writes), secrets kept."""
    entries = []
    for interaction in yaml.safe_load(path.read_text())["interactions"]:
        request, response = interaction["request"], interaction["response"]
        req_text, _ = _text(request.get("body") or "")
        resp_text, encoding = _text(response.get("body") or "")
        req_headers = {k: v for k, v in request["headers"].items()}
        resp_headers = {k: v for k, v in response["headers"].items()}
        mime = next((v[0] for k, v in resp_headers.items() if k.lower() == "content-type"), "")
        entry: dict[str, Any] = {
            "startedDateTime": "2026-03-01T10:00:00.000Z", "time": 1.0,
            "request": {
                "method": request["method"], "url": request["uri"], "httpVersion": "HTTP/1.1", "cookies": [],
                "headers": _headers(req_headers), "headersSize": -1, "bodySize": len(req_text),
                "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(request["uri"]).query)],
            },
            "response": {
                "status": response["status"]["code"], "statusText": response["status"]["message"],
                "httpVersion": "HTTP/1.1", "cookies": [], "headers": _headers(resp_headers),
                "content": {"size": len(resp_text), "mimeType": mime, "text": resp_text,
                            **({"encoding": encoding} if encoding else {})},
                "redirectURL": "", "headersSize": -1, "bodySize": len(resp_text),
            },
            "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0},
        }
        if req_text:
            mime_in = next((v[0] for k, v in req_headers.items() if k.lower() == "content-type"), "")
            entry["request"]["postData"] = {"mimeType": mime_in, "text": req_text}
        entries.append(entry)
    return {"log": {"version": "1.2", "creator": {"name": "mitmproxy", "version": "11.0.0"}, "entries": entries}}


def write_har(cassette: Path, path: Path) -> Path:
    path.write_text(json.dumps(har_from_cassette(cassette), indent=1))
    return path
