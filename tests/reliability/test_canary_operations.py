"""Canaries across every output of every operation: no secret in a trace, a render, an export or the terminal.

Targets, each behind a fault proxy that sets a session cookie on every answer:

- ``distribution``: the real distribution 2.8.2 with our token server and CDN
  redirects; the proxies also sign the 307 ``Location`` (``X-Amz-Signature``,
  ``Signature``, ``sig``, ``X-Amz-Credential``) and add a real refresh token to
  every token answer (later token requests are OAuth2 refresh grants);
- ``distribution-basic``: the htpasswd one (``Authorization: Basic`` everywhere);
- ``sandbox``: the built-in ``Sandbox(auth="token", redirect=True)``, its own
  signed CDN URLs (``Expires``/``Signature``), and a password made of characters
  that every format writes differently.

The module fixture performs every operation once per target with ``--debug``
(``canary_operations.perform_all``). ``test_no_secret_in_any_output`` takes each
trace through every renderer in-process and ``render``/``export``/``explain``/
``show`` through the CLI, and searches all of it plus the operation's stdout and
stderr for every secret of the target (password and its Basic form, every
token issued, refresh and identity tokens, the cookie, every ``_state`` and
signature the servers saw) in every encoding (``canary_outputs``).
``test_an_error_echoing_the_request_leaks_nothing`` makes each operation fail
at a registry that echoes the request (line and headers) in its reason phrase
and error body: the error message, ``--debug`` traceback, trace and renders
stay clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from explorer import trace as tracefile
from tests.infra.fault_proxy import FaultProxy
from tests.infra.faults import EchoRequest, Rule
from tests.reliability.canary_operations import (
    ECHOED,
    OPERATIONS,
    Scenario,
    Target,
    arguments,
    perform_all,
    redaction_markers,
    run_traced,
)
from tests.reliability.canary_outputs import Canaries, assert_clean, trace_outputs
from tests.reliability.canary_sources import (
    COOKIE,
    SandboxWatch,
    query_secrets,
    registry_canaries,
    set_cookies,
    unknown_canaries,
    wire_secrets,
)
from tests.reliability.conftest import start_front, started_proxies

TARGETS = ("distribution", "distribution-basic", "sandbox")
#: operations whose trace goes through `render` and `export` of every format on the command line too (every
#: trace goes through every renderer in-process and `show`, `explain`, `render swimlanes --link`)
CLI_EVERY_FORMAT = ("push", "pull")


@pytest.fixture(scope="module")
def module_proxies() -> Iterator[Callable[..., FaultProxy]]:
    """``proxies`` of the reliability conftest, for the whole module."""
    with started_proxies() as make:
        yield make


def _seen(*proxies: FaultProxy | None) -> list[str]:
    return [s.target for proxy in proxies if proxy is not None for s in proxy.seen]


def _distribution(variant: str, request: pytest.FixtureRequest, make: Callable[..., FaultProxy]) -> Target:
    registry = request.getfixturevalue(f"registry_{variant}")
    token = variant == "redirect"
    fronted = start_front(registry, make, cdn=token, token=token)
    wire_secrets(fronted, registry)
    issued_before = len(registry.token_server.issued_tokens) if token else 0

    def canaries() -> Canaries:
        found = registry_canaries(registry, tokens_from=issued_before)  # identity and refresh tokens included
        found.update(query_secrets(_seen(fronted.registry, fronted.cdn, fronted.token)))
        return found

    identity = (lambda: registry.token_server.new_refresh_token(registry.username)) if token else None
    return Target("distribution" if token else "distribution-basic", fronted.registry, registry.username,
                  registry.password, canaries, identity, token_auth=token, refresh_tokens=token, redirect=token)


def _sandbox(watch: SandboxWatch, make: Callable[..., FaultProxy]) -> Target:
    proxy = make(watch.sandbox.registry_url)
    set_cookies(proxy)

    def canaries() -> Canaries:
        found = watch.canaries()  # password, its Basic form, every token, every signed URL and _state it saw
        found.add("cookie", COOKIE)
        found.update(unknown_canaries())  # the proxy plants them too
        return found

    return Target("sandbox", proxy, watch.USERNAME, watch.password, canaries, watch.identity_token,
                  refresh_tokens=False)


@pytest.fixture(scope="module", params=TARGETS)
def scenario(request: pytest.FixtureRequest, module_proxies: Callable[..., FaultProxy],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    watch = SandboxWatch() if request.param == "sandbox" else None
    try:
        if watch is not None:
            target = _sandbox(watch, module_proxies)
        else:
            target = _distribution("redirect" if request.param == "distribution" else "basic", request,
                                   module_proxies)
        yield perform_all(target, tmp_path_factory.mktemp(f"canary-{request.param}"))
    finally:
        if watch is not None:
            watch.close()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_no_secret_in_any_output(scenario: Scenario, operation: str, tmp_path: Path) -> None:
    run, trace = scenario.runs[operation], scenario.traces[operation]
    assert run.code == 0, run.output
    assert "debug: httpx: HTTP Request:" in run.stderr

    outputs = trace_outputs(trace, tmp_path / "outputs", cli="all" if operation in CLI_EVERY_FORMAT else "terminal")
    outputs.add_run(f"regexplore --debug trace {operation}", run)
    assert_clean(scenario.target.canaries(), outputs)
    text = trace.read_text()
    missing = [m for m in redaction_markers(scenario.target, operation) if m not in text]
    assert not missing, f"the trace shows no {missing}: the canaries were not live"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_error_echoing_the_request_leaks_nothing(scenario: Scenario, operation: str, tmp_path: Path) -> None:
    target = scenario.target
    method, path = ECHOED[operation]
    # on the copy made by the scenario (still there after its delete); the echoed writes never reach the registry
    args = arguments(operation, target.host, f"{scenario.repository}-copy", scenario.digest,
                     written=f"{scenario.repository}-echo")
    rule = target.proxy.add(Rule(EchoRequest(403), method=method, path=path, times=None))
    try:
        run, trace = run_traced(target, operation, args, tmp_path, "--retries", "0")
    finally:
        target.proxy.remove(rule)
    assert rule.applied, f"{operation} never sent {method} {path}: {run.output}"
    assert run.code == 1, run.output
    assert "Traceback" in run.stderr and "error: " in run.stderr
    outcome = tracefile.load(trace).outcome
    assert outcome.status == "failed" and "refused" in (outcome.message or "")  # the echo, scrubbed

    outputs = trace_outputs(trace, tmp_path / "outputs", cli="none")
    outputs.add_run(f"regexplore --debug trace {operation} (echoed)", run)
    assert_clean(target.canaries(), outputs)
