"""explorer/client/sending.py: retries, Retry-After, bounded bodies and typed errors (pure unit tests on MockTransport).

The same behaviour against real faulty servers is in tests/reliability (test_retries.py, test_bounded.py).
"""

from __future__ import annotations

import json

import httpx
import pytest

from explorer.client.bounded import BodyTooLarge
from explorer.client.credentials import Credentials, CredentialSource
from explorer.errors import MalformedHeader, ProtocolViolation, RegistryError, TransportError
from explorer.recording.redact import Secrets
from explorer.protocol.errorcodes import TRANSIENT_STATUSES
from explorer.client.sending import RETRY_AFTER_LIMIT, Sending

REGISTRY = "registry.test"
URL = f"https://{REGISTRY}/v2/r/manifests/1"


class Sender(Sending):
    """The smallest client ``Sending`` needs: an httpx client, retries, registry and credentials."""

    def __init__(self, answers: list[httpx.Response | Exception], retries: int = 3,
                 creds: Credentials | None = None) -> None:
        self.answers = list(answers)
        self.seen: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.http = httpx.Client(transport=httpx.MockTransport(self._answer))
        self.retries = retries
        self.registry = REGISTRY
        self.credentials = CredentialSource(Secrets(), creds, env={}, home=None)  # type: ignore[arg-type]
        self._sleep = self.sleeps.append

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _error(status: int, code: str = "MANIFEST_UNKNOWN", **headers: str) -> httpx.Response:
    body = json.dumps({"errors": [{"code": code, "message": "it is not there", "detail": None}]})
    return httpx.Response(status, headers={"content-type": "application/json", **headers}, content=body)


def test_transient_statuses_are_retried_with_growing_backoff() -> None:
    sender = Sender([httpx.Response(503), httpx.Response(502), httpx.Response(200, content=b"ok")])
    response = sender.request("GET", URL, ok=(200,), context="manifest")
    assert response.content == b"ok" and len(sender.seen) == 3
    first, second = sender.sleeps
    assert 0.25 <= first <= 0.375 and 0.5 <= second <= 0.75  # BACKOFF_BASE, doubled, with up to 50 % jitter
    assert {408, 429, 500, 502, 503, 504} == set(TRANSIENT_STATUSES)


def test_retry_after_is_honoured_and_a_long_one_reported() -> None:
    sender = Sender([httpx.Response(429, headers={"retry-after": "2"}), httpx.Response(200)])
    sender.request("GET", URL, ok=(200,), context="manifest")
    assert sender.sleeps == [2.0]

    patient = Sender([_error(429, "TOOMANYREQUESTS", **{"retry-after": str(int(RETRY_AFTER_LIMIT) + 1)})])
    with pytest.raises(RegistryError) as caught:
        patient.request("GET", URL, ok=(200,), context="manifest")
    assert patient.sleeps == [] and caught.value.status == 429 and "Retry-After" in caught.value.hint


def test_retries_run_out_with_the_attempt_count_said() -> None:
    sender = Sender([httpx.Response(500)] * 3, retries=2)
    with pytest.raises(RegistryError) as caught:
        sender.request("GET", URL, ok=(200,), context="manifest")
    assert "(after 3 attempts)" in caught.value.message and len(sender.seen) == 3


def test_error_body_becomes_a_typed_error_with_code() -> None:
    sender = Sender([_error(404)])
    with pytest.raises(RegistryError) as caught:
        sender.request("GET", URL, ok=(200,), context="manifest r:1")
    assert caught.value.status == 404 and caught.value.code == "MANIFEST_UNKNOWN"
    assert "manifest r:1" in caught.value.message and len(sender.seen) == 1  # a 404 is not retried


def test_401_with_credentials_names_the_user_and_the_source() -> None:
    sender = Sender([_error(401, "UNAUTHORIZED")], creds=Credentials("erin", "pw-123456", source="docker config"))
    with pytest.raises(RegistryError) as caught:
        sender.request("GET", URL, ok=(200,), context="manifest", headers={"authorization": "Basic eA=="})
    assert "'erin'" in caught.value.message and "docker config" in caught.value.hint


def test_401_from_another_host_is_called_what_it_is() -> None:
    sender = Sender([_error(401, "UNAUTHORIZED")])
    with pytest.raises(RegistryError) as caught:
        sender.request("GET", "https://storage.test/blob", ok=(200,), context="blob")
    assert "https://storage.test" in caught.value.message and "never to a host it names" in caught.value.hint


def test_connection_failures_are_retried_then_described() -> None:
    sender = Sender([httpx.ConnectError("refused")] * 2, retries=1)
    with pytest.raises(TransportError, match=r"cannot connect to https://registry\.test: refused \(after 2 attempts\)"):
        sender.request("GET", URL, ok=(200,), context="manifest")
    assert len(sender.sleeps) == 1


def test_unparsable_redirect_location_is_not_retried() -> None:
    sender = Sender([httpx.RemoteProtocolError("Invalid URL in location header: 'http://[::'")])
    with pytest.raises(MalformedHeader, match="Location that is not a URL"):
        sender.request("GET", URL, ok=(200,), context="blob")
    assert sender.sleeps == []


def test_redirect_loop_is_a_protocol_violation() -> None:
    sender = Sender([])
    sender.http = httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(307, headers={"location": str(request.url)})), follow_redirects=True)
    with pytest.raises(ProtocolViolation, match="too many redirects"):
        sender.request("GET", URL, ok=(200,), context="blob")


def test_held_bodies_are_capped() -> None:
    sender = Sender([httpx.Response(200, content=b"x" * 2048)])
    with pytest.raises(BodyTooLarge):
        sender.request("GET", URL, ok=(200,), context="tags", limit=1024)
    streamed = Sender([httpx.Response(200, content=b"x" * 2048)]).request(
        "GET", URL, ok=(200,), context="blob", stream=True)
    assert len(streamed.read()) == 2048  # a streamed body is the caller's to bound
