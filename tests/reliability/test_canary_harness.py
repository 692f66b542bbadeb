"""The canary harness itself: it finds a secret in every encoding, and it really reads every output.

A harness that missed an encoding, or an output it forgot to collect, would
make every canary test pass for nothing. Here a secret is planted on purpose
(a synthetic trace from ``tests/render/factory.py`` whose repository name is
the canary) and must be reported in every output ``trace_outputs`` collects.
"""

from __future__ import annotations

import base64
import json
import zlib

import pytest

from explorer import render
from explorer import trace as tracefile
from tests.reliability.canary_outputs import Canaries, Outputs, assert_clean, find_leaks, trace_outputs
from tests.render.factory import case_pull_token

SECRET = 'sEcr3t "pw\\q&<x>/+%é_tail-0123456789'
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def _found(text: str) -> list[str]:
    canaries = Canaries()
    canaries.add("secret", SECRET)
    canaries.add_basic("login", "user", "pw-canary-42")
    canaries.add("jwt", JWT)
    return canaries.found_in(text)


@pytest.mark.parametrize("text", [
    SECRET,
    "pw=" + "sEcr3t%20%22pw%5Cq%26%3Cx%3E%2F%2B%25%C3%A9_tail-0123456789",  # percent-encoded
    "sEcr3t+%22pw%5Cq%26%3Cx%3E%2F%2B%25%C3%A9_tail-0123456789",  # form-encoded
    json.dumps({"message": SECRET}),  # JSON-escaped, \u00e9
    '"sEcr3t \\"pw\\\\q\\u0026\\u003cx\\u003e/+%\\u00e9_tail-0123456789"',  # Jinja2 tojson
    "<p>sEcr3t &quot;pw\\q&amp;&lt;x&gt;/+%é_tail-0123456789</p>",  # HTML
    "sEcr3t #34;pw#92;q#38;#60;x#62;/+%é_tail-0123456789",  # Mermaid entity codes
    "sEcr3t \"pw\\\\q\\&\\<x\\>/+%é\\_tail-0123456789",  # Markdown backslashes
    "sEcr3t ~\"pw~\\q&<x>/+%é~_tail-0123456789",  # PlantUML tildes
    "`sEcr3t` `\"pw\\q&<x>/+%é_tail-0123456789`",  # swimlanes code spans: only punctuation added
    "refused … sEcr3t \"pw\\q…",  # cut short: the first 12 characters
])
def test_a_secret_is_found_in_every_encoding(text):
    assert _found(text) == ["secret"]


@pytest.mark.parametrize("text", [
    "Basic " + base64.b64encode(b"user:pw-canary-42").decode(),
    "c2lnbmF0dXJlLXNpZ25hdHVyZQ",  # one part of a JWT
    "https://swimlanes.io/#" + base64.b64encode(zlib.compress(b"note: eyJzdWIiOiJjYW5hcnkifQ", 9)[2:-4]).decode(),
])
def test_basic_forms_jwt_parts_and_swimlanes_links(text):
    assert _found(text) in (["login as Basic"], ["jwt"])


def test_nothing_is_found_in_redacted_text():
    assert _found('{"Authorization": "Bearer <redacted>", "url": "/v2/x?_state=<redacted>", "pw": "sEcr3t"}') == []


def test_assert_clean_names_the_canary_the_encoding_and_the_output():
    outputs = Outputs()
    outputs.add("render html", "<b>" + SECRET.replace("&", "&amp;").replace("<", "&lt;") + "</b>")
    canaries = Canaries()
    canaries.add("password", SECRET)
    with pytest.raises(AssertionError, match=r"password \(.*\) in render html"):
        assert_clean(canaries, outputs)


def test_every_output_of_a_trace_is_read(tmp_path):
    """A canary planted in the repository name must be reported in every output the harness collects."""
    planted = "plant3d-canary-repo-7c41d09e"
    text = tracefile.dumps(case_pull_token()).replace("team/app", f"team/{planted}")
    trace = tmp_path / "planted.trace.json"
    trace.write_text(text)
    outputs = trace_outputs(trace, tmp_path / "outputs")
    canaries = Canaries()
    canaries.add("planted", planted)
    leaked_in = {leak.output for leak in find_leaks(canaries, outputs)}
    contents = {label for label, text in outputs.texts.items()  # not "wrote … to FILE", nor links still encoded
                if not label.endswith(": stderr") and not text.startswith("https://swimlanes.io/#")}
    assert contents - leaked_in == set(), "outputs the canary did not reach (or were not searched)"
    for name in render.names():
        assert any(label.startswith(f"{name} in-process") for label in leaked_in), name
        assert any(label.startswith(f"regexplore render {name}") for label in outputs.texts), name
    written = sorted((tmp_path / "outputs").iterdir())
    assert len(written) == len(render.names()) + 5 + 1  # render each, export each of 5, explain --full
    assert all(path.read_text() in outputs.texts.values() for path in written)  # kept once if alike
    for label in ("regexplore show: stdout", "trace file planted.trace.json"):  # (explain = markdown: kept once)
        assert label in leaked_in
    assert any("swimlanes.io link 1 decoded" in label for label in leaked_in)
