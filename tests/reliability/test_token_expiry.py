"""A token that expires mid-operation is renewed and the pull completes.

Honest 2-second tokens need a registry that refuses them on time. distribution
2.8.2 accepts a token up to ~60 s after its ``exp`` (clock-skew leeway), and the
client, as the token spec says, treats ``expires_in`` below 60 as 60. So:

- against distribution, the fault proxy plays the strict registry: a Bearer JWT
  past its ``exp`` gets distribution's own challenge plus ``error="invalid_token"``;
- against the built-in sandbox registry (``token_ttl=1``, no leeway) nothing is
  faked: its tokens really expire;
- the client's own renewal from ``expires_in`` (no 401 needed) is shown by
  moving the client's clock forward.
"""

from __future__ import annotations

import time

from explorer import trace as tracefile
from explorer.client.registry import RegistryClient
from explorer.client.credentials import CredentialSource, Credentials
from explorer.protocol import reference
from explorer.recording.recorder import Recorder
from explorer.recording.redact import Secrets
from explorer.oci.sample import SampleImage
from explorer.sandbox import Sandbox
from tests.infra.faults import RejectStaleBearer, Rule, Throttle
from tests.infra.schemas import validate_trace
from tests.infra.traces import signature
from tests.reliability.conftest import BIG, pull_via

# 512 KiB at 32 KiB per 0.15 s: the first layer takes ~2.4 s, longer than a 2 s token lives
SLOW = Throttle(chunk=32 * 1024, delay=0.15)


def test_expired_token_is_refused_renewed_and_the_pull_completes(registry_token, two_second_tokens, front,
                                                                  seed_big, tmp_path):
    image = seed_big(registry_token)
    first_layer = image.manifest()["layers"][0]["digest"]
    fronted = front(registry_token)
    strict = fronted.registry.add(Rule(RejectStaleBearer(), times=None))
    fronted.registry.add(Rule(SLOW, method="GET", path=first_layer))
    run = pull_via(fronted.host, registry_token, tmp_path / "t.json", BIG, "--jobs", "1")
    assert run.code == 0, run.output
    assert strict.fault.rejected >= 1
    trace = tracefile.load(tmp_path / "t.json")
    validate_trace(tmp_path / "t.json")
    refused = [i for i, ex in enumerate(trace.exchanges)
               if ex.response and ex.response.status == 401
               and "invalid_token" in (ex.response.header("www-authenticate") or "")]
    assert refused, signature(trace)
    after = signature(trace)[refused[0]:refused[0] + 3]
    assert after == [("GET", "end-2", 401), ("GET", "token", 200), ("GET", "end-2", 200)]
    assert trace.exchanges[refused[0]].step == "fetch layer 2/3"


def _seed_sandbox(sandbox: Sandbox, image: SampleImage, repository: str, tag: str) -> None:
    for descriptor, chunks in image.iter_blobs():
        sandbox.storage.store_blob(repository, chunks, descriptor["digest"])
    for digest, data in image.manifests.items():
        media = image.root["mediaType"] if digest == image.digest else "application/vnd.oci.image.manifest.v1+json"
        sandbox.storage.put_manifest(repository, digest, media, data, tag=tag if digest == image.digest else None,
                                     subject=None)


def test_sandbox_tokens_really_expire_and_are_renewed(big_image, proxies, tmp_path):
    with Sandbox(auth="token", token_ttl=1) as sandbox:
        _seed_sandbox(sandbox, big_image, "reliability/big", "1.0")
        proxy = proxies(sandbox.registry_url)
        first_layer = big_image.manifest()["layers"][0]["digest"]
        proxy.add(Rule(Throttle(chunk=32 * 1024, delay=0.1), method="GET", path=first_layer))
        run = pull_via(proxy.host, sandbox, tmp_path / "t.json", BIG, "--jobs", "1")
    assert run.code == 0, run.output
    validate_trace(tmp_path / "t.json")
    trace = tracefile.load(tmp_path / "t.json")
    statuses = signature(trace)
    # which blob first meets the expired token depends on timing (a loaded machine is slower):
    # some blob step must show 401 (token expired) → a new token → the same blob 200
    renewed = []
    for step in {ex.step for ex in trace.exchanges if ex.step and ex.step.startswith("fetch ")}:
        hops = [s for ex, s in zip(trace.exchanges, statuses) if ex.step == step]
        if hops[0] == ("GET", "end-2", 401) and hops[-1] == ("GET", "end-2", 200):
            renewed.append(step)
    assert renewed, statuses
    first_blob = next(i for i, hop in enumerate(statuses) if hop[1] == "end-2")
    assert ("GET", "token", 200) in statuses[first_blob:], statuses  # a token fetched mid-pull


def test_the_client_renews_an_expired_token_before_sending(registry_token, tmp_path):
    now = [time.monotonic()]
    client = RegistryClient(registry_token.host, recorder=Recorder(),
                            credentials=CredentialSource(Secrets(), Credentials(registry_token.username,
                                                                                registry_token.password), env={}),
                            retries=0)
    client.auth._clock = lambda: now[0]  # the client's clock only; registry and token server keep real time
    ref = reference.parse(f"{registry_token.host}/test/small:1.0")
    with client:
        with client.step("first"):
            client.get_manifest(ref.repository, "1.0", context="first")
        now[0] += 3600  # an hour later: every token has expired
        with client.step("second"):
            client.get_manifest(ref.repository, "1.0", context="second")
    trace = client.recorder.trace
    second = [i for i, ex in enumerate(trace.exchanges) if ex.step == "second"]
    assert [signature(trace)[i] for i in second] == [("GET", "end-3", 200)]  # no 401 first
    assert signature(trace)[second[0] - 1] == ("GET", "token", 200)  # the renewal, just before it

