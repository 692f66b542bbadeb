"""Lone surrogates: JSON may escape half a surrogate pair (``"\\ud800"``), which no UTF-8 file or terminal can hold.

A shared trace, a HAR capture or a hostile registry's JSON can carry one; each raised
``UnicodeEncodeError`` where it was written or printed (an internal error, and the output lost).
The hostile corpus (``corpus.payloads``, "lone-surrogates") takes one through every render and
export for real; here: the trace file round trip, a real terminal's stdout, an import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from explorer import trace as tracefile
from tests.hostile import corpus
from tests.infra.hostile_server import Answer, HostileServer

LONE = "half \ud800 a pair \udfff"
JSON = {"Content-Type": "application/json"}


def _cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    """The CLI in a process of its own: its stdout is a real UTF-8 stream (in-process capture holds str)."""
    return subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, timeout=120)


def test_a_trace_holding_one_is_written_as_its_escape_and_reads_back_the_same(tmp_path):
    trace = corpus.free_text_trace(corpus.marker_path(tmp_path))
    saved = tracefile.save(trace, tmp_path / "t.json")
    text = saved.read_bytes().decode("utf-8")  # valid UTF-8: the surrogates are escapes
    assert "\\ud800" in text and "\\udfff" in text
    assert tracefile.loads(text).to_dict() == trace.to_dict()


def test_every_render_and_export_of_such_a_trace_writes_utf_8_and_json_that_parses(tmp_path):
    trace = corpus.free_text_trace(corpus.marker_path(tmp_path))
    source = tracefile.save(trace, tmp_path / "t.json")
    outputs = [("render", f) for f in ("swimlanes", "mermaid", "plantuml", "svg", "html", "markdown")]
    outputs += [("export", f) for f in ("postman", "har", "curl", "python", "cassette", "openapi")]
    for verb, fmt in outputs:
        out = tmp_path / f"{verb}.{fmt}"
        done = _cli(verb, fmt, str(source), "-o", str(out))
        assert done.returncode == 0, (fmt, done.stderr.decode(errors="replace")[-500:])
        written = out.read_bytes().decode("utf-8")
        if fmt in ("postman", "har", "openapi"):
            json.loads(written)
    printed = _cli("render", "mermaid", str(source))  # to stdout
    assert printed.returncode == 0 and printed.stdout.decode("utf-8").startswith("sequenceDiagram")


def test_a_tag_holding_one_is_printed_and_the_trace_written(tmp_path):
    with HostileServer() as server:
        server.route("GET", r"^/v2/$", Answer(200, JSON, b"{}"))
        tags = json.dumps({"name": "team/app", "tags": [f"x{LONE}", "1.0"]}).encode()
        server.route("GET", r"/tags/list", Answer(200, JSON, tags))
        done = _cli("trace", "tags", f"{server.host}/team/app", "-o", str(tmp_path / "t.json"), "--retries", "0")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert done.stdout.decode("utf-8").splitlines()[:2] == ["xhalf   a pair  ", "1.0"]
    listed = tracefile.load(tmp_path / "t.json").exchanges[-1].response.body.text
    assert json.loads(listed)["tags"][0] == f"x{LONE}"  # the trace keeps the value exactly


def test_a_har_capture_holding_one_imports(tmp_path):
    entry = {
        "startedDateTime": "2026-01-01T00:00:00.000Z", "time": 1, "cache": {},
        "request": {"method": "PUT", "url": "http://r.test/v2/a/manifests/1", "httpVersion": "HTTP/1.1",
                    "headers": [{"name": "Accept", "value": f"x/{LONE}"}], "queryString": [], "cookies": [],
                    "headersSize": -1, "bodySize": -1,
                    "postData": {"mimeType": "application/json", "text": json.dumps({"a": LONE}, ensure_ascii=False)}},
        "response": {"status": 201, "statusText": LONE, "httpVersion": "HTTP/1.1", "headers": [], "cookies": [],
                     "content": {"size": 9, "mimeType": "text/plain", "text": LONE}, "redirectURL": "",
                     "headersSize": -1, "bodySize": -1},
        "timings": {"send": 0, "wait": 1, "receive": 0},
    }
    capture = {"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, "entries": [entry]}}
    (tmp_path / "c.har").write_text(json.dumps(capture), encoding="ascii")  # the surrogates as escapes
    done = _cli("import", "har", str(tmp_path / "c.har"), "-o", str(tmp_path / "t.json"))
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    (exchange,) = tracefile.load(tmp_path / "t.json").exchanges
    escaped = LONE.encode("utf-8", "backslashreplace").decode("ascii")  # a body is bytes: they hold the escape
    assert exchange.response.reason == LONE and exchange.response.body.text == escaped
