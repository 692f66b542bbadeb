"""Property tests for the trace loader: any input gives a Trace or a TraceFormatError, never another exception.

A trace file is user input (`regexplore show FILE`, renders of shared traces), so
``explorer.trace.loads`` must answer everything with a value or our typed error.
Inputs: arbitrary bytes and text, arbitrary JSON values, a valid trace with one
part replaced by arbitrary JSON or removed, and absurdly deep nesting. A Trace
that was accepted must save and load again.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import trace as tracefile
from explorer.errors import TraceFormatError
from explorer.recording.recorder import Recorder, RecordingTransport

SETTINGS = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)


@cache
def _valid_trace() -> dict[str, Any]:
    """A real recorded trace: a 401 with a challenge, a JSON 200, a failed connection."""
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="http://a/token",service="s"'})
        if request.url.path == "/down":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"schemaVersion": 2}, headers={"Content-Type": "application/json"})

    recorder = Recorder()
    with httpx.Client(transport=RecordingTransport(recorder, httpx.MockTransport(answer))) as client:
        with recorder.step("ping"):
            client.get("http://127.0.0.1:5000/v2/")
        client.get("http://127.0.0.1:5000/v2/x/manifests/1", headers={"Authorization": "Bearer t0ken-value"})
        try:
            client.get("http://127.0.0.1:5000/down")
        except httpx.ConnectError:
            pass
    return recorder.seal().to_dict()


def _accepts_or_refuses(text: str | bytes) -> None:
    try:
        loaded = tracefile.loads(text)
    except TraceFormatError as exc:
        assert exc.message.strip()  # something to show the user
        return
    again = tracefile.loads(tracefile.dumps(loaded))  # what we accept, we can save and read back
    assert len(again.exchanges) == len(loaded.exchanges)


@SETTINGS
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_any_bytes_or_text(raw: bytes | str) -> None:
    _accepts_or_refuses(raw)


@SETTINGS
@given(json_values)
def test_any_json_value(value: Any) -> None:
    _accepts_or_refuses(json.dumps(value))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@SETTINGS
@given(st.data())
def test_a_valid_trace_with_one_part_replaced_or_removed(data: st.DataObject) -> None:
    document = copy.deepcopy(_valid_trace())
    path = data.draw(st.sampled_from(_paths(document)[1:]), label="path")
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans(), label="remove"):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values, label="replacement")
    _accepts_or_refuses(json.dumps(document))


def test_the_valid_trace_itself_loads() -> None:
    loaded = tracefile.loads(json.dumps(_valid_trace()))
    assert [ex.response.status if ex.response else None for ex in loaded.exchanges] == [401, 200, None]


def test_absurdly_deep_nesting_is_a_format_error() -> None:
    for depth in (1_000, 100_000):
        for text in ("[" * depth + "]" * depth, '{"format": 1, "tool": ' + '{"a":' * depth + "1" + "}" * depth + "}"):
            _accepts_or_refuses(text)
