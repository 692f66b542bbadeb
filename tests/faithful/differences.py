"""The differences the OCI spec allows between the built-in registry and CNCF distribution 2.8.2, as a table.

Rule 1: every row names the flow step it appears in, the run of hops 2.8.2
answers there, the run the sandbox answers instead, the spec's reason, and the
words of ``explorer/sandbox/__init__.py``'s docstring that list it. Nothing
else may differ: ``reconcile`` rewrites distribution's hops with the rows of
a step and the result must equal the sandbox's hops exactly.
Rule 2: a row that no longer matches exactly once is an error too, so the
table cannot outlive the difference it names.

An ``Answer`` is one hop: method, endpoint id (or host role), status, and
optionally the error codes of its body. ``challenged=True`` marks where a token
registry may put its Bearer round trip (the same request answered 401, a token
request, the request again): the sandbox has the round trips exactly where
distribution has them, so a change in when the client fetches tokens moves
both sides alike and the table still holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.faithful.hops import ANY, Hop

__all__ = ["ALLOWED_DIFFERENCES", "AllowedDifference", "Answer", "reconcile"]


@dataclass(frozen=True)
class Answer:
    method: str
    kind: str
    status: int
    errors: tuple[str, ...] | None = None  # None: whatever the body says
    challenged: bool = False

    def expand(self, round_trip: bool) -> list[Answer]:
        plain = Answer(self.method, self.kind, self.status, self.errors)
        if not (self.challenged and round_trip):
            return [plain]
        return [Answer(self.method, self.kind, 401), Answer("GET", "token", 200), plain]

    def matches(self, hop: Hop) -> bool:
        return hop.signature == (self.method, self.kind, self.status) and self.errors in (None, hop.errors)

    def as_hop(self) -> Hop:
        return Hop(self.method, self.kind, self.status, ANY, self.errors if self.errors is not None else ANY)


@dataclass(frozen=True)
class AllowedDifference:
    name: str
    flow: str
    step: str
    distribution: tuple[Answer, ...]
    sandbox: tuple[Answer, ...]
    reason: str
    documented: str  # words of the sandbox package docstring that list this difference


_REFERRERS_REASON = (
    "OCI 1.1 end-12a/b: a registry with the referrers API answers 200 and an image index; 404 means it has "
    "none and the client reads the index tagged sha256-<hex> instead (spec 'Referrers Tag Schema'). "
    "Distribution 2.8 predates OCI 1.1: its router answers 404 before any auth, so the token round trip "
    "moves to the fallback GET; the sandbox implements the API (and asks for pull rights first).")

ALLOWED_DIFFERENCES: tuple[AllowedDifference, ...] = (
    AllowedDifference(
        "tags: n and Link honoured", "tags pagination", "tags -n 2",
        distribution=(Answer("GET", "end-8b", 200),),
        sandbox=(Answer("GET", "end-8b", 200),) * 3,
        reason="OCI end-8b: `n` caps the page and `Link: <…>; rel=\"next\"` names the next one; tags come in "
               "lexical order. Distribution 2.8 ignores n/last on tags/list and lists every tag in one page in "
               "directory order (fixed in distribution v3); the sandbox pages 5 tags as 2+2+1, sorted.",
        documented="paginated with ``n``/``last``/``Link``"),
    AllowedDifference(
        "OCI-Subject: no fallback tag to maintain", "referrers", "push an artifact",
        distribution=(Answer("GET", "end-3", 404, ("MANIFEST_UNKNOWN",)), Answer("PUT", "end-7", 201)),
        sandbox=(),
        reason="OCI 1.1 manifest PUT: a registry that processed `subject` answers `OCI-Subject`; without it the "
               "CLIENT must add the artifact to the index tagged sha256-<hex> (GET it, 404 = empty, PUT it "
               "back). 2.8 sends no OCI-Subject, the sandbox does.",
        documented="``OCI-Subject`` on manifest PUT"),
    AllowedDifference(
        "referrers API instead of the fallback tag", "referrers", "referrers",
        distribution=(Answer("GET", "end-12a", 404), Answer("GET", "end-3", 200, challenged=True)),
        sandbox=(Answer("GET", "end-12a", 200, challenged=True),),
        reason=_REFERRERS_REASON,
        documented="Referrers API (``GET /v2/<name>/referrers/<digest>``)"),
    AllowedDifference(
        "referrers API filters by artifactType", "referrers", "referrers of one artifactType",
        distribution=(Answer("GET", "end-12b", 404), Answer("GET", "end-3", 200, challenged=True)),
        sandbox=(Answer("GET", "end-12b", 200, challenged=True),),
        reason=_REFERRERS_REASON + " With artifactType the sandbox filters and says so in OCI-Filters-Applied; "
               "on 2.8 the client filters the fallback index itself.",
        documented="Referrers API (``GET /v2/<name>/referrers/<digest>``)"),
    AllowedDifference(
        "a failed closing PUT ends the upload", "bad digest on upload finish", "push a corrupt layer",
        distribution=(Answer("DELETE", "end-14", 404, ("BLOB_UPLOAD_INVALID",)),),
        sandbox=(Answer("DELETE", "end-14", 404, ("BLOB_UPLOAD_UNKNOWN",)),),
        reason="After 400 DIGEST_INVALID the client cancels its session (end-14; 404 is the spec's failure "
               "status). 2.8 fails to clean up its committed writer ('error canceling upload after error: "
               "already closed' in its log), so the session lives on at its new size and the DELETE, carrying "
               "the `_state` of the last Location, is judged stale: BLOB_UPLOAD_INVALID. The sandbox ends the "
               "session with the failed PUT, so the DELETE finds none: BLOB_UPLOAD_UNKNOWN, the spec's code for "
               "an upload 'cancelled, expired or never started'.",
        documented="A failed closing PUT ends the session"),
)


def reconcile(flow: str, step: str, distribution: list[Hop], *, token_auth: bool) -> list[Hop]:
    """Distribution's hops with every allowed difference of this step applied: what the sandbox must answer."""
    hops = list(distribution)
    for row in ALLOWED_DIFFERENCES:
        if (row.flow, row.step) != (flow, step):
            continue
        challenged = token_auth and any(answer.challenged for answer in row.distribution + row.sandbox)
        found = [(round_trip, i) for round_trip in ((True, False) if challenged else (False,))
                 for i in _starts(row.distribution, round_trip, hops)]
        if len(found) != 1:
            raise AssertionError(f"allowed difference {row.name!r} should match once in distribution's "
                                 f"{flow} / {step}, matched {len(found)} times: update the table")
        (round_trip, i), = found
        length = sum(len(answer.expand(round_trip)) for answer in row.distribution)
        hops[i:i + length] = [a.as_hop() for answer in row.sandbox for a in answer.expand(round_trip)]
    return hops


def _starts(answers: tuple[Answer, ...], round_trip: bool, hops: list[Hop]) -> list[int]:
    pattern = [a for answer in answers for a in answer.expand(round_trip)]
    return [i for i in range(len(hops) - len(pattern) + 1)
            if all(a.matches(h) for a, h in zip(pattern, hops[i:i + len(pattern)]))]
