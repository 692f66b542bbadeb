"""The trace model: round trip, refusal of unknown formats, atomic save."""

from __future__ import annotations

import json

import pytest

from explorer import trace as tracefile
from explorer.errors import TraceFormatError
from explorer.trace import Body, Exchange, RecordedRequest, RecordedResponse, Timings, Trace


def _sample() -> Trace:
    t = Trace(command=["regexplore", "trace", "pull", "x"], operation="pull", target="127.0.0.1:5000/x:1")
    t.exchanges.append(
        Exchange(
            id=1,
            step="ping",
            started="2026-11-27T00:00:00.000Z",
            duration_ms=1.5,
            request=RecordedRequest("GET", "http://127.0.0.1:5000/v2/", [("Accept", "*/*")]),
            response=RecordedResponse(
                401,
                "Unauthorized",
                "HTTP/1.1",
                [("WWW-Authenticate", 'Bearer realm="http://a/token",service="s"')],
                Body(size=2, sha256="44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                     media_type="application/json", text="{}"),
            ),
            timings=Timings(connect=0.2, send=0.1, wait=1.0, receive=0.1),
        )
    )
    t.exchanges.append(
        Exchange(
            id=2, step="fetch layer 1/1", started="2026-11-27T00:00:00.010Z", duration_ms=3,
            request=RecordedRequest("GET", "http://127.0.0.1:5000/v2/x/blobs/sha256:" + "a" * 64),
            error="ConnectError: [Errno 111] Connection refused",
        )
    )
    return t


def test_round_trip_is_lossless(tmp_path):
    original = _sample()
    path = tracefile.save(original, tmp_path / "t.trace.json")
    again = tracefile.load(path)
    assert again.to_dict() == original.to_dict()
    assert again.exchanges[0].response.header("www-authenticate").startswith("Bearer")
    assert again.exchanges[1].response is None and "refused" in again.exchanges[1].error


def test_headers_are_ordered_pairs_with_repeats(tmp_path):
    t = _sample()
    t.exchanges[0].response.headers += [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    data = json.loads(tracefile.dumps(t))
    headers = data["exchanges"][0]["response"]["headers"]
    assert headers[-2:] == [["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": 3, "exchanges": []}', "newer than this regexplore"),
        ('{"exchanges": []}', "no integer 'format'"),
        ("not json", "not a JSON trace"),
        ('{"format": 1, "created": "x", "exchanges": {}}', "'exchanges' must be a list"),
        ('{"format": 1, "created": "x", "exchanges": [{"id": 1}]}', "neither a response nor an error"),
        ('[1, 2]', "must be a JSON object"),
    ],
)
def test_unreadable_traces_raise_trace_format_error(text, message):
    with pytest.raises(TraceFormatError) as info:
        tracefile.loads(text)
    assert message in info.value.message
    assert info.value.exit_code == 2


def test_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(TraceFormatError, match="not found"):
        tracefile.load(tmp_path / "nope.json")


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "out" / "t.json"
    tracefile.save(_sample(), path)
    tracefile.save(_sample(), path)
    assert [p.name for p in path.parent.iterdir()] == ["t.json"]


def test_every_recording_is_a_valid_trace_with_provenance():
    import json
    from pathlib import Path

    from tests.infra.schemas import validate_trace

    recordings = Path(__file__).resolve().parents[1] / "recordings"
    listed = {e["path"] for e in json.loads((recordings / "index.json").read_text())}
    found = {str(p.relative_to(recordings)) for p in recordings.rglob("*.trace.json")}
    assert found == listed and len(found) >= 10
    for path in found:
        data = validate_trace(recordings / path)
        assert data["command"][0] == "regexplore" and data["exchanges"]


def test_intent_round_trips_and_labels_derive_from_it() -> None:
    from explorer.trace import Intent

    intent = Intent("fetch-layer", endpoint="end-2", repository="a/b", digest="sha256:" + "0" * 64, item="layer",
                    index=2, total=5, transfer="sha256:" + "0" * 64)
    assert Intent.from_dict(intent.to_dict()) == intent
    assert "platform" not in intent.to_dict(), "unknown fields are left out"
    assert intent.label() == "fetch layer 2/5"
    assert intent.but(kind="upload-chunk").label() == "upload layer 2/5"
    assert intent.but(kind="close-upload", source="x/y").label() == "copy layer 2/5"
    assert intent.but(kind="check-blob").label(skipped=True) == "layer 2/5 already present, skipped"
    assert Intent("push-manifest", item="manifest", platform="linux/arm64").label() == "push manifest linux/arm64"
    assert Intent("list-tags", index=3).label() == "list tags page 3"


def test_intent_but_is_dataclasses_replace() -> None:
    import dataclasses

    from explorer.trace import Intent

    intent = Intent("fetch-layer", endpoint="end-2", repository="a/b", item="layer", index=2, total=5)
    for changes in ({}, {"endpoint": None}, {"kind": "check-blob", "index": 3}, {"platform": "linux/amd64"}):
        copy = intent.but(**changes)
        assert copy == dataclasses.replace(intent, **changes) and copy is not intent
        assert copy.to_dict() == dataclasses.replace(intent, **changes).to_dict()
    assert intent.index == 2, "the original is unchanged"
    with pytest.raises(TypeError):
        intent.but(colour="red")


@pytest.mark.parametrize(("intent", "message"), [
    ({"kind": "teleport"}, "unknown intent kind"),
    ({"kind": "ping", "index": "2"}, "must be an integer"),
    ({"kind": "ping", "digest": 5}, "must be a string"),
    ([], "intent must be a JSON object"),
])
def test_bad_intents_are_refused(intent, message) -> None:
    exchange = {"id": 1, "step": None, "started": "2026-01-01T00:00:00.000Z", "duration_ms": 1,
                "request": {"method": "GET", "url": "http://r/v2/", "headers": [], "body": None},
                "response": None, "error": "x", "intent": intent}
    text = json.dumps({"format": 2, "created": "2026-01-01T00:00:00.000Z", "exchanges": [exchange]})
    with pytest.raises(TraceFormatError) as info:
        tracefile.loads(text)
    assert message in info.value.message


def test_a_format_1_file_loads_without_intent_and_is_written_as_format_2() -> None:
    exchange = {"id": 1, "step": "ping", "started": "2026-01-01T00:00:00.000Z", "duration_ms": 1,
                "request": {"method": "GET", "url": "http://r/v2/", "headers": [], "body": None},
                "response": None, "error": "x"}
    trace = tracefile.loads(json.dumps({"format": 1, "created": "2026-01-01T00:00:00.000Z", "exchanges": [exchange]}))
    assert trace.exchanges[0].intent is None
    again = json.loads(tracefile.dumps(trace))
    assert again["format"] == 2 and again["exchanges"][0]["intent"] is None
