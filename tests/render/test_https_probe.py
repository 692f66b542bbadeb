"""The https probe of a loopback registry (a failed https GET /v2/, then http) is labelled, not drawn as a failure."""

from __future__ import annotations

from explorer.annotate import annotate
from explorer.render import mermaid
from explorer.render.base import RenderOptions
from tests.render.factory import REG, Builder

PROBE_ERROR = "ConnectError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"


def _trace(then_http: bool):
    b = Builder("tags", f"{REG}/app")
    b.add("GET", f"https://{REG}/v2/", None, step="https probe: plain-HTTP registry", error=PROBE_ERROR)
    if then_http:
        b.add("GET", f"http://{REG}/v2/", 200, step="ping")
    return b.trace


def test_the_probe_is_an_https_probe_not_a_failure_nor_a_ping():
    annotated = annotate(_trace(then_http=True))
    probe, ping = annotated.exchanges
    assert probe.https_probe and not probe.failed and not probe.unusual
    assert probe.response_label == "no TLS here: plain-HTTP registry, going on over http"
    assert "not a ping" in probe.why and "WRONG_VERSION_NUMBER" in probe.why
    assert probe.participant == ping.participant  # one Registry lane for both schemes
    assert annotated.summary.failed == 0
    drawn = mermaid.render(annotate(_trace(then_http=True)), RenderOptions())
    assert "-x" not in drawn and "plain-HTTP registry" in drawn


def test_a_failed_https_request_without_http_after_it_is_still_a_failure():
    annotated = annotate(_trace(then_http=False))
    (failed,) = annotated.exchanges
    assert failed.failed and failed.unusual and not failed.https_probe
    assert failed.response_label.startswith("✗")
    assert "-x" in mermaid.render(annotate(_trace(then_http=False)), RenderOptions())
