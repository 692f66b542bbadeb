"""annotate.py: roles, endpoint ids, short labels, teaching lines and the summary, from synthetic traces."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from explorer import annotate as annotate_module
from explorer.annotate import (
    WHY,
    annotate,
    human_duration,
    human_size,
    one_line,
)
from explorer.printable import printable
from tests.render import factory
from tests.render.factory import AUTH, CDN, REG, REG2, Builder


def labels(name: str) -> list[tuple[str, str, str]]:
    return [(a.participant.id, a.request_label, a.response_label) for a in annotate(factory.CASES[name]()).exchanges]


def test_public_api_is_pinned() -> None:
    assert sorted(annotate_module.__all__) == sorted([
        "REQUEST_LABELS", "RESPONSE_LABELS", "AnnotatedExchange", "AnnotatedTrace", "ErrorInfo", "Participant", "StepCounter", "Summary", "WHY",
        "annotate", "human_duration", "human_size", "one_line", "step_labels"])


@pytest.mark.parametrize(("case", "roles"), [
    ("pull_anonymous", [("Client", ""), ("Registry", REG)]),
    ("pull_token", [("Client", ""), ("Registry", REG), ("Auth", AUTH)]),
    ("pull_redirect", [("Client", ""), ("Registry", REG), ("Storage", CDN)]),
    ("pull_multiarch", [("Client", ""), ("Registry", REG), ("Auth", AUTH), ("Storage", CDN)]),
    ("copy_across", [("Client", ""), ("Registry", REG), ("Registry 2", REG2), ("Storage", CDN)]),
    ("torture", [("Client", ""), ("Registry", REG), ("Other", "other.example:8080")]),
])
def test_participants_in_role_order_with_hosts(case: str, roles: list[tuple[str, str]]) -> None:
    at = annotate(factory.CASES[case]())
    assert [(p.role, p.host) for p in at.participants] == roles
    assert all(p.id.isalnum() for p in at.participants)
    assert at.summary.participants == at.participants


def test_token_pull_labels_tell_the_auth_dance() -> None:
    assert labels("pull_token")[:4] == [
        ("Registry", "GET /v2/", f"401 Bearer realm=http://{AUTH}/token"),
        ("Registry", "GET /v2/team/app/manifests/1.0", "401 Bearer scope=repository:team/app:pull"),
        ("Auth", "GET /token scope=repository:team/app:pull", "200 token (expires in 300 s)"),
        ("Registry", "GET /v2/team/app/manifests/1.0", "200 OCI manifest (1.2 KB)"),
    ]


def test_redirected_blob_labels() -> None:
    got = labels("pull_redirect")[2:4]
    assert got[0][1].startswith("GET blob sha256:") and "…" in got[0][1]
    assert got[0][2] == f"307 → {CDN}"
    assert got[1][0] == "Storage" and got[1][2] == "200 blob (1.5 KB)"
    assert got[1][1].endswith("?…"), "signed query strings are not shown on the arrow"


def test_push_labels() -> None:
    second = labels("push_second")
    assert second[3][2] == "200 exists: upload skipped"
    assert second[6][2] == "404 missing: upload needed"
    assert second[7][1:] == ("POST /v2/team/app/blobs/uploads/", "202 upload opened")
    assert second[8][1].startswith("PUT upload sha256:") and second[8][1].endswith("(700 KB)")
    assert second[8][2].startswith("201 created sha256:")
    mount = labels("copy_mount")
    assert mount[2][1].startswith("POST mount sha256:") and mount[2][1].endswith(" from team/app in team/copy")  # two repositories: each label names its own
    assert mount[2][2] == "201 mounted"
    assert mount[4][2] == "202 mount refused: upload opened instead"
    chunked = labels("push_chunked")
    assert chunked[3][1:] == ("PATCH upload 0-6249999 (6.2 MB)", "202 received 0-6249999")


def test_tags_pages_count_and_link() -> None:
    assert [r for _, _, r in labels("tags_paged")[1:]] == ["200 2 tags, more →", "200 2 tags, more →", "200 1 tag"]


def test_endpoint_ids_and_titles() -> None:
    at = annotate(factory.case_push_first())
    assert [a.endpoint_id for a in at.exchanges][:6] == ["end-1", "end-2", None, "end-2", "end-4a", "end-6"]
    assert at.exchanges[2].endpoint == "Token request"
    assert at.exchanges[-1].endpoint_id == "end-7"
    assert at.exchanges[-1].note.startswith("end-7 · Push manifest: ")
    storage = annotate(factory.case_pull_redirect()).exchanges[3]
    assert (storage.endpoint_id, storage.endpoint) == (None, "Redirect to storage")


def test_error_codes_are_named_with_spec_meaning() -> None:
    failed = annotate(factory.case_pull_failed()).exchanges[1]
    assert failed.response_label == "404 MANIFEST_UNKNOWN"
    (error,) = failed.errors
    assert (error.code, error.oci_id) == ("MANIFEST_UNKNOWN", "code-7")
    assert error.line.startswith("MANIFEST_UNKNOWN (code-7) manifest unknown")
    assert failed.unusual and "MANIFEST_UNKNOWN" in failed.why
    torture = annotate(factory.case_torture()).exchanges[1]
    assert torture.response_label == "404 MANIFEST_UNKNOWN +1"
    assert torture.errors[1].meaning == "unknown error code" and torture.errors[1].oci_id is None


def test_failed_connection() -> None:
    last = annotate(factory.case_pull_broken_storage()).exchanges[-1]
    assert last.failed and last.unusual and last.exchange.response is None
    assert last.response_label == "✗ ConnectError: [Errno 111] Connection refused"
    assert last.why.startswith("The connection failed")


def test_expected_refusals_are_not_unusual() -> None:
    push = annotate(factory.case_push_first())
    assert [a.unusual for a in push.exchanges] == [False] * len(push.exchanges)
    assert annotate(factory.case_copy_mount()).exchanges[4].unusual  # mount refused is worth seeing


def test_why_lines() -> None:
    at = annotate(factory.case_pull_multiarch())
    whys = [a.why for a in at.exchanges]
    assert whys[0] == WHY["ping 401"]
    assert whys[1] == WHY["challenge"]
    assert whys[2] == WHY["token"].format(scope="repository:team/app:pull")
    assert whys[3].startswith(WHY["retry"]) and "index" in whys[3]
    assert at.exchanges[3].retry_of == 2
    assert "redirects to localhost:5005" in whys[5]
    assert whys[6] == WHY["storage"]
    assert all(a.why and "{" not in a.why for a in at.exchanges)


def test_authorization_sent_to_storage_is_flagged() -> None:
    b = Builder("pull", "x")
    b.add("GET", f"http://{REG}/v2/a/blobs/sha256:{'1' * 64}", 307, step="fetch config",
          headers=[("Location", f"http://{CDN}/b")])
    b.add("GET", f"http://{CDN}/b", 200, step="fetch config", auth=True)
    leak = annotate(b.done()).exchanges[1]
    assert leak.unusual and leak.why == WHY["storage leak"]


def test_insufficient_scope_and_basic() -> None:
    b = Builder("pull", "x")
    b.add("GET", f"http://{REG}/v2/a/manifests/1", 401, step="resolve tag", auth=True, headers=[
        ("WWW-Authenticate", 'Bearer realm="http://a/t",scope="repository:a:pull",error="insufficient_scope"')])
    b.add("GET", f"http://{REG}/v2/", 401, step="ping", headers=[("WWW-Authenticate", 'Basic realm="Registry"')])
    first, second = annotate(b.done()).exchanges
    assert first.response_label == "401 Bearer insufficient_scope scope=repository:a:pull"
    assert first.unusual and first.why == WHY["insufficient scope"]
    assert second.response_label == "401 Basic credentials needed" and not second.unusual


def test_summary() -> None:
    s = annotate(factory.case_pull_anonymous()).summary
    assert (s.title, s.operation, s.exchanges, s.failed) == (f"pull {REG}/team/app:1.0", "pull", 6, 0)
    assert s.bytes_down == 1187 + 1469 + 3_400_000 * 6 and s.bytes_up == 0
    assert s.wall_ms == pytest.approx(13.5 + 13.5 + 31 * 3 + 30)  # start of the first to end of the last
    assert s.line.startswith("6 exchanges · 20.4 MB down · 0 B up · ")
    assert annotate(factory.case_pull_failed()).summary.outcome == "failed"


@pytest.mark.parametrize(("n", "text"), [(0, "0 B"), (999, "999 B"), (1210, "1.2 KB"), (45_300, "45.3 KB"),
                                         (3_400_000, "3.4 MB"), (250_000_000, "250 MB"), (7 * 10**12, "7000 GB")])
def test_human_size(n: int, text: str) -> None:
    assert human_size(n) == text


def test_human_duration_and_one_line() -> None:
    assert [human_duration(x) for x in (0.5, 12.4, 1500, 90_000)] == ["0.50 ms", "12 ms", "1.5 s", "1.5 min"]
    assert one_line("a\nb\r\n\tc\u2028d") == "a b c d"
    assert one_line("x" * 10, limit=5) == "xxxx…"


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(alphabet=" \t\n\r\x1b\x85\xa0\u2028\u3000\u202eab[]", max_size=20) | st.text(max_size=20),
       st.integers(min_value=1, max_value=25))
@example("a  b", 25)
@example(" a b", 25)
@example("a b ", 25)
@example("a\u3000b", 25)
def test_one_line_is_the_printable_words_joined_by_single_spaces(text: str, limit: int) -> None:
    """Text already on one line is kept as it is (the fast path); all other text is made so."""
    flat = " ".join(printable(text).split())
    assert one_line(text, limit) == (flat if len(flat) <= limit else flat[: limit - 1] + "…")


def test_every_label_is_one_printable_line() -> None:
    for name, make in factory.CASES.items():
        for a in annotate(make()).exchanges:
            for text in (a.request_label, a.response_label, a.why, a.note, *(e.line for e in a.errors)):
                assert text.isprintable(), (name, text)


def test_annotate_loads_no_network_code() -> None:
    code = ("import sys, explorer.annotate, explorer.render.view; "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore')], 'network code'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_token_server_on_the_registry_host_gets_its_own_auth_lane() -> None:
    b = Builder("pull", "harbor")
    b.add("GET", f"http://{REG}/v2/", 401, step="ping",
          headers=[("WWW-Authenticate", f'Bearer realm="http://{REG}/service/token",service="harbor-registry"')])
    b.add("GET", f"http://{REG}/service/token?service=harbor-registry", 200, step="authenticate",
          resp_body=factory.json_body({"token": "<redacted>"}))
    at = annotate(b.done())
    assert [(p.role, p.host) for p in at.participants] == [("Client", ""), ("Registry", REG), ("Auth", REG)]
    token = at.exchanges[1]
    assert (token.participant.role, token.endpoint, token.request_label) == (
        "Auth", "Token request", "GET /service/token")
