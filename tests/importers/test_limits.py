"""Hostile captures: an alias bomb, deep nesting, an oversized file and secret-bearing bodies are one-line errors
(exit 2) or redacted, never an "internal error", a RecursionError or a MemoryError, through the real CLI."""

from __future__ import annotations

import base64
import json
import resource
import time

import pytest

from explorer import importers
from explorer import trace as tracefile
from explorer.importers import limits
from tests.infra.runner import run_cli

#: the classic "billion laughs" in YAML, as a header value (``str()`` of it used to expand it all in memory):
#: under 600 bytes, 9^9 (~387 million) leaves once expanded
ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
interactions: [{request: {method: GET, uri: "http://r/", headers: {X: *i}}, response: {status: {code: 200}}}]
"""


def _one_line_error(run, *fragments: str) -> None:
    assert run.code == 2, run.output
    assert run.stdout == "" and run.stderr.startswith("error: "), run.output
    assert "internal error" not in run.output and "Traceback" not in run.output
    assert len([line for line in run.stderr.splitlines() if line.startswith("error: ")]) == 1
    for fragment in fragments:
        assert fragment in run.stderr, run.stderr


def test_a_yaml_alias_bomb_is_refused_quickly_and_within_memory(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    assert len(path.read_bytes()) < 600
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    run = run_cli("import", "cassette", str(path))
    elapsed = time.perf_counter() - started
    _one_line_error(run, "aliases expand to over", "alias bomb")
    assert elapsed < 5, elapsed
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 100_000, f"the import grew the process by {grown_kib} KiB"


def test_a_recursive_yaml_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("interactions: &x [*x]\n")
    _one_line_error(run_cli("import", "cassette", str(path)))


def test_aliases_that_expand_modestly_still_load(tmp_path):
    """PyYAML's dumper (and so vcrpy) writes an anchor for an object it meets twice: such cassettes import."""
    interaction = {"request": {"method": "GET", "uri": "http://r.example/v2/", "body": None,
                               "headers": {"Accept": ["*/*"]}},
                   "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": "{}"}}}
    import yaml

    text = yaml.dump({"interactions": [interaction, interaction], "version": 1})
    assert "&id001" in text and "*id001" in text
    path = tmp_path / "shared.yaml"
    path.write_text(text)
    assert len(importers.load("cassette", path).exchanges) == 2


@pytest.mark.parametrize(("fmt", "name", "content"), [
    ("cassette", "deep.yaml", "interactions: " + "[" * 5000 + "]" * 5000 + "\n"),
    ("cassette", "deep.yaml", "interactions:\n" + "".join("  " * i + "- \n" for i in range(200))),
    ("cassette", "deep.json", '{"interactions": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("har", "deep.har", '{"log": {"entries": ' + "[" * 100_000 + "]" * 100_000 + "}}"),
    ("har", "deep.har", '{"log": ' + '{"a":' * 5000 + "1" + "}" * 5000 + "}"),
])
def test_deep_nesting_is_a_one_line_error(fmt, name, content, tmp_path):
    path = tmp_path / name
    path.write_text(content)
    _one_line_error(run_cli("import", fmt, str(path)), "nests deeper than 64 levels")


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path):
    har = {"log": {"entries": [{"startedDateTime": "2026-03-01T10:00:00Z", "time": 1,
                                "request": {"method": "GET", "url": "http://r.example/v2/" + "[{" * 500,
                                            "headers": []},
                                "response": {"status": 200, "headers": [], "content": {"text": "]]" * 500}}}]}}
    path = tmp_path / "brackets.har"
    path.write_text(json.dumps(har))
    assert len(importers.load("har", path).exchanges) == 1


@pytest.mark.parametrize("fmt", ["har", "cassette"])
def test_an_oversized_capture_is_refused_before_it_is_read(fmt, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_BYTES", 1000)
    path = tmp_path / f"big.{fmt}"
    path.write_text("{" + " " * 2000 + "}")
    _one_line_error(run_cli("import", fmt, str(path)), "over the 1.0 KB")


def _har_with_form(mime: str, text: str) -> dict:
    return {"log": {"entries": [{
        "startedDateTime": "2026-03-01T10:00:00Z", "time": 1,
        "request": {"method": "POST", "url": "https://auth.example/token", "headers": [],
                    "postData": {"mimeType": mime, "text": text}, "bodySize": len(text)},
        "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "application/json"}],
                     "content": {"mimeType": "application/json", "text": '{"expires_in": 300}'}}}]}}


@pytest.mark.parametrize("mime", ["application/x-www-form-urlencoded", "application/octet-stream", ""])
def test_keep_bodies_never_keeps_a_form_holding_a_password(mime, tmp_path):
    password = "hunter2"  # short: below what is learned as a known secret everywhere
    form = f"grant_type=password&service=reg&username=alice&password={password}&scope=repository%3Aa%3Apull"
    path = tmp_path / "form.har"
    path.write_text(json.dumps(_har_with_form(mime, form)))
    out = tmp_path / "form.trace.json"
    run = run_cli("import", "har", str(path), "-o", str(out), "--keep-bodies", "1MiB")
    assert run.code == 0, run.output
    text = out.read_text()
    body = tracefile.load(out).exchanges[0].request.body
    kept = body.text if body.text is not None else base64.b64decode(body.base64 or "").decode()
    assert f"password={password}" not in kept and base64.b64encode(form.encode()).decode()[:24] not in text
    if body.text is not None:
        assert "password=<redacted>" in body.text and "grant_type=password&service=reg" in body.text


@pytest.mark.parametrize(("where", "value"), [
    (("response", "content", "mimeType"), 7),
    (("request", "postData", "text"), ["a"]),
    (("request", "postData", "mimeType"), {"x": 1}),
    (("request", "postData", "params"), ["not-a-param", {"name": "password", "value": "hunter22"}]),
])
def test_wrongly_typed_har_fields_are_not_internal_errors(where, value, tmp_path):
    """Found by mutating a HAR's fields at random: these were `internal error: AttributeError`."""
    har = _har_with_form("application/x-www-form-urlencoded", "a=b")
    entry = har["log"]["entries"][0]
    *parents, last = where
    for key in parents:
        entry = entry[key]
    if last == "params":
        del entry["text"]
    entry[last] = value
    path = tmp_path / "odd.har"
    path.write_text(json.dumps(har))
    run = run_cli("import", "har", str(path), "-o", str(tmp_path / "odd.trace.json"))
    assert run.code == 0, run.output
    assert "hunter22" not in (tmp_path / "odd.trace.json").read_text()
